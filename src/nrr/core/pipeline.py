"""The metric pipeline as named SQL statements over the canonical relations. Pure: strings out.

Inputs: ``revenue_lines``, ``customer_attributes`` and ``fx_rates`` (schema.py). Each Stage's SQL
may read the inputs and any earlier stage by name. The SQL is DuckDB's dialect; engines that speak
another dialect transpile it with sqlglot.

The formulation is change-point based: a customer's MRR is kept as *stretches* of constant value
(``[p_from, p_to)`` in period indexes) built from the line boundaries, never as a customer × period
grid. Movements exist only where a stretch starts; only customers billed in a foreign currency are
expanded per period (their value moves with the rates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nrr.core.periods import TTM_PERIODS, index_of, index_sql, reading_day
from nrr.core.segments import segment_columns
from nrr.schema import Settings


@dataclass(frozen=True)
class Stage:
    name: str
    sql: str


@dataclass(frozen=True)
class Frame:
    """What the pipeline needs besides the settings: the as-of day and the first period."""

    settings: Settings
    as_of: date
    first_p: int

    @property
    def last_p(self) -> int:
        return index_of(self.as_of, self.settings.period)

    @property
    def horizon(self) -> int:
        return self.last_p + 1

    @property
    def windows(self) -> tuple[int, ...]:
        ttm = TTM_PERIODS[self.settings.period]
        return (1,) if ttm == 1 else (1, ttm)

    def periods(self) -> list[int]:
        """Period indexes from the one before the first (everything zero) to the last."""
        return list(range(self.first_p - 1, self.last_p + 1))


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _kinds(settings: Settings) -> str:
    """SQL predicate selecting the lines the settings count as MRR."""
    durations = {
        "recurring": ("repeating", "forever"),
        "forever": ("forever",),
        "all": ("once", "repeating", "forever"),
        "none": (),
    }[settings.discounts]
    parts = ["kind = 'recurring'"]
    if durations:
        listed = ", ".join(f"'{d}'" for d in durations)
        parts.append(f"(kind = 'discount' AND discount_duration IN ({listed}))")
    if settings.metered == "trailing_average":
        parts.append("kind = 'metered'")
    return "(" + " OR ".join(parts) + ")"


def first_period_sql(settings: Settings, as_of: date) -> str:
    """The index of the first period with any counted line (NULL when there is none)."""
    start = index_sql("start_date", settings.period)
    return (
        f"SELECT min({start}) AS first_p FROM revenue_lines "
        f"WHERE start_date <= {_date(as_of)} AND {_kinds(settings)}"
    )


def _end_expr(settings: Settings) -> str:
    """The day a line stops counting, after the churn-timing, grace and metered settings."""
    end = "end_date"
    if settings.churn_timing == "requested":
        end = (
            "CASE WHEN cancel_requested_date IS NOT NULL AND end_date IS NOT NULL "
            "AND cancel_requested_date < end_date THEN cancel_requested_date ELSE end_date END"
        )
    if settings.past_due_grace_days is not None:
        cutoff = f"(past_due_since + INTERVAL {int(settings.past_due_grace_days)} DAY)"
        end = (
            f"CASE WHEN past_due_since IS NULL THEN {end} "
            f"WHEN {end} IS NULL OR CAST({cutoff} AS DATE) < {end} THEN CAST({cutoff} AS DATE) "
            f"ELSE {end} END"
        )
    if settings.metered == "trailing_average":
        end = (
            f"CASE WHEN kind = 'metered' AND {end} IS NOT NULL "
            f"THEN CAST({end} + INTERVAL 2 MONTH AS DATE) ELSE {end} END"
        )
    return end


def _mrr_expr(settings: Settings) -> str:
    if settings.metered == "trailing_average":
        # The trailing three-period average of billed usage: a third of each billed amount, over
        # the billed period and the two after it.
        return (
            "CASE WHEN kind = 'metered' THEN CAST(round(mrr_minor / 3.0) AS BIGINT) "
            "ELSE mrr_minor END"
        )
    return "mrr_minor"


def rates_stage(frame: Frame) -> Stage:
    """Rates per currency and period, with the reporting currency at exactly 1."""
    values = ", ".join(f"({p})" for p in frame.periods())
    cur = frame.settings.reporting_currency
    return Stage(
        "rates",
        f"SELECT currency, p, CAST(rate AS DECIMAL(18,10)) AS rate FROM fx_rates "
        f"WHERE currency <> '{cur}' "
        f"UNION ALL SELECT '{cur}' AS currency, p, CAST(1 AS DECIMAL(18,10)) AS rate "
        f"FROM (VALUES {values}) AS ps(p)",
    )


def periods_stage(frame: Frame) -> Stage:
    grain = frame.settings.period
    rows = ", ".join(
        f"({p}, {_date(reading_day(p, grain, frame.as_of))})" for p in frame.periods()
    )
    return Stage("periods", f"SELECT p, period_end FROM (VALUES {rows}) AS t(p, period_end)")


def lines_stage(frame: Frame) -> Stage:
    """Counted lines as period ranges ``[p_from, p_to)``; open or future ends run to the horizon."""
    s = frame.settings
    as_of = _date(frame.as_of)
    p_from = index_sql("start_date", s.period)
    p_to = index_sql("end_eff", s.period)
    mrr = "mrr"
    currency = "l.currency"
    join = ""
    if s.fx_date == "service_start":
        # Each line is converted once, at the rate of the period its service starts in.
        mrr = "CAST(round(l.mrr * r.rate) AS BIGINT)"
        currency = f"'{s.reporting_currency}'"
        join = "JOIN rates r ON r.currency = l.currency AND r.p = l.p_from"
    return Stage(
        "lines",
        f"""
