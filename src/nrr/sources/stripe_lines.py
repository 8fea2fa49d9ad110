"""Stripe objects (plain dicts) -> canonical revenue lines, customers and customer attributes.

Pure functions: no network, no database, no clock. Stripe's subscription object shows only the
present, so history comes from the recurring invoice lines; the present and the known future
(scheduled cancellation, trial end, resumption, discount end) come from the subscription.
docs/stripe.md explains every rule with a worked example.

Both invoice shapes are read: the older one (``line.price``, ``line.subscription_item``,
``line.proration``, ``tax_amounts``) and the 2025 one (``line.pricing``, ``line.parent``,
``taxes``).
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

Obj = Mapping[str, Any]
Row = dict[str, Any]

SOURCE = "stripe"
# Invoices whose recurring lines are revenue: paid, or open (still owed, i.e. past due).
COUNTED_INVOICE_STATUSES = frozenset({"paid", "open"})
LIVE_STATUSES = frozenset({"active", "past_due", "trialing"})
NEVER_STARTED = frozenset({"incomplete", "incomplete_expired"})
_ONE = Fraction(1)
_MONTHS_PER = {"month": Fraction(1), "year": Fraction(12), "week": Fraction(12, 52),
               "day": Fraction(12, 365)}  # fmt: skip


# -- small readers -------------------------------------------------------------------------------
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def day(ts: int | None) -> date | None:
    """A Unix timestamp as its UTC calendar day (Stripe periods start and end on one second)."""
    return None if ts is None else date.fromordinal(_EPOCH_DAY + int(ts) // 86_400)


def ref_id(value: Any) -> str | None:
    """The id of a field that is either an id or an expanded object."""
    if value is None or isinstance(value, str):
        return value
    return str(value.get("id")) if isinstance(value, Mapping) else None


def round_half_up(value: Fraction) -> int:
    """Round to integer minor units, halves away from zero (so a discount rounds like its price)."""
    num, den = value.numerator, value.denominator
    magnitude = (2 * abs(num) + den) // (2 * den)
    return magnitude if num >= 0 else -magnitude


def months_per_interval(interval: str, interval_count: int = 1) -> Fraction:
    """How many months one billing interval spans: year 12, week 52/12, day 365/12, × count."""
    key = (interval, int(interval_count or 1))
    months = _MONTHS_CACHE.get(key)
    if months is None:  # a handful of distinct intervals: each fraction is built once
        months = _MONTHS_CACHE[key] = _MONTHS_PER[interval] * max(key[1], 1)
    return months


_MONTHS_CACHE: dict[tuple[str, int], Fraction] = {}


def monthly(amount: Fraction | int, interval: str, interval_count: int = 1) -> Fraction:
    """An amount per billing interval normalised to one month (not yet rounded)."""
    months = months_per_interval(interval, interval_count)
    if isinstance(amount, int):  # the common case, one exact fraction built once
        return Fraction(amount * months.denominator, months.numerator)
    return Fraction(amount) / months


def interval_from_days(days: int) -> tuple[str, int]:
    """Best guess of a billing interval from a service period's length (price unknown)."""
    if days <= 1:
        return "day", 1
    if days % 7 == 0 and days < 28:
        return "week", days // 7
    if days >= 360:
        return "year", max(round(days / 365), 1)
    return "month", max(round(days / 30.44), 1)


# -- prices --------------------------------------------------------------------------------------
def _decimal(obj: Obj, key: str) -> Fraction:
    exact = obj.get(f"{key}_decimal")
    if exact not in (None, ""):
        return Fraction(Decimal(str(exact)))
    return Fraction(int(obj.get(key) or 0))


def _transformed(price: Obj, quantity: int) -> int:
    transform = price.get("transform_quantity")
    if not transform:
        return quantity
    ratio = Fraction(quantity, int(transform["divide_by"]))
    return math.ceil(ratio) if transform.get("round") == "up" else math.floor(ratio)


def _tier_bounds(tiers: list[Obj]) -> list[tuple[float, Obj]]:
    return [(math.inf if t.get("up_to") in (None, "inf") else int(t["up_to"]), t) for t in tiers]


def _volume(tiers: list[Obj], quantity: int) -> Fraction:
    for up_to, tier in _tier_bounds(tiers):
        if quantity <= up_to:
            return _decimal(tier, "unit_amount") * quantity + _decimal(tier, "flat_amount")
    return Fraction(0)


