"""Each Stripe MRR rule with a hand-computed expectation in minor units (docs/stripe.md)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe_builders import d, invoice, item, line, monthly_invoices, price, sub, ts

from nrr.sources.stripe_lines import (
    customer_attributes,
    customer_row,
    monthly,
    price_amount,
    revenue_lines,
    round_half_up,
)


def brief(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(line_id, kind, start, end, mrr) sorted: the part of a row the rules decide."""
    return sorted(
        (r["line_id"], r["kind"], r["start_date"], r["end_date"], r["mrr_minor"]) for r in rows
    )


# -- interval normalisation ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "interval", "count", "expected"),
    [
        (120_000, "year", 1, 10_000),  # 120000 / 12
        (100_001, "year", 1, 8_333),  # 8333.42 -> 8333
        (18, "year", 1, 2),  # 1.5 rounds half up
        (1_000, "week", 1, 4_333),  # 1000 * 52 / 12 = 4333.33
        (1_000, "week", 2, 2_167),  # 1000 * 52 / 24 = 2166.67
        (100, "day", 1, 3_042),  # 100 * 365 / 12 = 3041.67
        (3_000, "month", 3, 1_000),  # a quarter
        (240_000, "year", 2, 10_000),  # 240000 / 24
    ],
)
def test_interval_normalisation(amount: int, interval: str, count: int, expected: int) -> None:
    assert round_half_up(monthly(amount, interval, count)) == expected


def test_negative_amounts_round_like_positive_ones() -> None:
    assert round_half_up(Fraction(-3, 2)) == -2
    assert round_half_up(Fraction(-5, 4)) == -1


def test_yearly_invoice_line_becomes_a_twelfth() -> None:
    p = price(amount=120_000, interval="year")
    s = sub("sub_y", [item("si_y", p)])
    inv = invoice("in_y", "sub_y", [line("si_y", p, "2024-01-01", "2025-01-01", 120_000,
                                         lid="il_y")], "2024-01-01")
    rows = revenue_lines([s], [inv])
    assert brief(rows) == [("il_y", "recurring", d("2024-01-01"), None, 10_000)]
    assert rows[0]["source_ref"] == "in_y/il_y"
    assert rows[0]["customer_id"] == "cus_1" and rows[0]["currency"] == "EUR"


# -- history from invoices -----------------------------------------------------------------------
def test_history_is_one_line_per_invoiced_period_with_quantity() -> None:
    p = price(amount=1_000)
    s = sub("sub_q", [item("si_q", p, quantity=3)])
    invs = monthly_invoices("sub_q", "si_q", p, ["2024-01", "2024-02"], 3_000, quantity=3)
    assert brief(revenue_lines([s], invs)) == [
        ("il_sub_q_0", "recurring", d("2024-01-01"), d("2024-02-01"), 3_000),
        ("il_sub_q_1", "recurring", d("2024-02-01"), None, 3_000),
    ]


def test_one_time_invoice_items_are_not_mrr() -> None:
    p = price(amount=1_000)
    s = sub("sub_o", [item("si_o", p)])
    setup = {"id": "il_setup", "type": "invoiceitem", "amount": 50_000, "currency": "eur",
             "period": {"start": ts("2024-01-01"), "end": ts("2024-01-01")}, "price": None,
             "proration": False, "quantity": 1}  # fmt: skip
    inv = invoice("in_o", "sub_o", [line("si_o", p, "2024-01-01", "2024-02-01", 1_000,
                                         lid="il_o"), setup], "2024-01-01")
    assert brief(revenue_lines([s], [inv])) == [
        ("il_o", "recurring", d("2024-01-01"), None, 1_000)
    ]


# -- prices --------------------------------------------------------------------------------------
TIERS = [
    {"up_to": 5, "unit_amount": 1_000, "flat_amount": None},
    {"up_to": 10, "unit_amount": 800, "flat_amount": None},
    {"up_to": None, "unit_amount": 500, "flat_amount": 2_000},
]


