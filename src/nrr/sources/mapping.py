"""Which column of a billing export means what: recognised headers, mapping files and flags.

A *role* is what nrr needs to know (customer, start, amount, ...). Each role has a list of header
names it recognises by itself (Stripe's and Chargebee's export headers, generic English and German
names); a mapping file or flags name the column for any role explicitly. Headers are compared in a
folded form: lower case, umlauts spelled out, ``(UTC)``-style suffixes and ``table.`` prefixes
dropped, everything else an underscore, so ``Customer ID``, ``customer_id`` and
``subscriptions.customer_id`` are the same name. Unused columns become customer attributes.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nrr.normalise import fold_name

SHAPES = ("subscriptions", "invoices")


class MappingProblem(ValueError):
    """The columns cannot be mapped; the message names what was found and how to map it."""


@dataclass(frozen=True)
class Role:
    name: str
    aliases: tuple[str, ...]
    meaning: str


def _role(name: str, meaning: str, aliases: str) -> Role:
    return Role(name, tuple(aliases.split()), meaning)


_COMMON = (
    _role("customer", "the customer's id",
          "customer_id customer customerid customer_no customer_number account_id account "
          "account_number client_id client company_id kunden_id kundennummer kunden_nr kunde "
          "debitor debitorennummer"),
    _role("customer_name", "the customer's display name",
          "customer_name customer_description company_name company account_name client_name "
          "organization organisation kundenname firma firmenname name"),
    _role("currency", "ISO 4217 currency code",
          "currency currency_code plan_currency price_currency curr ccy waehrung"),
    _role("plan", "plan or product (the plan segment)",
          "plan plan_name plan_id product product_name price_id item_price_id item_price "
          "price_name tarif paket produkt"),
    _role("quantity", "seats or units; multiplies the amount",
          "quantity plan_quantity seats seat_count qty units licenses licences users menge "
          "anzahl lizenzen"),
)

_SUBSCRIPTIONS = (
    _role("start", "first day of the subscription period",
          "start start_date started_at start_at subscription_start subscription_start_date "
          "activated_at begin beginn startdatum vertragsbeginn von"),
    _role("end", "when the period ended (empty = still active)",
          "end end_date ended_at ends_at ended subscription_end subscription_end_date "
          "cancelled_at enddatum ende vertragsende bis"),
    _role("amount", "price per billing interval (per seat when there is a quantity)",
          "amount unit_amount plan_amount price unit_price plan_unit_price price_amount "
          "amount_excluding_tax net_amount betrag preis nettobetrag"),
    _role("mrr", "an already monthly amount (total for the row)",
          "mrr monthly_amount monthly_revenue monthly_recurring_revenue mrr_amount monthly_price "
          "monatsumsatz"),
    _role("interval", "billing interval: month, quarter, year, week, day",
          "interval plan_interval price_interval recurring_interval billing_period_unit "
          "billing_interval billing_cycle billing_frequency frequency period intervall "
          "abrechnungsintervall zahlweise billing_period"),
    _role("interval_count", "number of intervals per billing period",
          "interval_count plan_interval_count price_interval_count recurring_interval_count "
          "billing_interval_count billing_period"),
    _role("discount_percent", "percent off",
          "discount_percent discount_percentage percent_off coupon_percent_off discount_pct "
          "discount_rate rabatt_prozent rabatt"),
    _role("discount_amount", "amount off per billing interval",
          "discount_amount amount_off coupon_amount_off discount_value rabattbetrag"),
    _role("discount_duration", "once, repeating or forever",
          "discount_duration coupon_duration duration"),
    _role("discount_months", "months a repeating discount lasts",
          "discount_months discount_duration_in_months duration_in_months "
          "coupon_duration_in_months"),
    _role("discount_start", "first day of the discount (default: the period's start)",
          "discount_start discount_start_date coupon_start"),
    _role("discount_end", "first day without the discount",
          "discount_end discount_end_date coupon_end"),
    _role("cancel_requested", "when the cancellation was asked for",
          "cancel_requested cancel_requested_at cancel_requested_date cancellation_requested "
          "cancellation_requested_at canceled_at cancellation_date kuendigungsdatum "
          "gekuendigt_am"),
    _role("scheduled_end", "a cancellation's future end, used when the end is empty",
          "cancel_at scheduled_end scheduled_cancellation cancel_at_date kuendigung_zum"),
    _role("status", "subscription status (active, past_due, canceled, ...)",
          "status subscription_status"),
    _role("past_due_since", "first day past due",
          "past_due_since past_due_at past_due_date overdue_since"),
    _role("churn_reason", "why it ended (payment failures count as involuntary)",
          "churn_reason cancel_reason cancellation_reason canceled_reason kuendigungsgrund"),
    _role("trial_end", "end of a free trial (no MRR before it)",
          "trial_end trial_end_date trial_ends_at trial_ended_at"),
)

_INVOICES = (
    _role("date", "invoice date",
          "date invoice_date invoice_created created created_at issued_at issue_date "
          "billing_date posting_date document_date rechnungsdatum datum belegdatum"),
    _role("service_start", "start of the service period",
          "period_start service_start service_period_start service_from line_item_period_start "
          "period_from leistungsbeginn leistungszeitraum_von"),
    _role("service_end", "end of the service period",
          "period_end service_end service_period_end service_to line_item_period_end period_to "
          "leistungsende leistungszeitraum_bis"),
    _role("amount", "line amount, net of tax",
          "amount_excluding_tax net_amount amount_net line_amount amount subtotal total betrag "
          "nettobetrag"),
    _role("recurring", "recurring or one_time",
          "recurring is_recurring line_type type kind charge_type revenue_type art"),
    _role("proration", "true for proration lines (never MRR)", "proration is_proration"),
)

ROLES: dict[str, tuple[Role, ...]] = {
    "subscriptions": _COMMON[:1] + _SUBSCRIPTIONS[:3] + _COMMON[1:] + _SUBSCRIPTIONS[3:],
    "invoices": _COMMON[:1] + _INVOICES[:1] + _COMMON[1:] + _INVOICES[1:],
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "subscriptions": ("customer", "start", "currency"),
    "invoices": ("customer", "date", "amount", "currency"),
}

# Columns that are neither a role nor a customer attribute (ids, e-mails, tax, Stripe bookkeeping).
IGNORED = frozenset((
    "id", "subscription_id", "subscription", "invoice_id", "invoice", "invoice_number", "number",
    "line_item_id", "line_id", "email", "customer_email", "description", "created", "created_at",
    "updated_at", "current_period_start", "current_period_end", "next_billing_at",
    "next_billing_date", "application_fee_percent", "tax_percent", "tax", "tax_amount",
    "amount_including_tax", "total_including_tax", "coupon", "coupon_id", "billing",
    "collection_method", "cancel_at_period_end", "metadata", "product_id", "price",
    "unit_amount_decimal", "livemode", "object", "trial_start", "trial_start_date",
))

OPTIONS = ("currency", "interval", "date_order", "decimal", "amounts_in", "end_inclusive")


@dataclass(frozen=True)
class MappingSpec:
    """What a user said about the columns (mapping file and flags); unset = recognise."""

    shape: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # role -> header as in the file
    currency: str | None = None  # for files without a currency column
    interval: str | None = None  # for files without an interval column
    date_order: str = "MDY"  # how to read 03/04/2024; dotted dates are always day first
    decimal: str | None = None  # "." or ","; None = recognise per value
    amounts_in: str = "major"  # "minor" when amounts are already cents
    end_inclusive: bool | None = None  # None = per shape (docs/importing.md)
    ignore: tuple[str, ...] = ()  # more columns that are not customer attributes

    def __post_init__(self) -> None:
        _check(self.shape in (None, *SHAPES), f"shape must be one of {', '.join(SHAPES)}")
        _check(self.date_order in ("MDY", "DMY"), "date_order must be MDY or DMY")
        _check(self.decimal in (None, ".", ","), 'decimal must be "." or ","')
        _check(self.amounts_in in ("major", "minor"), "amounts_in must be major or minor")
        known = {role.name for roles in ROLES.values() for role in roles}
        unknown = sorted(set(self.columns) - known)
        _check(not unknown, f"unknown column role(s) {', '.join(unknown)}; "
                            f"known roles: {', '.join(sorted(known))}")

    def overridden_by(self, other: MappingSpec) -> MappingSpec:
        """This spec with everything ``other`` sets explicitly taking precedence (flags > file)."""
        default = MappingSpec()
        changes: dict[str, Any] = {
            name: getattr(other, name)
            for name in ("shape", "currency", "interval", "date_order", "decimal", "amounts_in",
                         "end_inclusive")
            if getattr(other, name) != getattr(default, name)
        }
        changes["columns"] = {**self.columns, **other.columns}
        changes["ignore"] = self.ignore + other.ignore
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"shape": self.shape, "columns": dict(sorted(self.columns.items())),
                "currency": self.currency, "interval": self.interval,
                "date_order": self.date_order, "decimal": self.decimal,
                "amounts_in": self.amounts_in, "end_inclusive": self.end_inclusive,
                "ignore": list(self.ignore)}


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise MappingProblem(message)


def load_mapping(path: str | Path) -> MappingSpec:
    """Read a mapping file: TOML (``.toml``) or JSON (anything else); see docs/importing.md."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data = tomllib.loads(text) if file.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise MappingProblem(f"cannot read the mapping file {file}: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingProblem(f"the mapping file {file} must hold a table of settings")
    return mapping_from_dict(data, origin=str(file))