def _graduated(tiers: list[Obj], quantity: int) -> Fraction:
    total, below = Fraction(0), 0
    for up_to, tier in _tier_bounds(tiers):
        if quantity <= below:
            break
        units = int(min(quantity, up_to)) - below
        total += _decimal(tier, "unit_amount") * units + _decimal(tier, "flat_amount")
        below = int(min(quantity, up_to)) if up_to != math.inf else quantity
    return total


def price_amount(price: Obj, quantity: int) -> Fraction:
    """Gross amount per billing interval of ``quantity`` units (tiers at the licensed quantity)."""
    if price.get("billing_scheme") == "tiered":
        tiers = list(price.get("tiers") or [])
        if price.get("tiers_mode") == "volume":
            return _volume(tiers, quantity)
        return _graduated(tiers, quantity)
    return _decimal(price, "unit_amount") * _transformed(price, quantity)


def price_interval(price: Obj | None) -> tuple[str, int] | None:
    recurring = (price or {}).get("recurring")
    if not recurring:
        return None
    return str(recurring["interval"]), int(recurring.get("interval_count") or 1)


def is_metered(price: Obj | None) -> bool:
    return bool(((price or {}).get("recurring") or {}).get("usage_type") == "metered")


# -- the catalog (lookups across objects) --------------------------------------------------------
@dataclass(frozen=True)
class Catalog:
    """Prices, products, coupons and discounts by id, for lines that carry only ids."""

    prices: Mapping[str, Obj] = field(default_factory=dict)
    products: Mapping[str, Obj] = field(default_factory=dict)
    coupons: Mapping[str, Obj] = field(default_factory=dict)
    discounts: Mapping[str, Obj] = field(default_factory=dict)

    def price(self, value: Any) -> Obj | None:
        """The fullest version of a price: the listed one (with tiers) over an embedded copy."""
        listed = self.prices.get(ref_id(value) or "")
        if listed is not None:
            return listed
        return value if isinstance(value, Mapping) else None

    def plan(self, price: Obj | None) -> str | None:
        if price is None:
            return None
        product = self.products.get(ref_id(price.get("product")) or "")
        if product and product.get("name"):
            return str(product["name"])
        return price.get("nickname") or price.get("lookup_key") or price.get("id")

    def coupon(self, discount: Obj) -> Obj:
        coupon = discount.get("coupon") or (discount.get("source") or {}).get("coupon")
        if isinstance(coupon, Mapping):
            return coupon
        return self.coupons.get(coupon or "", {})


def discount_objects(objects: Iterable[Obj]) -> dict[str, Obj]:
    """Every expanded discount object (``di_…``) found on subscriptions, customers and invoices."""
    found: dict[str, Obj] = {}
    for obj in objects:
        candidates = [obj.get("discount"), *(obj.get("discounts") or [])]
        for nested in ("items", "lines"):
            for entry in (obj.get(nested) or {}).get("data") or []:
                candidates.extend(entry.get("discounts") or [])
        for disc in candidates:
            if isinstance(disc, Mapping) and disc.get("id"):
                found[str(disc["id"])] = disc
    return found


# -- invoice lines -> facts ----------------------------------------------------------------------
def _line_parent(line: Obj) -> Obj:
    return ((line.get("parent") or {}).get("subscription_item_details")) or {}


def _line_price(line: Obj) -> Any:
    if line.get("price") is not None:
        return line["price"]
    details = (line.get("pricing") or {}).get("price_details") or {}
    return details.get("price")


def _line_is_subscription(line: Obj) -> bool:
    if "parent" in line and line.get("parent") is not None:
        return (line["parent"] or {}).get("type") == "subscription_item_details"
    return line.get("type") == "subscription"


def _inclusive_tax(line: Obj) -> int:
    legacy = sum(
        int(t.get("amount") or 0) for t in line.get("tax_amounts") or [] if t.get("inclusive")
    )
    modern = sum(
        int(t.get("amount") or 0)
        for t in line.get("taxes") or []
        if t.get("tax_behavior") == "inclusive"
    )
    return legacy + modern


