"""Every figure drills down to customers whose amounts add up to exactly that figure."""

from __future__ import annotations

from datetime import date

import pytest
from test_shortcuts import random_company

from nrr import reports
from nrr.api import compute_frames

MOVES = ("new", "reactivation", "expansion", "contraction", "churn", "fx")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("by", [None, "plan", "country", "size"])
def test_drill_down_adds_up_to_the_bridge(seed: int, by: str | None) -> None:
    lines, attrs = random_company(seed)
    res = compute_frames(lines, as_of=date(2025, 12, 31), attributes=attrs)
    # period by period, as a dashboard drills: each period's tables are fetched once
    for row in sorted(res.bridge(by).to_pylist(), key=lambda r: (r["p"], str(r.get("segment")))):
        seg = row.get("segment") if by else None
        for metric in MOVES:
            listed = reports.customers_behind(res, metric, row["p"], by, seg)
            assert sum(r["amount"] for r in listed) == row[metric], (row["p"], seg, metric)
        start = reports.customers_behind(res, "start", row["p"], by, seg)
        assert sum(r["mrr"] for r in start) == row["start_mrr"]
        assert len(start) == row["customers_start"]
        end = reports.customers_behind(res, "end", row["p"], by, seg)
        assert sum(r["mrr"] for r in end) == row["end_mrr"]
        assert len(end) == row["customers_end"]


@pytest.mark.parametrize("seed", range(3))
def test_window_cohort_drill_matches_retention(seed: int) -> None:
    lines, attrs = random_company(seed)
    res = compute_frames(lines, as_of=date(2025, 12, 31), attributes=attrs)
    for row in res.retention(12).to_pylist():
        cohort = reports.customers_behind(res, "window12", row["p"])
        assert sum(r["mrr_start"] for r in cohort) == row["start_mrr"]
        assert sum(r["mrr_end"] for r in cohort) == row["end_mrr"]
        assert sum(min(r["mrr_start"], r["mrr_end"]) for r in cohort) == row["gross_mrr"]


def test_drill_downs_keep_only_recent_periods() -> None:
    lines, attrs = random_company(0)
    res = compute_frames(lines, as_of=date(2025, 12, 31), attributes=attrs)
    periods = [row["p"] for row in res.bridge().to_pylist()]
    for p in periods:
        res.movements(p), res.customer_mrr(p), res.bridge_segment_of("country", p)
    assert len(res._recent) == res._recent.size < 3 * len(periods)
    p = periods[len(periods) // 2]
    for metric in MOVES:  # an evicted period is simply asked again
        assert res.movements(p, metric) == res.movements().filter(
            [r["p"] == p and r["movement"] == metric for r in res.movements().to_pylist()]
        )
    with pytest.raises(ValueError, match="movement must be one of"):
        res.movements(p, "upgrade")
