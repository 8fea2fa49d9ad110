"""`nrr import` through click: output, JSON, exit codes, flags and mapping files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from nrr.cli import main
from nrr.store import open_workspace

from .conftest import contents, write_csv

HEADER = ["Kunde", "Beginn", "Preis", "Zyklus", "Währung", "Land"]
ROWS = [["k1", "2024-01-01", "1200", "year", "EUR", "DE"],
        ["k2", "2024-01-01", "90", "quarter", "EUR", "AT"]]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["import", *args])
    return result.exit_code, result.output


def test_import_prints_a_summary_and_is_repeatable(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "abo.csv", HEADER, ROWS)
    ws = str(tmp_path / "ws")
    code, out = run(str(path), "--workspace", ws, "--amount-col", "Preis",
                    "--interval-col", "Zyklus", "--as-of", "2026-01-01")
    assert code == 0, out
    assert out.splitlines() == [
        "Imported abo.csv as subscriptions: 2 rows -> 2 revenue lines (0 discounts) for 2 "
        "customers; source file:abo.csv, import 1.",
        "Columns: amount='Preis', currency='Währung', customer='Kunde', interval='Zyklus', "
        "start='Beginn'.",
        "Customer attributes: land.",
    ]
    code, out = run(str(path), "--workspace", ws, "--amount-col", "Preis",
                    "--interval-col", "Zyklus", "--as-of", "2026-01-01")
    assert (code, out) == (0, "abo.csv is unchanged since import 1: nothing to do (2 rows, 2 "
                              "revenue lines).\n")
    with open_workspace(ws) as workspace:
        assert workspace.con.execute("SELECT sum(mrr_minor) FROM revenue_lines").fetchone() == (
            13_000,)


def test_mapping_file_and_col_flag(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "abo.csv", HEADER, ROWS)
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\namount = "Preis"\n', encoding="utf-8")
    code, out = run(str(path), "-w", str(tmp_path / "ws"), "--map", str(mapping),
                    "--col", "interval=Zyklus", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert (data["ok"], data["rows"], data["lines"], data["columns"]["interval"]) == (
        True, 2, 2, "Zyklus")


def test_blocking_error_exits_2_and_stores_nothing(tmp_path: Path) -> None:
    good = write_csv(tmp_path, "abo.csv", HEADER, ROWS)
    ws = str(tmp_path / "ws")
    assert run(str(good), "-w", ws, "--amount-col", "Preis", "--interval-col", "Zyklus")[0] == 0
    with open_workspace(ws) as workspace:
        before = contents(workspace)
    bad = write_csv(tmp_path, "abo.csv", HEADER, [["k1", "2024-02-30", "1", "month", "EUR",
                                                   "DE"]])
    code, out = run(str(bad), "-w", ws, "--amount-col", "Preis", "--interval-col", "Zyklus")
    assert code == 2
    assert out.splitlines() == [
        "error: abo.csv, row 2, column 'Beginn': cannot read '2024-02-30' as a date; write dates "
        "as YYYY-MM-DD (DD.MM.YYYY and MM/DD/YYYY are read too)",
        "Nothing was imported from abo.csv: fix the error(s) above and run the import again.",
    ]
    with open_workspace(ws) as workspace:
        assert contents(workspace) == before


def test_missing_column_message_keeps_brackets(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "x.csv", ["who", "start", "amount", "currency"],
                     [["a", "2024-01-01", "1", "EUR"]])
    code, out = run(str(path), "-w", str(tmp_path / "ws"), "--json")
    assert code == 2
    (error,) = json.loads(out)["errors"]
    assert "in a mapping file under [columns]" in error["message"]
    assert error["row"] is None


def test_bad_col_flag(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "x.csv", HEADER, ROWS)
    code, out = run(str(path), "-w", str(tmp_path / "ws"), "--col", "plan")
    assert code == 2
    assert "--col 'plan': write ROLE=HEADER" in out
