"""The synthetic account: reproducible, Stripe's arithmetic, every feature the MRR rules need."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from nrr.testing import Account, generate_account
from nrr.testing.stripe_calendar import add_months, epoch, period_boundary
from nrr.testing.stripe_pricing import (
    coupon_discount,
    price_amount,
    prorated,
    round_half_up,
    tax_amount,
)

_TIERS = [
    {"up_to": 5, "unit_amount_decimal": "2500", "flat_amount_decimal": "5000"},
    {"up_to": 20, "unit_amount_decimal": "2000", "flat_amount_decimal": None},
    {"up_to": None, "unit_amount_decimal": "1500", "flat_amount_decimal": None},
]


def _price(**fields: object) -> dict[str, object]:
    return {"billing_scheme": "tiered", "tiers_mode": None, "tiers": _TIERS,
            "unit_amount_decimal": None, **fields}


def test_same_seed_same_account_other_seed_other_account() -> None:
    one = generate_account(seed=5, n_subscriptions=80)
    again = generate_account(seed=5, n_subscriptions=80)
    other = generate_account(seed=6, n_subscriptions=80)
    assert one.fingerprint() == again.fingerprint()
    assert one.fingerprint() != other.fingerprint()


def test_graduated_tiers_add_up_each_band_plus_the_flat_fee() -> None:
    # 5 x 2500 + 5000 flat, then 7 x 2000
    assert price_amount(_price(tiers_mode="graduated"), 12) == 31_500
    # beyond 20: 5 x 2500 + 5000 + 15 x 2000 + 5 x 1500
    assert price_amount(_price(tiers_mode="graduated"), 25) == 55_000


def test_volume_tiers_price_every_unit_at_the_reached_tier() -> None:
    assert price_amount(_price(tiers_mode="volume"), 12) == 24_000
    assert price_amount(_price(tiers_mode="volume"), 3) == 12_500  # 3 x 2500 + 5000 flat


def test_fractional_unit_amounts_round_half_up_once_per_line() -> None:
    per_unit = {"billing_scheme": "per_unit", "unit_amount_decimal": "750.5"}
    assert price_amount(per_unit, 3) == 2_252  # 2251.5
    assert price_amount(per_unit, 2) == 1_501


def test_coupons_taxes_and_prorations() -> None:
    assert coupon_discount({"percent_off": 12.5, "amount_off": None}, 4_900) == 613  # 612.5
    assert coupon_discount({"percent_off": None, "amount_off": 1_000}, 900) == 900  # capped
    assert tax_amount(4_900, 810, "exclusive") == 397  # 396.9 on top
    assert tax_amount(1_900, 1_900, "inclusive") == 303  # 1900 - 1596.64 inside
    assert prorated(4_900, 15 * 86_400, 30 * 86_400) == 2_450
    assert round_half_up(Decimal("-2.5")) == -3


def test_monthly_periods_clamp_to_short_months_without_drifting() -> None:
    anchor = epoch(2026, 1, 31) + 3_600
    assert add_months(anchor, 1) == epoch(2026, 2, 28) + 3_600
    assert add_months(anchor, 2) == epoch(2026, 3, 31) + 3_600
    assert period_boundary(anchor, "year", 1, 1) == epoch(2027, 1, 31) + 3_600
    assert period_boundary(anchor, "week", 2, 3) == anchor + 6 * 7 * 86_400
    assert period_boundary(anchor, "day", 30, 2) == anchor + 60 * 86_400


def test_the_account_has_every_feature_the_sync_must_handle(account: Account) -> None:
    subs = list(account.iter_objects("subscriptions"))
    statuses = Counter(s["status"] for s in subs)
    assert {"active", "past_due", "unpaid", "canceled", "trialing", "paused"} <= set(statuses)
    reasons = {s["cancellation_details"]["reason"] for s in subs}
    assert {"cancellation_requested", "payment_failed"} <= reasons
    assert any(s["pause_collection"] for s in subs)
    assert any(s["cancel_at_period_end"] and s["status"] == "active" for s in subs)
    assert any(s["test_clock"] for s in subs)
    assert {s["currency"] for s in subs} == {"eur", "usd", "chf", "jpy"}
    prices = list(account.iter_objects("prices"))
    intervals = {(p["recurring"]["interval"], p["recurring"]["interval_count"])
                 for p in prices if p["recurring"]}
    assert {("day", 30), ("week", 2), ("month", 1), ("month", 3), ("year", 1)} <= intervals
    assert {p["tiers_mode"] for p in prices} == {None, "graduated", "volume"}
    assert {p["tax_behavior"] for p in prices} == {"exclusive", "inclusive"}
    assert any(p["recurring"] and p["recurring"]["usage_type"] == "metered" for p in prices)
    assert any("." in (p["unit_amount_decimal"] or "") for p in prices)
    coupons = list(account.iter_objects("coupons"))
    assert {c["duration"] for c in coupons} == {"once", "repeating", "forever"}
    assert account.deleted["customers"]
    assert account.count("credit_notes") > 0


def test_proration_lines_run_from_the_change_to_the_period_end(account: Account) -> None:
    prorations = []
    for invoice in account.iter_objects("invoices"):
        for line in invoice["lines"]["data"]:
            details = line["parent"]["subscription_item_details"]
            if details and details["proration"]:
                prorations.append((invoice, line))
    assert prorations
    for invoice, line in prorations:
        # billed on the next regular invoice, for the rest of the period the change fell in
        assert line["period"]["start"] < line["period"]["end"] == invoice["created"]
    credits = [line for _, line in prorations if line["amount"] < 0]
    assert credits and all(line["description"].startswith("Unused time") for line in credits)


def test_invoice_totals_add_up_from_their_lines(account: Account) -> None:
    import json

    for invoice in account.iter_objects("invoices"):
        children = account.children(invoice["id"])
        assert children is not None
        lines = [json.loads(blob) for blob in children.blobs]
        assert len(lines) == invoice["lines"]["total_count"]
        assert invoice["subtotal"] == sum(line["amount"] for line in lines)
        discounts = sum(d["amount"] for line in lines for d in line["discount_amounts"])
        exclusive = sum(t["amount"] for line in lines for t in line["taxes"]
                        if t["tax_behavior"] == "exclusive")
        assert invoice["total"] == invoice["subtotal"] - discounts + exclusive
        assert invoice["amount_due"] == max(invoice["total"], 0)


def test_zero_decimal_currency_amounts_are_whole_yen(account: Account) -> None:
    yen = [p for p in account.iter_objects("prices")
           if p["currency"] == "jpy" and p["unit_amount"] is not None]
    pro = next(p for p in yen if p["recurring"] and p["recurring"]["interval"] == "month"
               and p["recurring"]["interval_count"] == 1 and p["unit_amount"] == 7_350)
    assert pro["unit_amount_decimal"] == "7350"  # 49.00 USD scaled to yen, no minor unit


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
    return dict(pairs)


def test_every_served_object_is_well_formed_json(account: Account) -> None:
    import json

    for resource in account.collections:
        for object_id in account.ids(resource):
            obj = json.loads(account.full_json(resource, object_id),
                             object_pairs_hook=_no_duplicate_keys)
            assert obj["id"] == object_id
        assert account.count(resource) == len(account.ids(resource))
