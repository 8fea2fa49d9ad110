"""The synthetic account's catalogue: products, prices, coupons and tax rates, as Stripe objects.

The catalogue is small and fixed in shape (the seed only moves ids and timestamps), so every pricing
feature the MRR rules must handle exists: per-unit and tiered (graduated, volume) prices, fractional
`unit_amount_decimal`, tax-inclusive and tax-exclusive prices, metered usage, one-time prices,
day / week / month / year intervals with interval_count, and four currencies (JPY is zero-decimal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nrr.testing.stripe_ids import IdMaker

Obj = dict[str, Any]

CURRENCIES = ("eur", "usd", "chf", "jpy")
# Minor units per US cent, roughly; JPY is zero-decimal so 1 yen ~ 0.67 US cents.
_SCALE = {"eur": 0.92, "usd": 1.0, "chf": 0.9, "jpy": 1.5}
# (interval, interval_count, multiple of the monthly amount)
CADENCES: tuple[tuple[str, int, float], ...] = (
    ("month", 1, 1.0),
    ("month", 3, 2.85),
    ("month", 6, 5.5),
    ("year", 1, 10.0),
    ("week", 2, 12 / 26),
    ("day", 30, 1.0),
)
# Tax rates in basis points, by the customer's country.
TAX_RATES = {"DE": 1900, "CH": 810, "US": 0, "JP": 1000, "FR": 2000}


@dataclass(frozen=True)
class ProductSpec:
    key: str
    name: str
    monthly_usd_cents: int
    scheme: str  # per_unit | graduated | volume | decimal | metered | one_time
    tax_behavior: str


PRODUCTS = (
    ProductSpec("starter", "Starter", 1_900, "per_unit", "inclusive"),
    ProductSpec("pro", "Pro", 4_900, "per_unit", "exclusive"),
    ProductSpec("business", "Business (per seat)", 2_500, "graduated", "exclusive"),
    ProductSpec("enterprise", "Enterprise (volume seats)", 3_000, "volume", "exclusive"),
    ProductSpec("seats", "Extra seats", 750, "decimal", "exclusive"),
    ProductSpec("api", "API calls", 2, "metered", "exclusive"),
    ProductSpec("onboarding", "Onboarding", 50_000, "one_time", "exclusive"),
)
# Monthly add-ons, so a few subscriptions carry more than 10 items (and invoices more than 10
# lines): Stripe then embeds only the first 10 and the sync must page the rest.
ADD_ONS = tuple(ProductSpec(f"addon{n}", f"Add-on {n}", 300 + 100 * n, "per_unit", "exclusive")
                for n in range(1, 13))


@dataclass
class Catalog:
    products: list[Obj] = field(default_factory=list)
    prices: list[Obj] = field(default_factory=list)
    coupons: list[Obj] = field(default_factory=list)
    tax_rates: dict[str, Obj] = field(default_factory=dict)
    # (product key, currency, interval, interval_count) -> price; one-time prices use ("", 0)
    price_index: dict[tuple[str, str, str, int], Obj] = field(default_factory=dict)
    product_ids: dict[str, str] = field(default_factory=dict)


def _minor(usd_cents: float, currency: str) -> int:
    return max(1, round(usd_cents * _SCALE[currency]))


def _tiers(unit: int, mode: str) -> list[Obj]:
    # Seats 1-5 at the unit price, 6-20 at 80 %, beyond at 60 %; graduated adds a platform fee.
    flat = unit * 2 if mode == "graduated" else None
    steps = [(5, unit, flat), (20, unit * 8 // 10, None), (None, unit * 6 // 10, None)]
    return [
        {
            "flat_amount": f,
            "flat_amount_decimal": None if f is None else str(f),
            "unit_amount": u,
            "unit_amount_decimal": str(u),
            "up_to": up,
        }
        for up, u, f in steps
    ]


def _price(ids: IdMaker, spec: ProductSpec, product_id: str, currency: str,
           cadence: tuple[str, int, float] | None, created: int) -> Obj:
    multiple = cadence[2] if cadence else 1.0
    unit = _minor(spec.monthly_usd_cents * multiple, currency)
    decimal = str(unit)
    if spec.scheme == "decimal":
        decimal = f"{unit}.5"  # a fractional minor unit, as `unit_amount_decimal` allows
    tiered = spec.scheme in ("graduated", "volume")
    recurring = None
    if cadence:
        recurring = {
            "interval": cadence[0],
            "interval_count": cadence[1],
            "meter": None,
            "trial_period_days": None,
            "usage_type": "metered" if spec.scheme == "metered" else "licensed",
        }
    return {
        "id": ids.make("price"),
        "object": "price",
        "active": True,
        "billing_scheme": "tiered" if tiered else "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": spec.tax_behavior,
        "tiers": _tiers(unit, spec.scheme) if tiered else None,
        "tiers_mode": spec.scheme if tiered else None,
        "transform_quantity": None,
        "type": "recurring" if cadence else "one_time",
        "unit_amount": None if tiered or spec.scheme == "decimal" else unit,
        "unit_amount_decimal": None if tiered else decimal,
    }


def _product(ids: IdMaker, spec: ProductSpec, created: int) -> Obj:
    return {
        "id": ids.make("prod"),
        "object": "product",
        "active": True,
        "created": created,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {"nrr_key": spec.key},
        "name": spec.name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": "seat" if spec.scheme in ("graduated", "volume", "decimal") else None,
        "updated": created,
        "url": None,
    }


def _coupon(ids: IdMaker, created: int, **terms: Any) -> Obj:
    coupon = {
        "id": ids.make("co")[3:11].upper(),
        "object": "coupon",
        "amount_off": None,
        "created": created,
        "currency": None,
        "duration": "once",
        "duration_in_months": None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": None,
        "percent_off": None,
        "redeem_by": None,
        "times_redeemed": 0,
        "valid": True,
    }
    coupon.update(terms)
    return coupon


def _coupons(ids: IdMaker, created: int) -> list[Obj]:
    coupons = [
        _coupon(ids, created, percent_off=20.0, duration="forever", name="20% forever"),
        _coupon(ids, created + 1, percent_off=50.0, duration="repeating",
                duration_in_months=3, name="50% for 3 months"),
        _coupon(ids, created + 2, percent_off=100.0, duration="once", name="First month free"),
        _coupon(ids, created + 3, percent_off=12.5, duration="repeating",
                duration_in_months=6, name="12.5% for 6 months"),
    ]
    for offset, currency in enumerate(CURRENCIES):
        coupons.append(_coupon(
            ids, created + 10 + offset, amount_off=_minor(1_000, currency), currency=currency,
            duration="forever", name=f"{currency.upper()} 10 off forever"))
        coupons.append(_coupon(
            ids, created + 20 + offset, amount_off=_minor(2_000, currency), currency=currency,
            duration="repeating", duration_in_months=2, name=f"{currency.upper()} 20 off x2"))
    return coupons


def _tax_rate(ids: IdMaker, country: str, basis_points: int, created: int) -> Obj:
    return {
        "id": ids.make("txr"),
        "object": "tax_rate",
        "country": country,
        "created": created,
        "percentage": basis_points / 100,
        "basis_points": basis_points,
    }


def build_catalog(ids: IdMaker, created: int) -> Catalog:
    """The catalogue, all created at `created` (seconds apart so the list order is fixed)."""
    catalog = Catalog()
    moment = created
    for spec in PRODUCTS + ADD_ONS:
        product = _product(ids, spec, moment)
        catalog.products.append(product)
        catalog.product_ids[spec.key] = product["id"]
        moment += 1
        cadences: tuple[tuple[str, int, float] | None, ...] = CADENCES
        if spec.scheme == "one_time":
            cadences = (None,)
        elif spec.key.startswith("addon"):
            cadences = CADENCES[:1]
        for currency in CURRENCIES:
            for cadence in cadences:
                price = _price(ids, spec, product["id"], currency, cadence, moment)
                moment += 1
                catalog.prices.append(price)
                key = (spec.key, currency, cadence[0], cadence[1]) if cadence else (
                    spec.key, currency, "", 0)
                catalog.price_index[key] = price
    catalog.coupons = _coupons(ids, moment)
    for country, basis_points in TAX_RATES.items():
        catalog.tax_rates[country] = _tax_rate(ids, country, basis_points, moment)
    return catalog
