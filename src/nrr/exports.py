"""Export every table to files: CSV, Parquet, XLSX; and the input layout for Spark."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr import reports
from nrr.engines.results import Results

if TYPE_CHECKING:
    import pyarrow as pa

    from nrr.store import Workspace


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    import pyarrow as pa

    return pa.Table.from_pylist([{k: v for k, v in r.items() if k != "drill"} for r in rows])


def all_tables(ws: Workspace, res: Results) -> dict[str, pa.Table]:
    """Report tables (as the CLI and API show them) plus the canonical inputs."""
    tables = {
        "bridge": _table(reports.bridge(res)),
        "retention_period": _table(reports.retention(res, 1)),
        "retention_ttm": _table(reports.retention(res, res.ttm_window)),
        "cohorts": _table(reports.cohorts(res)),
        "customers": _table(reports.customers(res, limit=10**9)),
        "at_risk": _at_risk(res),
    }
    if not res.empty:
        tables["movements"] = res.movements()
    for name in ("revenue_lines", "customers", "customer_attributes"):
        tables[f"input_{name}"] = ws.table(name)
    return tables


AT_RISK_COLUMNS = ("customer_id", "name", "plan", "currency", "mrr", "mrr_at_risk", "reasons",
                   "cancels_on", "past_due_since", "lapses_on", "downgraded")  # fmt: skip


def _at_risk(res: Results) -> pa.Table:
    """The accounts at risk, their reasons as one text (a spreadsheet cell, a CSV field)."""
    import pyarrow as pa

    rows = [{**r, "reasons": "; ".join(r["reasons"])} for r in reports.at_risk(res)["customers"]]
    return pa.table({c: [r[c] for r in rows] for c in AT_RISK_COLUMNS})


def write_tables(tables: dict[str, pa.Table], folder: Path, fmt: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        return [_write_xlsx(tables, folder / "nrr.xlsx")]
    written = []
    for name, table in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, path)
        else:
            import pyarrow.parquet as pq

            pq.write_table(table, path)
        written.append(path)
    return written


def _write_xlsx(tables: dict[str, pa.Table], path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, table in tables.items():
        sheet = book.create_sheet(title=name[:31])
        sheet.append(table.column_names)
        for row in table.to_pylist():
            sheet.append([_cell(v) for v in row.values()])
    book.save(path)
    return path


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


def write_input_layout(ws: Workspace, folder: Path) -> list[Path]:
    """The canonical input tables as the Parquet layout the Spark engine reads."""
    from nrr.engines import parquet_layout

    counts = parquet_layout.write(ws.con, folder)
    return [Path(parquet_layout.table_path(folder, table)) for table in counts]
