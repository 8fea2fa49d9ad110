"""Currencies: minor-unit exponents and display. Pure; amounts are always integer minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 exponents that differ from 2. Everything else has two decimals.
_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip

# Currencies the ECB publishes (plus EUR); others need a rates file.
KNOWN_CURRENCIES: frozenset[str] = frozenset(
    (
        "EUR USD JPY BGN CZK DKK GBP HUF PLN RON SEK CHF ISK NOK TRY AUD BRL CAD CNY HKD IDR ILS "
        "INR KRW MXN MYR NZD PHP SGD THB ZAR HRK RUB LTL LVL EEK CYP MTL SKK SIT ROL TRL BHD KWD "
        "JOD OMR TND CLP VND"
    ).split()
)


def exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (JPY 0, EUR 2, BHD 3)."""
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Major units (as written by people) to integer minor units, rounding half away from zero."""
    value = Decimal(str(amount)) * (Decimal(10) ** exponent(currency))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units to an exact Decimal in major units (for display only)."""
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int, currency: str) -> str:
    """'1,234.50 EUR' with the currency's own number of decimals."""
    places = exponent(currency)
    return f"{to_major(minor, currency):,.{places}f} {currency.upper()}"
