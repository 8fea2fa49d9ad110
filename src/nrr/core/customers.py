"""Per-customer stages: each row depends on one customer's own lines only, so an update can
recompute the customers it touches (``Scope``) and splice them in. Pure: SQL text out."""

from __future__ import annotations

from nrr.core.frame import (
    MOVEMENT_CODES,
    OPEN,
    WHOLE,
    Frame,
    Scope,
    Stage,
    churn_reason_expr,
    convert,
    counted_kinds,
    currency_code,
    date_sql,
    end_expr,
    home_code,
    key_sql,
    movement_name,
    mrr_expr,
    to_reporting,
)
from nrr.core.periods import index_sql, reading_day
from nrr.core.segments import code_sql, coded_labels_sql, plan_name_sql


def rates_stage(frame: Frame) -> Stage:
    """Rates per currency (by name and code, ``cur``) and period, the reporting currency at
    exactly 1.

    A period without a given rate takes the latest earlier one, or else the earliest later one
    (so a rates table that starts with the first period still values the period before it).
    """
    values = ", ".join(f"({p})" for p in frame.periods())
    cur = frame.settings.reporting_currency
    return Stage(
        "rates",
        f"""
WITH given AS (
  SELECT upper(currency) AS currency, CAST(p AS INTEGER) AS p, CAST(rate AS DECIMAL(18,10)) AS rate
  FROM fx_rates WHERE upper(currency) <> '{cur}'
), grid AS (
  SELECT c.currency, ps.p
  FROM (SELECT DISTINCT currency FROM given) AS c CROSS JOIN (VALUES {values}) AS ps(p)
), nearest AS (
  SELECT g.currency, g.p,
         coalesce(max(CASE WHEN r.p <= g.p THEN r.p END), min(r.p)) AS source_p
  FROM grid g JOIN given r ON r.currency = g.currency
  GROUP BY g.currency, g.p
)
SELECT n.currency, {currency_code("n.currency")} AS cur, n.p, r.rate,
       CAST(r.rate AS DOUBLE) AS rate_f
FROM nearest n JOIN given r ON r.currency = n.currency AND r.p = n.source_p
UNION ALL
SELECT '{cur}' AS currency, {home_code(frame)} AS cur, p, CAST(1 AS DECIMAL(18,10)) AS rate,
       CAST(1 AS DOUBLE) AS rate_f
FROM (VALUES {values}) AS ps(p)
""",
    )


def periods_stage(frame: Frame) -> Stage:
    grain = frame.settings.period
    days = ((p, reading_day(p, grain, frame.as_of)) for p in frame.periods())
    rows = ", ".join(f"({p}, {date_sql(day)})" for p, day in days)
    return Stage("periods", f"SELECT p, period_end FROM (VALUES {rows}) AS t(p, period_end)")


