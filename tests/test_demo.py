"""The demo company: built through the real import path, deterministic, and its headline pinned.

The figures below are a snapshot of the seeded company (not hand-computed: the hand-computed
definitions live in tests/core and docs/definitions.md). A change to the generator, the import or
the engine that moves any of them must be a visible, reviewed decision.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nrr import demo, reports
from nrr.api import compute, open_workspace


@pytest.fixture(scope="module")
def demo_results(tmp_path_factory: pytest.TempPathFactory):
    folder = demo.build(tmp_path_factory.mktemp("demo") / "ws", echo=lambda _: None)
    ws = open_workspace(folder)
    yield ws, compute(ws, as_of=demo.DEMO_AS_OF)
    ws.close()


def test_demo_headline_is_pinned(demo_results) -> None:
    _, res = demo_results
    head = reports.headline(res)
    assert (head["mrr"], head["customers"], head["arpa"]) == (318_378_030, 1535, 207_412)
    # 2026-10: 3,088,760.65 -> 3,183,780.30 EUR, 1,505 -> 1,535 paying customers
    assert head["bridge"]["start_mrr"] == 308_876_065 and head["bridge"]["customers_start"] == 1505
    assert head["mrr_growth"] == round((318_378_030 - 308_876_065) / 308_876_065, 6) == 0.030763
    assert head["customers_change"] == 30
    ttm = head["ttm"]
    assert (ttm["start_mrr"], ttm["end_mrr"], ttm["gross_mrr"]) == (
        248_737_353, 266_606_793, 221_726_511)
    assert (ttm["customers_start"], ttm["customers_retained"]) == (1278, 1110)
    assert head["band"]["key"] == "strong"
    assert head["warnings"][0].startswith("NRR 107.2% rests on expansion: gross retention is only")


def test_demo_accounts_at_risk_are_pinned(demo_results) -> None:
    _, res = demo_results
    risk = reports.at_risk(res)
    assert (risk["accounts"], risk["mrr_at_risk"], risk["mrr"]) == (120, 6_278_323, 318_378_030)
    assert risk["reasons"] == {"cancellation pending": 8, "payment past due": 24,
                               "downgraded": 90}  # fmt: skip
    top = risk["customers"][0]
    assert (top["customer_id"], top["mrr_at_risk"], top["past_due_since"]) == (
        "cus_01166", 1_362_750, "2026-10-24")
    # by reason; no demo account is both pending and past due, so those two add up to the total
    listed = {r: reports.at_risk(res, r)["listed"] for r in reports.RISK_SLUGS}
    assert listed == {
        "cancellation-pending": {"accounts": 8, "mrr_at_risk": 1_876_630},
        "payment-past-due": {"accounts": 24, "mrr_at_risk": 4_401_693},
        "downgraded": {"accounts": 90, "mrr_at_risk": 83_225},
    }
    assert risk["mrr_at_risk"] == 1_876_630 + 4_401_693


def test_demo_has_what_the_product_needs_to_show(demo_results) -> None:
    _, res = demo_results
    assert sorted(r["segment"] for r in reports.segments(res, "plan")) == [
        "Enterprise", "Growth", "Scale", "Starter"]
    assert {"country", "industry"} <= set(res.dimensions())
    bridge = reports.bridge(res)
    for movement in ("new", "reactivation", "expansion", "contraction", "churn", "fx"):
        assert any(row[movement] for row in bridge), movement


def test_building_the_demo_again_changes_nothing(demo_results, tmp_path: Path) -> None:
    ws, _ = demo_results
    before = ws.data_version
    demo.build(ws.path, echo=lambda _: None)  # same file: recognised, nothing re-imported
    assert ws.data_version == before