def mapping_from_dict(data: dict[str, Any], origin: str = "mapping") -> MappingSpec:
    allowed = {"shape", "columns", "ignore", *OPTIONS}
    unknown = sorted(set(data) - allowed)
    _check(not unknown, f"{origin}: unknown key(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(sorted(allowed))}")
    columns = data.get("columns", {})
    _check(isinstance(columns, dict) and all(isinstance(v, str) for v in columns.values()),
           f"{origin}: [columns] must map role names to column headers (text)")
    ignore = data.get("ignore", [])
    _check(isinstance(ignore, list), f"{origin}: ignore must be a list of column headers")
    options = {key: data[key] for key in OPTIONS if key in data}
    return MappingSpec(shape=data.get("shape"), columns=dict(columns),
                       ignore=tuple(str(i) for i in ignore), **options)


# -- resolving against a file's headers ------------------------------------------------------------

_PAREN = re.compile(r"\s*\([^)]*\)\s*$")


def header_key(header: str) -> str:
    """The folded form of a header: ``Start Date (UTC)`` -> ``start_date``."""
    text = _PAREN.sub("", header.strip())
    if "." in text and not text.endswith("."):
        text = text.rsplit(".", 1)[1]  # "subscriptions.customer_id" -> "customer_id"
    return fold_name(text)


