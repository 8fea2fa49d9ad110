"""Seeded synthetic Stripe account: customers, subscriptions and a history of their invoices.

Each subscription is simulated from its start to the account's `now` (never the machine clock):
billing periods from its anchor, a trial, at most one mid-period change (quantity or price, billed
as proration lines whose period starts on the change day), coupons starting and ending, and a fate
(active, past due, unpaid, paused, collection paused, cancelled at period end, immediately, or for
failed payment, or a cancellation scheduled for the period end). The same seed always gives the same
account, byte for byte.
"""

from __future__ import annotations

import bisect
import gc
import random
from dataclasses import dataclass, field
from typing import Any

from nrr.testing import stripe_objects as so
from nrr.testing.stripe_account import DEFAULT_NOW, Account, Nested, encode
from nrr.testing.stripe_calendar import DAY, add_months, period_boundary
from nrr.testing.stripe_catalog import ADD_ONS, Catalog, build_catalog
from nrr.testing.stripe_ids import IdMaker
from nrr.testing.stripe_invoicing import (
    FINALIZE_DELAY,
    Billing,
    BuiltInvoice,
    LineSpec,
    Outcome,
    build_invoice,
)
from nrr.testing.stripe_pricing import price_amount, prorated

Obj = dict[str, Any]

_CURRENCY_WEIGHTS = (("eur", 45), ("usd", 33), ("chf", 15), ("jpy", 7))
_COUNTRIES = {"eur": ("DE", "FR"), "usd": ("US",), "chf": ("CH",), "jpy": ("JP",)}
_CADENCE_WEIGHTS = ((("month", 1), 70), (("month", 3), 5), (("month", 6), 2),
                    (("year", 1), 15), (("week", 2), 4), (("day", 30), 4))
_PLAN_WEIGHTS = (("starter", 30), ("pro", 35), ("business", 20), ("enterprise", 15))
_FATE_WEIGHTS = (("active", 63), ("canceled", 18), ("pending_cancel", 4), ("past_due", 4),
                 ("unpaid", 2), ("paused", 2), ("pause_collection", 2), ("trialing", 5))
_TRIAL = 14 * DAY
_FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Radia",
                "Ken", "Margaret", "Tim", "Shafi", "Leslie", "Hedy", "Niklaus")
_LAST_NAMES = ("Labs", "Systems", "GmbH", "AG", "Inc", "KK", "SARL", "Studio", "Works", "Cloud")


@dataclass(frozen=True)
class GenerationSpec:
    seed: int
    n_subscriptions: int
    months: int
    now: int


@dataclass
class Segment:
    """An item's price and quantity from `start` on."""

    start: int
    price: Obj
    quantity: int | None


@dataclass
class ItemPlan:
    si: str
    product_key: str
    segments: list[Segment]
    discounts: list[tuple[Obj, Obj]] = field(default_factory=list)

    def at(self, moment: int) -> Segment:
        current = self.segments[0]
        for segment in self.segments:
            if segment.start <= moment:
                current = segment
        return current

    @property
    def metered(self) -> bool:
        return bool(self.segments[0].price["recurring"]["usage_type"] == "metered")


@dataclass
class Timeline:
    """When a subscription starts, bills, changes and ends; decided before any invoice is built."""

    start: int
    anchor: int
    trial_end: int | None
    fate: str
    last_bill: int  # no invoice after this moment
    ended_at: int | None = None
    canceled_at: int | None = None
    cancel_at: int | None = None
    reason: str | None = None
    change_at: int | None = None
    open_from: int | None = None  # invoices from here on stay open (failed payments)
    void_from: int | None = None  # invoices from here on are voided (collection paused)


