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
    view: bool = False  # a cheap projection: engines may inline it instead of storing it


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


def _conv(n: str, rate: str, currency: str, frame: Frame) -> str:
    """Minor units of a currency in minor units of the reporting currency, rounded half away from
    zero. Exact decimal arithmetic is slow, so the reporting currency itself skips it."""
    home = frame.settings.reporting_currency
    return f"CASE WHEN {currency} = '{home}' THEN {n} ELSE CAST(round({n} * {rate}) AS BIGINT) END"


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
    """Rates per currency and period, the reporting currency at exactly 1.

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
SELECT n.currency, n.p, r.rate
FROM nearest n JOIN given r ON r.currency = n.currency AND r.p = n.source_p
UNION ALL
SELECT '{cur}' AS currency, p, CAST(1 AS DECIMAL(18,10)) AS rate FROM (VALUES {values}) AS ps(p)
""",
    )


def periods_stage(frame: Frame) -> Stage:
    grain = frame.settings.period
    rows = ", ".join(f"({p}, {_date(reading_day(p, grain, frame.as_of))})" for p in frame.periods())
    return Stage("periods", f"SELECT p, period_end FROM (VALUES {rows}) AS t(p, period_end)")


def keys_stage(frame: Frame) -> Stage:
    """A compact integer key per customer (joins and sorts on it are much cheaper than on text),
    and the currency the customer is billed in (one per customer; see docs/settings.md)."""
    currency = (
        f"'{frame.settings.reporting_currency}'"
        if frame.settings.fx_date == "service_start"
        else "min(upper(currency))"
    )
    return Stage(
        "customer_keys",
        f"SELECT customer_id, {currency} AS currency, "
        "min(upper(currency)) <> max(upper(currency)) AS mixed_currencies, "
        "CAST(row_number() OVER (ORDER BY customer_id) AS BIGINT) AS ck "
        "FROM revenue_lines GROUP BY customer_id",
    )


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
SELECT l.line_id, k.ck, {currency} AS currency, l.plan, l.kind, l.churn_reason,
       {mrr} AS mrr, l.p_from, l.p_to
FROM ranged l JOIN customer_keys k ON k.customer_id = l.customer_id {join}
WHERE l.p_to > l.p_from
""",
    )


def pieces_stage(frame: Frame) -> Stage:
    """Constant-MRR pieces between consecutive line boundaries, by running sums of line deltas."""
    return Stage(
        "pieces",
        f"""
WITH deltas AS (
  SELECT ck, p_from AS p, mrr AS dv FROM lines
  UNION ALL SELECT ck, p_to AS p, -mrr AS dv FROM lines
  UNION ALL SELECT ck, {frame.horizon} AS p, 0 AS dv FROM customer_keys
), running AS (
  -- Several deltas on one boundary make empty pieces [p, p) that are dropped; the last of them
  -- carries the running total of all of them.
  SELECT ck, p AS p_from, lead(p) OVER w AS p_to,
         sum(dv) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total
  FROM deltas
  WINDOW w AS (PARTITION BY ck ORDER BY p)
)
SELECT ck, p_from, p_to, CAST(greatest(total, 0) AS BIGINT) AS mrr_native
FROM running WHERE p_to > p_from
""",
    )


def plans_stage(frame: Frame) -> Stage:
    """The plan of the customer's largest recurring line in each stretch, and in the one before.

    Only the plan segment and customer lists need it, so it is computed on demand: the range join
    of lines against stretches is one of the dearer steps.
    """
    return Stage(
        "plans",
        """
WITH plan_rank AS (
  SELECT plan, row_number() OVER (ORDER BY plan) AS plan_rank
  FROM (SELECT DISTINCT plan FROM lines WHERE plan IS NOT NULL AND kind <> 'discount') AS d
), ranked AS (
  SELECT l.ck, l.plan, l.mrr, l.p_from, l.p_to, r.plan_rank
  FROM lines l JOIN plan_rank r ON r.plan = l.plan
  WHERE l.kind <> 'discount'
), planned AS (
  SELECT s.ck, s.p_from, s.p_to,
         arg_max(l.plan, l.mrr * 1000000 - l.plan_rank) AS plan
  FROM stretches s
  JOIN ranked l ON l.ck = s.ck AND l.p_from <= s.p_from AND s.p_from < l.p_to
  GROUP BY s.ck, s.p_from, s.p_to
)
SELECT s.ck, s.p_from, p.plan, q.plan AS prev_plan
FROM stretches s
LEFT JOIN planned p ON p.ck = s.ck AND p.p_from = s.p_from
LEFT JOIN planned q ON q.ck = s.ck AND q.p_to = s.p_from
""",
    )


def stretches_stage(frame: Frame) -> Stage:
    """Each piece with what came before it (MRR, whether it ever paid) and its size band.

    Adjacent pieces with equal MRR are not merged: a boundary where nothing changes
    yields no movement, so merging would only save rows, at the price of another sort.
    The size band compares MRR converted at the as-of period's rate, so exchange-rate drift
    alone never moves a customer from one band to another.
    """
    bands = frame.settings.size_bands
    band = " ".join(f"WHEN {{v}} < {b} THEN {i}" for i, b in enumerate(bands))
    band_case = f"CASE {band} ELSE {len(bands)} END"
    return Stage(
        "stretches",
        f"""
