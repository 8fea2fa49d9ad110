"""Pure conversion rules for imported billing rows: dates, amounts, intervals, monthly values.

Nothing here touches files, the clock or a database; every function is a plain value in, value out,
so each rule is tested on its own with exact minor units (docs/importing.md states them all).
A function that cannot read its input raises :class:`ValueProblem` with a message that tells the
user what to write instead; the caller adds file, row and column.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

from nrr.money import exponent


class ValueProblem(ValueError):
    """One cell that cannot be read; the message says what to do."""


# -- dates ----------------------------------------------------------------------------------------

_TIME = r"(?:[T ,]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?)?"
_ZONE = r"\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?"
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + _ZONE)
_ISO_SLASH = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})" + _TIME + _ZONE)
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME)
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})" + _TIME)
_EPOCH = re.compile(r"\d{9,10}")

DATE_HINT = "write dates as YYYY-MM-DD (DD.MM.YYYY and MM/DD/YYYY are read too)"


@lru_cache(maxsize=65536)
def parse_date(text: str, day_first_slashes: bool = False) -> date:
    """A calendar date from the ways billing exports write one; the time of day is dropped.

    Slash dates are month first (``03/01/2024`` = 1 March) unless ``day_first_slashes``; dotted
    dates are day first (the German ``01.03.2024``); 9-10 digit numbers are Unix seconds (UTC).
    """
    value = text.strip()
    try:
        return _match_date(value, day_first_slashes)
    except ValueError as exc:  # date() itself rejects day 31 of a 30-day month, month 13, ...
        raise ValueProblem(f"cannot read {text!r} as a date; {DATE_HINT}") from exc


def _match_date(value: str, day_first: bool) -> date:
    if m := _ISO.fullmatch(value) or _ISO_SLASH.fullmatch(value):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DOTTED.fullmatch(value):
        return date(int(m[3]), int(m[2]), int(m[1]))
    if m := _SLASHED.fullmatch(value):
        first, second = int(m[1]), int(m[2])
        day, month = (first, second) if day_first else (second, first)
        return date(int(m[3]), month, day)
    if _EPOCH.fullmatch(value):
        return datetime.fromtimestamp(int(value), tz=UTC).date()
    raise ValueError(value)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """Same day of month ``months`` later, clamped to the month's last day (31 Jan + 1 = 29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def whole_months(start: date, end: date) -> int | None:
    """k when [start, end) is exactly k calendar months (same day of month, or 1st to 1st)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months <= 0:
        return None
    return months if add_months(start, months) == end else None


# -- amounts --------------------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$")  # "EUR 12.00", "12.00 CHF"
_NOISE = re.compile(r"[€$£¥₣\s\u00a0\u202f']")  # symbols, spaces, Swiss apostrophes
_NUMBER = re.compile(r"[+-]?[\d.,]*\d[\d.,]*")
AMOUNT_HINT = "write amounts as plain numbers such as 1234.50 or 1.234,50"


@lru_cache(maxsize=65536)
def parse_amount(text: str, decimal_comma: bool | None = None) -> Decimal:
    """An exact decimal from a written amount: ``1,234.50``, ``1.234,50``, ``€ 99``, ``(12.00)``.

    When only commas appear, one comma followed by exactly three digits is a thousands separator
    (``1,234`` = 1234) and any other single comma is the decimal comma (``12,5`` = 12.5), unless
    ``decimal_comma`` says which it is. Thousands groups must have three digits.
    """
    value = text.strip()
    negative = value.startswith("(") and value.endswith(")")
    cleaned = _NOISE.sub("", _CODE.sub("", value.strip("()").strip()))
    if cleaned.endswith("-"):  # some ERPs write credits as "12.00-"
        negative, cleaned = True, cleaned[:-1]
    number = _standard_number(cleaned, decimal_comma) if _NUMBER.fullmatch(cleaned) else ""
    try:
        result = Decimal(number)
    except InvalidOperation:
        raise ValueProblem(f"cannot read {text!r} as an amount; {AMOUNT_HINT}") from None
    return -result if negative else result


def _standard_number(text: str, decimal_comma: bool | None) -> str:
    commas, dots = text.count(","), text.count(".")
    if commas and dots:  # both: the last one is the decimal separator
        if text.rfind(",") > text.rfind("."):
            return _ungroup(text, ".", ",")
        return _ungroup(text, ",", ".")
    if commas:
        if decimal_comma is None:
            decimal_comma = commas == 1 and not re.fullmatch(r"[+-]?\d{1,3},\d{3}", text)
        return _ungroup(text, ".", ",") if decimal_comma else _ungroup(text, ",", ".")
    if dots > 1 or decimal_comma:  # "1.234.567", or dots that can only group thousands
        return _ungroup(text, ".", ",")
    return text


def _ungroup(text: str, group: str, point: str) -> str:
    """Drop thousands separators (groups of three digits) and make the decimal point a dot."""
    whole, _, fraction = text.partition(point)
    if point in fraction or (group in whole and not re.fullmatch(
            rf"[+-]?\d{{1,3}}(?:{re.escape(group)}\d{{3}})+", whole)):
        return ""
    return whole.replace(group, "") + ("." + fraction if fraction else "")


def to_minor_exact(amount: Decimal, currency: str) -> Decimal:
    """Major units to (possibly fractional) minor units; rounding is left to the last step."""
    return amount.scaleb(exponent(currency))


def round_half_up(value: Decimal) -> int:
    """Half away from zero, so a credit cancels the charge it reverses to the last minor unit."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- intervals ------------------------------------------------------------------------------------