def test_graduated_tiers_at_the_licensed_quantity() -> None:
    p = price(amount=None, billing_scheme="tiered", tiers_mode="graduated", tiers=TIERS)
    # 5 * 1000 + 5 * 800 + 2 * 500 + 2000 flat of the third tier
    assert price_amount(p, 12) == 12_000
    assert price_amount(p, 4) == 4_000


def test_volume_tiers_price_every_unit_at_the_reached_tier() -> None:
    p = price(amount=None, billing_scheme="tiered", tiers_mode="volume", tiers=TIERS)
    assert price_amount(p, 12) == 12 * 500 + 2_000
    assert price_amount(p, 7) == 7 * 800


def test_tiered_subscription_without_invoices_uses_the_price() -> None:
    p = price("price_t", amount=None, billing_scheme="tiered", tiers_mode="graduated",
              tiers=TIERS)
    s = sub("sub_t", [item("si_t", {"id": "price_t", "recurring": p["recurring"]}, 12)])
    # The listed price (with its tiers) wins over the embedded copy without tiers.
    rows = revenue_lines([s], [], prices=[p])
    assert brief(rows) == [("si_t", "recurring", d("2024-01-01"), None, 12_000)]
    assert rows[0]["source_ref"] == "sub_t/si_t"


def test_unit_amount_decimal_keeps_fractions_until_the_month_is_rounded() -> None:
    p = price(amount=None, unit_amount_decimal="12.5")
    s = sub("sub_dec", [item("si_dec", p, 3)])
    assert brief(revenue_lines([s], [])) == [
        ("si_dec", "recurring", d("2024-01-01"), None, 38)  # 37.5 -> 38
    ]
    yearly = price("price_dy", amount=None, unit_amount_decimal="1000.5", interval="year")
    s2 = sub("sub_dy", [item("si_dy", yearly)])
    assert revenue_lines([s2], [])[0]["mrr_minor"] == 83  # 83.375


def test_transform_quantity_bills_packages() -> None:
    p = price(amount=5_000, transform_quantity={"divide_by": 10, "round": "up"})
    assert price_amount(p, 11) == 10_000


# -- tax -----------------------------------------------------------------------------------------
def test_tax_exclusive_line_is_already_net() -> None:
    p = price(amount=10_000)
    s = sub("sub_tx", [item("si_tx", p)])
    ln = line("si_tx", p, "2024-01-01", "2024-02-01", 10_000, lid="il_tx",
              tax_amounts=[{"amount": 1_900, "inclusive": False}])
    assert revenue_lines([s], [invoice("in_tx", "sub_tx", [ln], "2024-01-01")])[0][
        "mrr_minor"] == 10_000  # fmt: skip


def test_tax_inclusive_line_is_reduced_to_net() -> None:
    p = price(amount=11_900, tax_behavior="inclusive")
    s = sub("sub_ti", [item("si_ti", p)])
    ln = line("si_ti", p, "2024-01-01", "2024-02-01", 11_900, lid="il_ti",
              tax_amounts=[{"amount": 1_900, "inclusive": True}])
    assert revenue_lines([s], [invoice("in_ti", "sub_ti", [ln], "2024-01-01")])[0][
        "mrr_minor"] == 10_000  # fmt: skip


def test_tax_inclusive_price_with_inclusive_rate_is_net() -> None:
    p = price(amount=11_900, tax_behavior="inclusive")
    rate = {"id": "txr_1", "percentage": 19.0, "inclusive": True}
    s = sub("sub_tr", [item("si_tr", p, tax_rates=[rate])])
    assert revenue_lines([s], [])[0]["mrr_minor"] == 10_000  # 11900 / 1.19