def keys_stage(frame: Frame, scope: Scope = WHOLE) -> Stage:
    """A compact integer key per customer (joins and sorts on it are much cheaper than on text),
    and the currency the customer is billed in (one per customer; see docs/settings.md).

    The key is a hash of the id, so it needs neither a sort to number the ids nor a join to
    find a line's key, and an update's customers keep theirs. Where two ids share a key (the
    caller counts distinct keys) it computes again with ``hashed_keys`` off, where the ids are
    numbered in order (an update keeps the numbers customers already have and numbers new ones
    after the last). Grouping by the id costs a third less than grouping by the key and telling a
    shared key by the id's min and max.

    ``plan_code``: the plan of the customer's lines that are not discounts, if they all carry the
    same one; ``multi_plan``: they carry several. Most customers keep one plan for life (every one
    in the benchmark company): such a customer is on it wherever one of its counted plan lines
    holds (``pieces``: ``on_plan``), so only the stretches of the others rank their lines
    (``plans_stage``). The lines read here include some that do not count (one-off charges,
    lines after the as-of day): a customer they give a second plan is ranked line by line,
    which gives the same plans, only slower. Asked here, in the aggregate the keys need anyway,
    it costs 0.035 s at 1M customers, where a stage of its own took 0.06 s (0.5 against 0.9 s
    at 10M)."""
    currency = (
        f"'{frame.settings.reporting_currency}'"
        if frame.settings.fx_date == "service_start"
        else "min(upper(currency))"
    )
    lo, hi = (f"{m}({code_sql('plan')}) FILTER (WHERE kind <> 'discount')" for m in ("min", "max"))
    facts = (
        f"{currency} AS currency, "
        "min(upper(currency)) <> max(upper(currency)) AS mixed_currencies, "
        f"CASE WHEN {lo} = {hi} THEN {lo} END AS plan_code, {lo} <> {hi} AS multi_plan"
    )
    if frame.hashed_keys:
        return Stage(
            scope("customer_keys"),
            f"SELECT customer_id, {facts}, {key_sql('customer_id')} AS ck "
            f"FROM {scope.revenue_lines} GROUP BY customer_id",
        )
    grouped = f"SELECT customer_id, {facts} FROM {scope.revenue_lines} GROUP BY customer_id"
    if not scope.partial:
        return Stage(
            "customer_keys",
            f"SELECT *, CAST(row_number() OVER (ORDER BY customer_id) AS BIGINT) AS ck "
            f"FROM ({grouped}) AS g",
        )
    return Stage(
        scope("customer_keys"),
        f"""
SELECT g.*,
       CAST(coalesce(k.ck, m.top + row_number() OVER (ORDER BY g.customer_id)) AS BIGINT) AS ck
FROM ({grouped}) AS g
LEFT JOIN customer_keys k ON k.customer_id = g.customer_id
CROSS JOIN (SELECT coalesce(max(ck), 0) AS top FROM customer_keys) AS m
""",
    )


def lines_stage(frame: Frame, scope: Scope = WHOLE) -> Stage:
    """Counted lines as period ranges ``[p_from, p_to)``; open or future ends run to ``OPEN``.

    The plan and the currency travel as codes and the churn reason as a flag (``involuntary``):
    a million rows of text cost far more to store and compare than numbers (plans 0.29 → 0.24 s
    and the stage itself 0.12 → 0.10 s at 1M customers)."""
    s = frame.settings
    as_of = date_sql(frame.as_of)
    p_from = index_sql("start_date", s.period)
    p_to = index_sql("end_eff", s.period)
    mrr = "mrr"
    currency = "l.currency"
    key = "k.ck"
    join = f"JOIN {scope('customer_keys')} k ON k.customer_id = l.customer_id"
    if frame.hashed_keys:
        key, join = key_sql("l.customer_id"), ""
    if s.fx_date == "service_start":
        # Each line is converted once, at the rate of the period its service starts in.
        mrr = convert("l.mrr", "r")
        currency = f"'{s.reporting_currency}'"
        join += " JOIN rates r ON r.currency = l.currency AND r.p = l.p_from"
    return Stage(
        scope("lines"),
        f"""
WITH base AS (
  SELECT customer_id, upper(currency) AS currency, plan, kind = 'discount' AS discount,
         {churn_reason_expr(s)} AS churn_reason, start_date, {mrr_expr(s)} AS mrr,
         CASE WHEN ({end_expr(s)}) > {as_of} THEN NULL ELSE ({end_expr(s)}) END AS end_eff
  FROM {scope.revenue_lines}
  WHERE start_date <= {as_of} AND {counted_kinds(s)}
), ranged AS (
  SELECT customer_id, currency, plan, discount, churn_reason, mrr,
         {p_from} AS p_from, coalesce({p_to}, {OPEN}) AS p_to
  FROM base
)
SELECT {key} AS ck, {currency_code(currency)} AS cur, {code_sql("l.plan")} AS plan_code, l.discount,
       coalesce(l.churn_reason = 'involuntary', false) AS involuntary, {mrr} AS mrr, l.p_from,
       l.p_to
FROM ranged l {join}
WHERE l.p_to > l.p_from
""",
    )


# A line that counts for its customer's plan: a counted line with a plan, not a discount.
PLAN_LINE = "plan_code IS NOT NULL AND NOT discount"

