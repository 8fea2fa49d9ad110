"""A portfolio of two hand-built companies: each side by side, and the two as one company."""

from __future__ import annotations

from datetime import date

import pytest

from factories import line, lines_table
from nrr import reports
from nrr.api import compute_frames
from nrr.schema import Settings

D = date
AS_OF = D(2025, 1, 31)
# A: a1 100 grows to 120 in January 2025; a2 50 leaves in June 2024.
A = [line("a1", D(2024, 1, 1), D(2025, 1, 1), 100_00), line("a1", D(2025, 1, 1), None, 120_00),
     line("a2", D(2024, 1, 1), D(2024, 6, 1), 50_00)]  # fmt: skip
# B: b1 200 stays; b2 100 falls to 80 in December and asked on 10 January to leave on 1 March.
B = [line("b1", D(2024, 1, 1), None, 200_00), line("b2", D(2024, 1, 1), D(2024, 12, 1), 100_00),
     line("b2", D(2024, 12, 1), D(2025, 3, 1), 80_00,
          cancel_requested_date=D(2025, 1, 10))]  # fmt: skip


def companies(settings: Settings | None = None) -> dict[str, object]:
    return {name: compute_frames(lines_table([dict(r) for r in rows]), as_of=AS_OF,
                                 settings=settings)
            for name, rows in (("A", A), ("B", B))}  # fmt: skip


def test_each_company_and_the_portfolio_as_one():
    data = reports.portfolio(companies())  # type: ignore[arg-type]
    # A: TTM cohort 150 -> 120, gross 100 (NRR 80 %, GRR 66.7 %); B: 300 -> 280, gross 280.
    rows = [(r["company"], r["mrr"], r["customers"], r["ttm_start_mrr"], r["ttm_end_mrr"],
             r["ttm_gross_mrr"], r["ttm_nrr"], r["ttm_grr"], r["band"], r["mrr_at_risk"])
            for r in data["companies"]]  # fmt: skip
    assert rows == [  # best TTM NRR first
        ("B", 280_00, 2, 300_00, 280_00, 280_00, 0.933333, 0.933333, "acceptable", 80_00),
        ("A", 120_00, 1, 150_00, 120_00, 100_00, 0.8, 0.666667, "acceptable", 0),
    ]
    # As one company: 450 -> 400, gross 380: NRR 88.9 %, GRR 84.4 %.
    total = data["portfolio"]
    assert (total["mrr"], total["arr"], total["customers"], total["mrr_at_risk"]) == (
        400_00, 4_800_00, 3, 80_00)
    assert (total["ttm_start_mrr"], total["ttm_end_mrr"], total["ttm_gross_mrr"]) == (
        450_00, 400_00, 380_00)
    assert (total["ttm_nrr"], total["ttm_grr"], total["band"], total["years_to_double"]) == (
        0.888889, 0.844444, "acceptable", None)
    assert (data["as_of"], data["currency"]) == ("2025-01-31", "EUR")


def test_a_young_company_adds_its_mrr_but_no_retention():
    young = compute_frames(lines_table([line("y", D(2024, 9, 1), None, 70_00)]), as_of=AS_OF)
    data = reports.portfolio({**companies(), "Y": young})  # type: ignore[dict-item]
    assert [r["company"] for r in data["companies"]] == ["B", "A", "Y"]  # no TTM: last
    assert data["portfolio"]["mrr"] == 470_00 and data["portfolio"]["ttm_start_mrr"] == 450_00


def test_companies_must_share_the_currency():
    chf = compute_frames(lines_table([dict(r) for r in A]), as_of=AS_OF,
                         settings=Settings(reporting_currency="CHF"))  # fmt: skip
    with pytest.raises(ValueError, match="one reporting currency"):
        reports.portfolio({**companies(), "C": chf})  # type: ignore[dict-item]


def test_the_trend_gives_each_period_end_its_ttm_figures():
    # A2: a1 100 from November 2023, 150 from December 2024; a2 50 from November 2023 to June
    # 2024. B2: b1 200 from November 2023. A year back from 2024-10 nobody paid yet.
    start = D(2023, 11, 1)
    rows = {"A2": [line("a1", start, D(2024, 12, 1), 100_00), line("a1", D(2024, 12, 1), None,
                                                                       150_00),
                   line("a2", start, D(2024, 6, 1), 50_00)],
            "B2": [line("b1", start, None, 200_00)]}  # fmt: skip
    results = {name: compute_frames(lines_table([dict(r) for r in company]), as_of=AS_OF)
               for name, company in rows.items()}  # fmt: skip
    data = reports.portfolio(results, periods=4)  # type: ignore[arg-type]
    trend = [(t["period"], t["companies"], t["ttm_start_mrr"], t["ttm_end_mrr"],
              t["ttm_gross_mrr"], t["ttm_nrr"], t["ttm_grr"]) for t in data["trend"]]  # fmt: skip
    assert trend == [
        ("2024-10", {"A2": None, "B2": None}, 0, 0, 0, None, None),
        # 2023-11 -> 2024-11: a1 100 -> 100, a2 50 -> 0, b1 200 -> 200: 350 -> 300, gross 300
        ("2024-11", {"A2": 0.666667, "B2": 1.0}, 350_00, 300_00, 300_00, 0.857143, 0.857143),
        # a1 is 150 by December: 350 -> 350, gross still 300 (a1 counts 100 at most)
        ("2024-12", {"A2": 1.0, "B2": 1.0}, 350_00, 350_00, 300_00, 1.0, 0.857143),
        ("2025-01", {"A2": 1.0, "B2": 1.0}, 350_00, 350_00, 300_00, 1.0, 0.857143),
    ]
    # the last period end is the portfolio's headline
    total = data["portfolio"]
    assert (total["ttm_nrr"], total["ttm_grr"]) == (1.0, 0.857143)


def test_companies_must_share_the_grain():
    quarterly = compute_frames(lines_table([dict(r) for r in A]), as_of=AS_OF,
                               settings=Settings(period="quarter"))  # fmt: skip
    with pytest.raises(ValueError, match="period grain"):
        reports.portfolio({**companies(), "Q": quarterly})  # type: ignore[dict-item]
