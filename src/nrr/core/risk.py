"""Accounts at risk: paying customers whose data already says revenue is in danger. Pure: SQL out.

Three signals, each read from what the billing data states, never guessed:

- **cancellation pending**: a counted line whose cancellation was requested on or before the as-of
  day and takes effect after it (the customer asked to leave; the revenue has not gone yet);
- **payment past due**: a counted line past due since a day on or before the as-of day (with
  ``past_due_grace_days`` set, ``lapses_on`` is the day it stops counting unless paid);
- **downgraded**: contraction movements of the customer in the last ``RECENT_PERIODS`` periods
  (the as-of period included), a warning sign, not revenue that is leaving.

``mrr_at_risk`` is the MRR of the lines with a pending cancellation or a payment past due (a line
with both counts once), in the reporting currency like the customer's ``mrr``, and never more than
it nor below 0. (A discount is a line of its own that need not carry the mark of the line it
reduces: when every paying line is marked, the marked lines sum to at least the customer's MRR,
so all of it is at risk, its discounts leaving with it.)
"""

from __future__ import annotations

from nrr.core.frame import (
    MOVEMENT_CODES,
    Frame,
    counted_kinds,
    date_sql,
    end_expr,
    grace_cutoff,
    mrr_expr,
    to_reporting,
)
from nrr.core.periods import index_sql

# How far back a downgrade still counts as recent: about a quarter.
RECENT_PERIODS = {"month": 3, "quarter": 1, "year": 1}


def at_risk_sql(frame: Frame) -> str:
    """One row per paying customer of the as-of period with at least one signal.

    Reads ``revenue_lines``, ``stretches``, ``customer_keys`` and ``rates``. Columns:
    ``customer_id``, ``ck`` and ``p_from`` (its current stretch), ``currency``, ``mrr``,
    ``mrr_at_risk``, ``cancels_on`` (the earliest pending cancellation), ``past_due_since``,
    ``lapses_on``, ``downgraded`` (MRR lost to contraction in the recent periods, at constant
    currency). Ordered by MRR at risk, then MRR, then id.
    """
    s = frame.settings
    as_of, p = date_sql(frame.as_of), frame.last_p
    end = end_expr(s)
    # A line converts like the MRR it is part of: at its start's rate under ``service_start``.
    rate_p = index_sql("start_date", s.period) if s.fx_date == "service_start" else str(p)
    lapses = "NULL" if s.past_due_grace_days is None else grace_cutoff(s)
    return f"""
WITH live AS (
  SELECT customer_id, upper(currency) AS currency, {mrr_expr(s)} AS mrr, {rate_p} AS rate_p,
         CASE WHEN cancel_requested_date <= {as_of} AND end_date > {as_of}
              THEN end_date END AS cancels_on,
         CASE WHEN past_due_since <= {as_of} THEN past_due_since END AS past_due_since,
         CASE WHEN past_due_since <= {as_of} THEN {lapses} END AS lapses_on
  FROM revenue_lines
  WHERE {counted_kinds(s)} AND start_date <= {as_of} AND (({end}) IS NULL OR ({end}) > {as_of})
), native AS (  -- summed before converting, as the customer's MRR is: no cent apart
  SELECT customer_id, currency, rate_p, sum(mrr) AS mrr, min(cancels_on) AS cancels_on,
         min(past_due_since) AS past_due_since, min(lapses_on) AS lapses_on
  FROM live WHERE cancels_on IS NOT NULL OR past_due_since IS NOT NULL
  GROUP BY customer_id, currency, rate_p
), flagged AS (
  SELECT l.customer_id, sum({to_reporting("l.mrr", "r", "r.cur", frame)}) AS mrr_at_risk,
         min(l.cancels_on) AS cancels_on, min(l.past_due_since) AS past_due_since,
         min(l.lapses_on) AS lapses_on
  FROM native l JOIN rates r ON r.currency = l.currency AND r.p = l.rate_p
  GROUP BY l.customer_id
), downgrades AS (
  SELECT ck, sum(amount) AS downgraded FROM stretches
  WHERE movement = {MOVEMENT_CODES['contraction']}
    AND p_from > {p - RECENT_PERIODS[s.period]} AND p_from <= {p}
  GROUP BY ck
)
SELECT k.customer_id, n.ck, n.p_from, n.on_plan, k.currency,
       {to_reporting("n.mrr_native", "r", "n.cur", frame)} AS mrr,
       CAST(greatest(least(coalesce(f.mrr_at_risk, 0),
                           {to_reporting("n.mrr_native", "r", "n.cur", frame)}), 0)
            AS BIGINT) AS mrr_at_risk,
       f.cancels_on, f.past_due_since, f.lapses_on,
       CAST(coalesce(d.downgraded, 0) AS BIGINT) AS downgraded
FROM stretches n
JOIN customer_keys k ON k.ck = n.ck
JOIN rates r ON r.cur = n.cur AND r.p = {p}
LEFT JOIN flagged f ON f.customer_id = k.customer_id
LEFT JOIN downgrades d ON d.ck = n.ck
WHERE n.p_from <= {p} AND {p} < n.p_to AND n.mrr_native > 0
  AND (f.customer_id IS NOT NULL OR d.downgraded > 0)
ORDER BY mrr_at_risk DESC, mrr DESC, k.customer_id
"""