# -- mid-period changes --------------------------------------------------------------------------
def _upgrade_account(with_next_invoice: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    p = price(amount=1_000)
    s = sub("sub_u", [item("si_u", p, quantity=3)])
    jan = invoice("in_jan", "sub_u", [line("si_u", p, "2024-01-01", "2024-02-01", 1_000,
                                           lid="il_jan")], "2024-01-01")
    change = invoice("in_chg", "sub_u", [
        line("si_u", p, "2024-01-16", "2024-02-01", -516, 1, proration=True, lid="il_unused"),
        line("si_u", p, "2024-01-16", "2024-02-01", 1_548, 3, proration=True, lid="il_rest"),
    ], "2024-01-16")  # fmt: skip
    invs = [jan, change]
    if with_next_invoice:
        invs.append(invoice("in_feb", "sub_u", [line("si_u", p, "2024-02-01", "2024-03-01",
                                                     3_000, 3, lid="il_feb")], "2024-02-01"))
    return s, invs


def test_mid_period_upgrade_takes_effect_on_the_proration_day() -> None:
    s, invs = _upgrade_account(with_next_invoice=True)
    # The proration amounts (-516, +1548) are never MRR: 3 seats x 1000 from Jan 16.
    assert brief(revenue_lines([s], invs)) == [
        ("il_feb", "recurring", d("2024-02-01"), None, 3_000),
        ("il_jan", "recurring", d("2024-01-01"), d("2024-01-16"), 1_000),
        ("il_rest", "recurring", d("2024-01-16"), d("2024-02-01"), 3_000),
    ]


def test_upgrade_in_the_current_period_runs_on_from_the_proration_day() -> None:
    s, invs = _upgrade_account(with_next_invoice=False)
    assert brief(revenue_lines([s], invs)) == [
        ("il_jan", "recurring", d("2024-01-01"), d("2024-01-16"), 1_000),
        ("il_rest", "recurring", d("2024-01-16"), None, 3_000),
    ]


def test_change_without_proration_applies_from_the_next_period() -> None:
    p = price(amount=1_000)
    s = sub("sub_np", [item("si_np", p, quantity=2)])
    invs = monthly_invoices("sub_np", "si_np", p, ["2024-01"], 1_000)
    assert brief(revenue_lines([s], invs)) == [
        ("il_sub_np_0", "recurring", d("2024-01-01"), d("2024-02-01"), 1_000),
        ("si_np", "recurring", d("2024-02-01"), None, 2_000),
    ]


def test_removed_item_ends_on_its_credit_for_unused_time() -> None:
    p = price(amount=1_000)
    addon = price("price_addon", amount=500)
    s = sub("sub_r", [item("si_main", p)])
    jan = invoice("in_r", "sub_r", [
        line("si_main", p, "2024-01-01", "2024-02-01", 1_000, lid="il_main"),
        line("si_addon", addon, "2024-01-01", "2024-02-01", 500, lid="il_addon"),
    ], "2024-01-01")  # fmt: skip
    credit = invoice("in_rc", "sub_r", [line("si_addon", addon, "2024-01-20", "2024-02-01", -194,
                                             proration=True, lid="il_cr")], "2024-01-20")
    assert brief(revenue_lines([s], [jan, credit])) == [
        ("il_addon", "recurring", d("2024-01-01"), d("2024-01-20"), 500),
        ("il_main", "recurring", d("2024-01-01"), None, 1_000),
    ]


# -- metered -------------------------------------------------------------------------------------
def test_metered_lines_cover_their_usage_period_only() -> None:
    p = price("price_m", amount=5, recurring={"interval": "month", "interval_count": 1,
                                              "usage_type": "metered"})
    s = sub("sub_m", [item("si_m", p, quantity=None)])
    ln = line("si_m", p, "2024-01-01", "2024-02-01", 4_500, 900, lid="il_m")
    assert brief(revenue_lines([s], [invoice("in_m", "sub_m", [ln], "2024-02-01")])) == [
        ("il_m", "metered", d("2024-01-01"), d("2024-02-01"), 4_500)
    ]


# -- discounts -----------------------------------------------------------------------------------
def _coupon(cid: str, duration: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "object": "coupon", "duration": duration, **extra}


def _discount(did: str, coupon: dict[str, Any], end: str | None = None) -> dict[str, Any]:
    return {"id": did, "object": "discount", "coupon": coupon, "end": ts(end) if end else None}


def test_repeating_discount_is_a_separate_line_ending_with_the_discount() -> None:
    p = price(amount=10_000)
    disc = _discount("di_r", _coupon("co_r", "repeating", percent_off=20), end="2024-03-01")
    s = sub("sub_dr", [item("si_dr", p)], discounts=[disc])
    ln = line("si_dr", p, "2024-01-01", "2024-02-01", 10_000, lid="il_dr",
              discount_amounts=[{"amount": 2_000, "discount": "di_r"}])
    rows = revenue_lines([s], [invoice("in_dr", "sub_dr", [ln], "2024-01-01")])
    assert brief(rows) == [
        ("il_dr", "recurring", d("2024-01-01"), None, 10_000),
        ("il_dr#di_r", "discount", d("2024-01-01"), d("2024-03-01"), -2_000),
    ]
    assert [r["discount_duration"] for r in rows if r["kind"] == "discount"] == ["repeating"]


def test_once_discount_covers_only_its_invoice_period() -> None:
    p = price(amount=10_000)
    disc = _discount("di_o", _coupon("co_o", "once", amount_off=3_000, currency="eur"))
    ln = line("si_do", p, "2024-01-01", "2024-02-01", 10_000, lid="il_do",
              discount_amounts=[{"amount": 3_000, "discount": "di_o"}])
    inv = invoice("in_do", "sub_do", [ln], "2024-01-01", discounts=[disc])
    rows = revenue_lines([sub("sub_do", [item("si_do", p)])], [inv])
    assert brief(rows) == [
        ("il_do", "recurring", d("2024-01-01"), None, 10_000),
        ("il_do#di_o", "discount", d("2024-01-01"), d("2024-02-01"), -3_000),
    ]
    assert rows[1]["discount_duration"] == "once"


def test_forever_percent_discount_from_the_subscription_on_a_yearly_price() -> None:
    p = price(amount=48_000, interval="year")
    pct = _discount("di_f", _coupon("co_f", "forever", percent_off=25))
    s = sub("sub_df", [item("si_df", p)], discount=pct)
    assert brief(revenue_lines([s], [])) == [
        ("si_df", "recurring", d("2024-01-01"), None, 4_000),
        ("si_df#di_f", "discount", d("2024-01-01"), None, -1_000),
    ]


def test_amount_off_coupon_is_normalised_like_its_price() -> None:
    p = price(amount=120_000, interval="year")
    off = _discount("di_a", _coupon("co_a", "forever", amount_off=500, currency="eur"))
    s = sub("sub_da", [item("si_da", p)], discounts=["di_a"])
    rows = revenue_lines([s], [], customers=[{"id": "cus_1", "discount": off}])
    assert [r["mrr_minor"] for r in rows if r["kind"] == "discount"] == [-42]  # 500 / 12


def test_discount_on_a_tax_inclusive_line_is_taken_net_of_tax() -> None:
    p = price(amount=11_900, tax_behavior="inclusive")
    disc = _discount("di_t", _coupon("co_t", "forever", percent_off=10))
    ln = line("si_dt", p, "2024-01-01", "2024-02-01", 11_900, lid="il_dt",
              tax_amounts=[{"amount": 1_709, "inclusive": True}],
              discount_amounts=[{"amount": 1_190, "discount": "di_t"}])
    inv = invoice("in_dt", "sub_dt", [ln], "2024-01-01", discounts=[disc])
    rows = revenue_lines([sub("sub_dt", [item("si_dt", p)])], [inv])
    # net 10191 of gross 11900: the discount 1190 * 10191 / 11900 = 1019.1
    assert sorted(r["mrr_minor"] for r in rows) == [-1_019, 10_191]


# -- trials and statuses -------------------------------------------------------------------------
def test_trial_is_zero_and_the_price_starts_at_trial_end() -> None:
    p = price(amount=2_900)
    s = sub("sub_tr", [item("si_tr", p)], status="trialing", trial_end=ts("2024-02-15"))
    trial = invoice("in_tr", "sub_tr", [line("si_tr", p, "2024-01-15", "2024-02-15", 0,
                                             lid="il_tr")], "2024-01-15")
    assert brief(revenue_lines([s], [trial])) == [
        ("si_tr#trial_end", "recurring", d("2024-02-15"), None, 2_900)
    ]


def test_trial_that_is_cancelled_at_its_end_never_counts() -> None:
    p = price(amount=2_900)
    s = sub("sub_tc", [item("si_tc", p)], status="trialing", trial_end=ts("2024-02-15"),
            cancel_at=ts("2024-02-15"), canceled_at=ts("2024-02-01"))
    assert revenue_lines([s], []) == []


def test_past_due_still_counts_and_says_since_when() -> None:
    p = price(amount=1_000)
    s = sub("sub_pd", [item("si_pd", p)], status="past_due")
    invs = monthly_invoices("sub_pd", "si_pd", p, ["2024-01", "2024-02"], 1_000)
    invs[1]["status"] = "open"
    rows = revenue_lines([s], invs)
    assert [(r["mrr_minor"], r["past_due_since"]) for r in rows] == [
        (1_000, d("2024-02-01")), (1_000, d("2024-02-01"))
    ]


def test_unpaid_ends_with_the_last_paid_period_as_involuntary_churn() -> None:
    p = price(amount=1_000)
    s = sub("sub_up", [item("si_up", p)], status="unpaid")
    invs = monthly_invoices("sub_up", "si_up", p, ["2024-01", "2024-02"], 1_000)
    invs[1]["status"] = "open"
    rows = revenue_lines([s], invs)
    assert brief(rows) == [("il_sub_up_0", "recurring", d("2024-01-01"), d("2024-02-01"), 1_000)]
    assert rows[0]["churn_reason"] == "involuntary"


@pytest.mark.parametrize("status", ["incomplete", "incomplete_expired"])
def test_subscriptions_that_never_started_count_zero(status: str) -> None:
    p = price(amount=1_000)
    s = sub("sub_inc", [item("si_inc", p)], status=status)
    invs = monthly_invoices("sub_inc", "si_inc", p, ["2024-01"], 1_000)
    invs[0]["status"] = "open"
    assert revenue_lines([s], invs) == []


def test_paused_after_trial_counts_zero() -> None:
    p = price(amount=1_000)
    s = sub("sub_pa", [item("si_pa", p)], status="paused", trial_end=ts("2024-02-01"))
    trial = invoice("in_pa", "sub_pa", [line("si_pa", p, "2024-01-01", "2024-02-01", 0)],
                    "2024-01-01")
    assert revenue_lines([s], [trial]) == []


def test_pause_collection_counts_zero_until_it_resumes() -> None:
    p = price(amount=1_000)
    s = sub("sub_pc", [item("si_pc", p)],
            pause_collection={"behavior": "void", "resumes_at": ts("2024-05-01")})
    invs = monthly_invoices("sub_pc", "si_pc", p, ["2024-01", "2024-02", "2024-03"], 1_000)
    invs[2]["status"] = "void"
    assert brief(revenue_lines([s], invs)) == [
        ("il_sub_pc_0", "recurring", d("2024-01-01"), d("2024-02-01"), 1_000),
        ("il_sub_pc_1", "recurring", d("2024-02-01"), d("2024-03-01"), 1_000),
        ("si_pc#resume", "recurring", d("2024-05-01"), None, 1_000),
    ]


# -- churn timing and reason ---------------------------------------------------------------------
def test_canceled_subscription_ends_when_it_ended_and_keeps_the_request_day() -> None:
    p = price(amount=1_000)
    s = sub("sub_c", [item("si_c", p)], status="canceled", ended_at=ts("2024-03-10"),
            canceled_at=ts("2024-03-01"),
            cancellation_details={"reason": "cancellation_requested"})
    invs = monthly_invoices("sub_c", "si_c", p, ["2024-01", "2024-02", "2024-03"], 1_000)
    rows = revenue_lines([s], invs)
    last = max(rows, key=lambda r: r["start_date"])
    assert (last["end_date"], last["cancel_requested_date"], last["churn_reason"]) == (
        d("2024-03-10"), d("2024-03-01"), "voluntary")
    assert [r["churn_reason"] for r in rows if r is not last] == [None, None]


def test_cancel_at_period_end_ends_with_the_paid_period() -> None:
    p = price(amount=1_000)
    s = sub("sub_cp", [item("si_cp", p)], cancel_at_period_end=True,
            current_period_end=ts("2024-04-01"), canceled_at=ts("2024-03-05"))
    invs = monthly_invoices("sub_cp", "si_cp", p, ["2024-03"], 1_000)
    [row] = revenue_lines([s], invs)
    assert (row["end_date"], row["cancel_requested_date"], row["churn_reason"]) == (
        d("2024-04-01"), d("2024-03-05"), "voluntary")


def test_payment_failure_cancellation_is_involuntary() -> None:
    p = price(amount=1_000)
    s = sub("sub_pf", [item("si_pf", p)], status="canceled", ended_at=ts("2024-02-20"),
            canceled_at=ts("2024-02-20"), cancellation_details={"reason": "payment_failed"})
    invs = monthly_invoices("sub_pf", "si_pf", p, ["2024-01", "2024-02"], 1_000)
    rows = revenue_lines([s], invs)
    assert [(r["end_date"], r["churn_reason"]) for r in rows] == [
        (d("2024-02-01"), None), (d("2024-02-20"), "involuntary")]


# -- currencies, customers -----------------------------------------------------------------------
def test_zero_decimal_currency_stays_in_yen() -> None:
    p = price("price_jpy", amount=120_000, interval="year", currency="jpy")
    s = sub("sub_jpy", [item("si_jpy", p)], currency="jpy", customer="cus_jp")
    ln = line("si_jpy", p, "2024-01-01", "2025-01-01", 120_000, lid="il_jpy", currency="jpy")
    [row] = revenue_lines([s], [invoice("in_jpy", "sub_jpy", [ln], "2024-01-01",
                                        customer="cus_jp", currency="jpy")])
    assert (row["mrr_minor"], row["currency"]) == (10_000, "JPY")


def test_several_subscriptions_of_one_customer_are_all_kept() -> None:
    a, b = price("price_a", 1_000), price("price_b", 2_500, currency="eur")
    subs = [sub("sub_a", [item("si_a", a)]), sub("sub_b", [item("si_b", b)])]
    rows = revenue_lines(subs, [])
    assert sorted((r["customer_id"], r["line_id"], r["mrr_minor"]) for r in rows) == [
        ("cus_1", "si_a", 1_000), ("cus_1", "si_b", 2_500)]


def test_deleted_customer_keeps_its_id_and_is_marked() -> None:
    gone = {"id": "cus_gone", "object": "customer", "deleted": True}
    assert customer_row(gone) == {"customer_id": "cus_gone", "name": None, "source": "stripe"}
    assert customer_attributes(gone) == [
        {"customer_id": "cus_gone", "key": "deleted_in_stripe", "value": "true",
         "source": "stripe"}]  # fmt: skip


def test_customer_attributes_from_address_currency_and_metadata() -> None:
    cus = {"id": "cus_de", "name": "Acme GmbH", "address": {"country": "de"}, "currency": "eur",
           "metadata": {"Industry": "Software"}}
    assert [(a["key"], a["value"]) for a in customer_attributes(cus)] == [
        ("country", "DE"), ("currency", "EUR"), ("industry", "Software")]


def test_test_clock_objects_are_left_out() -> None:
    p = price(amount=1_000)
    s = sub("sub_clock", [item("si_clock", p)], test_clock="clock_1")
    assert revenue_lines([s], []) == []


# -- the 2025 invoice shape ----------------------------------------------------------------------
def test_invoice_lines_in_the_parent_and_pricing_shape() -> None:
    p = price("price_new", amount=2_000)
    s = sub("sub_n", [item("si_n", p)])
    ln = {
        "id": "il_n", "object": "line_item", "amount": 2_380, "currency": "eur",
        "period": {"start": ts("2024-01-01"), "end": ts("2024-02-01")}, "quantity": 1,
        "pricing": {"type": "price_details", "price_details": {"price": "price_new"}},
        "parent": {"type": "subscription_item_details", "subscription_item_details": {
            "subscription": "sub_n", "subscription_item": "si_n", "proration": False}},
        "taxes": [{"amount": 380, "tax_behavior": "inclusive"}], "discount_amounts": [],
    }  # fmt: skip
    inv = {"id": "in_n", "object": "invoice", "customer": "cus_1", "status": "paid",
           "created": ts("2024-01-01"), "currency": "eur",
           "parent": {"type": "subscription_details",
                      "subscription_details": {"subscription": "sub_n"}},
           "lines": {"data": [ln], "has_more": False}}  # fmt: skip
    rows = revenue_lines([s], [inv], prices=[p])
    assert brief(rows) == [("il_n", "recurring", d("2024-01-01"), None, 2_000)]
    assert rows[0]["source_ref"] == "in_n/il_n"


def test_subscription_wide_amount_off_is_taken_once_not_per_item() -> None:
    a, b = price("price_a", 6_000), price("price_b", 4_000)
    off = _discount("di_w", _coupon("co_w", "forever", amount_off=1_000, currency="eur"))
    s = sub("sub_w", [item("si_a", a), item("si_b", b)], discount=off)
    rows = revenue_lines([s], [])
    assert sorted((r["line_id"], r["mrr_minor"]) for r in rows) == [
        ("si_a", 6_000), ("si_a#di_w", -1_000), ("si_b", 4_000)]


def test_once_discount_on_a_trial_end_covers_the_first_interval() -> None:
    p = price(amount=2_900)
    first = _discount("di_1st", _coupon("co_1st", "once", percent_off=100))
    s = sub("sub_fm", [item("si_fm", p)], status="trialing", trial_end=ts("2024-01-31"),
            discounts=[first])
    assert brief(revenue_lines([s], [])) == [
        ("si_fm#trial_end", "recurring", d("2024-01-31"), None, 2_900),
        ("si_fm#trial_end#di_1st", "discount", d("2024-01-31"), d("2024-02-29"), -2_900),
    ]


@given(st.integers(-10**12, 10**12), st.integers(1, 10**6))
def test_rounding_is_half_away_from_zero(num: int, den: int) -> None:
    value = Fraction(num, den)
    expected = math.floor(abs(value) + Fraction(1, 2))
    assert round_half_up(value) == (expected if value >= 0 else -expected)


@given(st.integers(0, 10**9), st.sampled_from(["day", "week", "month", "year"]),
       st.integers(1, 12))
def test_monthly_is_the_exact_share_of_the_interval(amount: int, interval: str,
                                                    count: int) -> None:
    months = {"day": Fraction(12, 365), "week": Fraction(12, 52), "month": Fraction(1),
              "year": Fraction(12)}[interval] * count
    assert monthly(amount, interval, count) * months == amount
