"""A seeded synthetic company at any scale, written as canonical Parquet tables.

Every random draw is ``hash(customer, seed, draw) / 2**64`` inside one DuckDB statement over
``range(N)``, so generation is vectorised, multi-threaded and streams straight to Parquet:
1M customers take a few seconds, 10M well under a minute, and the same seed always gives the
same company.

Each customer starts in some month (more of them later: the company grows), on a monthly, quarterly
or annual plan of one of three tiers with some seats, billing EUR, CHF or USD by country. Events
happen on the plan's renewal dates: a seat change up or down (40 %), churn (35 %), voluntary or by
failed payment, and a comeback after churn (30 % of churners); 20 % start with a 10 % discount
(once, repeating for three months, or forever). That is 1.5–1.8 revenue lines per customer.

The simulation runs ``months + 1`` months. ``revenue_lines.parquet`` is the company as known at the
end of month ``months - 1`` (the as-of date); ``revenue_lines_delta.parquet`` holds the rows the
following month adds or changes (same ``line_id`` = replaces), for the incremental-month benchmark.

    .venv/bin/python -m benchmarks.generate --customers 1m --out /tmp/nrr-bench/1m
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

FIRST_YEAR = 2023
TIERS = ("starter", "pro", "enterprise")


@dataclass(frozen=True)
class Company:
    """Where a generated company lives and what it covers."""

    folder: Path
    customers: int
    months: int
    as_of: dt.date  # last day of the last complete month in revenue_lines.parquet
    next_as_of: dt.date  # last day of the month the delta adds

    @property
    def lines(self) -> Path:
        return self.folder / "revenue_lines.parquet"

    @property
    def delta(self) -> Path:
        return self.folder / "revenue_lines_delta.parquet"

    @property
    def attributes(self) -> Path:
        return self.folder / "customer_attributes.parquet"

    @property
    def rates(self) -> Path:
        return self.folder / "fx_rates.parquet"

    @property
    def customer_months(self) -> int:
        return self.customers * self.months


def month_end(month_index: int) -> dt.date:
    """Last day of month ``month_index`` counted from January of FIRST_YEAR."""
    year, month = divmod(month_index + 1, 12)
    return dt.date(FIRST_YEAR + year, month + 1, 1) - dt.timedelta(days=1)


def parse_scale(text: str) -> int:
    """'10k' -> 10_000, '1m' -> 1_000_000, '2500' -> 2500."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def _u(draw: int, seed: int) -> str:
    """A uniform [0, 1) draw for the current customer ``i``."""
    # one-argument hash of a packed integer: DuckDB's multi-argument hash correlates its draws
    return f"(hash(i * 64 + {draw} + {seed} * 1099511627776) / 18446744073709551616.0)"


def customers_sql(n: int, months: int, seed: int, multi_currency: bool) -> str:
    """One row per customer: its plan and the month of each event (NULL = does not happen)."""
    horizon = months + 1
    u = {k: _u(k, seed) for k in range(1, 20)}
    currency = (
        "CASE country WHEN 'CH' THEN 'CHF' WHEN 'US' THEN 'USD' ELSE 'EUR' END"
        if multi_currency
        else "'EUR'"
    )
    return f"""
    SELECT i,
        'c' || lpad(CAST(i AS VARCHAR), 8, '0') AS customer_id,
        CAST(floor({horizon} * sqrt({u[1]})) AS INTEGER) AS start_m,
        CAST(1 + floor({u[2]} * 28) AS INTEGER) AS day,
        CASE WHEN {u[3]} < 0.6 THEN 1 WHEN {u[3]} < 0.85 THEN 3 ELSE 12 END AS months_per_bill,
        CASE WHEN {u[4]} < 0.6 THEN 0 WHEN {u[4]} < 0.9 THEN 1 ELSE 2 END AS tier,
        CAST(1 + floor({u[5]} * {u[5]} * 25) AS BIGINT) AS seats,
        CASE WHEN {u[6]} < 0.40 THEN 'DE' WHEN {u[6]} < 0.50 THEN 'AT' WHEN {u[6]} < 0.65 THEN 'CH'
             WHEN {u[6]} < 0.85 THEN 'US' ELSE 'FR' END AS country,
        ['software', 'retail', 'health', 'finance', 'media']
            [CAST(1 + floor({u[18]} * 5) AS INTEGER)] AS industry,
        {currency} AS currency,
        -- list price per seat and month in minor units; annual pays 10 months, quarterly 5 % off
        CAST([1900, 4900, 14900][tier + 1]
             * CASE months_per_bill WHEN 12 THEN 10.0 / 12 WHEN 3 THEN 0.95 ELSE 1 END AS BIGINT)
            AS unit_mrr,
        seats * unit_mrr AS mrr1,
        CASE WHEN {u[7]} < 0.4
             THEN start_m + months_per_bill * CAST(1 + floor({u[8]} * 3) AS INTEGER)
        END AS change_raw,
        CASE WHEN change_raw < {horizon} THEN change_raw END AS change_m,
        CASE WHEN {u[9]} < 0.7 OR seats = 1 THEN seats + CAST(1 + floor({u[10]} * 5) AS BIGINT)
             ELSE greatest(1, seats - CAST(1 + floor({u[10]} * 3) AS BIGINT)) END AS seats2,
        seats2 * unit_mrr AS mrr2,
        CASE WHEN {u[11]} < 0.35 THEN coalesce(change_m, start_m)
             + months_per_bill * CAST(1 + floor({u[12]} * 4) AS INTEGER) END AS churn_raw,
        CASE WHEN churn_raw < {horizon} THEN churn_raw END AS churn_m,
        CASE WHEN churn_m IS NOT NULL AND {u[13]} < 0.3
             THEN churn_m + CAST(2 + floor({u[14]} * 6) AS INTEGER) END AS react_raw,
        CASE WHEN react_raw < {horizon} THEN react_raw END AS react_m,
        CASE WHEN {u[15]} >= 0.2 THEN NULL WHEN {u[16]} < 0.5 THEN 'repeating'
             WHEN {u[16]} < 0.8 THEN 'forever' ELSE 'once' END AS discount,
        CASE WHEN {u[17]} < 0.8 THEN 'voluntary' ELSE 'involuntary' END AS reason,
        CAST(1 + floor({u[19]} * 25) AS INTEGER) AS notice_days
    FROM range({n}) AS t(i)
    """


