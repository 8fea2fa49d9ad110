"""The Parquet layout `nrr export --parquet` writes: partitions, manifest, round trips."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from nrr.engines import parquet_layout
from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, REVENUE_LINES, column_names, ddl


def _line(line_id: str, customer: str, start: date, mrr: int) -> tuple[object, ...]:
    return (line_id, "file:a.csv", line_id, customer, start, None, mrr, "EUR", "recurring",
            None, "pro", 1, None, None, None)  # fmt: skip


LINES = [
    _line("a.csv:2", "B", date(2023, 3, 1), 500),
    _line("a.csv:1", "A", date(2023, 1, 10), 1000),
    _line("a.csv:3", "A", date(2024, 7, 1), 250),
    _line("a.csv:4", "C", date(2025, 2, 1), 9900),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    db = duckdb.connect()
    for name, columns in (("revenue_lines", REVENUE_LINES), ("customers", CUSTOMERS),
                          ("customer_attributes", CUSTOMER_ATTRIBUTES)):  # fmt: skip
        db.execute(ddl(name, columns)).fetchall()
    db.executemany(f"INSERT INTO revenue_lines VALUES ({', '.join('?' * 15)})", LINES)
    db.execute("INSERT INTO customers VALUES ('A', 'Acme', 'x'), ('B', 'Beta', 'x')").fetchall()
    db.execute(
        "INSERT INTO customer_attributes VALUES ('A', 'country', 'DE', 'x'), "
        "('B', 'country', 'CH', 'x')"
    ).fetchall()
    return db


def test_lines_are_partitioned_by_start_year(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    counts = parquet_layout.write(con, tmp_path)
    assert counts == {"revenue_lines": 4, "customer_attributes": 2, "customers": 2}
    years = sorted(p.name for p in (tmp_path / "revenue_lines").iterdir())
    assert years == ["start_year=2023", "start_year=2024", "start_year=2025"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_manifest_names_tables_rows_and_partitioning(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    parquet_layout.write(con, tmp_path)
    body = json.loads((tmp_path / "nrr-layout.json").read_text())
    assert body["layout_version"] == 1
    lines = body["tables"]["revenue_lines"]
    assert (lines["rows"], lines["partition_by"]) == (4, ["start_year"])
    assert [c["name"] for c in lines["columns"]] == column_names(REVENUE_LINES)
    assert parquet_layout.manifest(tmp_path) == body


def test_round_trip_keeps_every_row_and_type(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    parquet_layout.write(con, tmp_path)
    back = con.execute(
        f"SELECT * FROM {parquet_layout.read_sql(tmp_path, 'revenue_lines')} ORDER BY line_id"
    ).fetchall()
    assert back == sorted(LINES, key=lambda row: str(row[0]))
    types = con.execute(
        f"DESCRIBE SELECT * FROM {parquet_layout.read_sql(tmp_path, 'revenue_lines')}"
    ).fetchall()
    assert [(t[0], t[1]) for t in types] == list(REVENUE_LINES)


def test_rates_are_written_when_given(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from decimal import Decimal

    rate = pa.array([Decimal("0.9123456789")], pa.decimal128(18, 10))
    rates = pa.table({"currency": ["USD"], "p": pa.array([24300], pa.int32()), "rate": rate})
    counts = parquet_layout.write(con, tmp_path, rates=rates)
    assert counts["fx_rates"] == 1
    got = con.execute(f"SELECT * FROM {parquet_layout.read_sql(tmp_path, 'fx_rates')}").fetchall()
    assert got == [("USD", 24300, Decimal("0.9123456789"))]


def test_a_second_export_replaces_the_first(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    parquet_layout.write(con, tmp_path)
    con.execute("DELETE FROM revenue_lines WHERE start_date < DATE '2024-01-01'").fetchall()
    assert parquet_layout.write(con, tmp_path)["revenue_lines"] == 2
    years = sorted(p.name for p in (tmp_path / "revenue_lines").iterdir())
    assert years == ["start_year=2024", "start_year=2025"]


def test_a_folder_without_manifest_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not an nrr Parquet export"):
        parquet_layout.manifest(tmp_path)
