"""Builders of Stripe API objects as plain dicts, in the shape of API version 2026-10-28.

The shape follows the typed classes of the official `stripe` SDK that pins that version: invoice
lines carry `pricing.price_details` (not `price`), `taxes` (not `tax_amounts`) and the proration
flag under `parent.subscription_item_details`; billing periods live on subscription items. Rarely
used fields are left out; every field present has the type and meaning Stripe gives it.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

def customer(cid: str, created: int, name: str, email: str, currency: str, country: str,
             test_clock: str | None) -> Obj:
    return {
        "id": cid,
        "object": "customer",
        "address": {"city": None, "country": country, "line1": None, "line2": None,
                    "postal_code": None, "state": None},
        "balance": 0,
        "created": created,
        "currency": currency,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": cid[4:12].upper(),
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False,
        "metadata": {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": test_clock,
    }


def deleted_stub(object_id: str, object_name: str) -> Obj:
    return {"id": object_id, "object": object_name, "deleted": True}


def plan_of(price: Obj) -> Obj:
    """The legacy `plan` view of a recurring price that subscription items still carry."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring["usage_type"],
    }


def discount(di: str, coupon: Obj, customer_id: str, sub: str, item: str | None,
             start: int, end: int | None) -> Obj:
    return {
        "id": di,
        "object": "discount",
        "checkout_session": None,
        "customer": customer_id,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": start,
        "subscription": sub,
        "subscription_item": item,
    }


SUBSCRIPTION_DEFAULTS: Obj = {
    "application": None,
    "application_fee_percent": None,
    "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
    "billing_cycle_anchor_config": None,
    "billing_thresholds": None,
    "collection_method": "charge_automatically",
    "customer_account": None,
    "days_until_due": None,
    "default_payment_method": None,
    "default_source": None,
    "default_tax_rates": [],
    "description": None,
    "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
    "livemode": False,
    "metadata": {},
    "next_pending_invoice_item_invoice": None,
    "on_behalf_of": None,
    "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                         "save_default_payment_method": "off"},
    "pending_invoice_item_interval": None,
    "pending_setup_intent": None,
    "pending_update": None,
    "schedule": None,
    "transfer_data": None,
    "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
}


def subscription(fields: Obj) -> Obj:
    """A subscription without its `items` list nor the fields every subscription shares.

    The store adds both back when serving (`stripe_account.Account.full_json`).
    """
    obj = {"id": fields["id"], "object": "subscription"}
    obj.update(fields)
    obj["billing_mode"] = {"type": "flexible", "flexible": {"proration_discounts": "included"},
                           "updated_at": fields["created"]}
    return obj


INVOICE_DEFAULTS: Obj = {
    "account_country": "DE",
    "account_name": "nrr synthetic GmbH",
    "account_tax_ids": None,
    "amount_overpaid": 0,
    "amount_shipping": 0,
    "application": None,
    "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None,
                      "provider": None, "status": None},
    "collection_method": "charge_automatically",
    "custom_fields": None,
    "customer_account": None,
    "customer_phone": None,
    "customer_shipping": None,
    "customer_tax_exempt": "none",
    "customer_tax_ids": [],
    "default_payment_method": None,
    "default_source": None,
    "default_tax_rates": [],
    "description": None,
    "due_date": None,
    "footer": None,
    "from_invoice": None,
    "issuer": {"type": "self"},
    "last_finalization_error": None,
    "latest_revision": None,
    "livemode": False,
    "metadata": {},
    "on_behalf_of": None,
    "pre_payment_credit_notes_amount": 0,
    "receipt_number": None,
    "rendering": None,
    "shipping_cost": None,
    "shipping_details": None,
    "starting_balance": 0,
    "statement_descriptor": None,
    "status_details": None,
    "threshold_reason": None,
    "total_pretax_credit_amounts": [],
}


def subscription_parent(sub: str | None) -> Obj | None:
    if sub is None:
        return None
    return {"quote_details": None, "type": "subscription_details",
            "subscription_details": {"metadata": {}, "subscription": sub}}


def line_parent(sub: str, si: str | None, invoice_item: str | None, proration: bool) -> Obj:
    """Where a line comes from: a subscription item, or a (one-time) invoice item."""
    if si is not None:
        return {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": sub,
                "subscription_item": si,
            },
            "type": "subscription_item_details",
        }
    return {
        "invoice_item_details": {
            "invoice_item": invoice_item,
            "proration": proration,
            "proration_details": {"credited_items": None},
            "subscription": sub,
        },
        "subscription_item_details": None,
        "type": "invoice_item_details",
    }


def tax_entry(amount: int, behavior: str, rate_id: str, taxable: int) -> Obj:
    return {
        "amount": amount,
        "tax_behavior": behavior,
        "tax_rate_details": {"tax_rate": rate_id},
        "taxability_reason": "standard_rated",
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    }


def credit_note(fields: Obj) -> Obj:
    obj = {
        "id": fields["id"],
        "object": "credit_note",
        "amount_shipping": 0,
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "livemode": False,
        "memo": None,
        "metadata": {},
        "out_of_band_amount": None,
        "pre_payment_amount": 0,
        "pretax_credit_amounts": [],
        "refunds": [],
        "shipping_cost": None,
        "status": "issued",
        "type": "post_payment",
        "voided_at": None,
    }
    obj.update(fields)
    return obj