WITH firsts AS (
  SELECT ck, min(p_from) AS first_paid FROM pieces WHERE mrr_native > 0 GROUP BY ck
), ordered AS (
  -- Pieces are contiguous, so the one before [p_from, p_to) is the one ending at p_from; a hash
  -- join finds it faster than a window over a million small partitions.
  SELECT p.ck, p.p_from, p.p_to, p.mrr_native,
         coalesce(q.mrr_native, 0) AS prev_native, f.first_paid
  FROM pieces p
  LEFT JOIN pieces q ON q.ck = p.ck AND q.p_to = p.p_from
  LEFT JOIN firsts f ON f.ck = p.ck
), valued AS (
  SELECT o.ck, o.p_from, o.p_to, c.currency, o.mrr_native, o.prev_native, o.first_paid,
         CASE WHEN o.first_paid < o.p_from THEN 1 ELSE 0 END AS ever_before,
         {_conv("o.mrr_native", "r.rate", "c.currency", frame)} AS v_now,
         {_conv("o.prev_native", "r.rate", "c.currency", frame)} AS v_prev
  FROM ordered o
  JOIN customer_keys c ON c.ck = o.ck
  JOIN rates r ON r.currency = c.currency AND r.p = {frame.last_p}
)
SELECT ck, p_from, p_to, currency, mrr_native, prev_native, first_paid,
       ever_before, {band_case.format(v="v_now")} AS band,
       {band_case.format(v="v_prev")} AS prev_band
FROM valued
""",
    )


def movements_stage(frame: Frame) -> Stage:
    """Each customer's movement where a stretch starts, at constant currency (rates of p - 1).

    The exchange-rate effect is not a per-customer row here: it is summed per segment by
    ``fx_stage``, and listed per customer on demand (``fx_movements_stage``).
    """
    return Stage(
        "movements",
        f"""
WITH starts AS (
  SELECT s.ck, s.p_from AS p, s.prev_native, s.mrr_native, s.ever_before,
         {_conv("s.prev_native", "r.rate", "s.currency", frame)} AS a,
         {_conv("s.mrr_native", "r.rate", "s.currency", frame)} AS c
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.p_from - 1
  WHERE s.p_from >= {frame.first_p} AND s.mrr_native <> s.prev_native
), classified AS (
  SELECT ck, p, a, c,
         CASE WHEN prev_native = 0 AND ever_before = 1 THEN 'reactivation'
              WHEN prev_native = 0 THEN 'new'
              WHEN mrr_native = 0 THEN 'churn'
              WHEN c > a THEN 'expansion'
              WHEN c < a THEN 'contraction' END AS movement
  FROM starts
), reasons AS (
  SELECT ck, p_to AS p, min(churn_reason) AS churn_reason
  FROM lines WHERE churn_reason IS NOT NULL GROUP BY ck, p_to
)
SELECT m.ck, m.p, m.movement, CAST(abs(m.c - m.a) AS BIGINT) AS amount,
       m.a AS mrr_before, m.c AS mrr_after,
       CASE WHEN m.movement = 'churn' THEN coalesce(r.churn_reason, 'voluntary') END AS churn_reason
FROM classified m
LEFT JOIN reasons r ON r.ck = m.ck AND r.p = m.p
WHERE m.movement IS NOT NULL
""",
    )


def fx_movements_stage(frame: Frame) -> Stage:
    """Per customer and period, the exchange-rate effect: listed on demand (drill-downs, exports),
    never scanned by the aggregates, which sum it from value histograms instead."""
    cur = frame.settings.reporting_currency
    return Stage(
        "fx_movements",
        f"""
SELECT ck, p, 'fx' AS movement, CAST(c - a AS BIGINT) AS amount, a AS mrr_before,
       c AS mrr_after, CAST(NULL AS VARCHAR) AS churn_reason
