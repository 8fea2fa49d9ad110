"""Invoice-line files: spreading over service periods, months, credits, one-time lines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from nrr.imports import import_file
from nrr.store import Workspace

from .conftest import write_csv

HEADER = ["Customer ID", "Invoice Date (UTC)", "Amount", "Currency", "Period Start (UTC)",
          "Period End (UTC)", "Type", "Plan"]


def test_invoice_lines(ws: Workspace, tmp_path: Path) -> None:
    rows = [
        ["a", "2024-01-15", "1200.00", "EUR", "2024-01-15", "2025-01-15", "subscription", "Y"],
        ["b", "2024-02-03", "49.00", "EUR", None, None, "subscription", "M"],
        ["b", "2024-02-20", "-9.00", "EUR", None, None, "subscription", "M"],
        ["b", "2024-02-03", "500.00", "EUR", None, None, "setup", None],
        ["c", "2024-03-01", "90,00", "EUR", "2024-03-01", "2024-05-31", "recurring", "Q"],
        ["d", "2024-03-10", "15.00", "EUR", "2024-03-10", "2024-03-25", "recurring", "P"],
    ]
    report = import_file(ws, write_csv(tmp_path, "lines.csv", HEADER, rows))
    got = ws.con.execute("SELECT line_id, customer_id, start_date, end_date, mrr_minor "
                         "FROM revenue_lines ORDER BY line_id").fetchall()
    assert got == [
        ("lines.csv:2", "a", date(2024, 1, 15), date(2025, 1, 15), 10_000),  # 12 months
        ("lines.csv:3", "b", date(2024, 2, 1), date(2024, 3, 1), 4_900),  # its month
        ("lines.csv:4", "b", date(2024, 2, 1), date(2024, 3, 1), -900),  # credit nets
        ("lines.csv:6", "c", date(2024, 3, 1), date(2024, 6, 1), 3_000),  # inclusive end seen
        ("lines.csv:7", "d", date(2024, 3, 10), date(2024, 3, 25), 3_042),  # by day
    ]
    assert (report.shape, report.rows, report.lines) == ("invoices", 6, 5)
    assert report.skipped_rows == {"one_time": 1}
    # the one-time row is kept as a raw record even though it is not MRR
    assert ws.source_rows(["lines.csv:5"])[0][1] == "lines.csv:5"


def test_months_without_any_invoice_are_a_warning(ws: Workspace, tmp_path: Path) -> None:
    rows = [["a", "2024-01-05", "10", "EUR", None, None, "recurring", None],
            ["a", "2024-04-05", "10", "EUR", None, None, "recurring", None]]
    report = import_file(ws, write_csv(tmp_path, "gap.csv", HEADER, rows))
    assert [str(w) for w in report.warnings] == [
        "gap.csv: no invoice dated in 2024-02 to 2024-03; check that the export is complete "
        "(a month without any billing is unusual)"]
