"""Both implementations' results reduced to one comparable shape.

``Metrics`` holds plain dicts keyed by (dimension, segment, period) so the reference and the engine
can be compared with ``==`` and the properties can be stated once for both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from hypothesis import Phase

from nrr.schema import Settings
from reference.companies import Company
from reference.lines import window_periods
from reference.model import Reference

BRIDGE = ("start_mrr", "new", "reactivation", "expansion", "contraction", "churn", "fx", "end_mrr",
          "customers_start", "customers_end", "new_customers", "reactivated_customers",
          "churned_customers", "involuntary_churn")  # fmt: skip
RETENTION = ("start_mrr", "end_mrr", "gross_mrr", "customers_start", "customers_retained",
             "expansion", "contraction", "churn")  # fmt: skip
DIMENSIONS: tuple[str | None, ...] = (None, "plan", "size")  # and every attribute key present

Key = tuple[Any, ...]


@dataclass
class Metrics:
    bridge: dict[Key, tuple[int, ...]] = field(default_factory=dict)  # (dim, segment, p)
    retention: dict[Key, tuple[int, ...]] = field(default_factory=dict)  # (window, dim, seg, t1)
    movements: dict[Key, int] = field(default_factory=dict)  # (customer, p, movement)
    cohorts: dict[Key, tuple[int, ...]] = field(default_factory=dict)  # (cohort, age)
    ratios: dict[Key, tuple[Any, Any, Any]] = field(default_factory=dict)  # retention key: nrr..

    def totals(self, table: str) -> dict[Key, tuple[int, ...]]:
        rows: dict[Key, tuple[int, ...]] = getattr(self, table)
        return {k: v for k, v in rows.items() if k[-3] is None}


Compute = Callable[[Company, Settings], Metrics]


def dimensions(company: Company) -> tuple[str | None, ...]:
    return DIMENSIONS + tuple(sorted({str(a["key"]) for a in company.attributes}))


def windows(settings: Settings) -> tuple[int, ...]:
    return tuple(sorted({1, window_periods(12, settings.period)}))


def keep_bridge(values: tuple[int, ...]) -> bool:
    """Rows where nothing happened (no customer either side) are not compared."""
    return any(values)


def keep_retention(values: tuple[int, ...]) -> bool:
    return values[3] > 0  # a cohort with at least one customer


def reference_metrics(company: Company, settings: Settings) -> Metrics:
    rates = company.rates(settings.period, settings.reporting_currency)
    ref = Reference(company.lines, company.as_of, settings, company.attributes, rates)
    out = Metrics()
    for dim in dimensions(company):
        for row in ref.bridge(dim):
            values = tuple(getattr(row, k) for k in BRIDGE)
            if keep_bridge(values):
                out.bridge[(dim, row.segment, row.p)] = values
        for window in windows(settings):
            for ret in ref.retention(window, dim):
                values = tuple(getattr(ret, k) for k in RETENTION)
                if keep_retention(values):
                    key = (window, dim, ret.segment, ret.t1)
                    out.retention[key] = values
                    out.ratios[key] = (ret.nrr, ret.grr, ret.logo_retention)
    out.movements = {(m.customer_id, m.p, m.movement): m.amount for m in ref.movements()}
    out.cohorts = {(c.cohort, c.age): (c.customers, c.mrr, c.base_customers, c.base_mrr)
                   for c in ref.cohorts()}  # fmt: skip
    return out


def exact_ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


# -- what the tests run over -----------------------------------------------------------------

# Each engine computation costs about half a second: these keep tests/properties near a minute.
# Shrinking a failure costs hundreds of engine runs: off unless NRR_SHRINK=1 (to minimise a bug).
ENGINE_EXAMPLES = int(os.environ.get("NRR_ENGINE_EXAMPLES", "4"))
REFERENCE_EXAMPLES = int(os.environ.get("NRR_REFERENCE_EXAMPLES", "60"))
ENGINE_PHASES = tuple(Phase) if os.environ.get("NRR_SHRINK") == "1" else (
    Phase.explicit, Phase.reuse, Phase.generate)  # fmt: skip

# Every value of every setting, one change from the default at a time.
VARIANTS: tuple[Settings, ...] = (
    Settings(),
    Settings(discounts="forever"),
    Settings(discounts="all"),
    Settings(discounts="none"),
    Settings(metered="trailing_average"),
    Settings(churn_timing="requested"),
    Settings(past_due_grace_days=0),
    Settings(past_due_grace_days=10),
    Settings(period="quarter"),
    Settings(period="year"),
    Settings(size_bands=(5_000, 20_000)),
    Settings(reporting_currency="CHF"),
    Settings(reporting_currency="JPY", size_bands=(20_000, 80_000)),
)


def variant_id(settings: Settings) -> str:
    changed = {k: v for k, v in vars(settings).items() if v != getattr(Settings(), k)}
    return ",".join(f"{k}={v}" for k, v in changed.items()) or "defaults"


def differences(expected: Metrics, actual: Metrics) -> list[str]:
    """Human-readable differences, table by table, key by key."""
    found = []
    for table in ("bridge", "retention", "movements", "cohorts"):
        want, got = getattr(expected, table), getattr(actual, table)
        for key in sorted(set(want) | set(got), key=repr):
            if want.get(key) != got.get(key):
                found.append(f"{table} {key}: expected {want.get(key)} got {got.get(key)}")
    return found


def assert_same(expected: Metrics, actual: Metrics, context: str = "") -> None:
    found = differences(expected, actual)
    assert not found, f"{context}: {len(found)} differences\n" + "\n".join(found[:25])
