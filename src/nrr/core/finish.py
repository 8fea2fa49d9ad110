"""Finishing stages: contributions (small, additive) to the bridge, retention and cohort tables of
one as-of day. They read only the contributions, the periods and the rates. Pure.

The tables of a batch of segment dimensions are keyed by ``dim`` and ``seg`` together, so one
stage finishes every dimension of the batch; ``dimension_views`` gives each dimension its own
``bridge_<d>`` and ``retention_<d>_<w>``.
"""

from __future__ import annotations

from nrr.core.contributions import FX_SUMS, LEVEL_SUMS, WINDOW_SUMS, Batch, rollup_sql
from nrr.core.frame import Frame, Stage, convert, home_code, ident
from nrr.core.segments import quote

BRIDGE_COLUMNS = (
    "segment", "p", "period_end", "start_mrr", "new", "reactivation", "expansion", "contraction",
    "churn", "fx", "end_mrr", "customers_start", "customers_end", "new_customers",
    "reactivated_customers", "churned_customers", "involuntary_churn",
)  # fmt: skip
RETENTION_COLUMNS = (
    "segment", "p", "period_end", "window_periods", "start_mrr", "end_mrr", "gross_mrr",
    "expansion", "contraction", "churn", "customers_start", "customers_retained",
)  # fmt: skip


def interval_finish(
    frame: Frame, batch: Batch, name: str, contribution: str, joint: str, sums: dict[str, str],
    shift: int = 0, rate_shift: int = 0,
) -> Stage:  # fmt: skip
    """Per dimension, segment and period, the sums of an interval contribution: its
    reporting-currency rows rolled up (``contribution``, keyed by ``t``) and the joint
    contribution (``joint``, keyed by the batch's segment codes). Results are keyed by
    ``p = t + shift``; foreign values convert at the rate of period t + rate_shift (``a_prev``
    at t - 1).

    Reporting-currency sums are running totals of what pieces add and take away, read rolled up
    (a grid of every segment and period carries them). Foreign pieces change value with the
    rates, so only their counts by identical value are expanded per period: the cost follows
    change points and distinct amounts, never customers × periods. They are expanded from the
    joint contribution, before the roll-up, which would repeat each of its rows once per
    dimension; the sums are linear in the counts, so rolling them up afterwards is exact. The
    grid's segments are those of either part.
    """
    segs, f_segs = ", ".join(batch.segs), ", ".join(f"f.{s}" for s in batch.segs)
    cur = home_code(frame)
    conv = {
        k: v.format(a=convert("n0", "r"), b=convert("n1", "r"), a_prev=convert("n0", "rp"))
        for k, v in sums.items()
    }
    keys = list(sums)
    running = ", ".join(
        f"sum(coalesce(d.{k}, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS {k}"
        for k in keys
    )
    foreign = ", ".join(f"sum(f.cnt * ({conv[k]})) AS {k}" for k in keys)
    total = ", ".join(f"CAST(h.{k} + coalesce(x.{k}, 0) AS BIGINT) AS {k}" for k in keys)
    return Stage(
        name,
        f"""
WITH fintervals AS (
  SELECT {segs}, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM {joint} WHERE cur <> {cur}
  WINDOW w AS (PARTITION BY {segs}, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT {f_segs}, ps.p + {shift} AS p, {foreign}
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + {rate_shift}
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY {f_segs}, ps.p + {shift}
), fsums AS (
{rollup_sql(frame, batch, "fjoint", ["p"], keys)}
), home_summed AS (
  SELECT dim, seg, t + {shift} AS p, {", ".join(keys)} FROM {contribution}
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, {running}
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, {total}
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p
""",
    )


def levels_stage(frame: Frame, batch: Batch) -> Stage:
    """MRR (reporting currency, each period's own rate) and paying customers per segment."""
    levels, lvc, lvj = (batch.table(t) for t in ("levels", "lvc", "lvj"))
    return interval_finish(frame, batch, levels, lvc, lvj, LEVEL_SUMS)


def fx_stage(frame: Frame, batch: Batch) -> Stage:
    """The exchange-rate effect per segment and period: the levels' foreign rows, with the
    moves of ``fx_contribution``."""
    fx, fxc, fxj, lvj = (batch.table(t) for t in ("fx", "fxc", "fxj", "lvj"))
    columns = ", ".join((*batch.segs, "cur", "n0", "n1", "t", "dc"))
    joint = (
        f"(SELECT {columns} FROM {lvj} WHERE cur <> {home_code(frame)} "
        f"UNION ALL SELECT {columns} FROM {fxj}) AS j"
    )
    return interval_finish(frame, batch, fx, fxc, joint, FX_SUMS)