# monthly = amount * num / den (SPEC section 2).
_MONTHLY_FACTOR: dict[str, tuple[int, int]] = {
    "month": (1, 1),
    "quarter": (1, 3),
    "year": (1, 12),
    "week": (52, 12),
    "day": (365, 12),
}

_INTERVAL_WORDS: dict[str, tuple[str, int]] = {
    "m": ("month", 1), "mo": ("month", 1), "mon": ("month", 1), "month": ("month", 1),
    "months": ("month", 1), "monthly": ("month", 1), "monat": ("month", 1),
    "monate": ("month", 1), "monatlich": ("month", 1), "per_month": ("month", 1),
    "q": ("quarter", 1), "quarter": ("quarter", 1), "quarters": ("quarter", 1),
    "quarterly": ("quarter", 1), "quartal": ("quarter", 1), "quartalsweise": ("quarter", 1),
    "vierteljaehrlich": ("quarter", 1),
    "half_year": ("month", 6), "halfyear": ("month", 6), "semiannual": ("month", 6),
    "semi_annual": ("month", 6), "semiannually": ("month", 6), "halbjaehrlich": ("month", 6),
    "y": ("year", 1), "yr": ("year", 1), "year": ("year", 1), "years": ("year", 1),
    "yearly": ("year", 1), "annual": ("year", 1), "annually": ("year", 1), "jahr": ("year", 1),
    "jaehrlich": ("year", 1), "per_year": ("year", 1),
    "w": ("week", 1), "week": ("week", 1), "weeks": ("week", 1), "weekly": ("week", 1),
    "woche": ("week", 1), "woechentlich": ("week", 1),
    "d": ("day", 1), "day": ("day", 1), "days": ("day", 1), "daily": ("day", 1),
    "tag": ("day", 1), "taeglich": ("day", 1),
}  # fmt: skip
_COUNTED = re.compile(r"(?:every_)?(\d+)_?([a-z_]+)")
INTERVAL_HINT = "use month, quarter, year, week or day (optionally with a count, e.g. '3 months')"


@lru_cache(maxsize=1024)
def parse_interval(text: str) -> tuple[str, int]:
    """(unit, count) from ``month``, ``Monthly``, ``3 months``, ``every 2 weeks``, ``jährlich``."""
    word = _fold(text)
    if word in _INTERVAL_WORDS:
        return _INTERVAL_WORDS[word]
    if (m := _COUNTED.fullmatch(word)) and m[2] in _INTERVAL_WORDS and int(m[1]) > 0:
        unit, base = _INTERVAL_WORDS[m[2]]
        return unit, base * int(m[1])
    raise ValueProblem(f"unknown billing interval {text!r}; {INTERVAL_HINT}")


