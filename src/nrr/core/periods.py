"""Periods as integer indexes, and their reading days. Pure date arithmetic; never the clock."""

from __future__ import annotations

import calendar
from datetime import date

from nrr.schema import Grain

# How many periods the trailing-twelve-months window spans at each grain.
TTM_PERIODS: dict[str, int] = {"month": 12, "quarter": 4, "year": 1}


def index_of(day: date, grain: Grain) -> int:
    """The index of the period containing ``day``."""
    if grain == "month":
        return day.year * 12 + day.month - 1
    if grain == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def index_sql(column: str, grain: Grain) -> str:
    """The same as :func:`index_of`, as a SQL expression over a DATE column."""
    if grain == "month":
        return f"(year({column}) * 12 + month({column}) - 1)"
    if grain == "quarter":
        return f"(year({column}) * 4 + quarter({column}) - 1)"
    return f"year({column})"


def last_day(p: int, grain: Grain) -> date:
    """The last calendar day of period ``p``."""
    if grain == "month":
        year, month = divmod(p, 12)
        month += 1
    elif grain == "quarter":
        year, quarter = divmod(p, 4)
        month = quarter * 3 + 3
    else:
        year, month = p, 12
    return date(year, month, calendar.monthrange(year, month)[1])


def reading_day(p: int, grain: Grain, as_of: date) -> date:
    """The day a period's MRR is read: its last day, or ``as_of`` for the period containing it."""
    return as_of if p == index_of(as_of, grain) else last_day(p, grain)


def label(p: int, grain: Grain) -> str:
    """'2025-03', '2025-Q1' or '2025'."""
    if grain == "month":
        year, month = divmod(p, 12)
        return f"{year:04d}-{month + 1:02d}"
    if grain == "quarter":
        year, quarter = divmod(p, 4)
        return f"{year:04d}-Q{quarter + 1}"
    return f"{p:04d}"


def parse_label(text: str, grain: Grain) -> int:
    """Inverse of :func:`label`; raises ValueError with a readable message."""
    try:
        if grain == "month":
            year, month = text.split("-")
            if not 1 <= int(month) <= 12:
                raise ValueError
            return int(year) * 12 + int(month) - 1
        if grain == "quarter":
            year, quarter = text.upper().split("-Q")
            if not 1 <= int(quarter) <= 4:
                raise ValueError
            return int(year) * 4 + int(quarter) - 1
        return int(text)
    except ValueError:
        examples = {"month": "2025-03", "quarter": "2025-Q1", "year": "2025"}
        raise ValueError(
            f"period {text!r} is not a {grain}; write it like {examples[grain]}"
        ) from None