def pieces_stage(scope: Scope = WHOLE) -> Stage:
    """Constant-MRR pieces between consecutive line boundaries, each with the value before it.

    The line deltas summed per boundary, then one window over them (the currency rides along):
    the running sum is the piece's value, the running sum less the boundary's own delta the
    previous piece's. (Summing first lets the window use a ROWS frame, which is cheaper than the
    RANGE frames that peers on one boundary would need.) ``involuntary_end``: a line that ends at
    the boundary ended for lack of payment (see ``movements``). ``on_plan``: a recurring line
    with a plan holds in the piece (``prev_on_plan``: in the one before), so a customer with a
    single plan is on it (``keys_stage``: ``plan_code``); counted like the MRR, as a running sum.
    ``first_paid``: the customer's first piece, if it pays; else NULL, and ``stretches`` finds
    the first paying piece of those customers alone (the same window gives it for free, where a
    minimum over every customer's pieces and a join back cost 0.08 s at 1M customers, 1.2 s at
    10M).
    """
    lines = scope("lines")
    planned = f"CASE WHEN {PLAN_LINE} THEN 1 ELSE 0 END"
    return Stage(
        scope("pieces"),
        f"""
WITH deltas AS (
  SELECT ck, cur, p, sum(dv) AS dv, max(inv) AS inv, sum(dp) AS dp FROM (
    SELECT ck, cur, p_from AS p, mrr AS dv, 0 AS inv, {planned} AS dp FROM {lines}
    UNION ALL
    SELECT ck, cur, p_to AS p, -mrr AS dv,
           CASE WHEN involuntary THEN 1 ELSE 0 END AS inv, -{planned} AS dp
    FROM {lines} WHERE p_to < {OPEN}
  ) AS d
  GROUP BY ck, cur, p  -- one currency per customer: the same groups as (ck, p)
), running AS (
  SELECT ck, cur, p AS p_from, lead(p, 1, {OPEN}) OVER w AS p_to, dv, inv, dp,
         sum(dv) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total,
         sum(dp) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS plan_lines,
         first_value(p) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS p_first,
         first_value(dv) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dv_first
  FROM deltas
  WINDOW w AS (PARTITION BY ck ORDER BY p)
)
SELECT ck, cur, p_from, p_to, CAST(greatest(total, 0) AS BIGINT) AS mrr_native,
       CAST(greatest(total - dv, 0) AS BIGINT) AS prev_native, inv = 1 AS involuntary_end,
       plan_lines > 0 AS on_plan, plan_lines - dp > 0 AS prev_on_plan,
       CASE WHEN dv_first > 0 THEN p_first END AS first_paid
FROM running
""",
    )


# More than the number of distinct plans: the plan aggregate packs a rank below it.
PLAN_RANKS = 1_000_000