WITH base AS (
  SELECT line_id, customer_id, upper(currency) AS currency, plan, kind, churn_reason,
         start_date, {_mrr_expr(s)} AS mrr,
         CASE WHEN ({_end_expr(s)}) > {as_of} THEN NULL ELSE ({_end_expr(s)}) END AS end_eff
  FROM revenue_lines
  WHERE start_date <= {as_of} AND {_kinds(s)}
), ranged AS (
  SELECT line_id, customer_id, currency, plan, kind, churn_reason, mrr,
         {p_from} AS p_from, coalesce({p_to}, {frame.horizon}) AS p_to
  FROM base
)
SELECT l.line_id, l.customer_id, {currency} AS currency, l.plan, l.kind, l.churn_reason,
       {mrr} AS mrr, l.p_from, l.p_to
FROM ranged l {join}
WHERE l.p_to > l.p_from
""",
    )


def raw_stretches_stage(frame: Frame) -> Stage:
    """Constant-MRR pieces between consecutive line boundaries, with the dominant plan."""
    return Stage(
        "raw_stretches",
        f"""
WITH bounds AS (
  SELECT customer_id, p_from AS p FROM lines
  UNION SELECT customer_id, p_to AS p FROM lines
  UNION SELECT customer_id, {frame.horizon} AS p FROM lines
), pieces AS (
  SELECT customer_id, p AS p_from, lead(p) OVER (PARTITION BY customer_id ORDER BY p) AS p_to
  FROM bounds
), plan_rank AS (
  SELECT plan, row_number() OVER (ORDER BY plan) AS plan_rank
  FROM (SELECT DISTINCT plan FROM lines WHERE plan IS NOT NULL) AS d
), ranked AS (
  SELECT l.customer_id, l.currency, l.plan, l.kind, l.mrr, l.p_from, l.p_to,
         coalesce(r.plan_rank, 0) AS plan_rank
  FROM lines l LEFT JOIN plan_rank r ON r.plan = l.plan
)
SELECT pc.customer_id, pc.p_from, pc.p_to,
       greatest(coalesce(sum(l.mrr), 0), 0) AS mrr_native,
       arg_max(l.plan, l.mrr * 1000000 - l.plan_rank) FILTER (WHERE l.kind <> 'discount') AS plan
FROM pieces pc
LEFT JOIN ranked l
  ON l.customer_id = pc.customer_id AND l.p_from <= pc.p_from AND l.p_to >= pc.p_to
WHERE pc.p_to IS NOT NULL
GROUP BY pc.customer_id, pc.p_from, pc.p_to
""",
    )


def stretches_stage(frame: Frame) -> Stage:
    """Adjacent pieces with the same MRR and plan merged; what came before each stretch."""
    return Stage(
        "stretches",
        """
