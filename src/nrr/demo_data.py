"""A seeded synthetic B2B SaaS company (DACH focus) as a subscription-periods billing export.

The demo goes through the real import path: ``write_demo_csv`` writes the rows a billing system
would export, and ``nrr import`` reads them like any user's file. Pure Python with one
``random.Random(seed)``: the same arguments always give the same rows, byte for byte.

What is in it: four plans (Starter, Growth, Scale, Enterprise) billed per seat monthly, quarterly
or yearly; EUR, CHF and USD; discounts once / repeating / forever; seat expansion and contraction
and plan changes in the middle of a billing period (one period ends and the next starts the same
day); voluntary and involuntary (failed payment) churn, cancellations requested before they take
effect, some of them still in the future; reactivations; a few past-due subscriptions. The
default company has a trailing-twelve-month NRR of about 100-110 % and GRR of about 85-92 %.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from nrr.normalise import add_months

COLUMNS = (
    "customer_id", "customer_name", "plan", "interval", "amount", "quantity", "currency",
    "start_date", "end_date", "status", "cancel_requested_date", "churn_reason",
    "past_due_since", "discount_percent", "discount_duration", "discount_months", "country",
    "industry", "employees",
)

# plan: (EUR list price per seat and month, seat range at signup, employee range, monthly churn)
PLANS: dict[str, tuple[int, tuple[int, int], tuple[int, int], float]] = {
    "Starter": (19, (1, 5), (2, 25), 0.022),
    "Growth": (49, (3, 20), (10, 150), 0.012),
    "Scale": (99, (10, 60), (50, 800), 0.009),
    "Enterprise": (69, (40, 200), (300, 6000), 0.006),
}
PLAN_ORDER = tuple(PLANS)
PLAN_MIX = (0.40, 0.34, 0.19, 0.07)
# interval: (months, price factor on 1 month); yearly is "two months free"
INTERVALS = {"month": (1, Decimal(1)), "quarter": (3, Decimal("2.85")), "year": (12, Decimal(10))}
COUNTRIES = (("DE", 0.42), ("AT", 0.14), ("CH", 0.14), ("NL", 0.06), ("FR", 0.05),
             ("IT", 0.04), ("PL", 0.03), ("GB", 0.05), ("US", 0.07))
CURRENCY = {"CH": ("CHF", Decimal(1)), "US": ("USD", Decimal("1.1")), "GB": ("USD", Decimal("1.1"))}
INDUSTRIES = ("Software", "Manufacturing", "Retail", "Professional Services", "Healthcare",
              "Financial Services", "Logistics", "Education", "Media")
LEGAL = {"DE": "GmbH", "AT": "GmbH", "CH": "AG", "NL": "B.V.", "FR": "SAS", "IT": "S.r.l.",
         "PL": "sp. z o.o.", "GB": "Ltd", "US": "Inc."}
SURNAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Hofer", "Huber", "Gruber", "Keller", "Brunner", "Steiner", "Moser", "Bauer", "Wolf",
            "Berger", "Frei", "Lang", "Vogel", "Koch", "Richter", "Klein", "Zimmermann")
WORDS = ("Digital", "Systems", "Technik", "Solutions", "Logistik", "Consulting", "Werke",
         "Labs", "Analytics", "Partners", "Medien", "Data", "Software", "Handel", "Services")
VOLUNTARY_REASONS = ("too_expensive", "switched_to_competitor", "no_longer_needed",
                     "missing_features", "company_closed")


@dataclass(frozen=True)
class _Period:
    """One row of the export: a stretch with one plan, seat count and discount."""

    plan: str
    interval: str
    seats: int
    start: date
    discount: tuple[str, str, str] = ("", "", "")  # percent, duration, months


@dataclass(frozen=True)
class _Customer:
    number: int
    country: str
    currency: str
    fx: Decimal
    industry: str
    employees: int
    name: str


def generate_demo_company(seed: int = 7, customers: int = 2000, months: int = 36,
                          end: date = date(2026, 10, 31)) -> list[dict[str, str]]:
    """The rows of the demo company's subscription-periods export, in a stable order."""
    rng = random.Random(seed)
    first_month = add_months(end.replace(day=1), -(months - 1))
    rows: list[dict[str, str]] = []
    for number in range(1, customers + 1):
        customer = _new_customer(rng, number)
        signup = _signup_day(rng, first_month, end, months)
        rows.extend(_customer_rows(rng, customer, signup, end))
    return rows


def write_demo_csv(path: str | Path, seed: int = 7, customers: int = 2000, months: int = 36,
                   end: date = date(2026, 10, 31)) -> Path:
    """Write the demo company's export as a CSV file and return its path."""
    target = Path(path)
    rows = generate_demo_company(seed=seed, customers=customers, months=months, end=end)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return target


# -- customers -------------------------------------------------------------------------------------

def _new_customer(rng: random.Random, number: int) -> _Customer:
    country = _weighted(rng, [c for c, _ in COUNTRIES], [w for _, w in COUNTRIES])
    currency, fx = CURRENCY.get(country, ("EUR", Decimal(1)))
    name = f"{rng.choice(SURNAMES)} {rng.choice(WORDS)} {LEGAL[country]}"
    return _Customer(number, country, currency, fx, rng.choice(INDUSTRIES), 0, name)


def _signup_day(rng: random.Random, first_month: date, end: date, months: int) -> date:
    """About a third signed up in the two years before the window (the installed base)."""
    before = rng.random() < 0.32
    offset = -rng.randrange(1, 25) if before else rng.randrange(0, months)
    month = add_months(first_month, offset)
    day = month + timedelta(days=rng.randrange(0, 28))
    return min(day, end)


def _weighted(rng: random.Random, items: list[str], weights: list[float]) -> str:
    return rng.choices(items, weights=weights, k=1)[0]


