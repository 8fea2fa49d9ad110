"""The engine equals the brute-force reference on random companies, for every setting value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from nrr.schema import Settings
from reference.companies import (
    Company,
    companies,
    describe,
    make_line,
    numbered,
    random_company,
)

from .checks import all_identities
from .engine import engine_metrics
from .metrics import (
    ENGINE_EXAMPLES,
    ENGINE_PHASES,
    VARIANTS,
    Compute,
    assert_same,
    reference_metrics,
    variant_id,
)

SEEDS = (11,)


@pytest.mark.parametrize("chosen", VARIANTS, ids=variant_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_company(seed: int, chosen: Settings) -> None:
    company = random_company(seed, max_customers=8)
    engine = engine_metrics(company, chosen)
    assert_same(reference_metrics(company, chosen), engine, f"seed {seed}, {variant_id(chosen)}")
    all_identities(engine)


@given(companies(), st.sampled_from(VARIANTS))
@settings(max_examples=2 * ENGINE_EXAMPLES, deadline=None, phases=ENGINE_PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
def test_random_company(company: Company, chosen: Settings) -> None:
    note(f"{variant_id(chosen)}\n{describe(company)}")
    assert_same(reference_metrics(company, chosen), engine_metrics(company, chosen),
                variant_id(chosen))  # fmt: skip


def _month(year: int, month: int) -> int:
    return year * 12 + month - 1


def _chf_company(rates: dict[int, str]) -> Company:
    """X (CHF) doubles in February; Y (CHF) leaves at the end of February; E pays in EUR."""
    lines = [make_line("X", date(2025, 1, 1), None, 1000, currency="CHF"),
             make_line("X", date(2025, 2, 1), None, 1000, currency="CHF"),
             make_line("Y", date(2025, 1, 1), date(2025, 3, 1), 1000, currency="CHF"),
             make_line("E", date(2025, 1, 1), None, 500)]  # fmt: skip
    month_rates = {("CHF", p): Decimal(rate) for p, rate in rates.items()}
    countries = [{"customer_id": c, "key": "country", "value": "CH", "source": "hand"}
                 for c in ("E", "X", "Y")]  # fmt: skip
    return Company(numbered(lines), date(2025, 3, 31), countries, month_rates)


# Worked by hand. February at January's rate 1.0: X 1000 -> 2000 (expansion 1000), then at 1.1
# X gains 200 and Y 100 of fx. March at 1.1: X 2200 -> 2200, fx 2400 - 2200 = 200; Y churns 1100.
HAND_BRIDGE = {
    _month(2025, 1): (0, 2500, 0, 0, 0, 0, 0, 2500),
    _month(2025, 2): (2500, 0, 0, 1000, 0, 0, 300, 3800),
    _month(2025, 3): (3800, 0, 0, 0, 0, 1100, 200, 2900),
}
HAND_MOVEMENTS = {
    ("E", _month(2025, 1), "new"): 500, ("X", _month(2025, 1), "new"): 1000,
    ("Y", _month(2025, 1), "new"): 1000, ("X", _month(2025, 2), "expansion"): 1000,
    ("X", _month(2025, 2), "fx"): 200, ("Y", _month(2025, 2), "fx"): 100,
    ("X", _month(2025, 3), "fx"): 200, ("Y", _month(2025, 3), "churn"): 1100,
}  # fmt: skip
RATES = {_month(2024, 12): "1.0", _month(2025, 1): "1.0", _month(2025, 2): "1.1",
         _month(2025, 3): "1.2"}  # fmt: skip


BOTH = pytest.mark.parametrize("compute", [reference_metrics, engine_metrics],
                               ids=["reference", "engine"])  # fmt: skip


@BOTH
def test_fx_is_a_movement_of_each_customer(compute: Compute) -> None:
    metrics = compute(_chf_company(RATES), Settings())
    assert {k[2]: v[:8] for k, v in metrics.totals("bridge").items()} == HAND_BRIDGE
    assert metrics.movements == HAND_MOVEMENTS


@BOTH
def test_no_rate_before_the_first_period_still_counts_every_customer(compute: Compute) -> None:
    """Without a December rate, January's new customers are valued at January's own rate."""
    metrics = compute(_chf_company({p: r for p, r in RATES.items() if p >= _month(2025, 1)}),
                      Settings())  # fmt: skip
    assert {k[2]: v[:8] for k, v in metrics.totals("bridge").items()} == HAND_BRIDGE


@BOTH
def test_size_band_is_valued_at_the_first_paying_period_rate(compute: Compute) -> None:
    """9,800 CHF cents from January at January's rate 1.0: band 0 (below 10,000) in every month,
    though March's rate 1.05 values it at 10,290 EUR cents: rates alone never move a band."""
    lines = [make_line("S", date(2025, 1, 1), None, 9800, currency="CHF")]
    rates = {("CHF", _month(2025, m)): Decimal(r) for m, r in ((1, "1.0"), (2, "1.0"), (3, "1.05"))}
    rates[("CHF", _month(2024, 12))] = Decimal("1.0")
    attributes = [{"customer_id": "S", "key": "country", "value": "CH", "source": "hand"}]
    company = Company(numbered(lines), date(2025, 3, 31), attributes, rates)
    bridge = compute(company, Settings()).bridge
    sizes = {(k[1], k[2]): v[7] for k, v in bridge.items() if k[0] == "size"}
    assert sizes == {(0, _month(2025, 1)): 9800, (0, _month(2025, 2)): 9800,
                     (0, _month(2025, 3)): 10290}  # fmt: skip
