"""The straightforward formulation the core is measured against: a customer × month grid.

Every customer gets a row for every month (cross join), its MRR is the sum of the lines active on
that month's reading day (a range join), and movements come from ``LAG`` over the grid. It is how
most spreadsheets and SQL tutorials compute an MRR bridge, and what the core's change-point
formulation avoids. It computes the same things the core computes for the whole company with the
default settings (discounts `recurring`, churn when the line ends, no grace, metered excluded): the
bridge with fx at constant currency, monthly and trailing-twelve-month retention, and cohorts.
Its bridge must equal the core's to the minor unit; the benchmark checks that before timing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

REPORTING = "EUR"


def _index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _reading_day(p: int, as_of: dt.date) -> dt.date:
    if p == _index(as_of):
        return as_of
    year, month = divmod(p + 1, 12)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def statements(first_p: int, as_of: dt.date) -> list[tuple[str, str]]:
    """(table, query) in order; months run from the one before ``first_p`` to ``as_of``'s."""
    last_p = _index(as_of)
    days = ", ".join(
        f"({p}, DATE '{_reading_day(p, as_of).isoformat()}')"
        for p in range(first_p - 1, last_p + 1)
    )
    counted = (
        "(kind = 'recurring' OR (kind = 'discount' AND discount_duration IN "
        "('repeating', 'forever')))"
    )
    return [
        ("mg_months", f"SELECT * FROM (VALUES {days}) AS t(p, reading_day)"),
        (
            "mg_rates",
            f"SELECT currency, p, rate FROM fx_rates WHERE currency <> '{REPORTING}' "
            f"UNION ALL SELECT '{REPORTING}', p, 1 FROM mg_months",
        ),
        (
            "mg_grid",
            f"""
            WITH customers AS (
                SELECT customer_id, min(upper(currency)) AS currency FROM revenue_lines
                WHERE {counted} AND start_date <= DATE '{as_of.isoformat()}' GROUP BY customer_id
            )
            SELECT c.customer_id, c.currency, m.p,
                   greatest(coalesce(sum(l.mrr_minor), 0), 0) AS native
            FROM customers c CROSS JOIN mg_months m
            LEFT JOIN revenue_lines l
              ON l.customer_id = c.customer_id AND {counted.replace('kind', 'l.kind')
                                                    .replace('discount_duration',
                                                             'l.discount_duration')}
             AND l.start_date <= m.reading_day
             AND (l.end_date IS NULL OR l.end_date > m.reading_day)
            GROUP BY c.customer_id, c.currency, m.p
            """,
        ),
        (
            "mg_flow",
            """
            WITH w AS (
                SELECT customer_id, currency, p, native,
                       lag(native, 1, 0) OVER (PARTITION BY customer_id ORDER BY p) AS prev,
                       coalesce(max(native) OVER (PARTITION BY customer_id ORDER BY p
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS best_before
                FROM mg_grid
            )
            SELECT w.*,
                   CAST(round(prev * r0.rate) AS BIGINT) AS a,
                   CAST(round(native * r0.rate) AS BIGINT) AS c,
                   CAST(round(native * r1.rate) AS BIGINT) AS now
            FROM w JOIN mg_rates r0 ON r0.currency = w.currency AND r0.p = w.p - 1
                   JOIN mg_rates r1 ON r1.currency = w.currency AND r1.p = w.p
            """,
        ),
        (
            "mg_bridge",
            f"""
            SELECT p, sum(a) AS start_mrr,
              sum(CASE WHEN prev = 0 AND native > 0 AND best_before = 0 THEN c ELSE 0 END) AS new,
              sum(CASE WHEN prev = 0 AND native > 0 AND best_before > 0 THEN c ELSE 0 END)
                  AS reactivation,
              sum(CASE WHEN prev > 0 AND native > 0 AND c > a THEN c - a ELSE 0 END) AS expansion,
              sum(CASE WHEN prev > 0 AND native > 0 AND c < a THEN a - c ELSE 0 END) AS contraction,
              sum(CASE WHEN prev > 0 AND native = 0 THEN a ELSE 0 END) AS churn,
              sum(now - c) AS fx, sum(now) AS end_mrr,
              count(*) FILTER (WHERE prev > 0) AS customers_start,
              count(*) FILTER (WHERE native > 0) AS customers_end,
              count(*) FILTER (WHERE prev = 0 AND native > 0 AND best_before = 0) AS new_customers,
              count(*) FILTER (WHERE prev = 0 AND native > 0 AND best_before > 0)
                  AS reactivated_customers,
              count(*) FILTER (WHERE prev > 0 AND native = 0) AS churned_customers
            FROM mg_flow WHERE p >= {first_p} GROUP BY p
            """,
        ),
        (
            "mg_retention",
            f"""
            WITH pairs AS (
                SELECT g1.p, k.k AS window_periods, g0.native AS n0, g1.native AS n1, r.rate
                FROM mg_grid g1 CROSS JOIN (VALUES (1), (12)) AS k(k)
                JOIN mg_grid g0 ON g0.customer_id = g1.customer_id AND g0.p = g1.p - k.k
                JOIN mg_rates r ON r.currency = g1.currency AND r.p = g1.p - k.k
                WHERE g0.native > 0 AND g0.p >= {first_p}
            )
            SELECT p, window_periods,
                   sum(CAST(round(n0 * rate) AS BIGINT)) AS start_mrr,
                   sum(CAST(round(n1 * rate) AS BIGINT)) AS end_mrr,
                   sum(CAST(round(least(n0, n1) * rate) AS BIGINT)) AS gross_mrr,
                   count(*) AS customers_start,
                   count(*) FILTER (WHERE n1 > 0) AS customers_retained
            FROM pairs GROUP BY p, window_periods
            """,
        ),
        (
            "mg_cohorts",
            """
            WITH firsts AS (
                SELECT customer_id, min(p) AS cohort FROM mg_grid WHERE native > 0
                GROUP BY customer_id
            )
            SELECT f.cohort, g.p - f.cohort AS age,
                   count(*) FILTER (WHERE g.native > 0) AS customers,
                   sum(CAST(round(g.native * r.rate) AS BIGINT)) AS mrr
            FROM mg_grid g JOIN firsts f ON f.customer_id = g.customer_id AND g.p >= f.cohort
            JOIN mg_rates r ON r.currency = g.currency AND r.p = f.cohort
            GROUP BY f.cohort, g.p - f.cohort
            """,
        ),
    ]


def first_period(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> int:
    rows = con.execute(
        "SELECT min(year(start_date) * 12 + month(start_date) - 1) FROM revenue_lines "
        "WHERE start_date <= ? AND (kind = 'recurring' OR (kind = 'discount' AND "
        "discount_duration IN ('repeating', 'forever')))",
        [as_of],
    ).fetchall()
    if rows[0][0] is None:
        raise ValueError("no revenue lines")
    return int(rows[0][0])


def run(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> None:
    """Build every month-grid table as a temporary table on ``con``."""
    for name, query in statements(first_period(con, as_of), as_of):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}").fetchall()


def bridge_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    """The bridge in the core's column order, for comparison."""
    return con.execute(
        "SELECT p, start_mrr, new, reactivation, expansion, contraction, churn, fx, end_mrr, "
        "customers_start, customers_end, new_customers, reactivated_customers, churned_customers "
        "FROM mg_bridge ORDER BY p"
    ).fetchall()