@lru_cache(maxsize=4096)
def parse_count(text: str) -> int:
    """A positive whole number (interval count, quantity): '3', '3.0'."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueProblem(f"cannot read {text!r} as a whole number") from None
    if value != value.to_integral_value() or value < 0:
        raise ValueProblem(f"{text!r} is not a whole number of zero or more")
    return int(value)


def monthly_minor(amount_minor: Decimal, unit: str, count: int = 1) -> int:
    """Monthly value of an amount billed every ``count`` ``unit``s, rounded half up once.

    year / 12, quarter / 3, week * 52 / 12, day * 365 / 12, then divided by the interval count.
    """
    num, den = _MONTHLY_FACTOR[unit]
    return round_half_up(amount_minor * num / (den * count))


def spread_monthly(amount_minor: Decimal, start: date, end: date) -> int:
    """MRR of an invoice line covering [start, end): amount / k for k whole calendar months,
    otherwise evenly by day, amount * 365 / (12 * days)."""
    months = whole_months(start, end)
    if months:
        return round_half_up(amount_minor / months)
    days = (end - start).days
    return round_half_up(amount_minor * 365 / (12 * days))


def discount_end(start: date, duration: str, months: int | None, unit: str, count: int,
                 line_end: date | None) -> date | None:
    """Exclusive end of a discount that starts with its subscription line.

    ``once`` covers the first billing interval; ``repeating`` the given number of months;
    ``forever`` as long as the line. Never past the line's own end.
    """
    if duration == "once":
        end = _after_interval(start, unit, count)
    elif duration == "repeating":
        end = add_months(start, months or 0)
    else:
        return line_end
    return end if line_end is None or end < line_end else line_end


def _after_interval(start: date, unit: str, count: int) -> date:
    if unit == "month":
        return add_months(start, count)
    if unit == "quarter":
        return add_months(start, 3 * count)
    if unit == "year":
        return add_months(start, 12 * count)
    return start + timedelta(days=(7 if unit == "week" else 1) * count)


# -- small vocabularies ---------------------------------------------------------------------------

_DURATIONS = {"once": "once", "one_time": "once", "repeating": "repeating", "repeat": "repeating",
              "limited_period": "repeating", "forever": "forever", "permanent": "forever"}


@lru_cache(maxsize=256)
def parse_duration(text: str) -> str:
    word = _fold(text)
    if word in _DURATIONS:
        return _DURATIONS[word]
    raise ValueProblem(f"unknown discount duration {text!r}; use once, repeating or forever")


_INVOLUNTARY_HINTS = ("payment", "involuntary", "dunning", "unpaid", "card", "failed", "nonpay",
                      "non_pay", "delinquen")


@lru_cache(maxsize=1024)
def churn_reason(text: str) -> str:
    """'involuntary' for payment failures (however the export words them), else 'voluntary'."""
    word = _fold(text)
    return "involuntary" if any(hint in word for hint in _INVOLUNTARY_HINTS) else "voluntary"


_RECURRING = {"recurring", "subscription", "true", "yes", "y", "1", "x", "wiederkehrend", "abo"}
_METERED = {"metered", "usage", "usage_based", "metered_usage", "verbrauch", "nutzung"}
_ONE_TIME = {"one_time", "onetime", "one_off", "oneoff", "once", "setup", "setup_fee",
             "invoiceitem", "invoice_item", "false", "no", "n", "0", "einmalig", "proration"}


@lru_cache(maxsize=1024)
def line_kind(text: str) -> str | None:
    """'recurring', 'metered' (usage: the ``metered`` setting decides) or None for one-time."""
    word = _fold(text)
    if word in _RECURRING:
        return "recurring"
    if word in _METERED:
        return "metered"
    if word in _ONE_TIME:
        return None
    raise ValueProblem(f"cannot tell whether {text!r} is recurring; write recurring, metered "
                       "or one_time")


def is_true(text: str) -> bool:
    return _fold(text) in {"true", "yes", "y", "1", "x", "ja", "wahr"}


# Subscription states that count 0 (SPEC section 2); past_due and active count.
ZERO_STATUSES = frozenset({"unpaid", "canceled", "cancelled", "incomplete", "incomplete_expired",
                           "paused", "trialing", "in_trial", "future", "non_renewing_trial"})


@lru_cache(maxsize=256)
def status_word(text: str) -> str:
    return _fold(text)


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower case, umlauts spelled out, every run of other characters one underscore."""
    return _NON_WORD.sub("_", text.strip().lower().translate(_UMLAUTS)).strip("_")