def plans_stage(frame: Frame, scope: Scope = WHOLE) -> Stage:
    """For the customers with several plans (``customer_keys``: ``multi_plan``), the plan of the
    customer's largest recurring line in each stretch, and in the one before.

    Equal lines go to the plan first in alphabetical order (ranked over ``plan_labels``, which
    must be current). The aggregate is a plain ``max`` of one number holding both the MRR and
    the rank (``mrr × R + R - rank``, R = ``PLAN_RANKS``; a quarter cheaper than ``arg_max``),
    the rank read back from its last digits; the result carries the plan's code
    (``segments.code_sql``), which ``plan_labels`` names.

    The stretch before one starting at p ends at p, and no line starts or ends inside a stretch,
    so its lines are those counting at p - 1: one join finds the lines of both (it saves joining
    the result to itself, about 0.04 s of 0.32 at 1M customers).
    """
    lines, stretches = scope("lines"), scope("stretches")
    multi = f"(SELECT ck FROM {scope('customer_keys')} WHERE multi_plan)"
    r = PLAN_RANKS

    def rank(where: str) -> str:  # the rank of the heaviest line (a floor modulo: MRR may be < 0)
        return f"{r} - (max(l.weight) FILTER (WHERE {where}) % {r} + {r}) % {r}"

    return Stage(
        scope("plans"),
        f"""
WITH plan_rank AS (
  SELECT code, row_number() OVER (ORDER BY label) AS plan_rank FROM plan_labels
), ranked AS (
  SELECT l.ck, l.mrr * {r} + {r} - r.plan_rank AS weight, l.p_from, l.p_to
  FROM {lines} l JOIN plan_rank r ON r.code = l.plan_code
  WHERE NOT l.discount AND l.ck IN {multi}
), planned AS (
  SELECT s.ck, s.p_from,
         {rank("s.p_from < l.p_to")} AS plan_rank,
         {rank("l.p_from < s.p_from")} AS prev_rank
  FROM {stretches} s
  LEFT JOIN ranked l ON l.ck = s.ck AND l.p_from <= s.p_from AND s.p_from <= l.p_to
  WHERE s.ck IN {multi}
  GROUP BY s.ck, s.p_from
)
SELECT s.ck, s.p_from, r.code AS plan_code, rq.code AS prev_plan_code
FROM planned s
LEFT JOIN plan_rank r ON r.plan_rank = s.plan_rank
LEFT JOIN plan_rank rq ON rq.plan_rank = s.prev_rank
""",
        frees=(lines,),  # read by pieces and plans only: an update then splices it no more
    )


def stretches_stage(frame: Frame, scope: Scope = WHOLE) -> Stage:
    """Each piece with what came before it, its size band and the movement where it starts.

    Adjacent pieces with equal MRR are not merged: a boundary where nothing changes yields no
    movement, so merging would only save rows, at the price of another sort.

    The movement is at constant currency (both sides at the rates of p - 1); the exchange-rate
    effect is summed per segment by the fx contributions, and listed per customer on demand
    (``fx_movements_stage``). The size band, and the cohort value ``v_cohort``, convert at the
    rate of the customer's first paying period: exchange rates alone never move a customer from
    one band to another, and a later as-of day never rewrites a band already reported.
    ``involuntary`` marks a churn whose ending lines include one that ended for lack of payment.
    ``cur`` and ``movement`` are codes (``frame.currency_code``, ``frame.MOVEMENT_CODES``).
    ``first_paid`` is the customer's first paying period (``pieces`` knows it unless the first
    piece is free: ``late``).
    """
    bands = frame.settings.size_bands
    band = " ".join(f"WHEN {{v}} < {b} THEN {i}" for i, b in enumerate(bands))
    band_case = f"CASE {band} ELSE {len(bands)} END"
    mv, pieces = MOVEMENT_CODES, scope("pieces")
    return Stage(
        scope("stretches"),
        f"""
WITH late AS (
  SELECT ck, min(p_from) AS first_paid FROM {pieces}
  WHERE first_paid IS NULL AND mrr_native > 0
  GROUP BY ck
), firsts AS (
  SELECT f.ck, f.cur, f.p_from, f.p_to, f.mrr_native, f.prev_native, f.involuntary_end,
         f.on_plan, f.prev_on_plan, coalesce(f.first_paid, l.first_paid) AS first_paid
  FROM {pieces} f LEFT JOIN late l ON l.ck = f.ck
), valued AS (
  SELECT f.ck, f.p_from, f.p_to, f.cur, f.mrr_native, f.prev_native, f.first_paid,
         f.involuntary_end, f.on_plan, f.prev_on_plan,
         CASE WHEN f.first_paid < f.p_from THEN 1 ELSE 0 END AS ever_before,
         {to_reporting("f.mrr_native", "rb", "f.cur", frame)} AS v_cohort,
         {to_reporting("f.prev_native", "rb", "f.cur", frame)} AS v_cohort_prev,
         {to_reporting("f.prev_native", "rm", "f.cur", frame)} AS a,
         {to_reporting("f.mrr_native", "rm", "f.cur", frame)} AS c
  FROM firsts f
  JOIN rates rb ON rb.cur = f.cur AND rb.p = coalesce(f.first_paid, f.p_from)
  JOIN rates rm ON rm.cur = f.cur AND rm.p = f.p_from - 1
)
SELECT ck, p_from, p_to, cur, mrr_native, prev_native, first_paid, ever_before,
       {band_case.format(v="v_cohort")} AS band,
       {band_case.format(v="v_cohort_prev")} AS prev_band, v_cohort,
       CASE WHEN mrr_native = prev_native THEN NULL
            WHEN prev_native = 0 AND ever_before = 1 THEN {mv["reactivation"]}
            WHEN prev_native = 0 THEN {mv["new"]}
            WHEN mrr_native = 0 THEN {mv["churn"]}
            WHEN c > a THEN {mv["expansion"]}
            WHEN c < a THEN {mv["contraction"]} END AS movement,
       CAST(abs(c - a) AS BIGINT) AS amount, a AS mrr_before, c AS mrr_after,
       mrr_native = 0 AND prev_native > 0 AND involuntary_end AS involuntary, on_plan,
       prev_on_plan
FROM valued
""",
        frees=(pieces,),
    )