def window_changes_stage(frame: Frame, batch: Batch, window: int) -> Stage:
    """Per window end t1 = t0 + window, what changed for the customers paying at t0."""
    name, wcc, wcj = (batch.table(f"{t}_{window}") for t in ("wchanges", "wcc", "wcj"))
    return interval_finish(frame, batch, name, wcc, wcj, WINDOW_SUMS, shift=window)


def bridge_stage(frame: Frame, batch: Batch) -> Stage:
    """The MRR bridge per segment and period; segment taken at the period's start."""
    levels, fx, moves = batch.table("levels"), batch.table("fx"), batch.table("mvc")
    # The company has a row for every period even while nobody pays (free plans only, say).
    company = "\n  UNION SELECT 'all' AS dim, 'all' AS seg" if "all" in batch.dimensions else ""
    return Stage(
        batch.table("bridge"),
        f"""
WITH segs AS (
  SELECT dim, seg FROM {levels} GROUP BY dim, seg HAVING max(customers) > 0
  UNION SELECT dim, seg FROM {moves} WHERE p >= {frame.first_p} AND p <= {frame.last_p}{company}
)
SELECT g.dim, g.seg AS segment, ps.p, ps.period_end,
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
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers,
       CAST(coalesce(x.involuntary_churn, 0) AS BIGINT) AS involuntary_churn
FROM (SELECT DISTINCT dim, seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN {levels} l0 ON l0.dim = g.dim AND l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN {moves} x ON x.dim = g.dim AND x.seg = g.seg AND x.p = ps.p
LEFT JOIN {fx} f ON f.dim = g.dim AND f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= {frame.first_p}
""",
    )


def retention_stage(frame: Frame, batch: Batch, window: int) -> Stage:
    """NRR, GRR and logo retention per segment for windows ending at each period."""
    if window == 1:
        return one_period_retention_stage(frame, batch)
    changes = batch.table(f"wchanges_{window}")
    return Stage(
        batch.table(f"retention_{window}"),
        f"""
SELECT l0.dim, l0.seg AS segment, l0.p + {window} AS p, ps.period_end,
       {window} AS window_periods, l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM {batch.table("levels")} l0
JOIN periods ps ON ps.p = l0.p + {window}
LEFT JOIN {changes} c ON c.dim = l0.dim AND c.seg = l0.seg AND c.p = l0.p + {window}
WHERE l0.p >= {frame.first_p} AND l0.customers > 0
""",
    )


def one_period_retention_stage(frame: Frame, batch: Batch) -> Stage:
    """Over one period the cohort's changes are exactly the bridge's existing-customer movements
    (same constant-currency rates, same segment at the start), so no second pass is needed.
    A view over the bridge."""
    return Stage(
        batch.table("retention_1"),
        f"""
SELECT dim, segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM {batch.table("bridge")}
WHERE p - 1 >= {frame.first_p} AND customers_start > 0
""",
        view=True,
    )


def dimension_views(frame: Frame, batch: Batch) -> list[Stage]:
    """Each dimension's own bridge and retention tables, as views over the batch's."""
    stages = []
    for dimension in batch.dimensions:
        d, dim = ident(dimension), quote(dimension)
        stages.append(Stage(
            f"bridge_{d}",
            f"SELECT {', '.join(BRIDGE_COLUMNS)} FROM {batch.table('bridge')} WHERE dim = {dim}",
            view=True,
        ))  # fmt: skip
        for window in frame.windows:
            stages.append(Stage(
                f"retention_{d}_{window}",
                f"SELECT {', '.join(RETENTION_COLUMNS)} FROM {batch.table(f'retention_{window}')} "
                f"WHERE dim = {dim}",
                view=True,
            ))  # fmt: skip
    return stages


def cohorts_stage(frame: Frame) -> Stage:
    """Cohort (period of first MRR > 0) × age: paying customers and MRR at the cohort's rates."""
    return Stage(
        "cohorts",
        f"""
WITH grid AS (
  SELECT c.cohort, ps.p - c.cohort AS age
  FROM (SELECT DISTINCT cohort FROM coh_c WHERE cohort <= {frame.last_p}) AS c
  JOIN periods ps ON ps.p >= c.cohort
), running AS (
  SELECT g.cohort, g.age,
         sum(coalesce(d.dv, 0)) OVER w AS mrr, sum(coalesce(d.dn, 0)) OVER w AS customers
  FROM grid g LEFT JOIN coh_c d ON d.cohort = g.cohort AND d.age = g.age
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
