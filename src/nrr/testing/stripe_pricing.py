"""Amounts the way Stripe computes them: per-unit and tiered prices, coupons, taxes.

Everything is integer minor units; fractional unit amounts (`unit_amount_decimal`) are multiplied
exactly with Decimal and rounded half-up to a whole minor unit once per line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Obj = dict[str, Any]


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def price_amount(price: Obj, quantity: int) -> int:
    """What `quantity` units of a licensed price cost for one billing period."""
    if price["billing_scheme"] == "per_unit":
        return round_half_up(Decimal(price["unit_amount_decimal"]) * quantity)
    if price["tiers_mode"] == "volume":
        return _volume(price["tiers"], quantity)
    return _graduated(price["tiers"], quantity)


def _tier_cost(tier: Obj, units: int) -> Decimal:
    flat = Decimal(tier["flat_amount_decimal"] or 0) if units else Decimal(0)
    return Decimal(tier["unit_amount_decimal"] or 0) * units + flat


def _graduated(tiers: list[Obj], quantity: int) -> int:
    total, floor = Decimal(0), 0
    for tier in tiers:
        ceiling = tier["up_to"] if tier["up_to"] is not None else quantity
        units = max(0, min(quantity, ceiling) - floor)
        total += _tier_cost(tier, units)
        floor = max(floor, ceiling)
        if floor >= quantity:
            break
    return round_half_up(total)


def _volume(tiers: list[Obj], quantity: int) -> int:
    for tier in tiers:
        if tier["up_to"] is None or quantity <= tier["up_to"]:
            return round_half_up(_tier_cost(tier, quantity))
    raise ValueError("volume tiers must end with an open tier")


def coupon_discount(coupon: Obj, amount: int) -> int:
    """Discount of a coupon on one discountable amount (amount_off is capped by the amount)."""
    if amount <= 0:
        return 0
    if coupon["percent_off"] is not None:
        return round_half_up(Decimal(amount) * Decimal(str(coupon["percent_off"])) / 100)
    return min(int(coupon["amount_off"]), amount)


def tax_amount(net: int, rate_basis_points: int, behavior: str) -> int:
    """Tax on a net line amount: added on top (exclusive) or contained in it (inclusive)."""
    if behavior == "exclusive":
        return round_half_up(Decimal(net) * rate_basis_points / 10_000)
    untaxed = round_half_up(Decimal(net) * 10_000 / (10_000 + rate_basis_points))
    return net - untaxed


def prorated(amount: int, remaining_seconds: int, period_seconds: int) -> int:
    """Stripe's proration: the amount scaled by the share of the period left, to the minor unit."""
    if period_seconds <= 0:
        return 0
    return round_half_up(Decimal(amount) * remaining_seconds / period_seconds)
