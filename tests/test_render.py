"""Terminal tables: counts and money read the same way (thousands grouped)."""

from __future__ import annotations

import io

from rich.console import Console

from nrr import render


def _text(table: object) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    return out.getvalue()


def test_counts_are_grouped_by_thousands() -> None:
    assert render.count(1_234_567) == "1,234,567"
    assert render.count(999) == "999"
    assert render.count(None) == "–"


def test_bridge_and_cohort_tables_group_customer_counts() -> None:
    row = {"period": "2026-10", "start_mrr": 100_000_00, "new": 0, "reactivation": 0,
           "expansion": 0, "contraction": 0, "churn": 0, "involuntary_churn": 0, "fx": 0,
           "end_mrr": 100_000_00, "customers_end": 12_345}  # fmt: skip
    assert "12,345" in _text(render.bridge_table([row], "EUR", "MRR bridge"))
    cohort = {"cohort": "2026-01", "age": 0, "customers_start": 2_500, "nrr": 1.0}
    assert "2,500" in _text(render.cohort_table([cohort], "nrr"))


def test_a_cohort_table_of_thirteen_ages_fits_150_columns() -> None:
    rows = [{"cohort": "2025-01", "age": a, "customers_start": 12_345, "nrr": 1.026 + a / 10}
            for a in range(13)]  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=150, color_system=None).print(render.cohort_table(rows, "nrr"))
    text = out.getvalue()
    assert "Cohorts: NRR (%) by age in periods" in text
    body = [line for line in text.splitlines() if line.startswith("│")]
    assert len(body) == 1  # one cohort, one line: nothing wrapped
    assert "102.6" in body[0] and "222.6" in body[0] and "%" not in body[0]


def test_generic_tables_head_their_columns_in_words() -> None:
    assert [render.heading(f) for f in ("customer_id", "mrr_at_risk", "past_due_since",
                                         "mrr_before", "source_ref")] == [
        "customer", "MRR at risk", "past due since", "MRR before", "source row"]  # fmt: skip
    row = {"customer_id": "A", "mrr_at_risk": 40_00, "drill": {}}
    text = _text(render.rows_table([row], "At risk", "EUR", ("mrr_at_risk",)))
    assert "MRR at risk" in text and "40.00" in text and "drill" not in text


def test_the_headline_groups_the_customer_count() -> None:
    headline = {"currency": "EUR", "as_of": "2026-10-31", "grain": "month", "mrr": 318_378_030,
                "arr": 3_820_536_360, "customers": 1_535, "arpa": 207_412, "ttm": {}, "month": {},
                "period": "2026-10", "mrr_growth": 0.030763,
                "band": None, "quick_ratio": None, "gross_mrr_churn": None,
                "net_mrr_churn": None, "years_to_double": None,
                "involuntary_churn_share": 0.454545,
                "base_value_after_years": {1: None}}  # fmt: skip
    text = _text(render.headline_table(headline))
    assert "1,535" in text and "3,183,780.30" in text
    row = next(line for line in text.splitlines() if "failed payments" in line)
    cells = [c.strip() for c in row.split("│")]
    assert cells[1:3] == ["Churn from failed payments (TTM)", "45.5 %"]
    growth = next(line for line in text.splitlines() if "MRR growth" in line)
    assert [c.strip() for c in growth.split("│")][1:3] == ["MRR growth (2026-10)", "3.1 %"]


def test_the_bridge_shows_involuntary_churn_beside_churn() -> None:
    row = {"period": "2025-03", "start_mrr": 600_00, "new": 0, "reactivation": 0,
           "expansion": 0, "contraction": 40_00, "churn": 500_00, "involuntary_churn": 200_00,
           "fx": 0, "end_mrr": 60_00, "customers_end": 1}  # fmt: skip
    lines = _text(render.bridge_table([row], "EUR", "MRR bridge")).splitlines()
    header = next(line for line in lines if "churn" in line)
    assert header.index("churn") < header.index("involuntary") < header.index("fx")
    cells = [c.strip() for c in next(line for line in lines if "2025-03" in line).split("│")]
    assert cells[7:10] == ["-500.00", "-200.00", "0.00"]  # churn, of which involuntary, fx
