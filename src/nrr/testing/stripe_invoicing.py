"""Turns billed line specifications into a Stripe invoice and its line items.

Shared by the account generator and the runtime mutations, so an invoice created mid-test has
exactly the shape and arithmetic of the generated history: coupons per line (amount_off spread over
the positive lines), tax per line by the price's `tax_behavior`, totals as Stripe sums them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nrr.testing import stripe_objects as so
from nrr.testing.stripe_ids import IdMaker
from nrr.testing.stripe_pricing import coupon_discount, tax_amount

Obj = dict[str, Any]

FINALIZE_DELAY = 3_600  # Stripe leaves a subscription invoice in draft for about an hour


@dataclass
class Billing:
    """Who is billed and how: the context every invoice of one subscription shares."""

    customer: Obj
    subscription: str | None
    currency: str
    tax_rate: Obj | None
    test_clock: str | None
    # (discount object, coupon) applied to every line, and per subscription item
    discounts: list[tuple[Obj, Obj]] = field(default_factory=list)
    item_discounts: dict[str, list[tuple[Obj, Obj]]] = field(default_factory=dict)
    encoded: dict[Any, str] = field(default_factory=dict)  # JSON of parts lines share


@dataclass
class LineSpec:
    price: Obj
    quantity: int
    amount: int
    period: tuple[int, int]
    description: str
    subscription_item: str | None = None
    invoice_item: str | None = None
    proration: bool = False


@dataclass
class Outcome:
    """How an invoice ended up: paid, left open, voided or marked uncollectible."""

    status: str  # draft | open | paid | void | uncollectible
    settled_at: int | None = None
    finalized_at: int | None = None  # default: an hour after creation, like Stripe's drafts


def _discount_amounts(billing: Billing, specs: list[LineSpec]) -> list[list[Obj]]:
    per_line: list[list[Obj]] = [[] for _ in specs]
    if not billing.discounts and not billing.item_discounts:
        return per_line
    for disc, coupon in billing.discounts:
        _apply(disc, coupon, specs, range(len(specs)), per_line)
    for si, pairs in billing.item_discounts.items():
        indexes = [i for i, spec in enumerate(specs) if spec.subscription_item == si]
        for disc, coupon in pairs:
            _apply(disc, coupon, specs, indexes, per_line)
    return per_line


def _apply(disc: Obj, coupon: Obj, specs: list[LineSpec], indexes: range | list[int],
           per_line: list[list[Obj]]) -> None:
    positive = [i for i in indexes if specs[i].amount > 0]
    if not positive:
        return
    if coupon["percent_off"] is not None:
        for i in positive:
            per_line[i].append({"amount": coupon_discount(coupon, specs[i].amount),
                                "discount": disc["id"]})
        return
    # amount_off discounts the invoice once: spread over the lines in proportion to their amounts
    base = sum(specs[i].amount for i in positive)
    budget = coupon_discount(coupon, base)
    for n, i in enumerate(positive):
        share = budget if n == len(positive) - 1 else budget * specs[i].amount // base
        budget -= share
        per_line[i].append({"amount": share, "discount": disc["id"]})


def _line(ids: IdMaker, billing: Billing, invoice_id: str, spec: LineSpec,
          discounts: list[Obj]) -> tuple[str, list[Obj], bytes]:
    """A line item written straight to JSON, with its taxes for the invoice's totals."""
    net = spec.amount - sum(d["amount"] for d in discounts) if discounts else spec.amount
    taxes = []
    rate = billing.tax_rate
    if rate is not None and rate["basis_points"] and net:
        behavior = spec.price["tax_behavior"]
        tax = tax_amount(net, rate["basis_points"], behavior)
        taxable = net if behavior == "exclusive" else net - tax
        taxes.append(so.tax_entry(tax, behavior, rate["id"], taxable))
    item_discounts = billing.item_discounts.get(spec.subscription_item or "")
    discount_ids = [d["id"] for d, _ in item_discounts] if item_discounts else []
    line_id = ids.make("il")
    blob = (
        f'{{"id":"{line_id}","object":"line_item","amount":{spec.amount},'
        f'"currency":"{billing.currency}","description":{_text(spec.description)},'
        f'"discount_amounts":{_json(discounts)},"discountable":true,'
        f'"discounts":{_json(discount_ids)},"invoice":"{invoice_id}","livemode":false,'
        f'"metadata":{{}},"parent":{_parent(billing, spec)},'
        f'"period":{{"end":{spec.period[1]},"start":{spec.period[0]}}},'
        f'"pretax_credit_amounts":[],"pricing":{_pricing(billing, spec)},'
        f'"quantity":{spec.quantity},"quantity_decimal":"{spec.quantity}",'
        f'"subscription":{_str(billing.subscription)},"subtotal":{spec.amount},'
        f'"taxes":{_json(taxes)}}}')
    return line_id, taxes, blob.encode()


