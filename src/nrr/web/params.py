"""Query-string parsing: every parameter the app accepts is named and checked here.

Nothing from a URL reaches the library unchecked: choices are allow-listed, numbers and dates
parsed, and free text (a search, a segment value) is only ever passed on as a value, never as SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from nrr.core import periods
from nrr.money import KNOWN_CURRENCIES
from nrr.schema import Settings
from nrr.web.errors import bad_request

GRAINS = ("month", "quarter", "year")
MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn", "fx")
# Figures a drill-down can list the customers of: the movements, and the customers counted at the
# start or end of a period.
# ``windowN``: the cohort of the N-period retention window ending at the period.
DRILL_METRICS = (*MOVEMENTS, "voluntary_churn", "involuntary_churn", "start", "end", "window1",
                 "window4", "window12")  # fmt: skip
WINDOWS = ("1", "ttm")
COHORT_VIEWS = ("nrr", "logo_retention")

# Settings a URL may change. The names match ``Settings`` fields, except ``grain``
# (Settings.period) and ``currency`` (Settings.reporting_currency), which read better in a URL.
SETTING_PARAMS = (
    "as_of", "grain", "currency", "discounts", "churn_timing", "past_due_grace_days", "metered",
    "fx_date", "size_bands",
)  # fmt: skip
RANGE_PARAMS = ("from", "to")
COMMON_PARAMS = (*SETTING_PARAMS, *RANGE_PARAMS)

_CHOICES: dict[str, tuple[str, ...]] = {
    "grain": GRAINS,
    "discounts": ("recurring", "forever", "all", "none"),
    "churn_timing": ("ended", "requested"),
    "metered": ("exclude", "trailing_average"),
    "fx_date": ("period_end", "service_start", "fixed"),
}
_FIELD = {"grain": "period", "currency": "reporting_currency"}
_SORTABLE_TEXT = re.compile(r"^[A-Za-z0-9_]{1,40}$")
MAX_LIMIT = 1000


@dataclass(frozen=True)
class View:
    """What every page and API route shares: the settings, the as-of date and the period range."""

    as_of: date | None
    changes: tuple[tuple[str, Any], ...]  # Settings fields changed by the URL, in a fixed order
    start: int | None  # first period shown (index in the grain), inclusive
    end: int | None  # last period shown, inclusive

    def settings(self, base: Settings) -> Settings:
        return base.replace(**dict(self.changes))


def canonical(items: list[tuple[str, str]]) -> dict[str, str]:
    """The query as a dict; a parameter given twice is refused rather than silently picked."""
    result: dict[str, str] = {}
    for key, value in items:
        if key in result:
            raise bad_request(f"query parameter {key!r} is given more than once")
        result[key] = value
    result.pop("token", None)  # the guard's business, not the view's
    return dict(sorted(result.items()))


def given(query: Mapping[str, str], name: str) -> str | None:
    """The parameter's value, or None when absent or empty (an empty form field)."""
    value = query.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def check_known(query: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(query) - set(allowed) - {"format"})
    if unknown:
        raise bad_request(
            f"unknown query parameter {unknown[0]!r}; this route accepts: {', '.join(allowed)}"
        )


def parse_view(query: Mapping[str, str], base_grain: str) -> View:
    changes: list[tuple[str, Any]] = []
    for name in SETTING_PARAMS[1:]:
        value = given(query, name)
        if value is not None:
            changes.append((_FIELD.get(name, name), _parse_setting(name, value)))
    grain = str(dict(changes).get("period", base_grain))
    start = parse_period(given(query, "from"), grain, "from")
    end = parse_period(given(query, "to"), grain, "to")
    if start is not None and end is not None and start > end:
        raise bad_request("'from' must not be after 'to'")
    return View(parse_date(given(query, "as_of"), "as_of"), tuple(changes), start, end)


def _parse_setting(name: str, value: str) -> Any:
    if name in _CHOICES:
        return choice(value, _CHOICES[name], name)
    if name == "currency":
        code = value.upper()
        if code not in KNOWN_CURRENCIES:
            raise bad_request(f"currency must be an ISO 4217 code with ECB rates, got {value!r}")
        return code
    if name == "past_due_grace_days":
        return integer(value, name, 0, 3650)
    if name == "size_bands":
        bands = tuple(integer(part, name, 1, 10**15) for part in value.split(","))
        if list(bands) != sorted(set(bands)):
            raise bad_request("size_bands must be increasing thresholds, e.g. 10000,50000")
        return bands
    raise bad_request(f"unknown setting {name!r}")  # pragma: no cover - SETTING_PARAMS is closed


def choice(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise bad_request(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def integer(value: str, name: str, low: int, high: int) -> int:
    if not re.fullmatch(r"-?\d{1,18}", value):
        raise bad_request(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise bad_request(f"{name} must be between {low} and {high}, got {number}")
    return number


def parse_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name} must be a date written YYYY-MM-DD, got {value!r}") from None
    if not 1970 <= parsed.year <= 2200:
        raise bad_request(f"{name} must be between 1970 and 2200, got {value!r}")
    return parsed


def text(value: str | None, name: str, max_length: int = 200) -> str | None:
    if value is not None and len(value) > max_length:
        raise bad_request(f"{name} is longer than {max_length} characters")
    return value


def sort_key(value: str | None, allowed: tuple[str, ...], default: str) -> tuple[str, bool]:
    """``-mrr`` sorts by mrr descending; the column must be one of ``allowed``."""
    if value is None:
        value = default
    descending = value.startswith("-")
    column = value.lstrip("-")
    if not _SORTABLE_TEXT.match(column) or column not in allowed:
        raise bad_request(f"sort must be one of {', '.join(allowed)} (prefix - for descending)")
    return column, descending


def page(query: Mapping[str, str], default_limit: int = 100) -> tuple[int, int]:
    limit = given(query, "limit")
    offset = given(query, "offset")
    return (
        integer(limit, "limit", 1, MAX_LIMIT) if limit else default_limit,
        integer(offset, "offset", 0, 10**9) if offset else 0,
    )


# -- periods ------------------------------------------------------------------------------------


def parse_period(value: str | None, grain: str, name: str) -> int | None:
    """A period label of the grain (2024-03, 2024-Q1, 2024) as its index."""
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}(-\d{2}|-[Qq][1-4])?", value):
        raise bad_request(f"{name}: {value!r} is not a period; write 2024-03, 2024-Q1 or 2024")
    try:
        return periods.parse_label(value, grain)  # type: ignore[arg-type]
    except ValueError as exc:
        raise bad_request(f"{name}: {exc}") from None