def fold_name(text: str) -> str:
    """The comparable form of a column header or vocabulary word (see docs/importing.md)."""
    return _fold(text)


# -- rows to revenue lines ------------------------------------------------------------------------

Fields = dict[str, str | None]  # role -> the cell's text (None when empty or not in the file)


class CellProblem(ValueError):
    """A cell of one row cannot be used; ``role`` names the column, the message what to do."""

    def __init__(self, role: str, message: str) -> None:
        super().__init__(message)
        self.role = role
        self.message = message


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file's cells (from the mapping; see docs/importing.md)."""

    currencies: frozenset[str]
    day_first: bool = False
    decimal_comma: bool | None = None
    amounts_in_minor: bool = False
    default_currency: str | None = None
    default_interval: tuple[str, int] = ("month", 1)
    end_inclusive: bool | None = None


class Line(NamedTuple):
    """One canonical revenue line before it gets its id and source (schema.REVENUE_LINES).

    A named tuple, not a dataclass: a million-row import builds a million of them.
    """

    suffix: str  # "" for the row's own line, "#discount" for its discount
    customer_id: str
    start_date: date
    end_date: date | None
    mrr_minor: int
    currency: str
    kind: str
    discount_duration: str | None
    plan: str | None
    quantity: int | None
    cancel_requested_date: date | None
    past_due_since: date | None
    churn_reason: str | None


class RowResult(NamedTuple):
    customer_id: str
    currency: str
    event_date: date  # subscription start or invoice date: for the date checks
    lines: tuple[Line, ...]
    skipped: str | None = None  # why the row brings no MRR ("one_time", "status paused", ...)


def _cell(fields: Fields, role: str, what: str) -> str:
    text = fields.get(role)
    if text is None:
        raise CellProblem(role, f"the {what} is empty; every row needs one")
    return text


def _date(fields: Fields, role: str, options: ReadOptions) -> date | None:
    text = fields.get(role)
    if text is None:
        return None
    try:
        return parse_date(text, options.day_first)
    except ValueProblem as exc:
        raise CellProblem(role, str(exc)) from None


def _amount(fields: Fields, role: str, options: ReadOptions, currency: str) -> Decimal | None:
    """The cell in exact (possibly fractional) minor units of ``currency``."""
    text = fields.get(role)
    if text is None:
        return None
    try:
        value = parse_amount(text, options.decimal_comma)
    except ValueProblem as exc:
        raise CellProblem(role, str(exc)) from None
    return value if options.amounts_in_minor else to_minor_exact(value, currency)


def _currency(fields: Fields, options: ReadOptions) -> str:
    text = fields.get("currency") or options.default_currency
    if text is None:
        raise CellProblem("currency", "the currency is empty; write an ISO code such as EUR "
                                      "(or pass --currency EUR for a file in one currency)")
    code = text.strip().upper()
    if code not in options.currencies:
        raise CellProblem("currency", f"{text!r} is not a known ISO 4217 currency code; use a "
                                      "three-letter code such as EUR, CHF or USD (or supply a "
                                      "rates file that defines it)")
    return code