_TEXTS: dict[str, str] = {}


def _text(value: str) -> str:
    found = _TEXTS.get(value)
    if found is None:
        found = _TEXTS[value] = json.dumps(value)
    return found


_COMPACT = json.JSONEncoder(separators=(",", ":")).encode


def _json(value: list[Any]) -> str:
    return _COMPACT(value) if value else "[]"


def _parent(billing: Billing, spec: LineSpec) -> str:
    # Lines of one subscription item share their parent and pricing: written once, reused.
    key = (spec.subscription_item, spec.invoice_item, spec.proration)
    found = billing.encoded.get(key)
    if found is None:
        found = _json_obj(so.line_parent(billing.subscription or "", spec.subscription_item,
                                         spec.invoice_item, spec.proration))
        if spec.invoice_item is None:
            billing.encoded[key] = found
    return found


def _pricing(billing: Billing, spec: LineSpec) -> str:
    unit = _unit_decimal(spec)
    key = (spec.price["id"], unit)
    found = billing.encoded.get(key)
    if found is None:
        found = billing.encoded[key] = _json_obj({
            "price_details": {"price": spec.price["id"], "product": spec.price["product"]},
            "type": "price_details",
            "unit_amount_decimal": unit,
        })
    return found


def _json_obj(value: Obj) -> str:
    return _COMPACT(value)


def _unit_decimal(spec: LineSpec) -> str:
    price = spec.price
    if price["billing_scheme"] == "per_unit" and not spec.proration:
        return str(price["unit_amount_decimal"])
    if not spec.quantity:
        return "0"
    whole, rest = divmod(spec.amount, spec.quantity)
    return str(whole) if not rest else f"{spec.amount / spec.quantity:.12g}"


@dataclass
class BuiltInvoice:
    """An invoice as written: its JSON body (without braces or `lines`), lines and filter fields."""

    id: str
    created: int
    total: int
    number: str | None
    status: str
    status_transitions: dict[str, int | None]
    body: bytes
    line_ids: list[str]
    line_blobs: list[bytes]
    last_line: tuple[str, int, str]  # id, amount, description: what a credit note credits
    meta: tuple[Any, ...]  # customer, status, subscription, collection_method


