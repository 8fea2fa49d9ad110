"""Repeating an import changes nothing, a corrected file replaces its source, every format reads."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nrr.imports import ImportFailed, import_file
from nrr.sources.files import open_table
from nrr.store import Workspace

from .conftest import contents, lines, total_mrr, write_csv

HEADER = ["customer", "start", "end", "amount", "interval", "currency", "country"]
ROWS = [["c1", "2024-01-01", None, "1200", "year", "EUR", "DE"],
        ["c2", "2024-02-01", "2024-08-01", "90", "quarter", "CHF", "CH"]]
EXPECTED = [("f:2", "c1", date(2024, 1, 1), None, 10_000, "EUR", "recurring", None),
            ("f:3", "c2", date(2024, 2, 1), date(2024, 8, 1), 3_000, "CHF", "recurring", None)]


def expected_for(name: str) -> list[tuple[object, ...]]:
    return [(f"{name}:{line[0][2:]}", *line[1:]) for line in EXPECTED]


def test_same_file_twice_changes_nothing(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "b.csv", HEADER, ROWS)
    first = import_file(ws, path)
    before = contents(ws)
    again = import_file(ws, path)
    assert again.unchanged and again.import_id == first.import_id
    assert contents(ws) == before


def test_corrected_file_replaces_its_source_only(ws: Workspace, tmp_path: Path) -> None:
    other = write_csv(tmp_path, "other.csv", HEADER, [["z", "2024-01-01", None, "5", "month",
                                                      "EUR", "AT"]])
    import_file(ws, other)
    path = write_csv(tmp_path, "b.csv", HEADER, ROWS)
    import_file(ws, path)
    assert total_mrr(ws) == 500 + 10_000 + 3_000
    write_csv(tmp_path, "b.csv", HEADER, [["c1", "2024-01-01", None, "2400", "year", "EUR",
                                           "AT"]])
    report = import_file(ws, path)
    assert not report.unchanged and report.import_id == 3
    assert total_mrr(ws) == 500 + 20_000
    sources = ws.con.execute("SELECT source, count(*) FROM raw_records GROUP BY 1 "
                             "ORDER BY 1").fetchall()
    assert sources == [("file:b.csv", 1), ("file:other.csv", 1)]
    attrs = ws.con.execute("SELECT customer_id, value FROM customer_attributes "
                           "ORDER BY 1").fetchall()
    assert attrs == [("c1", "AT"), ("z", "AT")]


def test_a_failed_correction_keeps_the_earlier_import(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "b.csv", HEADER, ROWS)
    import_file(ws, path)
    before = contents(ws)
    write_csv(tmp_path, "b.csv", HEADER, [["c1", "soon", None, "1", "month", "EUR", "DE"]])
    with pytest.raises(ImportFailed):
        import_file(ws, path)
    assert contents(ws) == before


def test_snapshot_is_published(ws: Workspace, tmp_path: Path) -> None:
    import_file(ws, write_csv(tmp_path, "b.csv", HEADER, ROWS))
    assert (ws.path / "snapshot.duckdb").is_file()


def test_tsv(ws: Workspace, tmp_path: Path) -> None:
    import_file(ws, write_csv(tmp_path, "b.tsv", HEADER, ROWS, delimiter="\t"))
    assert lines(ws) == expected_for("b.tsv")


def test_latin1_semicolon_csv(ws: Workspace, tmp_path: Path) -> None:
    rows = [["Müller", "01.01.2024", None, "1.200,00", "jährlich", "EUR", "Österreich"]]
    path = write_csv(tmp_path, "de.csv", HEADER, rows, delimiter=";", encoding="latin-1")
    import_file(ws, path)
    assert ws.con.execute("SELECT customer_id, mrr_minor FROM revenue_lines").fetchall() == [
        ("Müller", 10_000)]
    assert ws.con.execute("SELECT value FROM customer_attributes").fetchall() == [("Österreich",)]


def test_xlsx_first_sheet_and_named_sheet(ws: Workspace, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Notes"
    sheet.append(["nothing to see"])
    data = book.create_sheet("Billing")
    data.append(HEADER)
    data.append(["c1", datetime(2024, 1, 1), None, 1200, "year", "EUR", "DE"])
    data.append(["c2", date(2024, 2, 1), date(2024, 8, 1), 90.0, "quarter", "CHF", "CH"])
    data.append([None] * len(HEADER))  # trailing empty rows are not records
    path = tmp_path / "b.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed, match="columns found: .nothing to see."):
        import_file(ws, path)  # the first sheet holds no billing data
    import_file(ws, path, sheet="Billing")
    assert lines(ws) == expected_for("b.xlsx")
    payload = ws.source_rows(["b.xlsx:3"])[0][2]
    assert '"amount": 90,' in payload and '"start": "2024-02-01"' in payload


def test_xlsx_unknown_sheet(ws: Workspace, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    path = tmp_path / "b.xlsx"
    book.save(path)
    with pytest.raises(ImportFailed, match="no sheet named 'Data'; sheets: Sheet"):
        import_file(ws, path, sheet="Data")


def test_parquet_with_typed_columns(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table({
        "customer": ["c1", "c2"],
        "start": pa.array([date(2024, 1, 1), date(2024, 2, 1)], pa.date32()),
        "end": pa.array([None, date(2024, 8, 1)], pa.date32()),
        "amount": pa.array([1200.0, 90.0], pa.float64()),
        "interval": ["year", "quarter"], "currency": ["EUR", "CHF"], "country": ["DE", "CH"],
    })
    path = tmp_path / "b.parquet"
    pq.write_table(table, path)
    import_file(ws, path)
    assert lines(ws) == expected_for("b.parquet")


def test_row_numbers_follow_the_file(tmp_path: Path) -> None:
    rows = [[f"c{i}", "2024-01-01", None, "1", "month", "EUR", "DE"] for i in range(120_000)]
    table = open_table(write_csv(tmp_path, "big.csv", HEADER, rows))
    numbered = [(number, cells[0]) for number, cells, _ in table.rows]
    assert numbered[0] == (2, "c0") and numbered[-1] == (120_001, "c119999")
    assert all(number == int(cust[1:]) + 2 for number, cust in numbered)


def test_bom_crlf_and_quoted_fields(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffcustomer,start,amount,currency,customer_name\r\n"
                     'c1,2024-01-01,"1,234.50",EUR,"Müller, Hofer & Co\r\nKG"\r\n'
                     "c2,2024-01-01,  7 ,EUR,\r\n".encode())
    report = import_file(ws, path)
    assert report.columns["customer"] == "customer"
    got = ws.con.execute("SELECT source_ref, mrr_minor FROM revenue_lines ORDER BY 1").fetchall()
    assert got == [("excel.csv:2", 123_450), ("excel.csv:3", 700)]
    assert ws.con.execute("SELECT name FROM customers WHERE customer_id = 'c1'").fetchone() == (
        "Müller, Hofer & Co\r\nKG",)


def test_malformed_csv_is_a_clear_error(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("customer,start,amount,currency\nc1,2024-01-01,1,EUR\nc2,2024-01-01,1,EUR,"
                    "x,y,z\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as info:
        import_file(ws, path)
    assert str(info.value) == (
        "broken.csv: cannot read it as CSV: line 3 has more fields than the header's 4; check "
        "for an unquoted delimiter or a stray quote in that line")


def test_short_rows_are_padded_and_empty_files_refused(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("customer,start,amount,currency,country\nc1,2024-01-01,1,EUR\n",
                    encoding="utf-8")
    import_file(ws, path)
    assert ws.con.execute("SELECT count(*) FROM customer_attributes").fetchone() == (0,)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ImportFailed, match="empty.csv: the first line is empty"):
        import_file(ws, empty)