def _count(fields: Fields, role: str) -> int | None:
    text = fields.get(role)
    if text is None:
        return None
    try:
        return parse_count(text)
    except ValueProblem as exc:
        raise CellProblem(role, f"{exc}; write a whole number such as 3") from None


def _interval(fields: Fields, options: ReadOptions) -> tuple[str, int]:
    text = fields.get("interval")
    try:
        unit, count = parse_interval(text) if text is not None else options.default_interval
    except ValueProblem as exc:
        raise CellProblem("interval", str(exc)) from None
    extra = _count(fields, "interval_count")
    if extra == 0:
        raise CellProblem("interval_count", "the interval count is 0; write 1 or more")
    return unit, count * (extra or 1)


def _ordered(fields: Fields, start: date, end: date | None, role: str, start_role: str) -> None:
    if end is not None and end < start:
        raise CellProblem(role, f"the end {end.isoformat()} is before the start "
                                f"{start.isoformat()} (column {start_role}); correct one of "
                                "the two dates")


def subscription_row(fields: Fields, options: ReadOptions) -> RowResult:
    """The revenue lines of one subscription-period row: the recurring line and its discount."""
    customer = _cell(fields, "customer", "customer")
    currency = _currency(fields, options)
    start = _date(fields, "start", options)
    if start is None:
        raise CellProblem("start", "the start date is empty; every period needs one "
                                   f"({DATE_HINT})")
    end = _date(fields, "end", options)
    end_role = "end"
    if end is None:
        end, end_role = _date(fields, "scheduled_end", options), "scheduled_end"
    _ordered(fields, start, end, end_role, "start")
    if end is not None and options.end_inclusive:
        end += timedelta(days=1)
    unit, count = _interval(fields, options)
    quantity = _count(fields, "quantity")
    gross = _row_mrr_exact(fields, options, currency, unit, count, quantity)
    first_paid = _after_trial(fields, options, start)
    status = status_word(fields.get("status") or "")
    skipped = _zero_reason(status, end, first_paid)
    if skipped is not None:
        return RowResult(customer, currency, start, (), skipped)
    main = Line("", customer, first_paid, end, round_half_up(gross), currency, "recurring", None,
                fields.get("plan"), quantity, _date(fields, "cancel_requested", options),
                _date(fields, "past_due_since", options) if status == "past_due" else None,
                churn_reason(fields["churn_reason"] or "") if end and fields.get("churn_reason")
                else None)
    discount = _discount_line(fields, options, main, gross, unit, count)
    return RowResult(customer, currency, start, (main, discount) if discount else (main,))


def _row_mrr_exact(fields: Fields, options: ReadOptions, currency: str, unit: str, count: int,
                   quantity: int | None) -> Decimal:
    """The row's monthly amount before rounding: an MRR column as is, else price x quantity
    normalised to one month."""
    mrr = _amount(fields, "mrr", options, currency)
    if mrr is not None:
        return mrr
    price = _amount(fields, "amount", options, currency)
    if price is None:
        raise CellProblem("amount", "the amount is empty; write the price per billing interval "
                                    "(0 for a free plan)")
    num, den = _MONTHLY_FACTOR[unit]
    return price * (1 if quantity is None else quantity) * num / (den * count)


def _after_trial(fields: Fields, options: ReadOptions, start: date) -> date:
    trial_end = _date(fields, "trial_end", options)
    return trial_end if trial_end is not None and trial_end > start else start


def _zero_reason(status: str, end: date | None, first_paid: date) -> str | None:
    if end is not None and end <= first_paid:
        return "no paid day (trial or zero-length period)"
    if status in ZERO_STATUSES and end is None:
        return f"status {status} without an end date"
    return None