@dataclass(frozen=True)
class ColumnPlan:
    """Where each role sits in a file, and which columns are customer attributes."""

    shape: str
    headers: tuple[str, ...]
    index: dict[str, int]  # role -> column position
    attributes: tuple[tuple[int, str], ...]  # (column position, attribute key)

    def header(self, role: str) -> str:
        return self.headers[self.index[role]]

    def describe(self) -> dict[str, str]:
        return {role: self.headers[i] for role, i in sorted(self.index.items())}


def plan_columns(headers: list[str], spec: MappingSpec, file_name: str) -> ColumnPlan:
    """Decide the shape and where every role is; raise MappingProblem when that is impossible."""
    explicit = _explicit_positions(headers, spec, file_name)
    shape = spec.shape or _detect_shape(headers, explicit, file_name)
    index = dict(explicit)
    taken = set(index.values())
    keys = [header_key(h) for h in headers]
    for role in ROLES[shape]:
        if role.name in index:
            continue
        position = _recognise(role, keys, taken)
        if position is not None:
            index[role.name] = position
            taken.add(position)
    _require(shape, index, headers, spec, file_name)
    return ColumnPlan(shape, tuple(headers), index, _attributes(keys, taken, spec))


def _explicit_positions(headers: list[str], spec: MappingSpec, file_name: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for role, header in spec.columns.items():
        position = _find_header(headers, header)
        if position is None:
            raise MappingProblem(
                f"{file_name}: the column {header!r} mapped to {role} is not in the file; "
                f"columns found: {_listing(headers)}"
            )
        positions[role] = position
    return positions


def _find_header(headers: list[str], wanted: str) -> int | None:
    if wanted in headers:
        return headers.index(wanted)
    folded = [header_key(h) for h in headers]
    key = header_key(wanted)
    return folded.index(key) if key in folded else None


def _recognise(role: Role, keys: list[str], taken: set[int]) -> int | None:
    for alias in role.aliases:
        for position, key in enumerate(keys):
            if key == alias and position not in taken:
                return position
    return None


def _detect_shape(headers: list[str], explicit: dict[str, int], file_name: str) -> str:
    roles = {role.name: role for role in ROLES["subscriptions"]} | {
        role.name: role for role in ROLES["invoices"]}
    if "start" in explicit:
        return "subscriptions"
    if {"date", "service_start", "service_end"} & set(explicit):
        return "invoices"
    keys = [header_key(h) for h in headers]
    if _recognise(roles["start"], keys, set()) is not None:
        return "subscriptions"
    if _recognise(roles["date"], keys, set()) is not None:
        return "invoices"
    raise MappingProblem(
        f"{file_name}: cannot tell whether this file holds subscription periods or invoice lines: "
        f"there is no start column (such as start_date) and no invoice date column (such as "
        f"invoice_date); columns found: {_listing(headers)}. Pass --shape subscriptions or "
        f"--shape invoices and name the columns with --start-col / --date-col or a mapping file."
    )


def _require(shape: str, index: dict[str, int], headers: list[str], spec: MappingSpec,
             file_name: str) -> None:
    missing = [r for r in REQUIRED[shape] if r not in index and not _defaulted(r, spec)]
    if shape == "subscriptions" and "amount" not in index and "mrr" not in index:
        missing.append("amount")
    if not missing:
        return
    roles = {role.name: role for role in ROLES[shape]}
    parts = [f"{name} (looked for {', '.join(roles[name].aliases[:6])}, ...)" for name in missing]
    flags = " ".join(f'--{name.replace("_", "-")}-col "Your header"' for name in missing)
    raise MappingProblem(
        f"{file_name}: no column for {'; '.join(parts)}. Columns found: {_listing(headers)}. "
        f"Name {'it' if len(missing) == 1 else 'them'} with {flags}, or in a mapping file "
        "under [columns]"
        + (" (a file without a currency column can set --currency EUR)"
           if "currency" in missing else "")
        + "."
    )


def _defaulted(role: str, spec: MappingSpec) -> bool:
    return role == "currency" and spec.currency is not None


def _attributes(keys: list[str], taken: set[int], spec: MappingSpec) -> tuple[tuple[int, str], ...]:
    skip = IGNORED | {header_key(h) for h in spec.ignore} | _ALL_ALIASES
    return tuple((position, key) for position, key in enumerate(keys)
                 if position not in taken and key and key not in skip)


_ALL_ALIASES = frozenset(
    alias for roles in ROLES.values() for role in roles for alias in role.aliases
)


def _listing(headers: list[str]) -> str:
    shown = ", ".join(repr(h) for h in headers[:30])
    return shown + (f" and {len(headers) - 30} more" if len(headers) > 30 else "")
