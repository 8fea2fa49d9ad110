"""Exchange rates: ECB reference rates shipped offline, the last published day, minor units."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from factories import line, lines_table, month, rates_table
from nrr.api import compute_frames
from nrr.fx import RatesError, ecb_per_eur, minor_rate, rate_rows, rates_from_file
from nrr.schema import Settings


def test_ecb_rate_of_a_publication_day():
    assert ecb_per_eur("USD", date(2024, 12, 31)) == Decimal("1.0389")
    assert ecb_per_eur("CHF", date(2024, 12, 31)) == Decimal("0.9412")


def test_a_day_without_publication_takes_the_last_one_before():
    # 4-5 January 2025 is a weekend: the rate of Friday 3 January applies.
    assert ecb_per_eur("USD", date(2025, 1, 5)) == Decimal("1.0299")


def test_minor_rates_fold_in_decimal_places():
    per_eur = {"EUR": Decimal(1), "JPY": Decimal("163.06"), "CHF": Decimal("0.9412")}
    # 1 yen in euro cents: 100 / 163.06
    assert minor_rate("JPY", "EUR", per_eur) == Decimal("0.6132711885")
    # 1 euro cent in yen: 163.06 / 100
    assert minor_rate("EUR", "JPY", per_eur) == Decimal("1.6306000000")
    assert minor_rate("CHF", "EUR", per_eur) == Decimal("1.0624734382")


def test_report_in_chf_converts_euro_revenue_at_period_end():
    rows = [line("A", date(2024, 12, 1), None, 100_00)]
    res = compute_frames(lines_table(rows), as_of=date(2024, 12, 31),
                         settings=Settings(reporting_currency="CHF"))
    # 100.00 EUR at 0.9412 CHF per EUR on 31 Dec 2024 = 94.12 CHF
    assert res.bridge().column("end_mrr").to_pylist() == [94_12]


def test_fixed_rates_mean_no_fx_movement():
    settings = Settings(fx_date="fixed", fixed_rates={"CHF": "0.5"})
    rows = [line("A", date(2024, 1, 1), None, 100_00, currency="CHF")]
    res = compute_frames(lines_table(rows), as_of=date(2024, 6, 30), settings=settings)
    bridge = res.bridge().to_pylist()
    assert {r["end_mrr"] for r in bridge} == {200_00}
    assert {r["fx"] for r in bridge} == {0}


def test_service_start_rates_freeze_each_line():
    rows = [line("A", date(2024, 12, 1), None, 100_00, currency="USD")]
    res = compute_frames(lines_table(rows), as_of=date(2025, 1, 31),
                         settings=Settings(fx_date="service_start"))
    bridge = res.bridge().to_pylist()
    # 100 USD at 1.0389 USD per EUR (31 Dec 2024, reading day of December) = 96.2556 -> 96.26
    assert [(r["end_mrr"], r["fx"]) for r in bridge] == [(96_26, 0), (96_26, 0)]


def test_rates_file(tmp_path: Path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate\n2025-01-01,XTS,2.0\n2025-01-20,XTS,4.0\n")
    lookup = rates_from_file(path)
    assert lookup("XTS", date(2025, 1, 19)) == Decimal("2.0")
    rows = rate_rows(["XTS"], [month(2025, 1)], Settings(rates_file=str(path)), date(2025, 1, 31))
    assert rows == [("XTS", month(2025, 1), Decimal("0.2500000000"))]


def test_unknown_currency_names_the_way_out():
    with pytest.raises(RatesError, match="rates file"):
        ecb_per_eur("XTS", date(2025, 1, 1))


def test_a_currency_without_any_rate_is_refused_not_dropped():
    rows = [line("A", date(2025, 1, 1), None, 100_00, currency="CHF")]
    other = rates_table([("USD", month(2025, 1), "1.1")])
    with pytest.raises(RatesError, match="no exchange rate for CHF"):
        compute_frames(lines_table(rows), as_of=date(2025, 1, 31), rates=other)


def test_two_currencies_sharing_an_internal_code_stop_the_computation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stage tables carry a hash of the currency's name; a shared hash would merge amounts."""
    for module in ("frame", "customers"):
        monkeypatch.setattr(f"nrr.core.{module}.currency_code", lambda text: "CAST(7 AS BIGINT)")
    rows = [line("A", date(2025, 1, 1), None, 100_00, currency="CHF"),
            line("B", date(2025, 1, 1), None, 100_00)]  # fmt: skip
    with pytest.raises(ValueError, match="currency CHF shares nrr's internal code"):
        compute_frames(lines_table(rows), as_of=date(2025, 1, 31))


def test_the_month_a_customer_changes_segment_its_fx_stays_with_the_segment_it_started_in():
    """USD 100 on Basic in December 2024, USD 200 on Pro from January. USD per EUR: 1.0389 on
    31 Dec 2024, 1.0393 on 31 Jan, 1.0411 on 28 Feb 2025. January's expansion is valued at
    December's rate: 200 / 1.0389 = 192.51 less 100 / 1.0389 = 96.26, so 96.25. Its fx is the
    new value's rate change, 200 / 1.0393 = 192.44 less 192.51 = -0.07, and belongs to Basic,
    the plan at January's start; Pro's first fx is February's, 200 / 1.0411 = 192.10 less
    192.44 = -0.34."""
    rows = [
        line("A", date(2024, 12, 1), date(2025, 1, 1), 100_00, currency="USD", plan="Basic"),
        line("A", date(2025, 1, 1), None, 200_00, currency="USD", plan="Pro"),
    ]
    res = compute_frames(lines_table(rows), as_of=date(2025, 2, 28))
    got = {(r["segment"], r["p"] - month(2025, 1)): (r["expansion"], r["fx"], r["end_mrr"])
           for r in res.bridge("plan").to_pylist()}  # fmt: skip
    assert got[("Basic", 0)] == (96_25, -7, 192_44)
    assert got[("Pro", 0)] == (0, 0, 0)
    assert got[("Pro", 1)] == (0, -34, 192_10)
    company = res.bridge().to_pylist()
    assert [r["fx"] for r in company] == [158, -7, -34]
