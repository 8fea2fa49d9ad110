"""Random small companies as canonical ``revenue_lines`` rows, attributes and exchange rates.

One generator serves both hypothesis (``companies()``, shrinkable) and plain seeded runs
(``random_company(seed)``): it only asks a ``Dice`` for integers and choices.
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from hypothesis import strategies as st

from nrr.schema import Grain

from .lines import add_months, period_of

T = TypeVar("T")
LineRow = dict[str, Any]
RateMap = dict[tuple[str, int], Decimal]  # (currency, period) -> minor units into reporting minor

CURRENCIES = ("EUR", "EUR", "EUR", "CHF", "USD", "JPY")
# Minor units of the currency -> euro cents, around which each month's rate wanders.
BASE_RATES = {"CHF": Decimal("1.05"), "USD": Decimal("0.92"), "JPY": Decimal("0.62")}
COUNTRIES = ("DE", "AT", "CH")
INTERVALS = {"m": 1, "q": 3, "y": 12}


class Dice(Protocol):
    def integer(self, low: int, high: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...


class RandomDice:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self._rng.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self._rng.randrange(len(options))]


class DrawDice:
    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self._draw = draw

    def integer(self, low: int, high: int) -> int:
        return int(self._draw(st.integers(low, high)))

    def choice(self, options: Sequence[T]) -> T:
        return options[self._draw(st.integers(0, len(options) - 1))]


def chance(dice: Dice, percent: int) -> bool:
    return dice.integer(0, 99) < percent


def make_line(
    customer_id: str, start: date, end: date | None, mrr: int, *, currency: str = "EUR",
    kind: str = "recurring", duration: str | None = None, plan: str | None = "basic",
    quantity: int = 1, cancel_requested: date | None = None, past_due: date | None = None,
    line_id: str = "", churn_reason: str | None = None,
) -> LineRow:  # fmt: skip
    """One canonical revenue_lines row (see nrr.schema.REVENUE_LINES)."""
    return {
        "line_id": line_id, "source": "generated", "source_ref": line_id,
        "customer_id": customer_id, "start_date": start, "end_date": end, "mrr_minor": mrr,
        "currency": currency, "kind": kind, "discount_duration": duration, "plan": plan,
        "quantity": quantity, "cancel_requested_date": cancel_requested,
        "past_due_since": past_due, "churn_reason": churn_reason,
    }  # fmt: skip


def numbered(lines: list[LineRow]) -> list[LineRow]:
    """Give every line a unique id (and the same source_ref)."""
    return [{**row, "line_id": f"L{i}", "source_ref": f"L{i}"} for i, row in enumerate(lines)]


@dataclass
class Company:
    lines: list[LineRow]
    as_of: date
    attributes: list[LineRow] = field(default_factory=list)
    month_rates: RateMap = field(default_factory=dict)  # into euro cents, per month

    def rates(self, grain: Grain = "month", reporting: str = "EUR") -> RateMap:
        """Rate per (currency, period): the rate of the period's last month (or the as-of month)."""
        found: dict[tuple[str, int], Decimal] = {}
        for (currency, month), rate in sorted(self.month_rates.items()):
            day = date(month // 12, month % 12 + 1, 1)
            found[(currency, period_of(day, grain))] = rate
        return found if reporting == "EUR" else _cross(found, reporting)

    @property
    def currencies(self) -> set[str]:
        return {row["currency"] for row in self.lines}


def _cross(to_eur: RateMap, reporting: str) -> RateMap:
    """Rates into another reporting currency, through the euro (10 decimals, as stored)."""
    crossed: RateMap = {}
    for (currency, p), rate in to_eur.items():
        if currency != reporting:
            crossed[(currency, p)] = (rate / to_eur[(reporting, p)]).quantize(Decimal("1E-10"))
        crossed[("EUR", p)] = (1 / to_eur[(reporting, p)]).quantize(Decimal("1E-10"))
    return crossed


# -- generation ------------------------------------------------------------------------------


def _day_in_month(dice: Dice, year: int, month: int) -> date:
    return date(year, month, dice.integer(1, calendar.monthrange(year, month)[1]))


def _end_after(dice: Dice, start: date, months: int) -> date:
    """An end some whole billing periods after start, sometimes shifted off the period boundary."""
    end = add_months(start, months)
    return end + timedelta(days=dice.integer(-12, 12)) if chance(dice, 30) else end


def _subscription(dice: Dice, customer: str, currency: str, start: date) -> list[LineRow]:
    """A plan line with, sometimes, a discount, a cancellation request and a past-due date."""
    interval = dice.choice(tuple(INTERVALS))
    months = INTERVALS[interval]
    scale = 2 if currency == "JPY" else 1
    mrr = dice.integer(5, 400) * dice.choice((10, 25, 100)) * scale
    end = None if chance(dice, 35) else _end_after(dice, start, months * dice.integer(1, 4))
    if end is not None and end <= start:
        end = start + timedelta(days=1)
    tier = dice.choice(("basic", "pro", "team"))
    row = make_line(customer, start, end, mrr, currency=currency, plan=f"{tier}-{interval}",
                    quantity=dice.integer(1, 5))  # fmt: skip
    span = (end - start).days if end else 400
    if chance(dice, 30 if end is not None else 10):  # open lines ignore it: they never end
        row["cancel_requested_date"] = start + timedelta(days=dice.integer(0, span))
        row["churn_reason"] = dice.choice(("voluntary", "involuntary"))
    if chance(dice, 15):
        row["past_due_since"] = start + timedelta(days=dice.integer(0, span))
    lines = [row]
    if chance(dice, 45):
        lines.append(_discount(dice, row))
    return lines


def _discount(dice: Dice, plan_line: LineRow) -> LineRow:
    duration = dice.choice(("once", "repeating", "forever"))
    start: date = plan_line["start_date"] + timedelta(days=dice.choice((0, 0, dice.integer(0, 90))))
    end: date | None = plan_line["end_date"]
    if duration != "forever":
        end = add_months(start, 1 if duration == "once" else dice.integer(2, 8))
    amount = -(plan_line["mrr_minor"] * dice.choice((10, 20, 50, 100)) // 100)
    return make_line(plan_line["customer_id"], start, end, amount,
                     currency=plan_line["currency"], kind="discount", duration=duration,
                     plan=None)  # fmt: skip


def _metered(dice: Dice, customer: str, currency: str, start: date) -> list[LineRow]:
    """Usage billed month by month: one line per calendar month."""
    first = date(start.year, start.month, 1)
    return [
        make_line(customer, add_months(first, k), add_months(first, k + 1),
                  dice.integer(1, 300) * 10, currency=currency, kind="metered", plan="usage")
        for k in range(dice.integer(1, 5))
    ]  # fmt: skip


def _customer(dice: Dice, customer: str, as_of: date, horizon: int) -> list[LineRow]:
    currency = dice.choice(CURRENCIES)
    lines: list[LineRow] = []
    for _ in range(dice.integer(1, 3)):
        start = as_of - timedelta(days=dice.integer(-40, horizon))
        subscription = _subscription(dice, customer, currency, start)
        lines.extend(subscription)
        ended = subscription[0]["end_date"]
        if ended is not None and chance(dice, 30):  # comes back after a gap
            lines.extend(_subscription(dice, customer, currency,
                                       ended + timedelta(days=dice.integer(1, 120))))  # fmt: skip
    if chance(dice, 20):
        usage_start = as_of - timedelta(days=dice.integer(0, 200))
        lines.extend(_metered(dice, customer, currency, usage_start))
    return lines


def _attributes(dice: Dice, customer: str) -> list[LineRow]:
    rows = []
    if chance(dice, 85):
        rows.append({"customer_id": customer, "key": "country", "value": dice.choice(COUNTRIES),
                     "source": "generated"})  # fmt: skip
    if chance(dice, 50):
        rows.append({"customer_id": customer, "key": "industry",
                     "value": dice.choice(("saas", "retail")), "source": "generated"})  # fmt: skip
    return rows


def _month_rates(dice: Dice, first: int, last: int) -> dict[tuple[str, int], Decimal]:
    rates: dict[tuple[str, int], Decimal] = {}
    for currency, base in BASE_RATES.items():
        rate = base
        for month in range(first, last + 1):
            rates[(currency, month)] = rate
            step = Decimal(1000 + dice.integer(-40, 40)) / 1000
            rate = (rate * step).quantize(Decimal("0.000001"))
    return rates


def generate(dice: Dice, max_customers: int = 5, max_months: int = 30) -> Company:
    as_of = _day_in_month(dice, 2025, dice.integer(1, 12))
    horizon = dice.integer(20, max_months * 31)
    lines: list[LineRow] = []
    attributes: list[LineRow] = []
    for k in range(dice.integer(1, max_customers)):
        customer = f"cus_{k}"
        lines.extend(_customer(dice, customer, as_of, horizon))
        attributes.extend(_attributes(dice, customer))
    # From a year before the data, so every grain has a rate for the period before the first.
    first_month = period_of(min(row["start_date"] for row in lines), "month") - 12
    rates = _month_rates(dice, first_month, period_of(as_of, "month"))
    return Company(numbered(lines), as_of, attributes, rates)


def random_company(seed: int, **limits: int) -> Company:
    return generate(RandomDice(seed), **limits)


@st.composite
def companies(draw: Callable[[st.SearchStrategy[Any]], Any], max_customers: int = 5) -> Company:
    return generate(DrawDice(draw), max_customers=max_customers)


def single_currency(company: Company, currency: str = "EUR") -> Company:
    """The same company billing everything in one currency (no exchange rates needed)."""
    return replace(company, lines=[{**row, "currency": currency} for row in company.lines],
                   month_rates={})  # fmt: skip


def describe(company: Company) -> str:
    """A compact, readable listing of a company (for failure reports)."""
    keys = ("customer_id", "start_date", "end_date", "mrr_minor", "currency", "kind",
            "discount_duration", "plan", "cancel_requested_date", "past_due_since")  # fmt: skip
    rows = [" ".join(str(row[k]) for k in keys) for row in company.lines]
    return f"as_of {company.as_of}\n" + "\n".join(rows)