def _day(month_expr: str) -> str:
    """The date of the customer's billing day in month ``month_expr`` (NULL stays NULL)."""
    return (
        f"make_date({FIRST_YEAR} + CAST(({month_expr}) // 12 AS INTEGER), "
        f"CAST(({month_expr}) % 12 + 1 AS INTEGER), day)"
    )


def lines_sql(customers: str) -> str:
    """All revenue lines of the simulation (before cutting at an as-of date)."""
    first_end = "coalesce(change_m, churn_m)"
    return f"""
    WITH c AS ({customers}),
    slots AS (
        SELECT c.*, k FROM c CROSS JOIN (VALUES (1), (2), (3), (4)) AS s(k)
    ),
    raw AS (
        SELECT customer_id, k, currency, seats, seats2, reason, notice_days,
            months_per_bill, tier,
            CASE k WHEN 1 THEN {_day('start_m')} WHEN 2 THEN {_day('change_m')}
                   WHEN 3 THEN {_day('react_m')} ELSE {_day('start_m')} END AS start_date,
            CASE k WHEN 1 THEN {_day(first_end)} WHEN 2 THEN {_day('churn_m')} WHEN 3 THEN NULL
                   ELSE CASE discount
                        WHEN 'forever' THEN {_day(first_end)}
                        WHEN 'repeating' THEN {_day(f'least(start_m + 3, {first_end})')}
                        ELSE {_day(f'least(start_m + months_per_bill, {first_end})')} END
            END AS end_date,
            CASE k WHEN 1 THEN mrr1 WHEN 2 THEN mrr2 WHEN 3 THEN mrr1 ELSE -(mrr1 // 10) END
                AS mrr_minor,
            -- does this line end because the customer left?
            (k = 1 AND change_m IS NULL AND churn_m IS NOT NULL)
                OR (k = 2 AND churn_m IS NOT NULL) AS ends_by_churn,
            discount
        FROM slots
        WHERE k = 1 OR (k = 2 AND change_m IS NOT NULL) OR (k = 3 AND react_m IS NOT NULL)
            OR (k = 4 AND discount IS NOT NULL)
    )
    SELECT
        customer_id || '#' || k AS line_id,
        'bench' AS source,
        customer_id || '#' || k AS source_ref,
        customer_id, start_date, end_date, mrr_minor, currency,
        CASE WHEN k = 4 THEN 'discount' ELSE 'recurring' END AS kind,
        CASE WHEN k = 4 THEN discount END AS discount_duration,
        ['starter', 'pro', 'enterprise'][tier + 1] || '-'
            || CASE months_per_bill WHEN 1 THEN 'monthly' WHEN 3 THEN 'quarterly' ELSE 'annual' END
            AS plan,
        CASE k WHEN 2 THEN seats2 WHEN 4 THEN NULL ELSE seats END AS quantity,
        CASE WHEN ends_by_churn THEN CASE reason WHEN 'voluntary'
             THEN end_date - notice_days ELSE end_date END END AS cancel_requested_date,
        CASE WHEN ends_by_churn AND reason = 'involuntary' THEN end_date - 21 END
            AS past_due_since,
        CASE WHEN ends_by_churn THEN reason END AS churn_reason
    FROM raw
    """


