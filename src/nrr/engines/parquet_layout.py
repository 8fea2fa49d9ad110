"""The Parquet folder layout `nrr export --parquet DIR` writes, and Spark (or any engine) reads.

    DIR/
      nrr-layout.json                        what is where, row counts, the layout version
      revenue_lines/start_year=2023/*.parquet   partitioned by the year the line starts
      revenue_lines/start_year=2024/*.parquet
      customer_attributes/*.parquet
      customers/*.parquet
      fx_rates/*.parquet                     only when the caller supplies rates

Why by start year: revenue lines are the only large table, and new billing only ever lands in the
current year, so an incremental export or sync rewrites one partition and leaves the others (and
any cluster cache of them) untouched; a year also keeps partitions large (tens of MB and up), which
is what Spark and object stores want. Within a partition rows are sorted by customer, so each
Parquet row group covers a narrow customer range and min/max statistics prune lookups of one
customer (`nrr explain`). Columns and types are the canonical ones of ``nrr.schema``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, FX_RATES, REVENUE_LINES, column_names

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

LAYOUT_VERSION = 1
MANIFEST = "nrr-layout.json"
INPUT_TABLES = ("revenue_lines", "customer_attributes", "fx_rates")
PARTITION_COLUMN = "start_year"

_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "revenue_lines": REVENUE_LINES,
    "customer_attributes": CUSTOMER_ATTRIBUTES,
    "customers": CUSTOMERS,
    "fx_rates": FX_RATES,
}
_ORDER = {
    "revenue_lines": "customer_id, start_date, line_id",
    "customer_attributes": "customer_id, key",
    "customers": "customer_id",
    "fx_rates": "currency, p",
}


def table_path(folder: str | Path, table: str) -> str:
    """Where ``table`` lives in a layout (a folder of Parquet files; Spark reads it as one)."""
    return f"{str(folder).rstrip('/')}/{table}"


def write(
    con: duckdb.DuckDBPyConnection,
    folder: str | Path,
    *,
    tables: tuple[str, ...] = ("revenue_lines", "customer_attributes", "customers"),
    rates: pa.Table | None = None,
) -> dict[str, int]:
    """Write the canonical tables ``con`` holds into ``folder``; returns rows per table.

    Each table is written beside its target and moved into place, so a failed export leaves the
    previous one as it was.
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    if rates is not None:
        con.register("_nrr_export_rates", rates)
    try:
        for table in tables + (("fx_rates",) if rates is not None else ()):
            source = "_nrr_export_rates" if table == "fx_rates" else table
            counts[table] = _write_table(con, root, table, source)
    finally:
        if rates is not None:
            con.unregister("_nrr_export_rates")
    _write_manifest(root, counts)
    return counts


def read_sql(folder: str | Path, table: str) -> str:
    """A DuckDB relation over one table of a layout, with exactly the canonical columns."""
    cols = ", ".join(column_names(_TABLES[table]))
    glob = _quote(f"{table_path(folder, table)}/**/*.parquet")
    return f"(SELECT {cols} FROM read_parquet({glob}, hive_partitioning = true))"


def manifest(folder: str | Path) -> dict[str, object]:
    """The layout's manifest; raises FileNotFoundError naming the folder when it is not a layout."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{folder} is not an nrr Parquet export (no {MANIFEST})")
    data: dict[str, object] = json.loads(path.read_text())
    return data


def _write_table(con: duckdb.DuckDBPyConnection, root: Path, table: str, source: str) -> int:
    target = root / table
    staging = root / f".{table}.writing"
    shutil.rmtree(staging, ignore_errors=True)
    cols = ", ".join(column_names(_TABLES[table]))
    options = "FORMAT parquet, COMPRESSION zstd"
    query = f"SELECT {cols} FROM {source}"
    if table == "revenue_lines":
        query = f"SELECT {cols}, year(start_date) AS {PARTITION_COLUMN} FROM {source}"
        options += f", PARTITION_BY ({PARTITION_COLUMN})"
    else:
        staging.mkdir(parents=True)
    destination = staging if table == "revenue_lines" else staging / "part-0.parquet"
    con.execute(
        f"COPY ({query} ORDER BY {_ORDER[table]}) TO {_quote(str(destination))} ({options})"
    ).fetchall()
    rows = con.execute(f"SELECT count(*) FROM {source}").fetchall()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return int(rows[0][0])


def _write_manifest(root: Path, counts: dict[str, int]) -> None:
    body = {
        "layout_version": LAYOUT_VERSION,
        "tables": {
            name: {
                "path": name,
                "rows": rows,
                "partition_by": [PARTITION_COLUMN] if name == "revenue_lines" else [],
                "columns": [{"name": c, "type": t} for c, t in _TABLES[name]],
            }
            for name, rows in counts.items()
        },
    }
    (root / MANIFEST).write_text(json.dumps(body, indent=2) + "\n")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
