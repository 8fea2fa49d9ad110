"""Row order, splitting a line, customer names and the unit of money change nothing they should not.

Each property runs on the engine, and (cheaply, with many more examples) on the reference.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from nrr.schema import Settings
from reference.companies import Company, DrawDice, companies, describe, single_currency

from .checks import MONEY
from .engine import engine_metrics
from .metrics import (
    BRIDGE,
    ENGINE_EXAMPLES,
    ENGINE_PHASES,
    REFERENCE_EXAMPLES,
    RETENTION,
    VARIANTS,
    Compute,
    Metrics,
    assert_same,
    reference_metrics,
    variant_id,
)
from .transform import renamed, renaming, scaled, shuffled, split_line

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]
IMPLEMENTATIONS = {
    "engine": (engine_metrics, ENGINE_EXAMPLES, ENGINE_PHASES),
    "reference": (reference_metrics, REFERENCE_EXAMPLES // 3, tuple(Phase)),
}


def each_implementation(test: Any) -> Any:
    """Run a hypothesis property against both implementations, each with its own budget."""
    return pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))(test)


def run(implementation: str, body: Any) -> None:
    compute, examples, phases = IMPLEMENTATIONS[implementation]

    @settings(max_examples=examples, deadline=None, suppress_health_check=SLOW, phases=phases)
    @given(companies(), st.sampled_from(VARIANTS), st.data())
    def check(company: Company, chosen: Settings, data: st.DataObject) -> None:
        note(f"{variant_id(chosen)}\n{describe(company)}")
        body(compute, company, chosen, DrawDice(data.draw))

    check()


def without_plan(metrics: Metrics) -> Metrics:
    """Splitting a line can change which line is largest, hence the plan segment: drop it."""
    bridge = {k: v for k, v in metrics.bridge.items() if k[0] != "plan"}
    return replace(metrics, bridge=bridge,
                   retention={k: v for k, v in metrics.retention.items() if k[1] != "plan"})


@each_implementation
def test_row_order_changes_nothing(implementation: str) -> None:
    def body(compute: Compute, company: Company, chosen: Settings, dice: DrawDice) -> None:
        assert_same(compute(company, chosen), compute(shuffled(company, dice), chosen),
                    f"shuffled, {variant_id(chosen)}")  # fmt: skip

    run(implementation, body)


@each_implementation
def test_splitting_a_line_in_two_changes_nothing(implementation: str) -> None:
    def body(compute: Compute, company: Company, chosen: Settings, dice: DrawDice) -> None:
        before, after = compute(company, chosen), compute(split_line(company, dice), chosen)
        assert_same(without_plan(before), without_plan(after), f"split, {variant_id(chosen)}")

    run(implementation, body)


def _renamed_keys(metrics: Metrics, names: dict[str, str]) -> Metrics:
    moves = {(names[c], p, m): amount for (c, p, m), amount in metrics.movements.items()}
    return replace(metrics, movements=moves)


@each_implementation
def test_renaming_customers_changes_nothing(implementation: str) -> None:
    def body(compute: Compute, company: Company, chosen: Settings, dice: DrawDice) -> None:
        names = renaming(company, dice)
        expected = _renamed_keys(compute(company, chosen), names)
        assert_same(expected, compute(renamed(company, names), chosen), "renamed")

    run(implementation, body)


def _times(metrics: Metrics, k: int) -> Metrics:
    """Every amount times k; counts unchanged."""
    retention_money = {"start_mrr", "end_mrr", "gross_mrr", "expansion", "contraction", "churn"}
    scale_ret = [k if name in retention_money else 1 for name in RETENTION]
    scale_bridge = [k if name in MONEY else 1 for name in BRIDGE]
    return Metrics(
        bridge={key: tuple(v * s for v, s in zip(row, scale_bridge, strict=True))
                for key, row in metrics.bridge.items()},
        retention={key: tuple(v * s for v, s in zip(row, scale_ret, strict=True))
                   for key, row in metrics.retention.items()},
        movements={key: amount * k for key, amount in metrics.movements.items()},
        cohorts={key: (c, m * k, bc, bm * k) for key, (c, m, bc, bm) in metrics.cohorts.items()},
        ratios=metrics.ratios,
    )  # fmt: skip


@each_implementation
def test_scaling_money_by_k_scales_mrr_and_keeps_ratios(implementation: str) -> None:
    def body(compute: Compute, company: Company, chosen: Settings, dice: DrawDice) -> None:
        # Exact only at one currency and without the metered average (rounded per line).
        chosen = replace(chosen, metered="exclude", reporting_currency="EUR")
        k = dice.integer(2, 7)
        base = single_currency(company)
        bands = replace(chosen, size_bands=tuple(b * k for b in chosen.size_bands))
        before, after = compute(base, chosen), compute(scaled(base, k), bands)
        assert_same(_times(before, k), after, f"scaled by {k}")
        assert before.ratios == after.ratios

    run(implementation, body)
