"""The canonical tables that sit between ingestion and metrics, and the settings.

Every source (files, Stripe) is turned into rows of ``REVENUE_LINES``; the core reads nothing else
(besides customer attributes and exchange rates). Money is integer minor units of ``currency``.
See ``docs/data-model.md`` for the meaning of each column.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

DiscountPolicy = Literal["recurring", "forever", "all", "none"]
ChurnTiming = Literal["ended", "requested"]
MeteredPolicy = Literal["exclude", "trailing_average"]
FxDate = Literal["period_end", "service_start", "fixed"]
Grain = Literal["month", "quarter", "year"]

# (column, DuckDB type). Order is the canonical column order.
REVENUE_LINES: tuple[tuple[str, str], ...] = (
    ("line_id", "VARCHAR"),  # unique within the workspace, e.g. "billing.csv:17" or "il_123#0"
    ("source", "VARCHAR"),  # which import / sync brought it, e.g. "file:billing.csv" or "stripe"
    ("source_ref", "VARCHAR"),  # where to find the row behind it: "billing.csv:17", "in_1/il_2"
    ("customer_id", "VARCHAR"),
    ("start_date", "DATE"),  # first day the line is active (inclusive)
    ("end_date", "DATE"),  # first day it is no longer active (exclusive); NULL = still active
    (
        "mrr_minor",
        "BIGINT",
    ),  # monthly-normalised amount, minor units, net of tax; < 0 for discounts
    ("currency", "VARCHAR"),  # ISO 4217, upper case
    ("kind", "VARCHAR"),  # 'recurring' | 'discount' | 'metered'
    ("discount_duration", "VARCHAR"),  # 'once' | 'repeating' | 'forever' when kind = 'discount'
    ("plan", "VARCHAR"),
    ("quantity", "BIGINT"),
    ("cancel_requested_date", "DATE"),  # when the cancellation that ends this line was asked for
    ("past_due_since", "DATE"),  # first day the subscription behind it was past due, if it is
    ("churn_reason", "VARCHAR"),  # 'voluntary' | 'involuntary' when the line ends by cancellation
)

CUSTOMERS: tuple[tuple[str, str], ...] = (
    ("customer_id", "VARCHAR"),
    ("name", "VARCHAR"),
    ("source", "VARCHAR"),
)

# One row per customer and attribute (country, industry, ...): any attribute is a segment dimension.
CUSTOMER_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("customer_id", "VARCHAR"),
    ("key", "VARCHAR"),
    ("value", "VARCHAR"),
    ("source", "VARCHAR"),
)

# The rate that turns minor units of `currency` into minor units of the reporting currency for
# period `p` (decimal places of both currencies folded in). Built by nrr.fx, read by the core.
FX_RATES: tuple[tuple[str, str], ...] = (
    ("currency", "VARCHAR"),
    ("p", "INTEGER"),
    ("rate", "DECIMAL(18,10)"),
)

LINE_KINDS = ("recurring", "discount", "metered")
DISCOUNT_DURATIONS = ("once", "repeating", "forever")


def ddl(name: str, columns: tuple[tuple[str, str], ...]) -> str:
    """CREATE TABLE statement for one canonical table."""
    cols = ", ".join(f"{col} {typ}" for col, typ in columns)
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


def column_names(columns: tuple[tuple[str, str], ...]) -> list[str]:
    return [col for col, _ in columns]


# Default size bands: thresholds on a customer's MRR in the reporting currency (minor units).
DEFAULT_SIZE_BANDS: tuple[int, ...] = (10_000, 50_000, 200_000)


@dataclass(frozen=True)
class Settings:
    """Every contested definition is a setting (SPEC section 2); docs/settings.md explains each."""

    discounts: DiscountPolicy = "recurring"
    churn_timing: ChurnTiming = "ended"
    past_due_grace_days: int | None = None  # None: past due always counts as MRR
    metered: MeteredPolicy = "exclude"
    fx_date: FxDate = "period_end"
    reporting_currency: str = "EUR"
    size_bands: tuple[int, ...] = DEFAULT_SIZE_BANDS
    period: Grain = "month"
    fixed_rates: dict[str, str] = field(default_factory=dict)  # currency -> units per 1 reporting
    rates_file: str | None = None  # CSV of date, currency, rate (units per 1 EUR)
    memory_limit: str | None = None  # DuckDB memory limit, e.g. "4GB"; beyond it, work spills
    temp_directory: str | None = None  # where DuckDB spills
    threads: int | None = None  # DuckDB worker threads (default: one per core)

    def __post_init__(self) -> None:
        _check_choice("discounts", self.discounts, ("recurring", "forever", "all", "none"))
        _check_choice("churn_timing", self.churn_timing, ("ended", "requested"))
        _check_choice("metered", self.metered, ("exclude", "trailing_average"))
        _check_choice("fx_date", self.fx_date, ("period_end", "service_start", "fixed"))
        _check_choice("period", self.period, ("month", "quarter", "year"))
        if self.past_due_grace_days is not None and self.past_due_grace_days < 0:
            raise ValueError("past_due_grace_days must be >= 0 (or unset)")
        if len(self.reporting_currency) != 3 or not self.reporting_currency.isalpha():
            raise ValueError(
                f"reporting_currency must be an ISO 4217 code, got {self.reporting_currency!r}"
            )
        object.__setattr__(self, "reporting_currency", self.reporting_currency.upper())
        bands = tuple(int(b) for b in self.size_bands)
        if list(bands) != sorted(set(bands)) or any(b <= 0 for b in bands):
            raise ValueError("size_bands must be increasing positive thresholds in minor units")
        object.__setattr__(self, "size_bands", bands)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed; ``None`` values are ignored (not given)."""
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        if "size_bands" in data:
            data["size_bands"] = tuple(data["size_bands"])
        return cls(**data)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"setting {name} must be one of {', '.join(choices)}; got {value!r}")