def _discount_line(fields: Fields, options: ReadOptions, main: Line, gross: Decimal, unit: str,
                   count: int) -> Line | None:
    value = _discount_exact(fields, options, main.currency, gross, unit, count)
    if value is None:
        return None
    months = _count(fields, "discount_months")
    duration = _duration(fields, months)
    start = max(_date(fields, "discount_start", options) or main.start_date, main.start_date)
    end = _date(fields, "discount_end", options)
    if end is None:
        if duration == "repeating" and not months:
            raise CellProblem("discount_months", "a repeating discount needs its number of "
                                                 "months (or a discount end date)")
        end = discount_end(start, duration, months, unit, count, main.end_date)
    _ordered(fields, start, end, "discount_end", "discount_start")
    if end is not None and end <= start:
        return None
    return Line("#discount", main.customer_id, start, end, -round_half_up(value), main.currency,
                "discount", duration, main.plan, None, None, None, None)


def _discount_exact(fields: Fields, options: ReadOptions, currency: str, gross: Decimal,
                    unit: str, count: int) -> Decimal | None:
    percent_text = fields.get("discount_percent")
    if percent_text is not None:
        try:
            percent = parse_amount(percent_text.replace("%", ""), options.decimal_comma)
        except ValueProblem:
            raise CellProblem("discount_percent", f"cannot read {percent_text!r} as a percentage;"
                                                  " write 10 or 10% for ten percent") from None
        if not 0 <= percent <= 100:
            raise CellProblem("discount_percent", f"{percent_text!r} is not between 0 and 100")
        return gross * percent / 100 if percent else None
    off = _amount(fields, "discount_amount", options, currency)
    if not off:
        return None
    num, den = _MONTHLY_FACTOR[unit]
    return off * num / (den * count)  # amount off each invoice, not per seat


def _duration(fields: Fields, months: int | None) -> str:
    text = fields.get("discount_duration")
    if text is None:
        return "repeating" if months else "forever"
    try:
        return parse_duration(text)
    except ValueProblem as exc:
        raise CellProblem("discount_duration", str(exc)) from None


def invoice_row(fields: Fields, options: ReadOptions) -> RowResult:
    """The revenue line of one invoice line: spread over its service period (or its month)."""
    customer = _cell(fields, "customer", "customer")
    currency = _currency(fields, options)
    issued = _date(fields, "date", options)
    if issued is None:
        raise CellProblem("date", f"the invoice date is empty; every line needs one ({DATE_HINT})")
    amount = _amount(fields, "amount", options, currency)
    if amount is None:
        raise CellProblem("amount", "the amount is empty; write the line's net amount")
    kind = _line_kind(fields)
    if kind is None:
        return RowResult(customer, currency, issued, (), "one_time")
    start, end = _service_period(fields, options, issued)
    line = Line("", customer, start, end, spread_monthly(amount, start, end), currency, kind,
                None, fields.get("plan"), _count(fields, "quantity"), None, None, None)
    return RowResult(customer, currency, issued, (line,))


def _line_kind(fields: Fields) -> str | None:
    if fields.get("proration") is not None and is_true(fields["proration"] or ""):
        return None
    text = fields.get("recurring")
    if text is None:
        return "recurring"
    try:
        return line_kind(text)
    except ValueProblem as exc:
        raise CellProblem("recurring", str(exc)) from None


def _service_period(fields: Fields, options: ReadOptions, issued: date) -> tuple[date, date]:
    start = _date(fields, "service_start", options)
    end = _date(fields, "service_end", options)
    if start is None and end is None:
        first = month_start(issued)
        return first, add_months(first, 1)
    if start is None or end is None:
        role = "service_start" if start is None else "service_end"
        raise CellProblem(role, "the service period has only one end; fill both the start and "
                                "the end, or leave both empty for the invoice's month")
    _ordered(fields, start, end, "service_end", "service_start")
    return start, _exclusive_end(start, end, options.end_inclusive)


def _exclusive_end(start: date, end: date, inclusive: bool | None) -> date:
    """Service periods are [start, end) unless the end is evidently the last day of service:
    the period is then whole calendar months only when one day is added (1 Jan - 31 Jan)."""
    if inclusive is None:
        inclusive = end == start or (
            whole_months(start, end) is None
            and whole_months(start, end + timedelta(days=1)) is not None
        )
    return end + timedelta(days=1) if inclusive else end
