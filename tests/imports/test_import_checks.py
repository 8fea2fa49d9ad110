"""Every blocking error names file, row and column, says what to do, and stores nothing;
every warning is reported without blocking."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from nrr import imports
from nrr.imports import ImportFailed, import_file
from nrr.store import Workspace

from .conftest import contents, write_csv

HEADER = ["customer", "start", "end", "amount", "interval", "currency", "plan"]
GOOD = ["c0", "2024-01-01", None, "10", "month", "EUR", "Basic"]


@pytest.fixture
def seeded(ws: Workspace, tmp_path: Path) -> Workspace:
    """A workspace that already holds an import of the same file name."""
    import_file(ws, write_csv(tmp_path, "billing.csv", HEADER, [GOOD]))
    return ws


def fail(ws: Workspace, path: Path, **kwargs: object) -> list[str]:
    before = contents(ws)
    with pytest.raises(ImportFailed) as info:
        import_file(ws, path, **kwargs)  # type: ignore[arg-type]
    assert contents(ws) == before  # all or nothing
    assert not info.value.report.ok
    return [str(p) for p in info.value.report.errors]


@pytest.mark.parametrize(("bad", "expected"), [
    ({"start": "2024-13-01"}, "billing.csv, row 3, column 'start': cannot read '2024-13-01' as a "
                              "date; write dates as YYYY-MM-DD (DD.MM.YYYY and MM/DD/YYYY are "
                              "read too)"),
    ({"amount": "ten"}, "billing.csv, row 3, column 'amount': cannot read 'ten' as an amount; "
                        "write amounts as plain numbers such as 1234.50 or 1.234,50"),
    ({"currency": "EUX"}, "billing.csv, row 3, column 'currency': 'EUX' is not a known ISO 4217 "
                          "currency code; use a three-letter code such as EUR, CHF or USD (or "
                          "supply a rates file that defines it)"),
    ({"end": "2023-12-01"}, "billing.csv, row 3, column 'end': the end 2023-12-01 is before the "
                            "start 2024-01-01 (column start); correct one of the two dates"),
    ({"customer": None}, "billing.csv, row 3, column 'customer': the customer is empty; every "
                         "row needs one"),
    ({"interval": "sometimes"}, "billing.csv, row 3, column 'interval': unknown billing interval "
                                "'sometimes'; use month, quarter, year, week or day (optionally "
                                "with a count, e.g. '3 months')"),
])
def test_cell_errors(seeded: Workspace, tmp_path: Path, bad: dict[str, str | None],
                     expected: str) -> None:
    row = dict(zip(HEADER, ["c1", "2024-01-01", None, "10", "month", "EUR", "Basic"],
                   strict=True)) | bad
    path = write_csv(tmp_path, "billing.csv", HEADER, [GOOD, list(row.values())])
    assert fail(seeded, path) == [expected]


def test_two_currencies_for_one_customer(seeded: Workspace, tmp_path: Path) -> None:
    rows = [GOOD, ["c0", "2024-02-01", None, "10", "month", "USD", "Pro"]]
    assert fail(seeded, write_csv(tmp_path, "billing.csv", HEADER, rows)) == [
        "billing.csv, row 3, column 'currency': customer 'c0' is billed in USD here but in EUR "
        "in row 2; a customer bills in one currency: give the USD rows their own customer id "
        "(e.g. c0-USD)"]


def test_missing_column_blocks(seeded: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "billing.csv", ["account ref", "start", "amount", "currency"],
                     [["x", "2024-01-01", "1", "EUR"]])
    (message,) = fail(seeded, path)
    assert message.startswith("billing.csv: no column for customer (looked for customer_id, "
                              "customer, customerid")
    assert "Columns found: 'account ref', 'start', 'amount', 'currency'" in message


def test_at_most_twenty_errors_are_listed_and_all_counted(seeded: Workspace,
                                                          tmp_path: Path) -> None:
    rows = [["c1", "someday", None, "1", "month", "EUR", None] for _ in range(30)]
    path = write_csv(tmp_path, "billing.csv", HEADER, rows)
    before = contents(seeded)
    with pytest.raises(ImportFailed) as info:
        import_file(seeded, path)
    assert (len(info.value.report.errors), info.value.report.error_count) == (20, 30)
    assert str(info.value).endswith("... and 10 more error(s)")
    assert contents(seeded) == before


def test_unreadable_and_unknown_files(seeded: Workspace, tmp_path: Path) -> None:
    odd = tmp_path / "billing.pdf"
    odd.write_text("x", encoding="utf-8")
    assert fail(seeded, odd) == [
        "billing.pdf: unknown file type '.pdf'; nrr reads .csv, .tsv, .xlsx and .parquet files "
        "(save or rename the export accordingly)"]
    assert fail(seeded, tmp_path / "nothere.csv") == [
        f"nothere.csv: no such file ({tmp_path}/nothere.csv); check the path"]


def test_warnings_do_not_block(ws: Workspace, tmp_path: Path) -> None:
    header = HEADER + ["discount_amount"]
    rows = [
        ["a", "2024-01-01", "2024-02-01", "10", "month", "EUR", "Basic", None],
        ["a", "2024-05-01", None, "10", "month", "EUR", "Basic", None],  # Feb-Apr: nobody
        ["a", "2024-05-15", None, "10", "month", "EUR", "Basic", None],  # overlaps row 3
        ["b", "2024-05-01", None, "10", "month", "EUR", "Pro", "15"],  # discount > price
        ["c", "2030-01-01", None, "10", "month", "EUR", "Pro", None],  # in the future
    ]
    report = import_file(ws, write_csv(tmp_path, "w.csv", header, rows), as_of=date(2026, 1, 1))
    assert [str(w) for w in report.warnings] == [
        "w.csv: no active subscription at all in 2024-02 to 2024-04; check that the export is "
        "complete (a month without any billing is unusual)",
        "w.csv, row 5: customer 'b' has negative net revenue (-5.00 EUR a month) from "
        "2024-05-01: credits or discounts exceed its charges; check their amounts and service "
        "periods",
        "w.csv, row 6, column 'start': 2030-01-01 is after the as-of date 2026-01-01; it counts "
        "from that date on (check the year if that is a typo)",
        "w.csv, row 4, column 'start': this period of customer 'a' on plan 'Basic' overlaps the "
        "one in row 3; both count, so their MRR adds up. If one replaces the other, end the "
        "first where the second starts",
    ]
    assert report.ok and report.lines == 6


def test_future_dates_need_an_as_of(ws: Workspace, tmp_path: Path) -> None:
    rows = [["c", "2030-01-01", None, "10", "month", "EUR", "Basic"]]
    report = import_file(ws, write_csv(tmp_path, "f.csv", HEADER, rows))
    assert report.warnings == []


def test_a_file_without_rows_blocks(seeded: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "billing.csv", HEADER, [])
    assert fail(seeded, path) == [
        "billing.csv: there are no rows below the header; export the data again (an empty file "
        "would remove what this source brought before)"]


def test_many_warnings_are_counted(ws: Workspace, tmp_path: Path) -> None:
    rows = [[f"c{i}", "2031-01-01", None, "1", "month", "EUR", "Basic"] for i in range(25)]
    report = import_file(ws, write_csv(tmp_path, "many.csv", HEADER, rows),
                         as_of=date(2026, 1, 1))
    assert (len(report.warnings), report.warning_count) == (20, 25)


def test_progress_is_reported(ws: Workspace, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "_FLUSH_ROWS", 100)  # report (and stage) every 100 rows
    rows = [[f"c{i}", "2024-01-01", None, "1", "month", "EUR", "Basic"] for i in range(250)]
    seen: list[int] = []
    report = import_file(ws, write_csv(tmp_path, "big.csv", HEADER, rows),
                         on_progress=seen.append)
    assert seen == [100, 200]
    assert report.lines == 250


def test_invoice_dates_in_the_future(ws: Workspace, tmp_path: Path) -> None:
    header = ["customer", "invoice_date", "amount", "currency"]
    path = write_csv(tmp_path, "inv.csv", header, [["a", "2026-02-01", "5", "EUR"]])
    report = import_file(ws, path, as_of=date(2026, 1, 31))
    assert [str(w) for w in report.warnings] == [
        "inv.csv, row 2, column 'invoice_date': 2026-02-01 is after the as-of date 2026-01-31; "
        "it counts from that date on (check the year if that is a typo)"]
