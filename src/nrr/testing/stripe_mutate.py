"""Changes to a served account while a test runs, each recorded as Stripe events.

`mutate` picks a share of the live subscriptions and, for each, does what a customer would: change
the quantity or the price (invoiced at once as proration lines whose period starts at the change),
cancel (now or at the period end), or buy something one-off (a new invoice). Every change stores new
objects and appends the events Stripe would send, with `data.object` snapshots taken then, so an
incremental sync from the Events API can be tested against the full re-list.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from typing import Any

from nrr.testing import stripe_objects as so
from nrr.testing.stripe_account import Account, Nested
from nrr.testing.stripe_ids import IdMaker
from nrr.testing.stripe_invoicing import Billing, LineSpec, Outcome, build_invoice
from nrr.testing.stripe_pricing import price_amount, prorated

Obj = dict[str, Any]

_ACTIONS = (("quantity", 40), ("price", 20), ("cancel", 20), ("invoice", 20))
_LIVE = ("active", "past_due", "trialing")


@dataclass
class MutationReport:
    at: int
    chosen: list[str] = field(default_factory=list)  # the subscriptions acted on, in order
    changed: dict[str, list[str]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def note(self, resource: str, object_id: str) -> None:
        self.changed.setdefault(resource, []).append(object_id)

    def as_dict(self) -> Obj:
        return {"at": self.at, "chosen": self.chosen, "changed": self.changed,
                "events": self.events}


def record_event(account: Account, kind: str, resource: str, object_id: str,
                 previous: Obj | None = None, at: int | None = None) -> str:
    """Append one event about an object as it is now; its id is derived, so runs repeat."""
    moment = account.now if at is None else at
    seed = zlib.crc32(f"{account.version}:{kind}:{object_id}:{moment}".encode())
    event_id = IdMaker(seed).make("evt")
    account.add_event(event_id, moment, kind, resource, object_id, previous)
    return event_id


def mutate(account: Account, fraction: float = 0.01, seed: int = 0,
           at: int | None = None) -> MutationReport:
    """Change `fraction` of all subscriptions (at least one), one second apart from `at`.

    `at` defaults to an hour after the account's clock; the clock ends at the last change.
    """
    with account.lock:
        start = account.now + 3_600 if at is None else at
        if start < account.now:
            raise ValueError("mutations cannot go back in time")
        rng = random.Random(seed)
        changer = _Changer(account, IdMaker(seed * 65_537 + start), rng)
        chosen = _choose(account, fraction, rng)
        report = MutationReport(start, chosen)
        for offset, sub_id in enumerate(chosen):
            account.now = start + offset
            action = rng.choices([a for a, _ in _ACTIONS], [w for _, w in _ACTIONS])[0]
            changer.apply(action, sub_id, report)
        return report


def _choose(account: Account, fraction: float, rng: random.Random) -> list[str]:
    subs = account.collections["subscriptions"]
    live = [sid for sid in account.ids("subscriptions")
            if subs.meta[sid][1] in _LIVE and subs.meta[sid][2] is None]
    wanted = max(1, round(fraction * account.count("subscriptions")))
    return rng.sample(live, min(wanted, len(live)))


class _Changer:
    def __init__(self, account: Account, ids: IdMaker, rng: random.Random) -> None:
        self.account = account
        self.ids = ids
        self.rng = rng

    def apply(self, action: str, sub_id: str, report: MutationReport) -> None:
        sub = self.account.get("subscriptions", sub_id)
        assert sub is not None
        if action == "cancel":
            self._cancel(sub, report)
        elif action == "invoice":
            self._one_off(sub, report)
        else:
            self._change_item(sub, action, report)

    def _event(self, report: MutationReport, kind: str, resource: str, object_id: str,
               previous: Obj | None = None) -> None:
        report.events.append(record_event(self.account, kind, resource, object_id, previous))

    # -- cancellation --------------------------------------------------------------------
    def _cancel(self, sub: Obj, report: MutationReport) -> None:
        now = self.account.now
        before = {"status": sub["status"], "canceled_at": sub["canceled_at"]}
        details = {"comment": None, "feedback": None, "reason": "cancellation_requested"}
        if self.rng.random() < 0.5:
            changed = {**sub, "status": "canceled", "canceled_at": now, "ended_at": now,
                       "cancel_at_period_end": False, "cancellation_details": details}
            self.account.put("subscriptions", changed)
            report.note("subscriptions", sub["id"])
            self._event(report, "customer.subscription.deleted", "subscriptions", sub["id"],
                        before)
            return
        period_end = self._items(sub["id"])[0]["current_period_end"]
        changed = {**sub, "cancel_at_period_end": True, "cancel_at": period_end,
                   "canceled_at": now, "cancellation_details": details}
        self.account.put("subscriptions", changed)
        report.note("subscriptions", sub["id"])
        self._event(report, "customer.subscription.updated", "subscriptions", sub["id"],
                    {"cancel_at_period_end": False, "cancel_at": None, "canceled_at": None})

    # -- quantity and price changes ------------------------------------------------------
    def _items(self, sub_id: str) -> list[Obj]:
        children = self.account.children(sub_id)
        assert children is not None
        return [self.account.get("subscription_items", si) or {} for si in children.ids]

    def _change_item(self, sub: Obj, action: str, report: MutationReport) -> None:
        items = self._items(sub["id"])
        licensed = [i for i in items if i["price"]["recurring"]["usage_type"] == "licensed"]
        old = licensed[0]
        new = self._changed(old, action)
        self.account.put("subscription_items", new)
        self.account.set_children(sub["id"], [new if i["id"] == old["id"] else i for i in items])
        report.note("subscription_items", new["id"])
        changed_sub = dict(sub)
        if sub["status"] != "trialing":
            invoice_id = self._proration_invoice(sub, old, new, report)
            changed_sub["latest_invoice"] = invoice_id
        self.account.put("subscriptions", changed_sub)
        report.note("subscriptions", sub["id"])
        previous = {"items": {"object": "list", "data": [old]}}
        self._event(report, "customer.subscription.updated", "subscriptions", sub["id"], previous)
        if sub["status"] != "trialing":
            self._invoice_events(changed_sub["latest_invoice"], report)

    def _changed(self, item: Obj, action: str) -> Obj:
        quantity = item["quantity"] or 1
        if action == "quantity":
            step = 1 if quantity == 1 or self.rng.random() < 0.6 else -1
            return {**item, "quantity": quantity + step}
        price = item["price"]
        choices = [p for p in self._prices() if p["currency"] == price["currency"]
                   and p["recurring"] is not None and p["id"] != price["id"]
                   and p["product"] != price["product"]
                   and p["recurring"]["interval"] == price["recurring"]["interval"]
                   and p["recurring"]["interval_count"] == price["recurring"]["interval_count"]
                   and p["recurring"]["usage_type"] == "licensed"]
        if not choices:
            return {**item, "quantity": quantity + 1}
        chosen = self.rng.choice(sorted(choices, key=lambda p: p["id"]))
        return {**item, "price": chosen, "plan": so.plan_of(chosen)}

    def _prices(self) -> list[Obj]:
        return [self.account.get("prices", pid) or {} for pid in self.account.ids("prices")]

    def _billing(self, sub: Obj | None, customer_id: str) -> Billing:
        account = self.account
        customer = account.get("customers", customer_id)
        assert customer is not None
        country = customer["address"]["country"]
        rate = None
        if customer["tax_exempt"] == "none":
            rate = next((r for r in account.tax_rates.values() if r["country"] == country), None)
        billing = Billing(customer, sub["id"] if sub else None, customer["currency"], rate,
                          customer["test_clock"])
        if sub is not None:
            billing.discounts = [self._discount(di) for di in sub["discounts"]]
        return billing

    def _discount(self, discount_id: str) -> tuple[Obj, Obj]:
        disc = self.account.get("discounts", discount_id)
        assert disc is not None
        coupon = self.account.get("coupons", disc["source"]["coupon"])
        assert coupon is not None
        return disc, coupon

    def _proration_invoice(self, sub: Obj, old: Obj, new: Obj, report: MutationReport) -> str:
        now = self.account.now
        start, end = old["current_period_start"], old["current_period_end"]
        left, length = max(0, end - now), end - start
        old_q, new_q = old["quantity"] or 1, new["quantity"] or 1
        credit = prorated(price_amount(old["price"], old_q), left, length)
        debit = prorated(price_amount(new["price"], new_q), left, length)
        specs = [
            LineSpec(old["price"], old_q, -credit, (now, end), f"Unused time on {old_q} × plan",
                     subscription_item=old["id"], invoice_item=self.ids.make("ii"),
                     proration=True),
            LineSpec(new["price"], new_q, debit, (now, end), f"Remaining time on {new_q} × plan",
                     subscription_item=new["id"], invoice_item=self.ids.make("ii"),
                     proration=True),
        ]
        billing = self._billing(sub, sub["customer"])
        return self._store_invoice(billing, specs, "subscription_update", report)

    def _store_invoice(self, billing: Billing, specs: list[LineSpec], reason: str,
                       report: MutationReport) -> str:
        now = self.account.now
        number = f"{billing.customer['invoice_prefix']}-M{len(report.events):04d}{now % 997}"
        built = build_invoice(self.ids, billing, now, specs, reason, Outcome("paid", now, now),
                              number, (now, now))
        self.account.nested[built.id] = Nested(built.line_ids, built.line_blobs)
        self.account.put_written("invoices", built.id, now, built.meta, built.body)
        report.note("invoices", built.id)
        return built.id

    def _invoice_events(self, invoice_id: str, report: MutationReport) -> None:
        for kind in ("invoice.created", "invoice.finalized", "invoice.paid"):
            self._event(report, kind, "invoices", invoice_id)

    # -- one-off purchases ---------------------------------------------------------------
    def _one_off(self, sub: Obj, report: MutationReport) -> None:
        billing = self._billing(None, sub["customer"])
        price = next(p for p in self._prices()
                     if p["type"] == "one_time" and p["currency"] == billing.currency)
        now = self.account.now
        spec = LineSpec(price, 1, price_amount(price, 1), (now, now), "Onboarding",
                        invoice_item=self.ids.make("ii"))
        invoice_id = self._store_invoice(billing, [spec], "manual", report)
        self._invoice_events(invoice_id, report)