def _weighted(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    values = [v for v, _ in table]
    weights = [w for _, w in table]
    return rng.choices(values, weights)[0]


class _Generator:
    def __init__(self, spec: GenerationSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.ids = IdMaker(spec.seed * 7919 + 1)
        self.now = spec.now
        self.window_start = add_months(spec.now, -spec.months)
        self.account = Account(spec.now)
        self.account.spec = spec
        self.catalog: Catalog = build_catalog(self.ids, self.window_start - 30 * DAY)
        self.events: list[tuple[int, str, str, str, Obj | None]] = []
        self.invoice_seq: dict[str, int] = {}
        self._amounts: dict[tuple[str, int], int] = {}
        self._previous: dict[tuple[int, str, str], Obj] = {}
        self._gone: dict[str, tuple[bytes, ...]] = {}
        self._bounds: dict[tuple[int, str, int], list[int]] = {}
        self._names = {p["id"]: str(p["name"]) for p in self.catalog.products}
        self._price_fragments: dict[str, str] = {}
        self._subscriptions_made = 0

    # -- the whole account ---------------------------------------------------------------
    def run(self) -> Account:
        account = self.account
        for resource, objects in (("products", self.catalog.products),
                                  ("prices", self.catalog.prices),
                                  ("coupons", self.catalog.coupons)):
            for obj in objects:
                account.load(resource, obj)
        account.tax_rates = {r["id"]: r for r in self.catalog.tax_rates.values()}
        remaining = self.spec.n_subscriptions
        while remaining > 0:
            count = min(remaining, _weighted(self.rng, ((1, 88), (2, 10), (3, 2))))
            self._customer_with(count)
            remaining -= count
        account.finish_loading()
        self._emit_events()
        account.finish_loading()
        return account

    def _customer_with(self, n_subs: int) -> None:
        rng = self.rng
        currency = _weighted(rng, _CURRENCY_WEIGHTS)
        country = rng.choice(_COUNTRIES[currency])
        starts = sorted(self._start_time() for _ in range(n_subs))
        created = max(self.window_start - 60 * DAY, starts[0] - rng.randint(0, 2 * DAY))
        cid = self.ids.make("cus")
        clock = self.ids.make("clock") if rng.random() < 0.01 else None
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        email = f"billing+{cid[4:12].lower()}@example.test"
        customer = so.customer(cid, created, name, email, currency, country, clock)
        taxed = rng.random() < 0.6
        if not taxed:
            customer["tax_exempt"] = "reverse" if country in ("DE", "FR") else "exempt"
        tax_rate = self.catalog.tax_rates[country] if taxed else None
        self.account.load("customers", customer)
        self._event(created, "customer.created", "customers", cid)
        ended = []
        for start in starts:
            billing = Billing(customer, None, currency, tax_rate, clock)
            ended.append(self._subscription(billing, start))
        if all(e is not None for e in ended) and clock is None and rng.random() < 0.3:
            self._delete_customer(cid, max(e for e in ended if e is not None))

    def _delete_customer(self, cid: str, last_end: int) -> None:
        deleted_at = last_end + self.rng.randint(DAY, 10 * DAY)
        if deleted_at >= self.now:
            return
        self._gone[cid] = self.account.snapshot("customers", cid)
        self.account.forget("customers", cid)
        self._event(deleted_at, "customer.deleted", "customers", cid,
                    so.deleted_stub(cid, "customer"))

    def _start_time(self) -> int:
        span = self.now - self.window_start
        # Skewed towards the window's start so most subscriptions have a long history.
        moment = self.window_start + int(self.rng.random() ** 1.6 * span)
        return min(moment + self.rng.randint(0, 3599), self.now - 3_600)

    # -- one subscription ----------------------------------------------------------------
    def _subscription(self, billing: Billing, start: int) -> int | None:
        rng = self.rng
        sub_id = self.ids.make("sub")
        billing.subscription = sub_id
        cadence = _weighted(rng, _CADENCE_WEIGHTS)
        fate = _weighted(rng, _FATE_WEIGHTS)
        # every 200th subscription (the first included) is a monthly bundle of 13 items
        bundle = self._subscriptions_made % 200 == 0
        self._subscriptions_made += 1
        if bundle:
            cadence, fate = ("month", 1), "active"
        if fate == "trialing":
            start = self.now - rng.randint(DAY, _TRIAL - DAY)
        timeline = self._timeline(start, cadence, fate)
        items = self._items(billing, sub_id, cadence, start, bundle)
        self._maybe_change(timeline, items, billing.currency, cadence)
        self._discounts(billing, sub_id, items, timeline, cadence)
        invoices = self._bill(billing, timeline, items, cadence)
        self._store_subscription(billing, sub_id, timeline, items, cadence, invoices)
        return timeline.ended_at

    def _timeline(self, start: int, cadence: tuple[str, int], fate: str) -> Timeline:
        rng = self.rng
        trial = fate in ("trialing", "paused") or rng.random() < 0.08
        trial_end = start + _TRIAL if trial else None
        anchor = trial_end or start
        line = Timeline(start, anchor, trial_end, fate, self.now)
        if fate == "paused":
            if anchor >= self.now:
                line.fate = "trialing"
            line.last_bill = start
            return line
        if anchor + 2 * DAY >= self.now:
            line.fate = "trialing" if anchor > self.now else "active"
            return line
        if fate == "canceled":
            self._cancel(line, cadence)
        elif fate == "pending_cancel":
            line.canceled_at = rng.randint(max(anchor, self.now - 20 * DAY), self.now - DAY)
            line.cancel_at = self._next_boundary(line, cadence, self.now)
        elif fate in ("past_due", "unpaid"):
            last = self._last_boundary(line, cadence, self.now)
            back = 1 if fate == "past_due" else 2
            line.open_from = self._boundary_before(line, cadence, last, back)
        elif fate == "pause_collection":
            line.void_from = self._boundary_before(line, cadence, self._last_boundary(
                line, cadence, self.now), rng.randint(1, 2))
        latest = (line.ended_at or self.now) - DAY
        if rng.random() < 0.12 and latest > anchor + DAY:
            line.change_at = rng.randint(anchor + DAY, latest)
        return line

    def _cancel(self, line: Timeline, cadence: tuple[str, int]) -> None:
        rng = self.rng
        moment = rng.randint(line.anchor + DAY, self.now - DAY)
        style = _weighted(rng, (("period_end", 60), ("immediate", 20), ("payment_failed", 20)))
        line.reason = "cancellation_requested"
        if style == "period_end":
            end = self._next_boundary(line, cadence, moment)
            if end >= self.now:
                line.fate, line.canceled_at, line.cancel_at = "pending_cancel", moment, end
                return
            line.canceled_at, line.cancel_at, line.ended_at = moment, end, end
        elif style == "immediate":
            line.canceled_at = line.ended_at = moment
        else:
            failing = self._last_boundary(line, cadence, moment)
            end = failing + 23 * DAY
            if end >= self.now:
                line.fate, line.open_from = "past_due", failing
                return
            line.open_from, line.canceled_at, line.ended_at = failing, end, end
            line.reason = "payment_failed"
        line.last_bill = line.ended_at - 1

    def _boundaries(self, line: Timeline, cadence: tuple[str, int], until: int) -> list[int]:
        """Period starts from the anchor up to and including the first one after `until`."""
        key = (line.anchor, cadence[0], cadence[1])
        found = self._bounds.get(key)
        if found is None or found[-1] <= until:
            found, k = [], 0
            while True:
                moment = period_boundary(line.anchor, cadence[0], cadence[1], k)
                found.append(moment)
                if moment > max(until, self.now):
                    break
                k += 1
            self._bounds = {key: found}
        return found[: bisect.bisect_right(found, until) + 1]

    def _last_boundary(self, line: Timeline, cadence: tuple[str, int], moment: int) -> int:
        return [b for b in self._boundaries(line, cadence, moment) if b <= moment][-1]

    def _next_boundary(self, line: Timeline, cadence: tuple[str, int], moment: int) -> int:
        return self._boundaries(line, cadence, moment)[-1]

    def _boundary_before(self, line: Timeline, cadence: tuple[str, int], last: int,
                         back: int) -> int:
        earlier = [b for b in self._boundaries(line, cadence, last) if b <= last]
        return earlier[max(0, len(earlier) - back)]

    def _items(self, billing: Billing, sub_id: str, cadence: tuple[str, int],
               start: int, bundle: bool) -> list[ItemPlan]:
        rng = self.rng
        plan = _weighted(rng, _PLAN_WEIGHTS)
        quantity = {"starter": 1 if rng.random() < 0.85 else rng.randint(2, 5),
                    "pro": 1 if rng.random() < 0.7 else rng.randint(2, 5),
                    "business": rng.randint(3, 40),
                    "enterprise": rng.randint(10, 80)}[plan]
        wanted: list[tuple[str, int | None]] = [(plan, quantity)]
        if rng.random() < 0.15:
            wanted.append(("seats", rng.randint(1, 10)))
        if rng.random() < 0.05:
            wanted.append(("api", None))
        if bundle:
            wanted.extend((spec.key, rng.randint(1, 3)) for spec in ADD_ONS)
        items = []
        for key, qty in wanted:
            price = self.catalog.price_index[(key, billing.currency, cadence[0], cadence[1])]
            items.append(ItemPlan(self.ids.make("si"), key, [Segment(start, price, qty)]))
        return items

    def _maybe_change(self, line: Timeline, items: list[ItemPlan], currency: str,
                      cadence: tuple[str, int]) -> None:
        if line.change_at is None:
            return
        base = items[0]
        old = base.segments[0]
        if base.product_key == "starter":
            price = self.catalog.price_index[("pro", currency, cadence[0], cadence[1])]
            base.segments.append(Segment(line.change_at, price, old.quantity))
            return
        quantity = old.quantity or 1
        step = max(1, quantity // 4)
        new_quantity = quantity + step if self.rng.random() < 0.65 else max(1, quantity - step)
        if new_quantity == quantity:
            new_quantity += 1
        base.segments.append(Segment(line.change_at, old.price, new_quantity))

    def _discounts(self, billing: Billing, sub_id: str, items: list[ItemPlan], line: Timeline,
                   cadence: tuple[str, int]) -> None:
        rng = self.rng
        draw = rng.random()
        if draw >= 0.19:
            return
        coupons = [c for c in self.catalog.coupons
                   if c["currency"] in (None, billing.currency)]
        coupon = rng.choice(coupons)
        start = line.start
        if rng.random() < 0.3:
            later = [b for b in self._boundaries(line, cadence, self.now) if b < self.now]
            if len(later) > 2:
                start = rng.choice(later[1:]) - rng.randint(60, 3_600)
        end = add_months(start, coupon["duration_in_months"]) if coupon[
            "duration"] == "repeating" else None
        item = items[0].si if draw >= 0.15 else None
        disc = so.discount(self.ids.make("di"), coupon, billing.customer["id"], sub_id, item,
                           start, end)
        self.account.load("discounts", disc)
        if item is None:
            billing.discounts.append((disc, coupon))
        else:
            items[0].discounts.append((disc, coupon))
            billing.item_discounts[item] = items[0].discounts

    # -- invoices ------------------------------------------------------------------------
    def _amount(self, price: Obj, quantity: int) -> int:
        key = (price["id"], quantity)
        found = self._amounts.get(key)
        if found is None:
            found = price_amount(price, quantity)
            self._amounts[key] = found
        return found

    def _bill(self, billing: Billing, line: Timeline, items: list[ItemPlan],
              cadence: tuple[str, int]) -> list[BuiltInvoice]:
        invoices: list[BuiltInvoice] = []
        if line.trial_end is not None:
            specs = [self._trial_line(item, line) for item in items if not item.metered]
            invoices.append(self._invoice(billing, line, line.start, specs, "subscription_create",
                                          (line.start, line.start), []))
        bounds = self._boundaries(line, cadence, line.last_bill)
        onboarding = self.rng.random() < 0.05
        for k in range(len(bounds) - 1):
            moment = bounds[k]
            if moment > line.last_bill:
                break
            specs = self._cycle_lines(items, bounds, k, line)
            if onboarding and k == 0:
                specs.append(self._onboarding_line(billing, moment))
            reason = "subscription_cycle" if k or line.trial_end else "subscription_create"
            period = (bounds[k - 1] if k else moment, moment)
            invoices.append(self._invoice(billing, line, moment, specs, reason, period, invoices))
        return invoices

    def _trial_line(self, item: ItemPlan, line: Timeline) -> LineSpec:
        segment = item.at(line.start)
        product = self._product_name(segment.price)
        return LineSpec(segment.price, segment.quantity or 1, 0, (line.start, line.anchor),
                        f"Trial period for {product}", subscription_item=item.si)

    def _product_name(self, price: Obj) -> str:
        return self._names[price["product"]]

    def _cycle_lines(self, items: list[ItemPlan], bounds: list[int], k: int,
                     line: Timeline) -> list[LineSpec]:
        start, end = bounds[k], bounds[k + 1]
        specs: list[LineSpec] = []
        change = line.change_at
        if change is not None and k and bounds[k - 1] < change <= start:
            specs.extend(self._proration_lines(items[0], change, bounds[k - 1], start))
        for item in items:
            if item.metered:
                if k:
                    specs.append(self._usage_line(item, bounds[k - 1], start))
                continue
            segment = item.at(start)
            quantity = segment.quantity or 1
            amount = self._amount(segment.price, quantity)
            name = self._product_name(segment.price)
            specs.append(LineSpec(segment.price, quantity, amount, (start, end),
                                  f"{quantity} × {name}", subscription_item=item.si))
        return specs

    def _proration_lines(self, item: ItemPlan, change: int, period_start: int,
                         period_end: int) -> list[LineSpec]:
        before, after = item.at(change - 1), item.at(change)
        left, length = period_end - change, period_end - period_start
        old_q, new_q = before.quantity or 1, after.quantity or 1
        credit = prorated(self._amount(before.price, old_q), left, length)
        debit = prorated(self._amount(after.price, new_q), left, length)
        name_old, name_new = self._product_name(before.price), self._product_name(after.price)
        return [
            LineSpec(before.price, old_q, -credit, (change, period_end),
                     f"Unused time on {old_q} × {name_old}", subscription_item=item.si,
                     invoice_item=self.ids.make("ii"), proration=True),
            LineSpec(after.price, new_q, debit, (change, period_end),
                     f"Remaining time on {new_q} × {name_new}", subscription_item=item.si,
                     invoice_item=self.ids.make("ii"), proration=True),
        ]

    def _usage_line(self, item: ItemPlan, start: int, end: int) -> LineSpec:
        price = item.segments[0].price
        usage = self.rng.randint(100, 20_000)
        return LineSpec(price, usage, self._amount(price, usage), (start, end),
                        f"{usage} × API calls", subscription_item=item.si)

    def _onboarding_line(self, billing: Billing, moment: int) -> LineSpec:
        price = self.catalog.price_index[("onboarding", billing.currency, "", 0)]
        return LineSpec(price, 1, self._amount(price, 1), (moment, moment), "Onboarding",
                        invoice_item=self.ids.make("ii"))

    def _outcome(self, line: Timeline, moment: int) -> Outcome:
        if moment > self.now - FINALIZE_DELAY:
            return Outcome("draft")
        if line.void_from is not None and moment >= line.void_from:
            return Outcome("void", moment + FINALIZE_DELAY)
        if line.open_from is not None and moment >= line.open_from:
            if line.reason == "payment_failed":
                return Outcome("uncollectible", line.ended_at)
            return Outcome("open")
        return Outcome("paid", moment + FINALIZE_DELAY + 60)

    def _invoice(self, billing: Billing, line: Timeline, moment: int, specs: list[LineSpec],
                 reason: str, period: tuple[int, int], earlier: list[BuiltInvoice]
                 ) -> BuiltInvoice:
        customer = billing.customer
        seq = self.invoice_seq.get(customer["id"], 0) + 1
        self.invoice_seq[customer["id"]] = seq
        number = f"{customer['invoice_prefix']}-{seq:04d}"
        saved = billing.discounts, billing.item_discounts
        billing.discounts = self._active(billing.discounts, moment, earlier)
        billing.item_discounts = {k: self._active(v, moment, earlier)
                                  for k, v in billing.item_discounts.items()}
        outcome = self._outcome(line, moment)
        credited = 0
        if outcome.status == "paid" and specs[-1].amount > 1 and self.rng.random() < 0.02:
            credited = specs[-1].amount // 2
        built = build_invoice(self.ids, billing, moment, specs, reason, outcome, number, period,
                              credited)
        billing.discounts, billing.item_discounts = saved
        self.account.load_written("invoices", built.id, moment, built.meta, built.body)
        self.account.nested[built.id] = Nested(built.line_ids, built.line_blobs)
        if credited:
            self._credit_note(built, billing.currency, customer["id"], credited)
        self._invoice_events(built)
        return built

    def _active(self, pairs: list[tuple[Obj, Obj]], moment: int,
                earlier: list[BuiltInvoice]) -> list[tuple[Obj, Obj]]:
        active = []
        for disc, coupon in pairs:
            if disc["start"] > moment or (disc["end"] is not None and moment >= disc["end"]):
                continue
            if coupon["duration"] == "once" and any(
                    inv.created >= disc["start"] for inv in earlier):
                continue
            active.append((disc, coupon))
        return active

    def _invoice_events(self, invoice: BuiltInvoice) -> None:
        created = invoice.created
        if created < self.account.event_horizon():
            return
        self._event(created, "invoice.created", "invoices", invoice.id)
        transitions = invoice.status_transitions
        for kind, moment in (("invoice.finalized", transitions["finalized_at"]),
                             ("invoice.paid", transitions["paid_at"]),
                             ("invoice.voided", transitions["voided_at"]),
                             ("invoice.marked_uncollectible",
                              transitions["marked_uncollectible_at"])):
            if moment is not None and moment <= self.now:
                self._event(moment, kind, "invoices", invoice.id)

    def _credit_note(self, invoice: BuiltInvoice, currency: str, customer_id: str,
                     amount: int) -> None:
        line_id, _, description = invoice.last_line
        created = min(self.now - 1, invoice.created + self.rng.randint(DAY, 20 * DAY))
        cn_id = self.ids.make("cn")
        note = so.credit_note({
            "id": cn_id,
            "amount": amount,
            "created": created,
            "currency": currency,
            "customer": customer_id,
            "effective_at": created,
            "invoice": invoice.id,
            "number": f"{invoice.number}-CN-01",
            "pdf": f"https://pay.stripe.test/credit_notes/{cn_id}/pdf",
            "post_payment_amount": amount,
            "reason": "product_unsatisfactory",
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "total": amount,
            "total_excluding_tax": amount,
            "total_taxes": [],
        })
        self.account.set_children(cn_id, [{
            "id": self.ids.make("cnli"),
            "object": "credit_note_line_item",
            "amount": amount,
            "description": description,
            "discount_amount": 0,
            "discount_amounts": [],
            "invoice_line_item": line_id,
            "livemode": False,
            "metadata": {},
            "pretax_credit_amounts": [],
            "quantity": 1,
            "tax_rates": [],
            "taxes": [],
            "type": "invoice_line_item",
            "unit_amount": amount,
            "unit_amount_decimal": str(amount),
        }])
        self.account.load("credit_notes", note)
        if created >= self.account.event_horizon():
            self._event(created, "credit_note.created", "credit_notes", cn_id)

    # -- the subscription object ---------------------------------------------------------
    def _store_subscription(self, billing: Billing, sub_id: str, line: Timeline,
                            items: list[ItemPlan], cadence: tuple[str, int],
                            invoices: list[BuiltInvoice]) -> None:
        status = self._status(line)
        period = self._current_period(line, cadence)
        blobs = []
        for item in items:
            segment = item.at(self.now)
            discounts = [d["id"] for d, _ in self._active(item.discounts, self.now, invoices)]
            quantity = "null" if segment.quantity is None else segment.quantity
            # written directly: items are many, and their price and plan JSON is shared
            blob = (
                f'{{"id":"{item.si}","object":"subscription_item","billing_thresholds":null,'
                f'"created":{line.start},"current_period_end":{period[1]},'
                f'"current_period_start":{period[0]},"discounts":{encode(discounts).decode()},'
                f'"metadata":{{}},{self._price_json(segment.price)},"quantity":{quantity},'
                f'"subscription":"{sub_id}","tax_rates":[]}}').encode()
            self.account.load_written("subscription_items", item.si, line.start, (sub_id,), blob)
            blobs.append(blob)
        self.account.nested[sub_id] = Nested([item.si for item in items], blobs)
        reason = line.reason if line.canceled_at is not None else None
        if line.fate == "pending_cancel":
            reason = "cancellation_requested"
        fields = {
            "id": sub_id,
            "billing_cycle_anchor": line.anchor,
            "cancel_at": line.cancel_at,
            "cancel_at_period_end": line.cancel_at is not None,
            "canceled_at": line.canceled_at,
            "cancellation_details": {"comment": None, "feedback": None, "reason": reason},
            "created": line.start,
            "currency": billing.currency,
            "customer": billing.customer["id"],
            "discounts": [d["id"] for d, _ in self._active(billing.discounts, self.now, invoices)],
            "ended_at": line.ended_at,
            "latest_invoice": invoices[-1].id if invoices else None,
            "pause_collection": None,
            "start_date": line.start,
            "status": status,
            "test_clock": billing.test_clock,
            "trial_end": line.trial_end,
            "trial_start": line.start if line.trial_end else None,
        }
        if line.fate == "pause_collection":
            fields["pause_collection"] = {"behavior": "void", "resumes_at": (
                None if self.rng.random() < 0.5 else self.now + self.rng.randint(DAY, 60 * DAY))}
        self.account.load("subscriptions", so.subscription(fields), compact=True)
        self._event(line.start, "customer.subscription.created", "subscriptions", sub_id)
        if line.ended_at is not None:
            self._event(line.ended_at, "customer.subscription.deleted", "subscriptions", sub_id)
        elif line.canceled_at is not None:
            self._event(line.canceled_at, "customer.subscription.updated", "subscriptions", sub_id,
                        None, {"cancel_at_period_end": False, "cancel_at": None,
                               "canceled_at": None})

    def _price_json(self, price: Obj) -> str:
        found = self._price_fragments.get(price["id"])
        if found is None:
            found = (f'"plan":{encode(so.plan_of(price)).decode()},'
                     f'"price":{encode(price).decode()}')
            self._price_fragments[price["id"]] = found
        return found

    def _status(self, line: Timeline) -> str:
        if line.ended_at is not None:
            return "canceled"
        if line.fate in ("trialing", "paused") and line.trial_end is not None:
            return "trialing" if line.trial_end > self.now else "paused"
        if line.fate in ("past_due", "unpaid") and line.open_from is not None:
            return line.fate
        return "active"

    def _current_period(self, line: Timeline, cadence: tuple[str, int]) -> tuple[int, int]:
        if line.trial_end is not None and line.trial_end > self.now:
            return line.start, line.trial_end
        if line.fate == "paused":
            return line.start, line.anchor
        moment = min(self.now, line.ended_at - 1) if line.ended_at else self.now
        bounds = self._boundaries(line, cadence, moment)
        return bounds[-2], bounds[-1]

    # -- events --------------------------------------------------------------------------
    def _event(self, moment: int, kind: str, resource: str, object_id: str,
               snapshot: Obj | None = None, previous: Obj | None = None) -> None:
        if moment < self.account.event_horizon() or moment > self.now:
            return
        self.events.append((moment, kind, resource, object_id, snapshot))
        if previous is not None:
            self._previous[(moment, kind, object_id)] = previous

    def _emit_events(self) -> None:
        account = self.account
        self.events.sort(key=lambda e: (e[0], e[2], e[3], e[1]))
        for moment, kind, resource, object_id, stub in self.events:
            if stub is not None:
                snapshot: tuple[bytes, ...] = (encode(stub),)
            elif object_id in self._gone:
                snapshot = self._gone[object_id]
            else:
                snapshot = account.full_parts(resource, object_id)
            previous = self._previous.get((moment, kind, object_id))
            account.load_event(self.ids.make("evt"), moment, kind, snapshot, previous)


def generate_account(seed: int = 0, n_subscriptions: int = 1_000, months: int = 12,
                     now: int = DEFAULT_NOW) -> Account:
    """A synthetic account with `n_subscriptions` subscriptions and `months` of history."""
    # Millions of short-lived dicts and no cycles: the cyclic collector would only slow this down.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Generator(GenerationSpec(seed, n_subscriptions, months, now)).run()
    finally:
        if collecting:
            gc.enable()