FROM (
  SELECT s.ck, ps.p, CAST(round(s.mrr_native * r0.rate) AS BIGINT) AS a,
         CAST(round(s.mrr_native * r1.rate) AS BIGINT) AS c
  FROM stretches s
  JOIN periods ps ON ps.p >= s.p_from AND ps.p < s.p_to AND ps.p >= {frame.first_p}
  JOIN rates r0 ON r0.currency = s.currency AND r0.p = ps.p - 1
  JOIN rates r1 ON r1.currency = s.currency AND r1.p = ps.p
  WHERE s.currency <> '{cur}' AND s.mrr_native > 0
) AS x
WHERE c <> a
""",
        view=True,
    )


def segmented_stage(frame: Frame, dimension: str) -> Stage:
    """Stretches with the segment each is in (``seg``) and the one before it (``prev_seg``).

    Stored for real dimensions: the bridge, levels, fx and window stages all read it, and a view
    would repeat the attribute or plan join in each of them. The company as a whole is a view.
    """
    seg, prev_seg, join = segment_columns(dimension, frame.settings)
    return Stage(
        f"seg_{_ident(dimension)}",
        f"SELECT b.*, {seg} AS seg, {prev_seg} AS prev_seg FROM stretches b {join}",
        view=dimension == "all",
    )


def interval_sums(
    frame: Frame, name: str, pieces: str, sums: dict[str, str], shift: int = 0, rate_shift: int = 0
) -> str:
    """Per segment and period, sums over pieces that hold over a range of periods. SQL text.

    ``pieces`` yields ``seg, currency, n0, n1, t_from, t_to``: a customer whose native MRR values
    ``n0``/``n1`` hold for every period t in ``[t_from, t_to)``. Each sum in ``sums`` is an
    expression of ``a``/``b`` (n0/n1 in reporting currency at the rate of period t + rate_shift)
    and ``a_prev`` (n0 at the rate of t - 1). Results are keyed by ``p = t + shift``.

    Reporting-currency pieces have constant values: they are added where they start and taken
    away where they end, then summed up over time. Foreign pieces change value with the rates, so
    they are first counted by identical values (a histogram) and only those counts are expanded
    per period: the cost follows change points and distinct amounts, never customers × periods.
    """
    cur = frame.settings.reporting_currency
    home = {k: v.format(a="n0", b="n1", a_prev="n0") for k, v in sums.items()}
    conv = {
        k: v.format(
            a="CAST(round(n0 * r.rate) AS BIGINT)",
            b="CAST(round(n1 * r.rate) AS BIGINT)",
            a_prev="CAST(round(n0 * rp.rate) AS BIGINT)",
        )
        for k, v in sums.items()
    }
    keys = list(sums)
    plus = ", ".join(f"{home[k]} AS {k}" for k in keys)
    minus = ", ".join(f"-({home[k]}) AS {k}" for k in keys)
    summed = ", ".join(f"sum({k}) AS {k}" for k in keys)
    running = ", ".join(
        f"sum(coalesce(d.{k}, 0)) OVER (PARTITION BY g.seg ORDER BY g.p "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {k}"
        for k in keys
    )
    foreign = ", ".join(f"sum(f.cnt * ({conv[k]})) AS {k}" for k in keys)
    total = ", ".join(f"CAST(h.{k} + coalesce(x.{k}, 0) AS BIGINT) AS {k}" for k in keys)
    return f"""