def _net_amount(line: Obj) -> int:
    if line.get("amount_excluding_tax") is not None:
        return int(line["amount_excluding_tax"])
    return int(line.get("amount") or 0) - _inclusive_tax(line)


def invoice_subscription(invoice: Obj) -> str | None:
    legacy = ref_id(invoice.get("subscription"))
    if legacy:
        return legacy
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return ref_id(details.get("subscription"))


def line_facts(invoice: Obj) -> list[Row]:
    """The subscription lines of one invoice as small flat records (one-time items left out)."""
    facts: list[Row] = []
    lines = (invoice.get("lines") or {}).get("data") or []
    if not lines:
        return facts
    # What every line of the invoice shares, read once (a sync reads every line of a year).
    invoice_id, status, created = invoice["id"], invoice.get("status"), invoice.get("created")
    customer, currency = ref_id(invoice.get("customer")), invoice.get("currency")
    subscription = invoice_subscription(invoice)
    for line in lines:
        if not _line_is_subscription(line):
            continue
        parent = _line_parent(line)
        period = line.get("period") or {}
        facts.append({
            "id": line["id"],
            "invoice": invoice_id,
            "invoice_status": status,
            "invoice_created": created,
            "subscription": ref_id(line.get("subscription")) or ref_id(parent.get("subscription"))
            or subscription,
            "item": ref_id(line.get("subscription_item"))
            or ref_id(parent.get("subscription_item")),
            "customer": customer,
            "currency": str(line.get("currency") or currency or "").upper(),
            "start": period.get("start"),
            "end": period.get("end"),
            "amount": int(line.get("amount") or 0),
            "net": _net_amount(line),
            "price": _line_price(line),
            "quantity": int(line.get("quantity") or 0),
            "proration": bool(line.get("proration") or parent.get("proration")),
            "discounts": [[ref_id(d.get("discount")), int(d.get("amount") or 0)]
                          for d in line.get("discount_amounts") or () if d.get("amount")],
        })  # fmt: skip
    return facts


# -- segments ------------------------------------------------------------------------------------
# NamedTuples rather than frozen dataclasses: a derivation builds one segment per invoice line,
# and a tuple is built several times faster.
class _Discount(NamedTuple):
    discount_id: str
    monthly: Fraction  # > 0: how much it takes off per month
    duration: str
    end: date | None


class _Segment(NamedTuple):
    """One stretch of one subscription item at one price and quantity."""

    start: date
    period_end: date | None
    mrr: Fraction
    kind: str
    plan: str | None
    quantity: int
    line_id: str
    source_ref: str
    price_id: str | None
    discounts: tuple[_Discount, ...] = ()
    from_invoice: bool = True


@dataclass(frozen=True)
class _SubscriptionEnd:
    end: date | None  # first day without revenue; None = no end known
    requested: date | None
    reason: str | None


def _discount_meta(discount_id: str, catalog: Catalog) -> tuple[str, date | None]:
    """(duration, end day) of a discount; an unknown one counts as forever with no end."""
    disc = catalog.discounts.get(discount_id)
    if disc is None:
        coupon = catalog.coupons.get(discount_id, {})
        return str(coupon.get("duration") or "forever"), None
    coupon = catalog.coupon(disc)
    return str(coupon.get("duration") or "forever"), day(disc.get("end"))


