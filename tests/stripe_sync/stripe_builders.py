"""Small builders of Stripe-shaped dicts (the API's field names) for the MRR rule tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

_ids = itertools.count(1)


def ts(text: str) -> int:
    """'2024-01-15' as the Unix timestamp of midnight UTC."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def d(text: str) -> date:
    return date.fromisoformat(text)


def price(pid: str = "price_basic", amount: int | None = 1000, interval: str = "month",
          count: int = 1, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": pid, "object": "price", "currency": extra.pop("currency", "eur"),
        "unit_amount": amount, "billing_scheme": "per_unit", "product": "prod_basic",
        "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"},
        "tax_behavior": "exclusive",
    }  # fmt: skip
    body.update(extra)
    return body


def item(iid: str, p: dict[str, Any], quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": iid, "object": "subscription_item", "price": p, "quantity": quantity, **extra}


def sub(sid: str, items: list[dict[str, Any]], status: str = "active", customer: str = "cus_1",
        currency: str = "eur", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sid, "object": "subscription", "customer": customer, "status": status,
        "currency": currency, "items": {"object": "list", "data": items, "has_more": False},
        "start_date": ts("2024-01-01"), "created": ts("2024-01-01"), "cancel_at": None,
        "cancel_at_period_end": False, "canceled_at": None, "ended_at": None,
        "cancellation_details": {"reason": None}, "pause_collection": None, "trial_end": None,
        "discount": None, "discounts": [], "test_clock": None, "livemode": False,
    }  # fmt: skip
    body.update(extra)
    return body


def line(si: str, p: dict[str, Any] | str, start: str, end: str, amount: int, quantity: int = 1,
         proration: bool = False, lid: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": lid or f"il_{next(_ids)}", "object": "line_item", "type": "subscription",
        "amount": amount, "currency": extra.pop("currency", "eur"),
        "period": {"start": ts(start), "end": ts(end)}, "price": p, "quantity": quantity,
        "proration": proration, "subscription_item": si, "discount_amounts": [],
        "tax_amounts": [], **extra,
    }  # fmt: skip


def invoice(inv_id: str, sid: str | None, lines: list[dict[str, Any]], created: str,
            status: str = "paid", customer: str = "cus_1", **extra: Any) -> dict[str, Any]:
    return {
        "id": inv_id, "object": "invoice", "customer": customer, "subscription": sid,
        "status": status, "created": ts(created), "currency": extra.pop("currency", "eur"),
        "lines": {"object": "list", "data": lines, "has_more": False}, "test_clock": None,
        "livemode": False, **extra,
    }  # fmt: skip


def monthly_invoices(sid: str, si: str, p: dict[str, Any], months: list[str], amount: int,
                     quantity: int = 1) -> list[dict[str, Any]]:
    """One paid invoice per month start in ``months`` ('2024-01', ...), each a full month."""
    out = []
    for i, month in enumerate(months):
        start = f"{month}-01"
        y, m = int(month[:4]), int(month[5:])
        end = f"{y + m // 12}-{m % 12 + 1:02d}-01"
        lid = f"il_{sid}_{i}"
        out.append(invoice(f"in_{sid}_{i}", sid, [line(si, p, start, end, amount, quantity,
                                                       lid=lid)], start))
    return out
