"""Each conversion rule with exact minor units (docs/importing.md, "Normalisation")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from nrr.money import KNOWN_CURRENCIES
from nrr.normalise import (
    CellProblem,
    ReadOptions,
    ValueProblem,
    add_months,
    churn_reason,
    invoice_row,
    monthly_minor,
    parse_amount,
    parse_date,
    parse_interval,
    spread_monthly,
    subscription_row,
    whole_months,
)

OPTIONS = ReadOptions(currencies=KNOWN_CURRENCIES)


@pytest.mark.parametrize(("minor", "unit", "count", "expected"), [
    (120_000, "year", 1, 10_000),  # 1,200 a year -> 100 a month
    (9_000, "month", 3, 3_000),  # a 3-month plan of 90 -> 30
    (9_000, "quarter", 1, 3_000),
    (10_000, "quarter", 1, 3_333),  # 33.333... rounds down
    (1_000, "week", 1, 4_333),  # 10 a week: 10 * 52 / 12 = 43.333...
    (100, "day", 1, 3_042),  # 1 a day: 365 / 12 = 30.4166...
    (5_000, "month", 2, 2_500),
    (5, "month", 2, 3),  # 2.5 minor units round half up
    (-5, "month", 2, -3),  # and half away from zero for credits
    (60_000, "year", 2, 2_500),  # every two years
])
def test_monthly_normalisation(minor: int, unit: str, count: int, expected: int) -> None:
    assert monthly_minor(Decimal(minor), unit, count) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("month", ("month", 1)), ("Monthly", ("month", 1)), ("3 months", ("month", 3)),
    ("every 2 weeks", ("week", 2)), ("jährlich", ("year", 1)), ("annual", ("year", 1)),
    ("quarterly", ("quarter", 1)), ("semiannual", ("month", 6)), ("day", ("day", 1)),
    ("12M", ("month", 12)),
])
def test_interval_words(text: str, expected: tuple[str, int]) -> None:
    assert parse_interval(text) == expected


def test_unknown_interval_says_what_to_write() -> None:
    with pytest.raises(ValueProblem, match="use month, quarter, year, week or day"):
        parse_interval("fortnightly-ish")


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-03-01", date(2024, 3, 1)), ("2024-03-01 10:22:05", date(2024, 3, 1)),
    ("2024-03-01T23:59:59Z", date(2024, 3, 1)), ("2024-03-01T10:00:00+02:00", date(2024, 3, 1)),
    ("01.03.2024", date(2024, 3, 1)), ("03/01/2024", date(2024, 3, 1)),
    ("2024/03/01", date(2024, 3, 1)), ("1709251200", date(2024, 3, 1)),
])
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_slash_dates_day_first_when_asked() -> None:
    assert parse_date("03/01/2024", True) == date(2024, 1, 3)


@pytest.mark.parametrize("text", ["2024-13-01", "31.02.2024", "yesterday", "2024-3"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueProblem, match="YYYY-MM-DD"):
        parse_date(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("1234.50", "1234.50"), ("1,234.50", "1234.50"), ("1.234,50", "1234.50"),
    ("€ 99", "99"), ("99.00 EUR", "99.00"), ("(12.00)", "-12.00"), ("12.00-", "-12.00"),
    ("1'234.50", "1234.50"), ("12,5", "12.5"), ("1,234", "1234"), ("1.234.567", "1234567"),
    ("-7", "-7"),
])
def test_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


def test_declared_decimal_comma() -> None:
    assert parse_amount("1,234", True) == Decimal("1.234")
    assert parse_amount("1.234", True) == Decimal("1234")


@pytest.mark.parametrize("text", ["12.3.4", "abc", "1e999999999999", "--"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueProblem, match="plain numbers"):
        parse_amount(text)


def test_calendar_months() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert whole_months(date(2024, 1, 15), date(2025, 1, 15)) == 12
    assert whole_months(date(2024, 1, 1), date(2024, 4, 1)) == 3
    assert whole_months(date(2024, 1, 1), date(2024, 1, 31)) is None


def test_invoice_spreading() -> None:
    assert spread_monthly(Decimal(120_000), date(2024, 1, 15), date(2025, 1, 15)) == 10_000
    assert spread_monthly(Decimal(9_000), date(2024, 2, 1), date(2024, 5, 1)) == 3_000
    # 15 days of 15.00: 1500 * 365 / (12 * 15) = 3041.67 -> 3042
    assert spread_monthly(Decimal(1_500), date(2024, 1, 10), date(2024, 1, 25)) == 3_042


def test_churn_reasons() -> None:
    assert churn_reason("payment_failed") == "involuntary"
    assert churn_reason("Card declined") == "involuntary"
    assert churn_reason("too expensive") == "voluntary"


def sub(**cells: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {"customer": "c1", "start": "2024-01-01", "currency": "EUR"}
    return base | cells


def test_yearly_price_with_forever_discount_is_nine() -> None:
    result = subscription_row(sub(amount="120", interval="year", discount_percent="10",
                                  discount_duration="forever"), OPTIONS)
    main, discount = result.lines
    assert (main.mrr_minor, discount.mrr_minor) == (1_000, -100)
    assert main.mrr_minor + discount.mrr_minor == 900
    assert (discount.kind, discount.discount_duration, discount.end_date) == (
        "discount", "forever", None)


def test_quantity_multiplies_before_rounding() -> None:
    row = subscription_row(sub(amount="10", interval="quarter", quantity="3"), OPTIONS)
    assert row.lines[0].mrr_minor == 1_000  # 3 x 10.00 a quarter = 10.00 a month
    row = subscription_row(sub(amount="1", interval="quarter", quantity="2"), OPTIONS)
    assert row.lines[0].mrr_minor == 67  # 200 / 3 = 66.67, rounded once


def test_mrr_column_is_taken_as_is() -> None:
    row = subscription_row(sub(mrr="49.99", interval="year", quantity="5"), OPTIONS)
    assert row.lines[0].mrr_minor == 4_999


def test_zero_and_three_decimal_currencies() -> None:
    jpy = subscription_row(sub(amount="12000", interval="year", currency="JPY"), OPTIONS)
    assert jpy.lines[0].mrr_minor == 1_000  # yen have no minor unit
    bhd = subscription_row(sub(amount="1.200", interval="year", currency="bhd"), OPTIONS)
    assert (bhd.lines[0].mrr_minor, bhd.lines[0].currency) == (100, "BHD")  # 0.100 BHD = 100 fils
    jpy_q = subscription_row(sub(amount="1000", interval="quarter", currency="JPY"), OPTIONS)
    assert jpy_q.lines[0].mrr_minor == 333


def test_once_discount_covers_the_first_interval() -> None:
    row = subscription_row(sub(amount="100", interval="quarter", discount_amount="30",
                               discount_duration="once"), OPTIONS)
    discount = row.lines[1]
    assert (discount.mrr_minor, discount.end_date, discount.discount_duration) == (
        -1_000, date(2024, 4, 1), "once")


def test_repeating_discount_needs_months() -> None:
    row = subscription_row(sub(amount="100", discount_percent="25%", discount_months="3"),
                           OPTIONS)
    assert (row.lines[1].mrr_minor, row.lines[1].end_date) == (-2_500, date(2024, 4, 1))
    assert row.lines[1].discount_duration == "repeating"
    with pytest.raises(CellProblem) as info:
        subscription_row(sub(amount="100", discount_percent="25",
                             discount_duration="repeating"), OPTIONS)
    assert info.value.role == "discount_months"


def test_discount_never_outlives_its_line() -> None:
    row = subscription_row(sub(amount="100", end="2024-02-01", discount_percent="10",
                               discount_months="6"), OPTIONS)
    assert row.lines[1].end_date == date(2024, 2, 1)


def test_trial_is_not_mrr() -> None:
    row = subscription_row(sub(amount="100", trial_end="2024-01-15"), OPTIONS)
    assert row.lines[0].start_date == date(2024, 1, 15)
    only_trial = subscription_row(sub(amount="100", trial_end="2024-02-01", end="2024-02-01"),
                                  OPTIONS)
    assert only_trial.lines == ()


def test_statuses_that_count_zero() -> None:
    paused = subscription_row(sub(amount="100", status="paused"), OPTIONS)
    assert (paused.lines, paused.skipped) == ((), "status paused without an end date")
    past_due = subscription_row(sub(amount="100", status="past_due",
                                    past_due_since="2024-03-05"), OPTIONS)
    assert past_due.lines[0].past_due_since == date(2024, 3, 5)


def test_churn_reason_only_on_ended_lines() -> None:
    ended = subscription_row(sub(amount="1", end="2024-05-01", churn_reason="payment failed",
                                 cancel_requested="2024-04-20"), OPTIONS)
    assert (ended.lines[0].churn_reason, ended.lines[0].cancel_requested_date) == (
        "involuntary", date(2024, 4, 20))
    running = subscription_row(sub(amount="1", churn_reason="payment failed"), OPTIONS)
    assert running.lines[0].churn_reason is None


def test_end_inclusive_option_adds_a_day() -> None:
    options = ReadOptions(currencies=KNOWN_CURRENCIES, end_inclusive=True)
    row = subscription_row(sub(amount="1", end="2024-03-31"), options)
    assert row.lines[0].end_date == date(2024, 4, 1)


def inv(**cells: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {"customer": "c1", "date": "2024-03-10", "currency": "EUR"}
    return base | cells


def test_invoice_without_period_covers_its_month() -> None:
    line = invoice_row(inv(amount="50"), OPTIONS).lines[0]
    assert (line.start_date, line.end_date, line.mrr_minor) == (
        date(2024, 3, 1), date(2024, 4, 1), 5_000)


def test_invoice_inclusive_end_is_recognised() -> None:
    line = invoice_row(inv(amount="90", service_start="2024-01-01", service_end="2024-03-31"),
                       OPTIONS).lines[0]
    assert (line.end_date, line.mrr_minor) == (date(2024, 4, 1), 3_000)
    stripe_style = invoice_row(inv(amount="1200", service_start="2024-01-15",
                                   service_end="2025-01-15"), OPTIONS).lines[0]
    assert (stripe_style.end_date, stripe_style.mrr_minor) == (date(2025, 1, 15), 10_000)


def test_one_time_and_proration_lines_are_not_mrr() -> None:
    assert invoice_row(inv(amount="500", recurring="setup fee"), OPTIONS).skipped == "one_time"
    assert invoice_row(inv(amount="5", proration="true"), OPTIONS).lines == ()
    with pytest.raises(CellProblem, match="write recurring, metered or one_time"):
        invoice_row(inv(amount="5", recurring="sometimes"), OPTIONS)


def test_usage_lines_are_metered() -> None:
    line = invoice_row(inv(amount="30", recurring="usage"), OPTIONS).lines[0]
    assert (line.kind, line.mrr_minor) == ("metered", 3_000)


def test_credit_is_a_negative_line() -> None:
    line = invoice_row(inv(amount="-20"), OPTIONS).lines[0]
    assert line.mrr_minor == -2_000