WITH pieces_{name} AS ({pieces}),
home_deltas AS (
  SELECT seg, t_from + {shift} AS p, {plus} FROM pieces_{name} WHERE currency = '{cur}'
  UNION ALL
  SELECT seg, t_to + {shift} AS p, {minus} FROM pieces_{name} WHERE currency = '{cur}'
), home_summed AS (
  SELECT seg, p, {summed} FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_{name}
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, {running}
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_{name} WHERE currency <> '{cur}'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_{name} WHERE currency <> '{cur}'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + {shift} AS p, {foreign}
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + {rate_shift}
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + {shift}
)
SELECT h.seg, h.p, {total}
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p
"""


def levels_stage(frame: Frame, dimension: str) -> Stage:
    """MRR (reporting currency, each period's own rate) and paying customers per segment."""
    d = _ident(dimension)
    pieces = (
        f"SELECT seg, currency, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to "
        f"FROM seg_{d} WHERE mrr_native > 0"
    )
    return Stage(
        f"levels_{d}",
        interval_sums(frame, "lv", pieces, {"mrr": "{a}", "customers": "1"}),
    )


def fx_stage(frame: Frame, dimension: str) -> Stage:
    """The exchange-rate effect per segment and period, for customers billed in other currencies.

    A customer is in the segment it was in at the period's start: in the first period of a
    stretch that follows a paying one, that is the earlier stretch's segment.
    """
    d = _ident(dimension)
    cur = frame.settings.reporting_currency
    pieces = f"""
SELECT CASE WHEN prev_native > 0 THEN prev_seg ELSE seg END AS seg, currency,
       mrr_native AS n0, 0 AS n1, p_from AS t_from, p_from + 1 AS t_to
FROM seg_{d} WHERE mrr_native > 0 AND currency <> '{cur}' AND p_from >= {frame.first_p}
UNION ALL
SELECT seg, currency, mrr_native AS n0, 0 AS n1, greatest(p_from + 1, {frame.first_p}) AS t_from,
       p_to AS t_to
FROM seg_{d}
WHERE mrr_native > 0 AND currency <> '{cur}' AND p_to > greatest(p_from + 1, {frame.first_p})"""
    return Stage(f"fx_{d}", interval_sums(frame, "fx", pieces, {"fx": "{a} - {a_prev}"}))


def bridge_stage(frame: Frame, dimension: str) -> Stage:
    """The MRR bridge per segment and period; segment taken at the period's start."""
    d = _ident(dimension)
    return Stage(
        f"bridge_{d}",
        f"""
WITH attributed AS (
  SELECT CASE WHEN s.prev_native > 0 THEN s.prev_seg ELSE s.seg END AS seg,
         m.p, m.movement, m.amount
  FROM movements m
  JOIN seg_{d} s ON s.ck = m.ck AND s.p_from = m.p
), sums AS (
  SELECT seg, p,
    sum(CASE WHEN movement = 'new' THEN amount ELSE 0 END) AS new,
    sum(CASE WHEN movement = 'reactivation' THEN amount ELSE 0 END) AS reactivation,
    sum(CASE WHEN movement = 'expansion' THEN amount ELSE 0 END) AS expansion,
    sum(CASE WHEN movement = 'contraction' THEN amount ELSE 0 END) AS contraction,
    sum(CASE WHEN movement = 'churn' THEN amount ELSE 0 END) AS churn,
    sum(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
    sum(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
    sum(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers
  FROM attributed GROUP BY seg, p
), segs AS (
  SELECT seg FROM levels_{d} GROUP BY seg HAVING max(customers) > 0
  UNION SELECT seg FROM sums
)
SELECT g.seg AS segment, ps.p, ps.period_end,
       CAST(coalesce(l0.mrr, 0) AS BIGINT) AS start_mrr,
       CAST(coalesce(x.new, 0) AS BIGINT) AS new,
       CAST(coalesce(x.reactivation, 0) AS BIGINT) AS reactivation,
       CAST(coalesce(x.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(x.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(x.churn, 0) AS BIGINT) AS churn,
       CAST(coalesce(f.fx, 0) AS BIGINT) AS fx,
       CAST(coalesce(l0.mrr, 0) + coalesce(x.new, 0) + coalesce(x.reactivation, 0)
            + coalesce(x.expansion, 0) - coalesce(x.contraction, 0) - coalesce(x.churn, 0)
            + coalesce(f.fx, 0) AS BIGINT) AS end_mrr,
       CAST(coalesce(l0.customers, 0) AS BIGINT) AS customers_start,
       CAST(coalesce(l0.customers, 0) + coalesce(x.new_customers, 0)
            + coalesce(x.reactivated_customers, 0) - coalesce(x.churned_customers, 0)
            AS BIGINT) AS customers_end,
       CAST(coalesce(x.new_customers, 0) AS BIGINT) AS new_customers,
       CAST(coalesce(x.reactivated_customers, 0) AS BIGINT) AS reactivated_customers,
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM (SELECT DISTINCT seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_{d} l0 ON l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN sums x ON x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_{d} f ON f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= {frame.first_p}
""",
    )


def window_changes_stage(frame: Frame, dimension: str, window: int) -> Stage:
    """What changed for cohort customers between t0 and t1 = t0 + window, per window end t1.

    Only customers whose MRR moved differ from the cohort's start; each such (earlier stretch,
    later stretch) pair holds over a range of t0, and is summed over that range.
    """
    d = _ident(dimension)
    w = window
    pieces = f"""
SELECT s0.seg, s0.currency, s0.mrr_native AS n0, s1.mrr_native AS n1,
       greatest(s0.p_from, s1.p_from - {w}, {frame.first_p}) AS t_from,
       least(s0.p_to, s1.p_to - {w}, {frame.last_p - w + 1}) AS t_to
FROM seg_{d} s0
JOIN seg_{d} s1 ON s1.ck = s0.ck AND s1.p_from > s0.p_from
     AND s1.p_from - {w} < s0.p_to
WHERE s0.mrr_native > 0 AND s1.mrr_native <> s0.mrr_native
  AND greatest(s0.p_from, s1.p_from - {w}, {frame.first_p})
      < least(s0.p_to, s1.p_to - {w}, {frame.last_p - w + 1})"""
    sums = {
        "expansion": "CASE WHEN n1 > 0 AND {b} > {a} THEN {b} - {a} ELSE 0 END",
        "contraction": "CASE WHEN n1 > 0 AND {b} < {a} THEN {a} - {b} ELSE 0 END",
        "churn": "CASE WHEN n1 = 0 THEN {a} ELSE 0 END",
        "churned_customers": "CASE WHEN n1 = 0 THEN 1 ELSE 0 END",
    }
    return Stage(f"wchanges_{d}_{w}", interval_sums(frame, "wc", pieces, sums, shift=w))


def retention_stage(frame: Frame, dimension: str, window: int) -> Stage:
    """NRR, GRR and logo retention per segment for windows ending at each period."""
    d = _ident(dimension)
    if window == 1:
        return one_period_retention_stage(frame, dimension)
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


def one_period_retention_stage(frame: Frame, dimension: str) -> Stage:
    """Over one period the cohort's changes are exactly the bridge's existing-customer movements
    (same constant-currency rates, same segment at the start), so no second pass is needed."""
    d = _ident(dimension)
    return Stage(
        f"retention_{d}_1",
        f"""
SELECT segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_{d}
WHERE p - 1 >= {frame.first_p} AND customers_start > 0
""",
    )


def cohorts_stage(frame: Frame) -> Stage:
    """Cohort (period of first MRR > 0) × age: paying customers and MRR at the cohort's rates."""
    conv = _conv("s.mrr_native", "r.rate", "s.currency", frame)
    return Stage(
        "cohorts",
        f"""
WITH contrib AS (
  SELECT s.first_paid AS cohort, s.p_from - s.first_paid AS age, {conv} AS v, 1 AS n
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.first_paid
  WHERE s.mrr_native > 0
  UNION ALL
  SELECT s.first_paid AS cohort, s.p_to - s.first_paid AS age, -{conv} AS v, -1 AS n
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.first_paid
  WHERE s.mrr_native > 0
), deltas AS (
  SELECT cohort, age, sum(v) AS dv, sum(n) AS dn FROM contrib GROUP BY cohort, age
), grid AS (
  SELECT c.cohort, ps.p - c.cohort AS age
  FROM (SELECT DISTINCT first_paid AS cohort FROM stretches WHERE first_paid IS NOT NULL) AS c
  JOIN periods ps ON ps.p >= c.cohort
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


def named_stretches_stage() -> Stage:
    """Stretches with the customer's own id and plan, for lists and drill-downs."""
    return Stage(
        "named_stretches",
        "SELECT k.customer_id, s.*, p.plan FROM stretches s "
        "JOIN customer_keys k ON k.ck = s.ck "
        "LEFT JOIN plans p ON p.ck = s.ck AND p.p_from = s.p_from",
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


def base_stages(frame: Frame) -> list[Stage]:
    """Everything every report needs: lines, stretches, movements, cohorts."""
    return [
        periods_stage(frame),
        rates_stage(frame),
        keys_stage(frame),
        lines_stage(frame),
        pieces_stage(frame),
        stretches_stage(frame),
        movements_stage(frame),
        cohorts_stage(frame),
        fx_movements_stage(frame),
        named_movements_stage(),
    ]


def plan_stages(frame: Frame) -> list[Stage]:
    """Plans per stretch and the customer-named stretches that show them."""
    return [plans_stage(frame), named_stretches_stage()]


def dimension_stages(frame: Frame, dimension: str) -> list[Stage]:
    """Bridge and retention for one segment dimension (``all`` is the company as one segment)."""
    stages = [
        segmented_stage(frame, dimension),
        levels_stage(frame, dimension),
        fx_stage(frame, dimension),
        bridge_stage(frame, dimension),
    ]
    for window in frame.windows:
        if window > 1:
            stages.append(window_changes_stage(frame, dimension, window))
        stages.append(retention_stage(frame, dimension, window))
    return stages


def build(frame: Frame, dimensions: tuple[str, ...] = ("all",)) -> list[Stage]:
    stages = base_stages(frame) + plan_stages(frame)
    for dimension in dimensions:
        stages.extend(dimension_stages(frame, dimension))
    return stages