def snapshot_sql(all_lines: str, as_of: dt.date) -> str:
    """The lines as a billing system shows them on ``as_of``: the future is not known yet.

    A line that has not started yet is absent; an end after ``as_of`` is known only if the
    cancellation was already requested (cancel at period end); otherwise the line is still open.
    """
    a = f"DATE '{as_of.isoformat()}'"
    known_end = f"(end_date <= {a} OR cancel_requested_date <= {a})"
    return f"""
    SELECT line_id, source, source_ref, customer_id, start_date,
        CASE WHEN {known_end} THEN end_date END AS end_date,
        mrr_minor, currency, kind, discount_duration, plan, quantity,
        CASE WHEN cancel_requested_date <= {a} THEN cancel_requested_date END
            AS cancel_requested_date,
        CASE WHEN past_due_since <= {a} THEN past_due_since END AS past_due_since,
        CASE WHEN {known_end} THEN churn_reason END AS churn_reason
    FROM {all_lines}
    WHERE start_date <= {a}
    """


def delta_sql(all_lines: str, as_of: dt.date, next_as_of: dt.date) -> str:
    """Rows of the snapshot on ``next_as_of`` that are new or differ from the one on ``as_of``."""
    a, n = (f"DATE '{d.isoformat()}'" for d in (as_of, next_as_of))
    changed = " OR ".join(
        f"({col} > {a} AND {col} <= {n})"
        for col in ("start_date", "end_date", "cancel_requested_date", "past_due_since")
    )
    unchanged = (
        f"coalesce(start_date <= {a} AND end_date > {a} AND cancel_requested_date <= {a}, false)"
    )
    changed = f"({changed}) AND NOT {unchanged}"
    return f"SELECT * FROM ({snapshot_sql(all_lines, next_as_of)}) WHERE {changed}"


def attributes_sql(customers: str) -> str:
    return f"""
    SELECT customer_id, key, CASE key WHEN 'country' THEN country ELSE industry END AS value,
        'bench' AS source
    FROM ({customers}) CROSS JOIN (VALUES ('country'), ('industry')) AS k(key)
    """


def rates_sql(months: int) -> str:
    """Monthly rates into EUR (both currencies have two decimals, so minor = major ratio).

    From the month before the first: the bridge of the first month starts at its rates."""
    return f"""
    SELECT currency, CAST(({FIRST_YEAR} + m // 12) * 12 + m % 12 AS INTEGER) AS p,
        CAST(CASE currency WHEN 'EUR' THEN 1
             WHEN 'USD' THEN round(0.92 + 0.04 * sin(m / 5.0), 4)
             ELSE round(1.04 + 0.03 * cos(m / 7.0), 4) END AS DECIMAL(18, 10)) AS rate
    FROM range(-1, {months + 1}) AS t(m)
    CROSS JOIN (VALUES ('EUR'), ('USD'), ('CHF')) AS c(currency)
    """


def generate(
    folder: Path,
    customers: int,
    *,
    months: int = 36,
    seed: int = 42,
    multi_currency: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Company:
    """Write the company's Parquet tables into ``folder`` and describe them."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    company = Company(folder, customers, months, month_end(months - 1), month_end(months))
    own = con is None
    db = con or duckdb.connect()
    try:
        _write(db, company, seed, multi_currency)
    finally:
        if own:
            db.close()
    return company


def _write(con: duckdb.DuckDBPyConnection, company: Company, seed: int, multi: bool) -> None:
    cust = customers_sql(company.customers, company.months, seed, multi)
    all_lines = folder_file(company.folder, "_all_lines.parquet")
    _copy(con, lines_sql(cust), all_lines)
    source = f"read_parquet('{all_lines}')"
    _copy(con, snapshot_sql(source, company.as_of), company.lines)
    _copy(con, delta_sql(source, company.as_of, company.next_as_of), company.delta)
    _copy(con, attributes_sql(cust), company.attributes)
    _copy(con, rates_sql(company.months), company.rates)
    Path(all_lines).unlink()
    about = {"customers": company.customers, "months": company.months, "seed": seed,
             "multi_currency": multi, "as_of": company.as_of.isoformat(),
             "next_as_of": company.next_as_of.isoformat()}  # fmt: skip
    (company.folder / "company.json").write_text(json.dumps(about, indent=2) + "\n")


def folder_file(folder: Path, name: str) -> str:
    return str(folder / name).replace("'", "''")


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path | str) -> None:
    path = str(target).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)").fetchall()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", default="10k", help="e.g. 10k, 1m, 10m")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--single-currency", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    company = generate(
        args.out, parse_scale(args.customers), months=args.months, seed=args.seed,
        multi_currency=not args.single_currency,
    )
    print(f"{company.customers:,} customers x {company.months} months -> {company.folder} "
          f"in {time.perf_counter() - began:.1f}s")


if __name__ == "__main__":
    main()