WITH flagged AS (
  SELECT *,
         CASE WHEN lag(mrr_native) OVER w IS NULL
                OR lag(mrr_native) OVER w <> mrr_native
                OR coalesce(lag(plan) OVER w, '') <> coalesce(plan, '') THEN 1 ELSE 0 END AS brk
  FROM raw_stretches
  WINDOW w AS (PARTITION BY customer_id ORDER BY p_from)
), grouped AS (
  SELECT *, sum(brk) OVER (PARTITION BY customer_id ORDER BY p_from
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS grp
  FROM flagged
), merged AS (
  SELECT customer_id, grp, min(p_from) AS p_from, max(p_to) AS p_to,
         min(mrr_native) AS mrr_native, min(plan) AS plan
  FROM grouped GROUP BY customer_id, grp
), cur AS (
  SELECT customer_id, min(currency) AS currency FROM lines GROUP BY customer_id
), ordered AS (
  SELECT m.customer_id, m.p_from, m.p_to, c.currency, m.mrr_native, m.plan,
         coalesce(lag(m.mrr_native) OVER w, 0) AS prev_native,
         lag(m.plan) OVER w AS prev_plan,
         coalesce(max(CASE WHEN m.mrr_native > 0 THEN 1 ELSE 0 END) OVER (
             PARTITION BY m.customer_id ORDER BY m.p_from
             ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS ever_before
  FROM merged m JOIN cur c ON c.customer_id = m.customer_id
  WINDOW w AS (PARTITION BY m.customer_id ORDER BY m.p_from)
)
SELECT *,
       max(CASE WHEN mrr_native <> prev_native THEN p_from END) OVER (
           PARTITION BY customer_id ORDER BY p_from
           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS band_anchor
FROM ordered
""",
    )


def banded_stage(frame: Frame) -> Stage:
    """Each stretch's size band: its MRR where its native MRR last changed, in reporting currency."""
    bands = frame.settings.size_bands
    cases = " ".join(f"WHEN v < {b} THEN {i}" for i, b in enumerate(bands))
    return Stage(
        "banded",
        f"""
WITH valued AS (
  SELECT s.*, CAST(round(s.mrr_native * r.rate) AS BIGINT) AS v
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.band_anchor
)
SELECT customer_id, p_from, p_to, currency, mrr_native, plan, prev_native, prev_plan,
       ever_before, CASE {cases} ELSE {len(bands)} END AS band,
       coalesce(lag(CASE {cases} ELSE {len(bands)} END) OVER (
           PARTITION BY customer_id ORDER BY p_from), 0) AS prev_band
FROM valued
""",
    )


def movements_stage(frame: Frame) -> Stage:
    """Movements at constant currency where a stretch starts, plus fx per foreign period."""
    cur = frame.settings.reporting_currency
    return Stage(
        "movements",
        f"""
WITH starts AS (
  SELECT s.customer_id, s.p_from AS p, s.p_from AS stretch_from, s.prev_native, s.mrr_native,
         s.ever_before,
         CAST(round(s.prev_native * r.rate) AS BIGINT) AS a,
         CAST(round(s.mrr_native * r.rate) AS BIGINT) AS c
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.p_from - 1
  WHERE s.p_from >= {frame.first_p}
), classified AS (
  SELECT customer_id, p, stretch_from, a, c,
         CASE WHEN prev_native = 0 AND mrr_native > 0 AND ever_before = 1 THEN 'reactivation'
              WHEN prev_native = 0 AND mrr_native > 0 THEN 'new'
              WHEN prev_native > 0 AND mrr_native = 0 THEN 'churn'
              WHEN c > a THEN 'expansion'
              WHEN c < a THEN 'contraction' END AS movement
  FROM starts
), reasons AS (
  SELECT customer_id, p_to AS p, min(churn_reason) AS churn_reason
  FROM lines WHERE churn_reason IS NOT NULL GROUP BY customer_id, p_to
), fx AS (
  SELECT s.customer_id, ps.p, s.p_from AS stretch_from,
         CAST(round(s.mrr_native * r0.rate) AS BIGINT) AS a,
         CAST(round(s.mrr_native * r1.rate) AS BIGINT) AS c
  FROM stretches s
  JOIN periods ps ON ps.p >= s.p_from AND ps.p < s.p_to AND ps.p >= {frame.first_p}
  JOIN rates r0 ON r0.currency = s.currency AND r0.p = ps.p - 1
  JOIN rates r1 ON r1.currency = s.currency AND r1.p = ps.p
  WHERE s.currency <> '{cur}' AND s.mrr_native > 0
)
SELECT m.customer_id, m.p, m.stretch_from, m.movement,
       CAST(abs(m.c - m.a) AS BIGINT) AS amount, m.a AS mrr_before, m.c AS mrr_after,
       CASE WHEN m.movement = 'churn' THEN coalesce(r.churn_reason, 'voluntary') END AS churn_reason
FROM classified m LEFT JOIN reasons r ON r.customer_id = m.customer_id AND r.p = m.p
WHERE m.movement IS NOT NULL
UNION ALL
SELECT customer_id, p, stretch_from, 'fx' AS movement, CAST(c - a AS BIGINT) AS amount,
       a AS mrr_before, c AS mrr_after, CAST(NULL AS VARCHAR) AS churn_reason
FROM fx WHERE c <> a
""",
    )


def segmented_stage(frame: Frame, dimension: str) -> Stage:
    """Stretches with the segment each is in (``seg``) and the one before it (``prev_seg``)."""
    seg, prev_seg, join = segment_columns(dimension, frame.settings)
    return Stage(
        f"seg_{_ident(dimension)}",
        f"SELECT b.*, {seg} AS seg, {prev_seg} AS prev_seg FROM banded b {join}",
    )


def levels_stage(frame: Frame, dimension: str) -> Stage:
    """MRR (reporting currency, own period's rate) and paying customers per segment and period."""
    src = f"seg_{_ident(dimension)}"
    cur = frame.settings.reporting_currency
    return Stage(
        f"levels_{_ident(dimension)}",
        f"""
WITH home AS (
  SELECT seg, p_from AS p, mrr_native AS dv, 1 AS dn FROM {src}
  WHERE currency = '{cur}' AND mrr_native > 0
  UNION ALL
  SELECT seg, p_to AS p, -mrr_native AS dv, -1 AS dn FROM {src}
  WHERE currency = '{cur}' AND mrr_native > 0
  UNION ALL
  SELECT seg, p_from AS p, 0 AS dv, 1 AS dn FROM {src}
  WHERE currency <> '{cur}' AND mrr_native > 0
  UNION ALL
  SELECT seg, p_to AS p, 0 AS dv, -1 AS dn FROM {src}
  WHERE currency <> '{cur}' AND mrr_native > 0
), deltas AS (
  SELECT seg, p, sum(dv) AS dv, sum(dn) AS dn FROM home GROUP BY seg, p
), foreign_now AS (
  SELECT s.seg, ps.p, sum(CAST(round(s.mrr_native * r.rate) AS BIGINT)) AS v
  FROM {src} s
  JOIN periods ps ON ps.p >= s.p_from AND ps.p < s.p_to
  JOIN rates r ON r.currency = s.currency AND r.p = ps.p
  WHERE s.currency <> '{cur}' AND s.mrr_native > 0
  GROUP BY s.seg, ps.p
), grid AS (
  SELECT g.seg, ps.p FROM (SELECT DISTINCT seg FROM {src} WHERE mrr_native > 0) AS g
  CROSS JOIN periods ps
), running AS (
  SELECT g.seg, g.p,
         sum(coalesce(d.dv, 0)) OVER w AS home_mrr,
         sum(coalesce(d.dn, 0)) OVER w AS customers
  FROM grid g LEFT JOIN deltas d ON d.seg = g.seg AND d.p = g.p
  WINDOW w AS (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT r.seg, r.p, CAST(r.home_mrr + coalesce(f.v, 0) AS BIGINT) AS mrr,
       CAST(r.customers AS BIGINT) AS customers
FROM running r LEFT JOIN foreign_now f ON f.seg = r.seg AND f.p = r.p
""",
    )


def bridge_stage(frame: Frame, dimension: str) -> Stage:
    """The MRR bridge per segment and period; segment taken at the period's start."""
    d = _ident(dimension)
    return Stage(
        f"bridge_{d}",
        f"""
WITH attributed AS (
  SELECT CASE WHEN m.p = s.p_from AND s.prev_native > 0 THEN s.prev_seg ELSE s.seg END AS seg,
         m.p, m.movement, m.amount
  FROM movements m
  JOIN seg_{d} s ON s.customer_id = m.customer_id AND s.p_from = m.stretch_from
), sums AS (
  SELECT seg, p,
    sum(CASE WHEN movement = 'new' THEN amount ELSE 0 END) AS new,
    sum(CASE WHEN movement = 'reactivation' THEN amount ELSE 0 END) AS reactivation,
    sum(CASE WHEN movement = 'expansion' THEN amount ELSE 0 END) AS expansion,
    sum(CASE WHEN movement = 'contraction' THEN amount ELSE 0 END) AS contraction,
    sum(CASE WHEN movement = 'churn' THEN amount ELSE 0 END) AS churn,
    sum(CASE WHEN movement = 'fx' THEN amount ELSE 0 END) AS fx,
    sum(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
    sum(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
    sum(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers
  FROM attributed GROUP BY seg, p
)
SELECT l0.seg AS segment, l1.p, ps.period_end, l0.mrr AS start_mrr,
       CAST(coalesce(new, 0) AS BIGINT) AS new,
       CAST(coalesce(reactivation, 0) AS BIGINT) AS reactivation,
       CAST(coalesce(expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(churn, 0) AS BIGINT) AS churn,
       CAST(coalesce(fx, 0) AS BIGINT) AS fx,
       CAST(l0.mrr + coalesce(new, 0) + coalesce(reactivation, 0) + coalesce(expansion, 0)
            - coalesce(contraction, 0) - coalesce(churn, 0) + coalesce(fx, 0) AS BIGINT) AS end_mrr,
       l0.customers AS customers_start,
       CAST(l0.customers + coalesce(new_customers, 0) + coalesce(reactivated_customers, 0)
            - coalesce(churned_customers, 0) AS BIGINT) AS customers_end,
       CAST(coalesce(new_customers, 0) AS BIGINT) AS new_customers,
       CAST(coalesce(reactivated_customers, 0) AS BIGINT) AS reactivated_customers,
       CAST(coalesce(churned_customers, 0) AS BIGINT) AS churned_customers
FROM levels_{d} l1
JOIN levels_{d} l0 ON l0.seg = l1.seg AND l0.p = l1.p - 1
JOIN periods ps ON ps.p = l1.p
LEFT JOIN sums x ON x.seg = l1.seg AND x.p = l1.p
""",
    )


def window_changes_stage(frame: Frame, dimension: str, window: int) -> Stage:
    """Cohort customers whose MRR may differ between t0 = t1 - window and t1, per window end."""
    d = _ident(dimension)
    ks = ", ".join(f"({k})" for k in range(window))
    return Stage(
        f"wchanges_{d}_{window}",
        f"""
WITH touched AS (
  SELECT DISTINCT s.customer_id, s.p_from + k.k AS t1
  FROM seg_{d} s CROSS JOIN (VALUES {ks}) AS k(k)
  WHERE s.p_from + k.k <= {frame.last_p} AND s.p_from + k.k - {window} >= {frame.first_p}
), pairs AS (
  SELECT t.t1, s0.seg AS seg0, s0.currency, s0.mrr_native AS n0, s1.mrr_native AS n1
  FROM touched t
  JOIN seg_{d} s0 ON s0.customer_id = t.customer_id
       AND s0.p_from <= t.t1 - {window} AND t.t1 - {window} < s0.p_to
  JOIN seg_{d} s1 ON s1.customer_id = t.customer_id AND s1.p_from <= t.t1 AND t.t1 < s1.p_to
  WHERE s0.mrr_native > 0
), valued AS (
  SELECT p.t1, p.seg0, p.n1,
         CAST(round(p.n0 * r.rate) AS BIGINT) AS a, CAST(round(p.n1 * r.rate) AS BIGINT) AS b
  FROM pairs p JOIN rates r ON r.currency = p.currency AND r.p = p.t1 - {window}
)
SELECT t1 AS p, seg0 AS seg,
  sum(CASE WHEN n1 > 0 AND b > a THEN b - a ELSE 0 END) AS expansion,
  sum(CASE WHEN n1 > 0 AND b < a THEN a - b ELSE 0 END) AS contraction,
  sum(CASE WHEN n1 = 0 THEN a ELSE 0 END) AS churn,
  sum(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers
FROM valued GROUP BY t1, seg0
""",
    )


def retention_stage(frame: Frame, dimension: str, window: int) -> Stage:
    """NRR, GRR and logo retention per segment for windows ending at each period."""
    d = _ident(dimension)
    return Stage(
        f"retention_{d}_{window}",
        f"""
SELECT l0.seg AS segment, l0.p + {window} AS p, ps.period_end, {window} AS window_periods,
       l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_{d} l0
JOIN periods ps ON ps.p = l0.p + {window}
LEFT JOIN wchanges_{d}_{window} c ON c.seg = l0.seg AND c.p = l0.p + {window}
WHERE l0.p >= {frame.first_p} AND l0.customers > 0
""",
    )


def cohorts_stage(frame: Frame) -> Stage:
    """Cohort (period of first MRR > 0) × age: paying customers and MRR at the cohort's rates."""
    return Stage(
        "cohorts",
        f"""
WITH firsts AS (
  SELECT customer_id, min(p_from) AS cohort FROM stretches WHERE mrr_native > 0
  GROUP BY customer_id
), contrib AS (
  SELECT f.cohort, s.p_from - f.cohort AS age, CAST(round(s.mrr_native * r.rate) AS BIGINT) AS v,
         1 AS n
  FROM stretches s JOIN firsts f ON f.customer_id = s.customer_id
  JOIN rates r ON r.currency = s.currency AND r.p = f.cohort
  WHERE s.mrr_native > 0
  UNION ALL
  SELECT f.cohort, s.p_to - f.cohort AS age, -CAST(round(s.mrr_native * r.rate) AS BIGINT) AS v,
         -1 AS n
  FROM stretches s JOIN firsts f ON f.customer_id = s.customer_id
  JOIN rates r ON r.currency = s.currency AND r.p = f.cohort
  WHERE s.mrr_native > 0
), deltas AS (
  SELECT cohort, age, sum(v) AS dv, sum(n) AS dn FROM contrib GROUP BY cohort, age
), grid AS (
  SELECT c.cohort, ps.p - c.cohort AS age
  FROM (SELECT DISTINCT cohort FROM firsts) AS c JOIN periods ps ON ps.p >= c.cohort
), running AS (
  SELECT g.cohort, g.age,
         sum(coalesce(d.dv, 0)) OVER w AS mrr, sum(coalesce(d.dn, 0)) OVER w AS customers
  FROM grid g LEFT JOIN deltas d ON d.cohort = g.cohort AND d.age = g.age
  WINDOW w AS (PARTITION BY g.cohort ORDER BY g.age
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT cohort, age, CAST(customers AS BIGINT) AS customers, CAST(mrr AS BIGINT) AS mrr,
       CAST(first_value(customers) OVER c AS BIGINT) AS customers_start,
       CAST(first_value(mrr) OVER c AS BIGINT) AS mrr_start
FROM running
WINDOW c AS (PARTITION BY cohort ORDER BY age ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
""",
    )


def _ident(dimension: str) -> str:
    """A table-name-safe form of a dimension name (attribute keys are user data)."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in dimension.lower())
    return f"{safe}_{abs(hash_str(dimension)) % 100000}" if safe != dimension.lower() else safe


def hash_str(text: str) -> int:
    """A stable (non-salted) small hash, so generated SQL is the same in every process."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 2_147_483_647
    return value


def base_stages(frame: Frame) -> list[Stage]:
    """Everything every report needs: lines, stretches, movements, cohorts."""
    return [
        periods_stage(frame),
        rates_stage(frame),
        lines_stage(frame),
        raw_stretches_stage(frame),
        stretches_stage(frame),
        banded_stage(frame),
        movements_stage(frame),
        cohorts_stage(frame),
    ]


def dimension_stages(frame: Frame, dimension: str) -> list[Stage]:
    """Bridge and retention for one segment dimension (``all`` is the company as one segment)."""
    stages = [
        segmented_stage(frame, dimension),
        levels_stage(frame, dimension),
        bridge_stage(frame, dimension),
    ]
    for window in frame.windows:
        stages.append(window_changes_stage(frame, dimension, window))
        stages.append(retention_stage(frame, dimension, window))
    return stages


def build(frame: Frame, dimensions: tuple[str, ...] = ("all",)) -> list[Stage]:
    stages = base_stages(frame)
    for dimension in dimensions:
        stages.extend(dimension_stages(frame, dimension))
    return stages
