"""The command line: every command answers --help, reports match the library, exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from nrr.api import open_workspace, revenue_lines
from nrr.cli import LAZY, main

ROOT = Path(__file__).parent.parent


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    jan, feb, mar = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
    lines = revenue_lines(
        [
            {
                "customer_id": "A",
                "start_date": jan,
                "end_date": mar,
                "mrr_minor": 100_00,
                "plan": "Basic",
                "source": "t",
            },
            {
                "customer_id": "A",
                "start_date": mar,
                "mrr_minor": 150_00,
                "plan": "Pro",
                "source": "t",
            },
            {
                "customer_id": "B",
                "start_date": jan,
                "end_date": feb,
                "mrr_minor": 50_00,
                "plan": "Basic",
                "source": "t",
                "churn_reason": "involuntary",
            },
            {
                "customer_id": "C",
                "start_date": feb,
                "mrr_minor": 80_00,
                "plan": "Pro",
                "source": "t",
            },
        ]
    )
    path = tmp_path / "ws"
    with open_workspace(path) as ws:
        ws.replace_source("t", lines=lines)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_every_command_has_help_and_is_documented():
    documented = (ROOT / "docs" / "cli.md").read_text()
    for name in LAZY:
        code, out = run(name, "--help")
        assert code == 0, (name, out)
        assert "Usage:" in out
        assert f"`nrr {name}" in documented, f"nrr {name} is not in docs/cli.md"


def test_help_is_instant_and_imports_nothing_heavy():
    code = (
        "import sys, time; t = time.perf_counter(); import nrr.cli; "
        "heavy = {'duckdb', 'pyarrow', 'pandas', 'stripe', 'pyspark', 'rich'} & set(sys.modules); "
        "print(sorted(heavy), time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, seconds = out.stdout.rsplit(" ", 1)
    assert heavy == "[]"
    assert float(seconds) < 1.0


def test_report_json_bridge(workspace: Path):
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--json")
    assert code == 0, out
    data = json.loads(out)
    bridge = [
        (r["period"], r["start_mrr"], r["new"], r["expansion"], r["churn"], r["end_mrr"])
        for r in data["bridge"]
    ]
    assert bridge == [
        ("2025-01", 0, 150_00, 0, 0, 150_00),
        ("2025-02", 150_00, 80_00, 0, 50_00, 180_00),
        ("2025-03", 180_00, 0, 50_00, 0, 230_00),
    ]
    head = data["headline"]
    assert (head["mrr"], head["arr"], head["customers"], head["arpa"]) == (
        230_00,
        2_760_00,
        2,
        115_00,
    )
    # March: 180.00 -> 230.00 (A moved up to Pro), still two paying customers
    assert (head["mrr_growth"], head["customers_change"]) == (round(50 / 180, 6), 0)
    month = data["retention"]["period"][-1]
    assert (month["start_mrr"], month["end_mrr"], month["nrr"]) == (180_00, 230_00, 1.277778)
    assert data["bridge"][1]["drill"]["churn"] == {"metric": "churn", "period": "2025-02"}
    # February: (new 80) / (churn 50) = 1.6; gross MRR churn 50 / 150; net the same.
    feb = data["bridge"][1]
    assert (feb["quick_ratio"], feb["gross_mrr_churn"], feb["net_mrr_churn"]) == (
        1.6, 0.333333, 0.333333)


def test_report_by_segment_sums_to_total(workspace: Path):
    code, out = run(
        "report", "-w", str(workspace), "--as-of", "2025-03-31", "--by", "plan", "--json"
    )
    assert code == 0, out
    rows = json.loads(out)["bridge"]
    march = [r for r in rows if r["period"] == "2025-03"]
    assert {r["segment"]: r["end_mrr"] for r in march} == {"Basic": 150_00, "Pro": 80_00}


def test_report_tables_render(workspace: Path):
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--cohorts")
    assert code == 0, out
    assert "MRR bridge" in out and "230.00" in out and "Cohorts" in out


def test_report_csv(workspace: Path):
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["end_mrr"] for r in rows] == ["15000", "18000", "23000"]


@pytest.mark.parametrize("metric", ["churn", "involuntary_churn"])
def test_customers_drill_down(workspace: Path, metric: str):
    code, out = run(
        "customers",
        "-w",
        str(workspace),
        "--as-of",
        "2025-03-31",
        "--metric",
        metric,
        "--at",
        "2025-02",
        "--json",
    )
    assert code == 0, out
    assert json.loads(out) == [
        {
            "customer_id": "B",
            "amount": 50_00,
            "mrr_before": 50_00,
            "mrr_after": 0,
            "churn_reason": "involuntary",
        }
    ]


def test_explain_shows_timeline_and_sources(workspace: Path):
    code, out = run("explain", "A", "-w", str(workspace), "--as-of", "2025-03-31", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert [(t["period"], t["mrr"]) for t in data["timeline"]] == [
        ("2025-01", 100_00),
        ("2025-02", 100_00),
        ("2025-03", 150_00),
    ]
    assert [m["movement"] for m in data["movements"]] == ["new", "expansion"]
    assert len(data["lines"]) == 2


def test_unknown_customer_and_dimension_exit_2(workspace: Path):
    assert run("explain", "nobody", "-w", str(workspace), "--as-of", "2025-03-31")[0] == 2
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--by", "colour")
    assert code == 2 and "unknown segment dimension 'colour'" in out


def test_missing_workspace_is_a_clear_error(tmp_path: Path):
    code, out = run("report", "-w", str(tmp_path / "none"))
    assert code == 1 and "no workspace at" in out


def test_settings_are_stored_and_used(workspace: Path):
    code, out = run("settings", "-w", str(workspace), "--period", "quarter", "--json")
    assert code == 0 and json.loads(out)["period"] == "quarter"
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--json")
    assert [r["period"] for r in json.loads(out)["bridge"]] == ["2025-Q1"]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export_every_table(workspace: Path, tmp_path: Path, fmt: str):
    out_dir = tmp_path / "out"
    code, out = run(
        "export",
        "-w",
        str(workspace),
        "--as-of",
        "2025-03-31",
        "--format",
        fmt,
        "--out",
        str(out_dir),
    )
    assert code == 0, out
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(out_dir / "nrr.xlsx")
        assert {"bridge", "retention_ttm", "cohorts", "movements", "at_risk"} <= set(
            book.sheetnames)
        return
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    read = pacsv.read_csv if fmt == "csv" else pq.read_table
    bridge = read(out_dir / f"bridge.{fmt}")
    assert bridge.column("end_mrr").to_pylist() == [150_00, 180_00, 230_00]
    # nobody is at risk at the end of March (A grew; B left in February): the header alone
    assert read(out_dir / f"at_risk.{fmt}").column_names[:6] == [
        "customer_id", "name", "plan", "currency", "mrr", "mrr_at_risk"]


def test_cli_is_fast_enough_to_feel_instant():
    start = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "nrr"), "--help"], capture_output=True, check=True)
    assert time.perf_counter() - start < 2.0


def test_headline_segments_and_cohort_ratios_by_hand(workspace: Path):
    # March: start 180 (A 100 + C 80), A expands by 50, nothing lost.
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--by", "plan",
                    "--cohorts", "--json")
    assert code == 0, out
    data = json.loads(out)
    head = data["headline"]
    assert head["quick_ratio"] is None  # 50 / (0 + 0): nothing lost, no ratio
    assert (head["gross_mrr_churn"], head["net_mrr_churn"]) == (0.0, -0.277778)  # -50 / 180
    assert head["involuntary_churn_share"] == 1.0  # all churn: B's 50 in February, unpaid
    assert head["ttm"] is None and head["years_to_double"] is None and head["band"] is None
    assert head["warnings"] == ["Less than twelve months of history: the TTM figures need a "
                                "full year."]
    # February by plan: Basic starts at 150 (A 100 + B 50) and loses B: quick ratio 0 / 50 = 0,
    # gross MRR churn 50 / 150; Pro starts empty and gains C: no ratio without losses.
    feb = {r["segment"]: r for r in data["bridge"] if r["period"] == "2025-02"}
    assert (feb["Basic"]["quick_ratio"], feb["Basic"]["gross_mrr_churn"]) == (0.0, 0.333333)
    assert (feb["Basic"]["churn"], feb["Basic"]["involuntary_churn"]) == (50_00, 50_00)
    assert feb["Basic"]["drill"]["involuntary_churn"] == {
        "metric": "involuntary_churn", "period": "2025-02", "by": "plan", "segment": "Basic"}
    assert (feb["Pro"]["quick_ratio"], feb["Pro"]["gross_mrr_churn"]) == (None, None)
    # A was Basic at the start of March: its upgrade is Basic's expansion, 100 -> 150.
    segments = {r["segment"]: r for r in data["segments"]}
    assert (segments["Basic"]["mrr"], segments["Basic"]["month_nrr"]) == (150_00, 1.5)
    assert (segments["Pro"]["mrr"], segments["Pro"]["month_nrr"]) == (80_00, 1.0)
    # January cohort (A 100 + B 50): B leaves in February, A grows in March.
    jan = [(r["age"], r["mrr"], r["nrr"], r["logo_retention"])
           for r in data["cohorts"] if r["cohort"] == "2025-01"]
    assert jan == [(0, 150_00, 1.0, 1.0), (1, 100_00, 0.666667, 0.5), (2, 150_00, 1.0, 0.5)]


def _cells(out: str, first: str, column: int = 0) -> list[str]:
    """The cells of the first terminal table row whose cell ``column`` is ``first``."""
    for row in out.splitlines():
        cells = [c.strip() for c in row.strip("│ ").split("│")]
        if len(cells) > column and cells[column] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{out}")


def test_segments_and_explain_read_as_money_and_percentages(workspace: Path):
    code, out = run("report", "-w", str(workspace), "--as-of", "2025-03-31", "--by", "plan")
    assert code == 0, out
    assert "NRR (month)" in out and "month_nrr" not in out
    # segment, MRR, customers, NRR and GRR (month), NRR and GRR (TTM: under a year, none), ...
    assert _cells(out, "Basic")[:7] == ["Basic", "150.00", "1", "150.0 %", "100.0 %", "–", "–"]
    assert _cells(out, "Pro")[:5] == ["Pro", "80.00", "1", "100.0 %", "100.0 %"]
    code, out = run("explain", "A", "-w", str(workspace), "--as-of", "2025-03-31")
    assert code == 0, out
    assert _cells(out, "2025-01") == ["2025-01", "Basic", "EUR", "100.00", "100.00"]
    assert _cells(out, "2025-03") == ["2025-03", "Pro", "EUR", "150.00", "150.00"]
    assert "mrr_native" not in out
    # the movement: period, movement, amount, MRR before and after (no churn reason)
    assert _cells(out, "expansion", 1) == ["2025-03", "expansion", "50.00", "100.00", "150.00"]
    assert _cells(out, "line2")[2:6] == ["2025-03-01", "open", "150.00", "EUR"]


def test_at_risk_lists_pending_cancellations_and_past_due_payments(tmp_path: Path):
    jan = date(2025, 1, 1)
    lines = revenue_lines([
        {"customer_id": "D", "start_date": jan, "end_date": date(2025, 5, 1), "mrr_minor": 90_00,
         "cancel_requested_date": date(2025, 3, 2), "source": "t"},
        {"customer_id": "E", "start_date": jan, "mrr_minor": 40_00,
         "past_due_since": date(2025, 3, 20), "source": "t"},
        {"customer_id": "F", "start_date": jan, "mrr_minor": 70_00, "source": "t"},
    ])  # fmt: skip
    path = tmp_path / "ws"
    with open_workspace(path) as ws:
        ws.replace_source("t", lines=lines)
    code, out = run("at-risk", "-w", str(path), "--as-of", "2025-03-31", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert (data["accounts"], data["mrr_at_risk"], data["mrr"], data["share_of_mrr"]) == (
        2, 130_00, 200_00, 0.65)  # fmt: skip
    assert [(r["customer_id"], r["mrr_at_risk"], r["reasons"]) for r in data["customers"]] == [
        ("D", 90_00, ["cancellation pending"]), ("E", 40_00, ["payment past due"])]  # fmt: skip
    code, out = run("at-risk", "-w", str(path), "--as-of", "2025-03-31", "--limit", "1")
    assert code == 0, out
    assert ("2 accounts at risk in 2025-03: 130.00 EUR MRR at risk (65.0 % of 200.00 EUR); "
            "cancellation pending 1, payment past due 1, downgraded 0") in " ".join(out.split())
    # the table holds D only (E, past due since 20 March, is beyond the limit)
    assert "the 1 with most MRR at risk of 2" in out and "2025-05-01" in out
    assert "2025-03-20" not in out
    # --reason lists one signal's accounts: E alone, with its 40.00 at risk
    code, out = run("at-risk", "-w", str(path), "--as-of", "2025-03-31",
                    "--reason", "payment-past-due")  # fmt: skip
    assert code == 0, out
    assert "payment past due: 1 account, 40.00 EUR MRR at risk" in " ".join(out.split())
    assert "2025-03-20" in out and "2025-05-01" not in out
    code, out = run("at-risk", "-w", str(path), "--as-of", "2025-03-31", "--reason", "late")
    assert code == 2 and "'late' is not one of 'cancellation-pending'" in out
    # explain says why a customer is at risk, or nothing
    code, out = run("explain", "E", "-w", str(path), "--as-of", "2025-03-31")
    assert "At risk: past due since 2025-03-20 · 40.00 EUR MRR at risk" in out
    code, out = run("explain", "F", "-w", str(path), "--as-of", "2025-03-31", "--json")
    assert json.loads(out)["at_risk"] is None
    # and the export has the list, its reasons as text
    run("export", "-w", str(path), "--as-of", "2025-03-31", "--out", str(tmp_path / "out"))
    rows = list(csv.DictReader(open(tmp_path / "out" / "at_risk.csv", encoding="utf-8")))  # noqa: SIM115
    assert [(r["customer_id"], r["mrr_at_risk"], r["reasons"]) for r in rows] == [
        ("D", "9000", "cancellation pending"), ("E", "4000", "payment past due")]


def test_at_risk_without_data_says_so(tmp_path: Path):
    with open_workspace(tmp_path / "empty"):
        pass
    code, out = run("at-risk", "-w", str(tmp_path / "empty"), "--as-of", "2025-03-31")
    assert code == 0 and "No data yet" in out


def test_portfolio_sets_companies_side_by_side(tmp_path: Path):
    jan = date(2024, 1, 1)
    companies = {
        "alpha": [{"customer_id": "a1", "start_date": jan, "mrr_minor": 100_00, "source": "t"},
                  {"customer_id": "a2", "start_date": jan, "end_date": date(2024, 6, 1),
                   "mrr_minor": 50_00, "source": "t"}],
        "beta": [{"customer_id": "b1", "start_date": jan, "mrr_minor": 300_00, "source": "t"}],
    }  # fmt: skip
    for name, rows in companies.items():
        with open_workspace(tmp_path / name) as ws:
            ws.replace_source("t", lines=revenue_lines(rows))
    folders = [str(tmp_path / name) for name in companies]
    code, out = run("portfolio", *folders, "--as-of", "2025-01-31", "--json")
    assert code == 0, out
    data = json.loads(out)
    # alpha keeps 100 of 150 (NRR 66.7 %), beta all 300: together 400 of 450 (88.9 %).
    assert [(r["company"], r["mrr"], r["ttm_nrr"]) for r in data["companies"]] == [
        ("beta", 300_00, 1.0), ("alpha", 100_00, 0.666667)]
    assert (data["portfolio"]["mrr"], data["portfolio"]["ttm_nrr"]) == (400_00, 0.888889)
    code, out = run("portfolio", *folders, "--as-of", "2025-01-31")
    assert code == 0, out
    portfolio_row = next(line for line in out.splitlines() if "Portfolio" in line and "│" in line)
    assert "400.00" in portfolio_row and "88.9 %" in portfolio_row
    # the trend: a year back from December 2024 nobody paid yet; January is the headline
    code, out = run("portfolio", *folders, "--as-of", "2025-01-31", "--periods", "2")
    assert code == 0, out
    rows = [" ".join(line.replace("│", " ").split()) for line in out.splitlines()
            if line.lstrip("│ ").startswith(("2024-12", "2025-01"))]  # fmt: skip
    assert rows == ["2024-12 – – – –", "2025-01 100.0 % 66.7 % 88.9 % 88.9 %"]
    # a company that reports by quarter is read at the first one's grain (or --period's)
    code, out = run("settings", "-w", folders[1], "--period", "quarter")
    assert code == 0, out
    code, out = run("portfolio", *folders, "--as-of", "2025-01-31", "--json", "--periods", "1")
    assert code == 0, out
    assert [t["period"] for t in json.loads(out)["trend"]] == ["2025-01"]
    code, out = run("portfolio", *folders, "--as-of", "2025-03-31", "--json", "--periods", "1",
                    "--period", "quarter")  # fmt: skip
    assert code == 0, out
    assert [t["period"] for t in json.loads(out)["trend"]] == ["2025-Q1"]
    code, out = run("portfolio", str(tmp_path / "missing"), "--as-of", "2025-01-31")
    assert code == 1 and "no workspace" in out