def build_invoice(ids: IdMaker, billing: Billing, created: int, specs: list[LineSpec],
                  reason: str, outcome: Outcome, number: str | None,
                  period: tuple[int, int], credited: int = 0) -> BuiltInvoice:
    """The invoice and its lines, written straight to JSON; totals summed from the lines.

    Invoices are the bulk of an account, so they are written with one format string instead of
    building dicts to encode; `tests/stripe_server` parse every one of them back.
    """
    invoice_id = ids.make("in")
    per_line = _discount_amounts(billing, specs)
    line_ids, blobs = [], []
    subtotal = discount_total = exclusive = inclusive = 0
    discount_sums: dict[str, int] = {}
    taxes: list[Obj] = []
    for spec, discounts in zip(specs, per_line, strict=True):
        line_id, line_taxes, blob = _line(ids, billing, invoice_id, spec, discounts)
        line_ids.append(line_id)
        blobs.append(blob)
        subtotal += spec.amount
        for entry in discounts:
            discount_total += entry["amount"]
            discount_sums[entry["discount"]] = discount_sums.get(entry["discount"], 0) + entry[
                "amount"]
        for tax in line_taxes:
            taxes.append(tax)
            if tax["tax_behavior"] == "exclusive":
                exclusive += tax["amount"]
            else:
                inclusive += tax["amount"]
    total = subtotal - discount_total + exclusive
    status = outcome.status
    draft = status == "draft"
    finalized = None if draft else (outcome.finalized_at or created + FINALIZE_DELAY)
    settled = outcome.settled_at if outcome.settled_at is not None else finalized
    transitions = {
        "finalized_at": finalized,
        "marked_uncollectible_at": settled if status == "uncollectible" else None,
        "paid_at": settled if status == "paid" else None,
        "voided_at": settled if status == "void" else None,
    }
    due = max(total, 0)
    paid = due if status == "paid" else 0
    shown_number = None if draft else number
    totals = _json([{"amount": a, "discount": k} for k, a in discount_sums.items()])
    body = (
        f'"id":"{invoice_id}","object":"invoice","amount_due":{due},"amount_paid":{paid},'
        f'"amount_remaining":{0 if status in ("void", "paid") else due},'
        f'"attempt_count":{0 if draft else 1},"attempted":{_flag(not draft)},'
        f'"auto_advance":{_flag(status in ("draft", "open"))},'
        f'"automatically_finalizes_at":{_num(created + FINALIZE_DELAY if draft else None)},'
        f'"billing_reason":"{reason}","created":{created},"currency":"{billing.currency}",'
        f'{_customer_json(billing)},"discounts":{_json([d["id"] for d, _ in billing.discounts])},'
        f'"effective_at":{_num(finalized)},"ending_balance":{"null" if draft else 0},'
        f'"hosted_invoice_url":{_str(None if draft else f"https://invoice.stripe.test/i/{number}")},'
        f'"invoice_pdf":{_str(None if draft else f"https://pay.stripe.test/invoice/{number}/pdf")},'
        f'"next_payment_attempt":{_num(created + 3 * 86_400 if status == "open" else None)},'
        f'"number":{_str(shown_number)},"parent":{_parent_of_invoice(billing)},'
        f'"period_end":{period[1]},"period_start":{period[0]},'
        f'"post_payment_credit_notes_amount":{credited},"status":"{status}",'
        f'"status_transitions":{{"finalized_at":{_num(finalized)},'
        f'"marked_uncollectible_at":{_num(transitions["marked_uncollectible_at"])},'
        f'"paid_at":{_num(transitions["paid_at"])},"voided_at":{_num(transitions["voided_at"])}}},'
        f'"subtotal":{subtotal},'
        f'"subtotal_excluding_tax":{subtotal - inclusive},"test_clock":{_str(billing.test_clock)},'
        f'"total":{total},"total_discount_amounts":{totals},'
        f'"total_excluding_tax":{total - exclusive - inclusive},'
        f'"total_taxes":{_json(_total_taxes(taxes))},"webhooks_delivered_at":{created}')
    last = specs[-1]
    return BuiltInvoice(
        invoice_id, created, total, shown_number, status, transitions, body.encode(), line_ids,
        blobs, (line_ids[-1], last.amount, last.description),
        (billing.customer["id"], status, billing.subscription, "charge_automatically"))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _num(value: int | None) -> str:
    return "null" if value is None else str(value)


def _str(value: str | None) -> str:
    # ids, numbers and URLs: nothing in them needs escaping (free text goes through `_text`)
    return "null" if value is None else f'"{value}"'


def _customer_json(billing: Billing) -> str:
    found = billing.encoded.get("customer")
    if found is None:
        customer = billing.customer
        found = (f'"customer":"{customer["id"]}",'
                 f'"customer_address":{_json_obj(customer["address"])},'
                 f'"customer_email":{_text(customer["email"])},'
                 f'"customer_name":{_text(customer["name"])}')
        billing.encoded["customer"] = found
    return found


def _parent_of_invoice(billing: Billing) -> str:
    found = billing.encoded.get("invoice_parent")
    if found is None:
        found = json.dumps(so.subscription_parent(billing.subscription), separators=(",", ":"))
        billing.encoded["invoice_parent"] = found
    return found


def _total_taxes(taxes: list[Obj]) -> list[Obj]:
    merged: dict[tuple[str, str], Obj] = {}
    for tax in taxes:
        key = (tax["tax_rate_details"]["tax_rate"], tax["tax_behavior"])
        if key in merged:
            merged[key]["amount"] += tax["amount"]
            merged[key]["taxable_amount"] += tax["taxable_amount"]
        else:
            merged[key] = dict(tax)
    return list(merged.values())
