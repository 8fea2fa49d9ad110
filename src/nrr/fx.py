"""Exchange rates as the table the core joins: ECB reference rates offline, fixed, or a file.

The ECB publishes units of each currency per 1 EUR on working days. The rate of a period is that of
its reading day, or of the last day published before it when there is none that day (weekends,
holidays, and days after the newest rates the installed package ships).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr.core.periods import reading_day
from nrr.money import exponent
from nrr.schema import Settings

if TYPE_CHECKING:
    import pyarrow as pa

_QUANTUM = Decimal("1E-10")


class RatesError(ValueError):
    """A currency without a rate for a period that needs one."""


@functools.lru_cache(maxsize=1)
def _ecb() -> Any:
    from currency_converter import CurrencyConverter

    return CurrencyConverter(
        fallback_on_missing_rate=True,
        fallback_on_missing_rate_method="last_known",
        fallback_on_wrong_date=True,
    )


def ecb_per_eur(currency: str, day: date) -> Decimal:
    """Units of ``currency`` per 1 EUR on ``day`` (last published rate on or before it)."""
    if currency == "EUR":
        return Decimal(1)
    ecb = _ecb()
    if currency not in ecb.currencies:
        raise RatesError(
            f"no ECB reference rate for {currency}: "
            "supply a rates file (nrr settings --rates-file FILE)"
        )
    rates: dict[date, float | None] = ecb._rates[currency]
    first, last = ecb.bounds[currency]
    probe = min(day, last)
    while probe >= first:
        value = rates.get(probe)
        if value is not None:
            return Decimal(str(value))
        probe -= timedelta(days=1)
    raise RatesError(f"no ECB rate for {currency} on or before {day.isoformat()}")


def minor_rate(currency: str, reporting: str, per_eur: Mapping[str, Decimal]) -> Decimal:
    """Minor units of ``reporting`` per minor unit of ``currency``, given units per 1 EUR."""
    major = per_eur[reporting] / per_eur[currency]
    scaled = major.scaleb(exponent(reporting) - exponent(currency))
    return scaled.quantize(_QUANTUM)


def rate_rows(
    currencies: Iterable[str],
    periods: Iterable[int],
    settings: Settings,
    as_of: date,
    per_eur: Any = None,
) -> list[tuple[str, int, Decimal]]:
    """(currency, period, rate) for every needed currency and period."""
    lookup = per_eur or _per_eur_lookup(settings)
    reporting = settings.reporting_currency
    rows = []
    for p in periods:
        day = reading_day(p, settings.period, as_of)
        for currency in sorted(set(currencies) - {reporting}):
            table = {c: lookup(c, day) for c in (currency, reporting)}
            rows.append((currency, p, minor_rate(currency, reporting, table)))
    return rows


def _per_eur_lookup(settings: Settings) -> Any:
    if settings.rates_file and settings.fx_date != "fixed":
        return rates_from_file(settings.rates_file)
    if settings.fx_date == "fixed":
        fixed = _fixed_per_eur(settings)
        return lambda currency, _day: fixed(currency)
    return ecb_per_eur


def _fixed_per_eur(settings: Settings) -> Any:
    """Fixed rates are given as units per 1 reporting currency; express them per 1 EUR."""
    given = {k.upper(): Decimal(v) for k, v in settings.fixed_rates.items()}
    given[settings.reporting_currency] = Decimal(1)

    def lookup(currency: str) -> Decimal:
        if currency not in given:
            raise RatesError(
                f"setting fx_date=fixed needs a rate for {currency} in fixed_rates "
                f"(units of {currency} per 1 {settings.reporting_currency})"
            )
        return given[currency]

    return lookup


def rates_from_file(path: str | Path) -> Any:
    """A lookup from a CSV with columns date, currency, rate (units per 1 EUR)."""
    table: dict[str, dict[date, Decimal]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                day = date.fromisoformat(row["date"].strip())
                table.setdefault(row["currency"].strip().upper(), {})[day] = Decimal(row["rate"])
            except (KeyError, ValueError, ArithmeticError) as exc:
                raise RatesError(
                    f"{path}: row {row_no}: expected columns date (YYYY-MM-DD), currency, rate "
                    f"(units per 1 EUR): {exc}"
                ) from None

    def lookup(currency: str, day: date) -> Decimal:
        if currency == "EUR":
            return Decimal(1)
        known = [d for d in table.get(currency, {}) if d <= day]
        if not known:
            raise RatesError(f"{path}: no rate for {currency} on or before {day.isoformat()}")
        return table[currency][max(known)]

    return lookup


def rates_table(rows: list[tuple[str, int, Decimal]]) -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "currency": pa.array([r[0] for r in rows], pa.string()),
            "p": pa.array([r[1] for r in rows], pa.int32()),
            "rate": pa.array([r[2] for r in rows], pa.decimal128(18, 10)),
        }
    )
