"""Periods, rounding and the revenue lines as the settings see them (reference side).

Deliberately naive: dates are walked with the standard library, nothing is vectorised.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from nrr.schema import Grain, Settings

Row = Mapping[str, Any]

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


def round_half_away(value: Decimal) -> int:
    """Nearest integer, halves away from zero (Decimal's ROUND_HALF_UP is away from zero)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def period_of(day: date, grain: Grain) -> int:
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def last_month_of(p: int, grain: Grain) -> tuple[int, int]:
    """(year, month) of the last month in period p."""
    if grain == "month":
        return p // 12, p % 12 + 1
    if grain == "quarter":
        return p // 4, (p % 4) * 3 + 3
    return p, 12


def last_day(p: int, grain: Grain) -> date:
    year, month = last_month_of(p, grain)
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Same day of month `months` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Line:
    """A revenue line after the settings have been applied."""

    customer_id: str
    start: date
    end: date | None
    mrr: int
    currency: str
    plan: str | None
    involuntary: bool = False  # it ends for lack of payment

    def active(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def kept(row: Row, settings: Settings) -> bool:
    """Whether the discount and metered policies keep this line at all."""
    if row["kind"] == "metered":
        return settings.metered == "trailing_average"
    if row["kind"] != "discount":
        return True
    durations = {
        "recurring": ("repeating", "forever"),
        "forever": ("forever",),
        "all": ("once", "repeating", "forever"),
        "none": (),
    }[settings.discounts]
    return row["discount_duration"] in durations


def _earlier(a: date | None, b: date) -> date:
    return b if a is None or b < a else a


def _timed_end(row: Row, settings: Settings) -> date | None:
    end: date | None = row["end_date"]
    requested = row.get("cancel_requested_date")
    if settings.churn_timing == "requested" and requested is not None and end is not None:
        end = _earlier(end, requested)
    return end


def _grace_end(row: Row, settings: Settings) -> date | None:
    past_due = row.get("past_due_since")
    if settings.past_due_grace_days is None or past_due is None:
        return None
    return past_due + timedelta(days=settings.past_due_grace_days)


def effective_end(row: Row, settings: Settings) -> date | None:
    end: date | None = row["end_date"]
    if row["kind"] == "metered" and end is not None:
        end = add_months(end, 2)  # usage billed for a month keeps counting for two more
    requested = row.get("cancel_requested_date")
    if settings.churn_timing == "requested" and requested is not None and end is not None:
        end = _earlier(end, requested)
    grace = _grace_end(row, settings)
    if grace is not None:
        end = _earlier(end, grace)
    return end


def ends_unpaid(row: Row, settings: Settings) -> bool:
    """The line ends for lack of payment: so its data says, or the past-due grace runs out
    before it would end otherwise."""
    grace, end = _grace_end(row, settings), _timed_end(row, settings)
    if grace is not None and (end is None or grace < end):
        return True
    return row.get("churn_reason") == "involuntary"


def effective_mrr(row: Row, settings: Settings) -> int:
    if row["kind"] == "metered":
        return round_half_away(Decimal(int(row["mrr_minor"])) / 3)
    return int(row["mrr_minor"])


def effective_lines(rows: Iterable[Row], as_of: date, settings: Settings) -> list[Line]:
    """The lines the metrics see: policy-filtered, adjusted, none starting after `as_of`."""
    return [
        Line(
            customer_id=str(row["customer_id"]),
            start=row["start_date"],
            end=effective_end(row, settings),
            mrr=effective_mrr(row, settings),
            currency=str(row["currency"]),
            plan=row.get("plan"),
            involuntary=ends_unpaid(row, settings),
        )
        for row in rows
        if row["start_date"] <= as_of and kept(row, settings)
    ]


def reading_days(lines: list[Line], as_of: date, grain: Grain) -> dict[int, date]:
    """Period -> the day it is read on, from the first line's period to the as-of period."""
    if not lines:
        return {}
    first = period_of(min(line.start for line in lines), grain)
    last = period_of(as_of, grain)
    days = {p: last_day(p, grain) for p in range(first, last + 1)}
    days[last] = as_of
    return days


def window_periods(months: int, grain: Grain) -> int:
    """How many periods of this grain make `months` months (12 months = 4 quarters = 1 year)."""
    return max(1, months // _MONTHS_PER[grain])