def _fact_interval(fact: Obj, price: Obj | None) -> tuple[str, int]:
    known = price_interval(price)
    if known:
        return known
    return interval_from_days((int(fact["end"]) - int(fact["start"])) // 86_400)


def _fact_segment(fact: Obj, catalog: Catalog) -> _Segment:
    price = catalog.price(fact["price"])
    interval, count = _fact_interval(fact, price)
    amount, net = int(fact["amount"]), int(fact["net"])
    discounts = []
    for discount_id, taken in fact["discounts"]:  # most lines have none
        net_share = Fraction(net, amount) if amount else _ONE
        duration, end = _discount_meta(discount_id, catalog)
        discounts.append(
            _Discount(discount_id, monthly(taken * net_share, interval, count), duration, end)
        )
    return _Segment(
        start=day(fact["start"]) or date.min, period_end=day(fact["end"]),
        mrr=monthly(net, interval, count), kind="metered" if is_metered(price) else "recurring",
        plan=catalog.plan(price), quantity=int(fact["quantity"]), line_id=fact["id"],
        source_ref=f"{fact['invoice']}/{fact['id']}", price_id=ref_id(fact["price"]),
        discounts=tuple(discounts),
    )  # fmt: skip


def _tax_share(price: Obj, item: Obj, sub: Obj, last_fact: Obj | None) -> Fraction:
    """Net share of a gross price: 1 unless the price includes tax."""
    if price.get("tax_behavior") != "inclusive":
        return Fraction(1)
    rates = [r for r in (item.get("tax_rates") or sub.get("default_tax_rates") or [])
             if isinstance(r, Mapping) and r.get("inclusive")]  # fmt: skip
    if rates:
        percent = sum(Fraction(Decimal(str(r.get("percentage") or 0))) for r in rates)
        return 1 / (1 + percent / 100)
    if last_fact and last_fact["amount"]:
        return Fraction(int(last_fact["net"]), int(last_fact["amount"]))
    return Fraction(1)


def _price_discounts(
    sub: Obj, item: Obj, mrr: Fraction, interval: tuple[str, int], catalog: Catalog, start: date
) -> tuple[_Discount, ...]:
    """Discounts the subscription (or the item) carries now, as monthly amounts off ``mrr``.

    A subscription-wide amount off is taken once, on the subscription's first item; a ``once``
    discount covers one billing interval from the segment's start.
    """
    first_item = item.get("id") == min((str(i.get("id")) for i in _items(sub)), default=None)
    refs = [(d, True) for d in [sub.get("discount"), *(sub.get("discounts") or [])] if d]
    refs += [(d, False) for d in item.get("discounts") or [] if d]
    seen, out = set(), []
    for ref, subscription_wide in refs:
        disc = ref if isinstance(ref, Mapping) else catalog.discounts.get(ref, {})
        coupon = catalog.coupon(disc) if disc else {}
        if not disc or disc.get("id") in seen or not coupon:
            continue
        seen.add(disc.get("id"))
        if subscription_wide and coupon.get("percent_off") is None and not first_item:
            continue
        off = _coupon_off(coupon, mrr, interval, str(sub.get("currency") or ""))
        duration = str(coupon.get("duration") or "forever")
        ends = [
            e
            for e in (
                day(disc.get("end")),
                add_interval(start, *interval) if duration == "once" else None,
            )
            if e
        ]
        if off:
            out.append(
                _Discount(str(disc.get("id")), min(off, mrr), duration, min(ends, default=None))
            )
    return tuple(out)


def _items(sub: Obj) -> list[Obj]:
    return list((sub.get("items") or {}).get("data") or [])


def add_interval(start: date, interval: str, count: int = 1) -> date:
    """The day one billing interval after ``start`` (month ends clamp, as Stripe bills)."""
    if interval in ("day", "week"):
        return start + timedelta(days=count * (7 if interval == "week" else 1))
    months = start.month - 1 + count * (12 if interval == "year" else 1)
    year, month = start.year + months // 12, months % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _coupon_off(coupon: Obj, mrr: Fraction, interval: tuple[str, int], currency: str) -> Fraction:
    if coupon.get("percent_off") is not None:
        return mrr * Fraction(Decimal(str(coupon["percent_off"]))) / 100
    if coupon.get("amount_off") and str(coupon.get("currency", "")).upper() == currency.upper():
        return monthly(int(coupon["amount_off"]), *interval)
    return Fraction(0)


def _price_segment(
    sub: Obj,
    item: Obj,
    price: Obj,
    quantity: int,
    start: date,
    *,
    line_id: str,
    source_ref: str,
    catalog: Catalog,
    last_fact: Obj | None,
) -> _Segment | None:
    interval = price_interval(price)
    if interval is None:
        return None
    gross = price_amount(price, quantity)
    mrr = monthly(gross * _tax_share(price, item, sub, last_fact), *interval)
    return _Segment(
        start=start, period_end=None, mrr=mrr,
        kind="metered" if is_metered(price) else "recurring", plan=catalog.plan(price),
        quantity=quantity, line_id=line_id, source_ref=source_ref, price_id=price.get("id"),
        discounts=_price_discounts(sub, item, mrr, interval, catalog, start),
        from_invoice=False,
    )  # fmt: skip


# -- one subscription ----------------------------------------------------------------------------
def subscription_end(sub: Obj, paid_facts: list[Obj]) -> _SubscriptionEnd:
    """When the subscription stops bringing revenue, when that was asked for, and why."""
    status = sub.get("status")
    reason = "involuntary" if _failed_payment(sub) else "voluntary"
    requested = day(sub.get("canceled_at"))
    if status == "canceled":
        return _SubscriptionEnd(
            day(sub.get("ended_at") or sub.get("canceled_at")), requested, reason
        )
    if status == "unpaid":
        last = max((day(f["end"]) for f in paid_facts if f["end"]), default=None)
        return _SubscriptionEnd(last, requested or last, "involuntary")
    scheduled = sub.get("cancel_at")
    if scheduled is None and sub.get("cancel_at_period_end"):
        scheduled = _current_period_end(sub)
    if scheduled is not None:
        return _SubscriptionEnd(day(scheduled), requested, reason)
    return _SubscriptionEnd(None, None, None)


def _failed_payment(sub: Obj) -> bool:
    details = sub.get("cancellation_details") or {}
    return details.get("reason") == "payment_failed" or sub.get("status") == "unpaid"


def _current_period_end(sub: Obj) -> int | None:
    if sub.get("current_period_end"):
        return int(sub["current_period_end"])
    ends = [i.get("current_period_end") for i in (sub.get("items") or {}).get("data") or []]
    return max((int(e) for e in ends if e), default=None)


def past_due_since(sub: Obj, facts: list[Obj]) -> date | None:
    """First day the subscription was past due: the creation of its oldest open invoice."""
    if sub.get("status") != "past_due":
        return None
    created = [f["invoice_created"] for f in facts if f["invoice_status"] == "open"]
    return day(min(created)) if created else day(sub.get("current_period_start"))


def _item_segments(
    sub: Obj, item: Obj | None, item_id: str, facts: list[Obj], catalog: Catalog
) -> list[_Segment]:
    """Invoice history of one item, its mid-period changes, and its present and known future."""
    regular = sorted((f for f in facts if not f["proration"] and f["start"]),
                     key=lambda f: (f["start"], f["id"]))  # fmt: skip
    segments = [_fact_segment(f, catalog) for f in regular]
    segments += _proration_segments(sub, item, facts, regular, catalog)
    segments.sort(key=lambda s: (s.start, s.from_invoice))
    last_fact = regular[-1] if regular else None
    segments += _future_segments(sub, item, item_id, segments, last_fact, catalog)
    return segments


def _proration_segments(
    sub: Obj, item: Obj | None, facts: list[Obj], regular: list[Obj], catalog: Catalog
) -> list[_Segment]:
    """A change inside a billing period starts on its proration line's period start.

    The proration amount is never MRR: the new MRR is the price at the new quantity.
    """
    out = []
    starts = {f["start"] for f in regular}
    for fact in facts:
        if not fact["proration"] or fact["amount"] <= 0 or fact["start"] in starts:
            continue
        price = catalog.price(fact["price"])
        if price is None:
            continue
        seg = _price_segment(sub, item or {}, price, int(fact["quantity"]),
                             day(fact["start"]) or date.min, line_id=fact["id"],
                             source_ref=f"{fact['invoice']}/{fact['id']}", catalog=catalog,
                             last_fact=regular[-1] if regular else None)  # fmt: skip
        if seg is not None:
            out.append(seg._replace(period_end=day(fact["end"])))
    return out


def _future_segments(
    sub: Obj,
    item: Obj | None,
    item_id: str,
    segments: list[_Segment],
    last_fact: Obj | None,
    catalog: Catalog,
) -> list[_Segment]:
    """What the subscription adds beyond its invoices: a trial end, a resumption, a change."""
    if item is None:
        return []
    price = catalog.price(item.get("price"))
    if price is None or is_metered(price):  # future usage is unknown: only billed usage counts
        return []
    quantity = int(item.get("quantity") if item.get("quantity") is not None else 1)
    ref = f"{sub['id']}/{item_id}"
    start = _future_start(sub, segments, price, quantity)
    if start is None:
        return []
    suffix = "" if start[1] == "change" else f"#{start[1]}"
    seg = _price_segment(
        sub,
        item,
        price,
        quantity,
        start[0],
        line_id=f"{item_id}{suffix}",
        source_ref=ref,
        catalog=catalog,
        last_fact=last_fact,
    )
    return [seg] if seg is not None else []


def _future_start(
    sub: Obj, segments: list[_Segment], price: Obj, quantity: int
) -> tuple[date, str] | None:
    status = sub.get("status")
    if status == "trialing" and sub.get("trial_end"):
        return day(sub["trial_end"]) or date.min, "trial_end"
    pause = sub.get("pause_collection")
    if pause:
        resumes = day(pause.get("resumes_at"))
        return (resumes, "resume") if resumes else None
    if status not in LIVE_STATUSES:
        return None
    if not segments:
        start = day(sub.get("start_date") or sub.get("created"))
        return (start, "change") if start else None
    last = segments[-1]
    if last.price_id == price.get("id") and last.quantity == quantity:
        return None
    # A change without a proration line is billed from the next period on.
    return (last.period_end or last.start), "change"


def _chain(
    segments: list[_Segment], open_ended: bool, item_end: date | None
) -> list[tuple[_Segment, date | None]]:
    """Each segment lasts until the next one starts (or its period ends, leaving a gap)."""
    out: list[tuple[_Segment, date | None]] = []
    for i, seg in enumerate(segments):
        if i + 1 < len(segments):
            nxt = segments[i + 1].start
            end = min(seg.period_end, nxt) if seg.period_end else nxt
        elif seg.kind == "metered" or not open_ended:
            end = seg.period_end
        else:
            end = None
        if item_end is not None:
            end = item_end if end is None else min(end, item_end)
        if end is None or end > seg.start:
            out.append((seg, end))
    return out


def _removed_item_end(facts: list[Obj], regular_end: date | None) -> date | None:
    """An item gone from the subscription ends at its last credit for unused time, if any."""
    credits = [day(f["start"]) for f in facts if f["proration"] and f["amount"] < 0 and f["start"]]
    latest = max((c for c in credits if c), default=None)
    if latest and (regular_end is None or latest < regular_end):
        return latest
    return regular_end


def subscription_lines(sub: Obj, facts: list[Obj], catalog: Catalog) -> list[Row]:
    """Revenue lines of one subscription from its invoice line facts and its present state."""
    if sub.get("status") in NEVER_STARTED:
        return []
    counted = [f for f in facts if f["invoice_status"] in COUNTED_INVOICE_STATUSES]
    if sub.get("status") == "unpaid":
        counted = [f for f in counted if f["invoice_status"] == "paid"]
    ending = subscription_end(sub, counted)
    open_ended = sub.get("status") in LIVE_STATUSES and not sub.get("pause_collection")
    items = {str(i["id"]): i for i in (sub.get("items") or {}).get("data") or []}
    by_item: dict[str, list[Obj]] = defaultdict(list)
    for fact in counted:
        by_item[fact["item"] or f"{sub['id']}#unknown"].append(fact)
    context = _RowContext(sub, ending, past_due_since(sub, facts))
    rows: list[Row] = []
    for item_id in sorted(set(by_item) | set(items)):
        rows += _item_rows(
            sub, item_id, items.get(item_id), by_item.get(item_id, []), catalog, open_ended, context
        )
    return rows


def _item_rows(
    sub: Obj,
    item_id: str,
    item: Obj | None,
    facts: list[Obj],
    catalog: Catalog,
    open_ended: bool,
    context: _RowContext,
) -> list[Row]:
    segments = _item_segments(sub, item, item_id, facts, catalog)
    item_end = context.ending.end
    if item is None:
        regular_end = max((s.period_end for s in segments if s.period_end), default=None)
        removed = _removed_item_end(facts, regular_end)
        item_end = removed if item_end is None or (removed and removed < item_end) else item_end
    rows: list[Row] = []
    for seg, end in _chain(segments, open_ended and item is not None, item_end):
        rows += context.rows(seg, end)
    return rows


@dataclass(frozen=True)
class _RowContext:
    sub: Obj
    ending: _SubscriptionEnd
    past_due: date | None

    def rows(self, seg: _Segment, end: date | None) -> list[Row]:
        out = []
        mrr = round_half_up(seg.mrr)
        if mrr:
            out.append(self._row(seg.line_id, seg, seg.start, end, mrr, seg.kind, None))
        for disc in seg.discounts:
            disc_end = _discount_end(disc, seg, end)
            amount = -round_half_up(disc.monthly)
            if amount and (disc_end is None or disc_end > seg.start):
                out.append(
                    self._row(
                        f"{seg.line_id}#{disc.discount_id}",
                        seg,
                        seg.start,
                        disc_end,
                        amount,
                        "discount",
                        disc.duration,
                    )
                )
        return out

    def _row(
        self,
        line_id: str,
        seg: _Segment,
        start: date,
        end: date | None,
        mrr: int,
        kind: str,
        duration: str | None,
    ) -> Row:
        ends_by_cancel = end is not None and end == self.ending.end
        return {
            "line_id": line_id, "source": SOURCE, "source_ref": seg.source_ref,
            "customer_id": ref_id(self.sub.get("customer")), "start_date": start,
            "end_date": end, "mrr_minor": mrr,
            "currency": str(self.sub.get("currency") or "").upper(), "kind": kind,
            "discount_duration": duration, "plan": seg.plan, "quantity": seg.quantity,
            "cancel_requested_date": self.ending.requested if ends_by_cancel else None,
            "past_due_since": self.past_due,
            "churn_reason": self.ending.reason if ends_by_cancel else None,
        }  # fmt: skip


def _discount_end(disc: _Discount, seg: _Segment, end: date | None) -> date | None:
    limits = [d for d in (end, disc.end) if d is not None]
    if disc.duration == "once" and seg.from_invoice and seg.period_end:
        limits.append(seg.period_end)
    return min(limits) if limits else None


# -- whole accounts ------------------------------------------------------------------------------
def build_catalog(
    prices: Iterable[Obj] = (),
    products: Iterable[Obj] = (),
    coupons: Iterable[Obj] = (),
    holders: Iterable[Obj] = (),
) -> Catalog:
    """A catalog from listed objects; ``holders`` are objects that may carry expanded discounts."""
    return Catalog(
        prices={str(p["id"]): p for p in prices},
        products={str(p["id"]): p for p in products},
        coupons={str(c["id"]): c for c in coupons},
        discounts=discount_objects(holders),
    )


def revenue_lines(
    subscriptions: Iterable[Obj],
    invoices: Iterable[Obj],
    *,
    prices: Iterable[Obj] = (),
    products: Iterable[Obj] = (),
    coupons: Iterable[Obj] = (),
    customers: Iterable[Obj] = (),
    discounts: Iterable[Obj] = (),
) -> list[Row]:
    """Every revenue line of an account held in memory (small accounts and tests)."""
    subs = [s for s in subscriptions if not s.get("test_clock")]
    invs = [i for i in invoices if not i.get("test_clock")]
    catalog = build_catalog(prices, products, coupons, [*subs, *invs, *customers])
    catalog.discounts.update({str(d["id"]): d for d in discounts})  # type: ignore[attr-defined]
    facts: dict[str, list[Obj]] = defaultdict(list)
    for invoice in invs:
        for fact in line_facts(invoice):
            facts[fact["subscription"] or ""].append(fact)
    rows: list[Row] = []
    for sub in subs:
        rows += subscription_lines(sub, facts.get(str(sub["id"]), []), catalog)
    return rows


# -- customers -----------------------------------------------------------------------------------
def customer_row(customer: Obj) -> Row:
    name = None if customer.get("deleted") else (customer.get("name") or customer.get("email"))
    return {"customer_id": str(customer["id"]), "name": name, "source": SOURCE}


def customer_attributes(customer: Obj) -> list[Row]:
    """Segment dimensions: country (billing, else shipping address), currency, deleted, metadata."""
    values: dict[str, str] = {}
    address = customer.get("address") or ((customer.get("shipping") or {}).get("address")) or {}
    if address.get("country"):
        values["country"] = str(address["country"]).upper()
    if customer.get("currency"):
        values["currency"] = str(customer["currency"]).upper()
    if customer.get("deleted"):
        values["deleted_in_stripe"] = "true"
    for key, value in (customer.get("metadata") or {}).items():
        values.setdefault(str(key).lower(), str(value))
    return [{"customer_id": str(customer["id"]), "key": k, "value": v, "source": SOURCE}
            for k, v in sorted(values.items())]  # fmt: skip