# -- one customer's life ---------------------------------------------------------------------------

def _customer_rows(rng: random.Random, customer: _Customer, signup: date,
                   end: date) -> Iterator[dict[str, str]]:
    plan = _weighted(rng, list(PLAN_ORDER), list(PLAN_MIX))
    _, seats_range, employees_range, _ = PLANS[plan]
    customer = replace(customer, employees=rng.randint(*employees_range))
    start: date | None = signup
    while start is not None and start <= end:
        period = _Period(plan, _interval(rng, plan), rng.randint(*seats_range), start,
                         _signup_discount(rng))
        start, plan = yield from _subscription(rng, customer, period, end)


def _interval(rng: random.Random, plan: str) -> str:
    weights = (0.15, 0.10, 0.75) if plan == "Enterprise" else (0.58, 0.14, 0.28)
    return _weighted(rng, list(INTERVALS), list(weights))


def _signup_discount(rng: random.Random) -> tuple[str, str, str]:
    draw = rng.random()
    if draw < 0.07:
        return ("50", "once", "")
    if draw < 0.13:
        return ("20", "repeating", str(rng.choice((3, 6))))
    if draw < 0.17:
        return ("10", "forever", "")
    return ("", "", "")


def _subscription(rng: random.Random, customer: _Customer, period: _Period,
                  end: date) -> Generator[dict[str, str], None, tuple[date | None, str]]:
    """Rows of one subscription until it churns; returns (reactivation day or None, plan)."""
    months, _ = INTERVALS[period.interval]
    monthly_churn = PLANS[period.plan][3]
    step = 1
    while True:
        day = add_months(period.start, step) if step else period.start
        if day > end + timedelta(days=62):
            yield _row(customer, period, None, end)
            return None, period.plan
        if step % months == 0 and rng.random() < 1 - (1 - monthly_churn) ** months:
            yield from _churn_rows(rng, customer, period, day, end)
            return _reactivation(rng, day), period.plan
        changed = _change(rng, period, day)
        if changed is not None:
            if changed.start > end:
                yield _row(customer, period, None, end)
                return None, period.plan
            yield _row(customer, period, changed.start, end, status="replaced")
            period, step = changed, 0
            months, _ = INTERVALS[period.interval]
            monthly_churn = PLANS[period.plan][3]
        step += 1


def _change(rng: random.Random, period: _Period, day: date) -> _Period | None:
    """Seat or plan changes, effective on a day inside the month (not at the next invoice)."""
    draw = rng.random()
    when = day + timedelta(days=rng.randrange(0, 27))
    carry = period.discount if period.discount[1] == "forever" else ("", "", "")
    index = PLAN_ORDER.index(period.plan)
    if draw < 0.040:
        more = max(1, round(period.seats * rng.uniform(0.1, 0.5)))
        return replace(period, seats=period.seats + more, start=when, discount=carry)
    if draw < 0.060 and period.seats > 1:
        fewer = max(1, round(period.seats * rng.uniform(0.1, 0.4)))
        return replace(period, seats=max(1, period.seats - fewer), start=when, discount=carry)
    if draw < 0.068 and index + 1 < len(PLAN_ORDER):
        plan = PLAN_ORDER[index + 1]
        seats = max(period.seats, PLANS[plan][1][0])
        return replace(period, plan=plan, seats=seats, start=when, discount=carry)
    if draw < 0.071 and index > 0:
        return replace(period, plan=PLAN_ORDER[index - 1], start=when, discount=carry)
    return None


def _churn_rows(rng: random.Random, customer: _Customer, period: _Period, day: date,
                end: date) -> Iterator[dict[str, str]]:
    involuntary = rng.random() < (0.35 if period.plan == "Starter" else 0.2)
    if involuntary:
        if day > end:  # a failed payment is not known in advance
            yield _row(customer, period, None, end)
            return
        yield _row(customer, period, day, end, status="canceled", reason="payment_failed")
        return
    notice = rng.randrange(10, 75) if period.interval == "year" else rng.randrange(1, 28)
    requested = day - timedelta(days=notice)
    if requested > end:
        yield _row(customer, period, None, end)
        return
    yield _row(customer, period, day, end, status="canceled",
               reason=rng.choice(VOLUNTARY_REASONS), requested=requested)


def _reactivation(rng: random.Random, churned: date) -> date | None:
    if rng.random() < 0.15:
        return add_months(churned, rng.randrange(2, 13)) + timedelta(days=rng.randrange(0, 20))
    return None


def _row(customer: _Customer, period: _Period, ended: date | None, end: date,
         status: str = "active", reason: str = "", requested: date | None = None
         ) -> dict[str, str]:
    months, factor = INTERVALS[period.interval]
    price = (Decimal(PLANS[period.plan][0]) * customer.fx * factor).quantize(Decimal("0.01"))
    if ended is None and status == "active" and customer.number % 53 == 0:
        status = "past_due"  # a few open subscriptions whose last payment failed recently
    percent, duration, discount_months = period.discount
    return {
        "customer_id": f"cus_{customer.number:05d}", "customer_name": customer.name,
        "plan": period.plan, "interval": period.interval, "amount": f"{price}",
        "quantity": str(period.seats), "currency": customer.currency,
        "start_date": period.start.isoformat(),
        "end_date": ended.isoformat() if ended else "", "status": status,
        "cancel_requested_date": requested.isoformat() if requested else "",
        "churn_reason": reason,
        "past_due_since": (end - timedelta(days=customer.number % 20 + 1)).isoformat()
        if status == "past_due" else "",
        "discount_percent": percent, "discount_duration": duration,
        "discount_months": discount_months, "country": customer.country,
        "industry": customer.industry, "employees": str(customer.employees),
    }