def movements_stage() -> Stage:
    """Each customer's movement where a stretch starts, with the churn reason for churn:
    ``involuntary`` when one of the lines that end there ended for lack of payment (its
    ``churn_reason``, or the past-due grace period running out), ``voluntary`` otherwise."""
    return Stage(
        "movements",
        f"""
SELECT s.ck, s.p_from AS p, {movement_name("s.movement")} AS movement, s.amount, s.mrr_before,
       s.mrr_after,
       CASE WHEN s.involuntary THEN 'involuntary'
            WHEN s.movement = {MOVEMENT_CODES["churn"]} THEN 'voluntary' END AS churn_reason
FROM stretches s
WHERE s.movement IS NOT NULL
""",
        view=True,
    )


def fx_movements_stage(frame: Frame) -> Stage:
    """Per customer and period, the exchange-rate effect: listed on demand (drill-downs, exports),
    never scanned by the aggregates, which sum it from value histograms instead."""
    return Stage(
        "fx_movements",
        f"""
SELECT ck, p, 'fx' AS movement, CAST(c - a AS BIGINT) AS amount, a AS mrr_before,
       c AS mrr_after, CAST(NULL AS VARCHAR) AS churn_reason
FROM (
  SELECT s.ck, ps.p, {convert("s.mrr_native", "r0")} AS a,
         {convert("s.mrr_native", "r1")} AS c
  FROM stretches s
  JOIN periods ps ON ps.p >= s.p_from AND ps.p < s.p_to AND ps.p >= {frame.first_p}
  JOIN rates r0 ON r0.cur = s.cur AND r0.p = ps.p - 1
  JOIN rates r1 ON r1.cur = s.cur AND r1.p = ps.p
  WHERE s.cur <> {home_code(frame)} AND s.mrr_native > 0
) AS x
WHERE c <> a
""",
        view=True,
    )


def plan_labels_stage() -> Stage:
    """Every plan's code and name (``dim``, ``code``, ``label``), of every revenue line: a plan
    that never counted has a name nobody asks for, and reading the stored lines' plans took
    0.002 s at 1M customers against 0.015 s for the counted lines'."""
    source = "SELECT DISTINCT plan AS label FROM revenue_lines WHERE plan IS NOT NULL"
    return Stage("plan_labels", coded_labels_sql("plan", source))


def named_stretches_stage() -> Stage:
    """Stretches with the customer's own id and plan, for lists and drill-downs."""
    name, join = plan_name_sql("s", joined_keys="k")
    return Stage(
        "named_stretches",
        f"SELECT k.customer_id, k.currency, s.*, {name} AS plan FROM stretches s "
        f"JOIN customer_keys k ON k.ck = s.ck {join}",
        view=True,
    )


def named_movements_stage() -> Stage:
    """Movements (fx per customer included) with the customer's own id."""
    return Stage(
        "named_movements",
        "SELECT k.customer_id, m.* FROM (SELECT * FROM movements UNION ALL "
        "SELECT * FROM fx_movements) AS m JOIN customer_keys k ON k.ck = m.ck",
        view=True,
    )
