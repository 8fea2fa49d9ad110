"""The identities every result must satisfy, stated once for any ``Metrics``."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .metrics import BRIDGE, RETENTION, Key, Metrics

MONEY = (*BRIDGE[:8], "involuntary_churn")  # start_mrr .. end_mrr, and the part of churn
_B = {name: i for i, name in enumerate(BRIDGE)}
_R = {name: i for i, name in enumerate(RETENTION)}
SIGNS = {"new": 1, "reactivation": 1, "expansion": 1, "contraction": -1, "churn": -1, "fx": 1}


def bridge_identity(metrics: Metrics) -> None:
    for key, row in metrics.bridge.items():
        moved = sum(SIGNS[name] * row[_B[name]] for name in SIGNS)
        assert row[_B["start_mrr"]] + moved == row[_B["end_mrr"]], f"bridge identity fails at {key}"
        assert all(row[_B[name]] >= 0 for name in SIGNS if name != "fx"), f"negative at {key}"
        involuntary = row[_B["involuntary_churn"]]
        assert 0 <= involuntary <= row[_B["churn"]], f"involuntary churn not part of churn at {key}"


def bridge_continuity(metrics: Metrics) -> None:
    """The end of one period is the start of the next (company total)."""
    total = {key[2]: row for key, row in metrics.totals("bridge").items()}
    for p, row in total.items():
        before = total.get(p - 1)
        start = before[_B["end_mrr"]] if before else 0
        assert row[_B["start_mrr"]] == start, f"start of {p} is not the end of {p - 1}"


def retention_bounds(metrics: Metrics) -> None:
    for key, (nrr, grr, logo) in metrics.ratios.items():
        if nrr is None:  # a cohort whose MRR rounds to nothing in the reporting currency
            continue
        assert 0 <= grr <= 1, f"GRR {grr} out of [0, 1] at {key}"
        assert grr <= nrr, f"GRR {grr} > NRR {nrr} at {key}"
        assert 0 <= logo <= 1, f"logo retention {logo} out of [0, 1] at {key}"


def retention_netting(metrics: Metrics) -> None:
    """start + expansion - contraction - churn = end over each window."""
    for key, row in metrics.retention.items():
        start, end = row[_R["start_mrr"]], row[_R["end_mrr"]]
        moved = row[_R["expansion"]] - row[_R["contraction"]] - row[_R["churn"]]
        assert start + moved == end, f"retention netting fails at {key}"
        assert row[_R["customers_retained"]] <= row[_R["customers_start"]]


def _segment_sums(rows: dict[Key, tuple[int, ...]], dim_at: int) -> dict[Any, list[int]]:
    sums: dict[Any, list[int]] = defaultdict(lambda: [0] * len(next(iter(rows.values()))))
    for key, row in rows.items():
        group = key[:dim_at] + key[dim_at + 2 :] + (key[dim_at],)
        sums[group] = [a + b for a, b in zip(sums[group], row, strict=True)]
    return sums


def segments_sum_to_total(metrics: Metrics) -> None:
    """For every dimension, the segments of a period add up to the company row."""
    for table, dim_at in (("bridge", 0), ("retention", 1)):
        rows: dict[Key, tuple[int, ...]] = getattr(metrics, table)
        if not rows:
            continue
        sums = _segment_sums(rows, dim_at)
        totals = {group[:-1]: row for group, row in sums.items() if group[-1] is None}
        for group, row in sums.items():
            expected = totals.get(group[:-1], [0] * len(row))
            assert list(row) == list(expected), f"{table} segments {group} do not sum to total"


def movements_match_bridge(metrics: Metrics) -> None:
    summed: dict[tuple[int, str], int] = defaultdict(int)
    for (_customer, p, movement), amount in metrics.movements.items():
        summed[(p, movement)] += amount
    for (_dim, _segment, p), row in metrics.totals("bridge").items():
        for name in SIGNS:
            assert summed.pop((p, name), 0) == row[_B[name]], f"movements {name} at {p} != bridge"
    assert not any(summed.values()), f"movements outside the bridge: {dict(summed)}"


def cohorts_consistent(metrics: Metrics) -> None:
    for (cohort, age), (customers, _mrr, base_customers, base_mrr) in metrics.cohorts.items():
        assert 0 <= customers <= base_customers, f"cohort {cohort} age {age} has extra customers"
        if age == 0:
            assert metrics.cohorts[(cohort, 0)][:2] == (base_customers, base_mrr)


def all_identities(metrics: Metrics) -> None:
    bridge_identity(metrics)
    bridge_continuity(metrics)
    retention_bounds(metrics)
    retention_netting(metrics)
    segments_sum_to_total(metrics)
    movements_match_bridge(metrics)
    cohorts_consistent(metrics)


__all__ = ["MONEY", "all_identities"]
