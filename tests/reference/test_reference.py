"""The reference model on tiny companies whose every number was worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from nrr.schema import Settings

from .companies import make_line, numbered, random_company
from .lines import add_months, period_of
from .model import Reference, numbers


def m(year: int, month: int) -> int:
    """Month period index."""
    return year * 12 + month - 1


def ref(lines: list[dict[str, Any]], as_of: date, **settings: Any) -> Reference:
    return Reference(numbered(lines), as_of, Settings(**settings))


BRIDGE_KEYS = ("start_mrr", "new", "reactivation", "expansion", "contraction", "churn", "fx",
               "end_mrr")  # fmt: skip


def bridge_of(reference: Reference, by: str | None = None) -> dict[Any]:
    keys = BRIDGE_KEYS
    return {(r.segment, r.p): tuple(getattr(r, k) for k in keys) for r in reference.bridge(by)}


# Four months of three customers: new, churn, expansion, discount, reactivation.
BASIC = [
    make_line("A", date(2025, 1, 10), None, 1000, plan="basic"),
    make_line("A", date(2025, 3, 1), None, 500, plan="addon"),
    make_line("B", date(2025, 1, 1), date(2025, 2, 20), 2000, plan="basic"),
    make_line("B", date(2025, 4, 1), None, 1500, plan="team"),
    make_line("C", date(2025, 2, 5), None, 3000, plan="pro"),
    make_line("C", date(2025, 3, 15), None, -300, kind="discount", duration="forever", plan=None),
]
BASIC_AS_OF = date(2025, 4, 15)


def test_grid_reads_period_ends_and_the_as_of_day() -> None:
    r = ref(BASIC, BASIC_AS_OF)
    assert r.periods == [m(2025, 1), m(2025, 2), m(2025, 3), m(2025, 4)]
    assert r.days[m(2025, 4)] == BASIC_AS_OF
    assert [r.native("A", p) for p in r.periods] == [1000, 1000, 1500, 1500]
    assert [r.native("B", p) for p in r.periods] == [2000, 0, 0, 1500]
    assert [r.native("C", p) for p in r.periods] == [0, 3000, 2700, 2700]


def test_bridge_by_hand() -> None:
    assert bridge_of(ref(BASIC, BASIC_AS_OF)) == {
        (None, m(2025, 1)): (0, 3000, 0, 0, 0, 0, 0, 3000),
        (None, m(2025, 2)): (3000, 3000, 0, 0, 0, 2000, 0, 4000),
        (None, m(2025, 3)): (4000, 0, 0, 500, 300, 0, 0, 4200),
        (None, m(2025, 4)): (4200, 0, 1500, 0, 0, 0, 0, 5700),
    }


def test_movements_of_one_customer() -> None:
    moves = [(x.p, x.movement, x.amount) for x in ref(BASIC, BASIC_AS_OF).movements()
             if x.customer_id == "B"]  # fmt: skip
    assert moves == [(m(2025, 1), "new", 2000), (m(2025, 2), "churn", 2000),
                     (m(2025, 4), "reactivation", 1500)]  # fmt: skip


def test_one_month_retention_by_hand() -> None:
    rows = {r.t1: r for r in ref(BASIC, BASIC_AS_OF).retention(1)}
    assert sorted(rows) == [m(2025, 2), m(2025, 3), m(2025, 4)]
    feb, mar = rows[m(2025, 2)], rows[m(2025, 3)]
    assert (feb.start_mrr, feb.end_mrr, feb.gross_mrr) == (3000, 1000, 1000)
    assert (feb.customers_start, feb.customers_retained) == (2, 1)
    assert (mar.start_mrr, mar.end_mrr, mar.gross_mrr) == (4000, 4200, 3700)
    assert (mar.nrr, mar.grr, mar.logo_retention) == (Fraction(21, 20), Fraction(37, 40), 1)
    assert ref(BASIC, BASIC_AS_OF).retention(12) == []


def test_cohorts_by_hand() -> None:
    rows = {(r.cohort, r.age): (r.customers, r.mrr) for r in ref(BASIC, BASIC_AS_OF).cohorts()}
    jan, feb = m(2025, 1), m(2025, 2)
    assert rows == {
        (jan, 0): (2, 3000), (jan, 1): (1, 1000), (jan, 2): (1, 1500), (jan, 3): (2, 3000),
        (feb, 0): (1, 3000), (feb, 1): (1, 2700), (feb, 2): (1, 2700),
    }  # fmt: skip


def test_plan_segments_take_the_segment_at_the_period_before() -> None:
    bridge = bridge_of(ref(BASIC, BASIC_AS_OF), by="plan")
    assert bridge[("basic", m(2025, 3))] == (1000, 0, 0, 500, 0, 0, 0, 1500)
    assert bridge[("pro", m(2025, 3))] == (3000, 0, 0, 0, 300, 0, 0, 2700)
    assert bridge[("team", m(2025, 4))] == (0, 0, 1500, 0, 0, 0, 0, 1500)
    assert ("basic", m(2025, 4)) in bridge and ("team", m(2025, 3)) not in bridge


def test_spec_worked_example_nrr_101_grr_95() -> None:
    t0, t1 = date(2025, 1, 1), date(2025, 2, 1)
    lines = [
        make_line("A", t0, t1, 20000), make_line("A", t1, None, 23000),
        make_line("B", t0, t1, 10000), make_line("B", t1, None, 9500),
        make_line("C", t0, t1, 2000),
        make_line("D", t0, None, 18000),
        make_line("E", t1, None, 7000),  # new: not in the cohort
    ]  # fmt: skip
    (row,) = ref(lines, date(2025, 2, 28)).retention(1)
    assert (row.start_mrr, row.end_mrr, row.gross_mrr) == (50000, 50500, 47500)
    assert (row.nrr, row.grr, row.logo_retention) == (Fraction(101, 100), Fraction(95, 100),
                                                      Fraction(3, 4))  # fmt: skip


def test_annual_customer_shows_no_churn_between_invoices_and_trailing_twelve_months() -> None:
    lines = [make_line("Y", date(2024, 1, 15), date(2025, 1, 15), 100, plan="pro-y"),
             make_line("Y", date(2025, 1, 15), None, 100, plan="pro-y")]  # fmt: skip
    r = ref(lines, date(2025, 6, 30))
    assert [(x.p, x.movement) for x in r.movements()] == [(m(2024, 1), "new")]
    ttm = {row.t1: row for row in r.retention(12)}
    assert sorted(ttm) == [m(2025, k) for k in range(1, 7)]
    assert {(r.start_mrr, r.end_mrr, r.gross_mrr) for r in ttm.values()} == {(100, 100, 100)}


CHF_RATES = {("CHF", m(2025, 1)): Decimal("1.0"), ("CHF", m(2025, 2)): Decimal("1.1"),
             ("CHF", m(2025, 3)): Decimal("1.2")}  # fmt: skip


def test_fx_is_its_own_movement_at_constant_currency() -> None:
    lines = [make_line("X", date(2025, 1, 1), None, 10000, currency="CHF"),
             make_line("X", date(2025, 3, 1), None, 2000, currency="CHF")]  # fmt: skip
    r = Reference(numbered(lines), date(2025, 3, 31), rates=CHF_RATES)
    assert bridge_of(r) == {
        (None, m(2025, 1)): (0, 10000, 0, 0, 0, 0, 0, 10000),
        (None, m(2025, 2)): (10000, 0, 0, 0, 0, 0, 1000, 11000),
        (None, m(2025, 3)): (11000, 0, 0, 2200, 0, 0, 1200, 14400),
    }
    mar = r.retention(1)[-1]
    assert (mar.start_mrr, mar.end_mrr, mar.gross_mrr) == (11000, 13200, 11000)
    assert [(c.age, c.mrr) for c in r.cohorts()] == [(0, 10000), (1, 10000), (2, 12000)]


def test_conversion_rounds_half_away_from_zero() -> None:
    rates = {("JPY", m(2025, 1)): Decimal("0.5"), ("JPY", m(2025, 2)): Decimal("0.6")}
    r = Reference(numbered([make_line("J", date(2025, 1, 1), None, 333, currency="JPY")]),
                  date(2025, 2, 28), rates=rates)  # fmt: skip
    assert [r.value("J", p) for p in r.periods] == [167, 200]
    assert [(x.movement, x.amount) for x in r.movements()] == [("new", 167), ("fx", 33)]


DISCOUNTED = [
    make_line("D", date(2025, 1, 1), None, 10000),
    make_line("D", date(2025, 1, 1), date(2025, 2, 1), -1000, kind="discount", duration="once"),
    make_line("D", date(2025, 1, 1), date(2025, 3, 1), -2000, kind="discount",
              duration="repeating"),
    make_line("D", date(2025, 1, 1), None, -500, kind="discount", duration="forever"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("recurring", [7500, 7500, 9500]), ("forever", [9500] * 3), ("all", [6500, 7500, 9500]),
     ("none", [10000] * 3)],
)  # fmt: skip
def test_discount_policies(policy: str, expected: list[int]) -> None:
    r = ref(DISCOUNTED, date(2025, 3, 31), discounts=policy)
    assert [r.native("D", p) for p in r.periods] == expected


def test_metered_trailing_average_counts_a_third_for_three_months() -> None:
    lines = [
        make_line("E", date(2025, 1, 1), date(2025, 2, 1), 900, kind="metered"),
        make_line("E", date(2025, 2, 1), date(2025, 3, 1), 500, kind="metered"),
        make_line("E", date(2025, 1, 1), None, 50),
    ]
    averaged = ref(lines, date(2025, 4, 30), metered="trailing_average")
    assert [averaged.native("E", p) for p in averaged.periods] == [350, 517, 517, 217]
    excluded = ref(lines, date(2025, 4, 30))
    assert [excluded.native("E", p) for p in excluded.periods] == [50] * 4


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 31), 2) == date(2025, 2, 28)
    assert add_months(date(2023, 12, 29), 2) == date(2024, 2, 29)


CANCELLED = [
    make_line("F", date(2025, 1, 1), date(2025, 6, 1), 1000, cancel_requested=date(2025, 3, 10)),
    make_line("H", date(2025, 1, 1), None, 700, cancel_requested=date(2025, 2, 10)),  # open: kept
]


@pytest.mark.parametrize(
    ("timing", "expected"),
    [("ended", [1000] * 5 + [0]), ("requested", [1000, 1000, 0, 0, 0, 0])],
)
def test_churn_timing(timing: str, expected: list[int]) -> None:
    r = ref(CANCELLED, date(2025, 6, 30), churn_timing=timing)
    assert [r.native("F", p) for p in r.periods] == expected
    assert [r.native("H", p) for p in r.periods] == [700] * 6


@pytest.mark.parametrize(
    ("grace", "expected"), [(None, [1000, 1000, 1000]), (14, [1000, 1000, 0]), (0, [1000, 0, 0])]
)
def test_past_due_grace(grace: int | None, expected: list[int]) -> None:
    lines = [make_line("G", date(2025, 1, 1), None, 1000, past_due=date(2025, 2, 20))]
    r = ref(lines, date(2025, 3, 31), past_due_grace_days=grace)
    assert [r.native("G", p) for p in r.periods] == expected


def test_lines_after_as_of_are_ignored_and_later_ends_are_open() -> None:
    lines = [make_line("K", date(2025, 2, 10), date(2025, 9, 1), 400),
             make_line("K", date(2025, 3, 20), None, 999),
             make_line("L", date(2024, 11, 5), None, -50, kind="discount", duration="once")]
    r = ref(lines, date(2025, 3, 15))  # the once discount is dropped: data starts in February
    assert r.periods == [m(2025, 2), m(2025, 3)]
    assert [r.native("K", p) for p in r.periods] == [400, 400]


def test_plan_is_the_largest_line_with_ties_to_the_smallest_name() -> None:
    lines = [make_line("P", date(2025, 1, 1), None, 500, plan="zeta"),
             make_line("P", date(2025, 1, 1), None, 500, plan="alpha"),
             make_line("P", date(2025, 2, 1), None, 600, plan="mid")]  # fmt: skip
    r = ref(lines, date(2025, 2, 28))
    assert [r.plan_at("P", p) for p in r.periods] == ["alpha", "mid"]


def test_size_band_is_valued_at_the_first_paying_period_rate() -> None:
    lines = [make_line("S", date(2025, 1, 1), None, 9800, currency="CHF"),
             make_line("S", date(2025, 3, 1), None, 50000, currency="CHF")]  # fmt: skip
    rates = {("CHF", m(2025, 1)): Decimal("1"), ("CHF", m(2025, 2)): Decimal("1.05"),
             ("CHF", m(2025, 3)): Decimal("0.8")}  # fmt: skip
    r = Reference(numbered(lines), date(2025, 3, 31), rates=rates)
    # February: 10,290 EUR cents at its own rate, but banded at January's rate 1: 9,800, band 0.
    # March: 59,800 CHF cents, banded at January's rate: 59,800, band 2 (at March's own: 47,840).
    assert [r.value("S", p) for p in r.periods] == [9800, 10290, 47840]
    assert [r.size_band("S", p) for p in r.periods] == [0, 0, 2]


def test_quarters_read_on_quarter_ends() -> None:
    lines = [make_line("Q", date(2025, 1, 15), date(2025, 5, 10), 1000),
             make_line("Q", date(2025, 8, 1), None, 700)]  # fmt: skip
    r = ref(lines, date(2025, 8, 20), period="quarter")
    assert r.periods == [2025 * 4, 2025 * 4 + 1, 2025 * 4 + 2]
    assert [(x.movement, x.amount) for x in r.movements()] == [
        ("new", 1000), ("churn", 1000), ("reactivation", 700)]  # fmt: skip


def test_negative_sum_counts_as_zero() -> None:
    lines = [make_line("N", date(2025, 1, 1), date(2025, 2, 1), 300),
             make_line("N", date(2025, 1, 1), None, -500, kind="discount", duration="forever")]
    r = ref(lines, date(2025, 2, 28))
    assert [r.native("N", p) for p in r.periods] == [0, 0]
    assert r.movements() == [] and r.cohorts() == []


@pytest.mark.parametrize("seed", range(30))
def test_generated_companies_keep_the_bridge_identity(seed: int) -> None:
    company = random_company(seed)
    for settings in (Settings(), Settings(discounts="all", metered="trailing_average",
                                          churn_timing="requested", past_due_grace_days=10)):
        r = Reference(company.lines, company.as_of, settings, company.attributes, company.rates())
        if not r.periods:  # everything starts after the as-of date
            assert r.bridge() == [] and r.movements() == []
            continue
        for by in (None, "plan", "size", "country"):
            assert all(row.identity_holds() for row in r.bridge(by))
        assert r.bridge()[-1].end_mrr == sum(r.value(c, r.periods[-1]) for c in r.customers)
        assert period_of(company.as_of, "month") == r.periods[-1]
        assert numbers(r.bridge()[0])["start_mrr"] == 0
