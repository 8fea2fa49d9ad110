"""What every pipeline stage shares: the frame (settings, as-of day, first period), stages and
scopes, and the SQL expressions for counted lines, their ends and currency conversion. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nrr.core.periods import TTM_PERIODS, index_of, index_sql
from nrr.schema import Settings

OPEN = 10_000_000


@dataclass(frozen=True)
class Stage:
    name: str
    sql: str
    view: bool = False  # a cheap projection: engines may inline it instead of storing it
    # Earlier stage tables nothing reads once this one exists: an engine may drop them. At 10M
    # customers that leaves about 1 GB more for later stages and an update's splice.
    frees: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """What the pipeline needs besides the settings: the as-of day and the first period."""

    settings: Settings
    as_of: date
    first_p: int
    # Customer keys are a hash of the id (no sort, no join to find them); ``False`` numbers the
    # ids in order instead, for the rare data where two ids share a hash (see ``keys_stage``).
    hashed_keys: bool = True
    # Every customer attribute comes from one source, where each customer has one value per key
    # (as the store keeps them), so the whole base reads an attribute without grouping it. Set
    # when an attribute dimension is computed, as the attributes are then.
    one_source_attributes: bool = False

    @property
    def last_p(self) -> int:
        return index_of(self.as_of, self.settings.period)

    @property
    def windows(self) -> tuple[int, ...]:
        ttm = TTM_PERIODS[self.settings.period]
        return (1,) if ttm == 1 else (1, ttm)

    def periods(self) -> list[int]:
        """Period indexes from the one before the first (everything zero) to the last."""
        return list(range(self.first_p - 1, self.last_p + 1))


@dataclass(frozen=True)
class Scope:
    """Which customers the per-customer stages cover, and the names they write.

    The whole base writes ``lines``, ``stretches``, ...; an update writes ``lines_delta``, ...
    for the customers listed in a ``touched`` relation only.
    """

    suffix: str = ""
    revenue_lines: str = "revenue_lines"

    def __call__(self, name: str) -> str:
        return name + self.suffix

    @property
    def partial(self) -> bool:
        return self.suffix != ""


WHOLE = Scope()
TOUCHED = Scope(
    "_delta",
    "touched_lines",  # the touched customers' revenue lines, copied once by the update
)
# The touched customers' stored rows, before an update replaces them (contributions only).
OLD = Scope("_old")


def currency_code(text: str) -> str:
    """A currency's integer code from its (upper-case) name, as the stage tables carry it.

    Grouping, joining and storing a million numbers costs less than the same rows of short text
    (about 0.07 s of a 1M-customer recompute). ``rates`` has each currency's code (``cur``) beside
    its name; tables shown to people carry the name."""
    return f"CAST(hash({text}) >> 1 AS BIGINT)"


def home_code(frame: Frame) -> str:
    """The reporting currency's code (``currency_code``), for comparing with ``cur`` columns."""
    return currency_code(f"'{frame.settings.reporting_currency}'")


# A stretch's movement as the stage tables carry it (a small number, for the reason above);
# ``movement_name`` gives it back as the word the reports show.
MOVEMENT_CODES = {"new": 1, "reactivation": 2, "expansion": 3, "contraction": 4, "churn": 5}


def movement_name(code: str) -> str:
    whens = " ".join(f"WHEN {v} THEN '{k}'" for k, v in MOVEMENT_CODES.items())
    return f"CASE {code} {whens} END"


def to_reporting(n: str, rate: str, cur: str, frame: Frame) -> str:
    """Minor units of a currency in minor units of the reporting currency at ``rate`` (a rates
    row's alias), rounded half away from zero; ``cur`` is the currency's code. The reporting
    currency itself needs no work."""
    return f"CASE WHEN {cur} = {home_code(frame)} THEN {n} ELSE {convert(n, rate)} END"


def convert(n: str, rate: str) -> str:
    """``round(n × rate)`` exactly, for a rates row ``rate`` (columns ``rate`` DECIMAL and
    ``rate_f`` DOUBLE).

    Decimal multiplication is exact but about ten times slower than floating point. A double
    product below 1e9 is within 2.2e-7 of the exact one, so where it lies more than 1e-6 from a
    half-integer both round to the same integer; only the rest (ties and near-ties, or huge
    amounts) take the decimal path.
    """
    x = f"({n} * {rate}.rate_f)"
    return (
        f"CASE WHEN abs({x}) < 1e9 AND abs({x} - floor({x}) - 0.5) > 1e-6 "
        f"THEN CAST(round({x}) AS BIGINT) ELSE CAST(round({n} * {rate}.rate) AS BIGINT) END"
    )


def key_sql(customer_id: str) -> str:
    """A customer's integer key from its id: 63 bits of the engine's hash of the text."""
    return f"CAST(hash({customer_id}) >> 1 AS BIGINT)"


def date_sql(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def counted_kinds(settings: Settings) -> str:
    """SQL predicate selecting the lines the settings count as MRR."""
    durations = {
        "recurring": ("repeating", "forever"),
        "forever": ("forever",),
        "all": ("once", "repeating", "forever"),
        "none": (),
    }[settings.discounts]
    parts = ["kind = 'recurring'"]
    if durations:
        listed = ", ".join(f"'{d}'" for d in durations)
        parts.append(f"(kind = 'discount' AND discount_duration IN ({listed}))")
    if settings.metered == "trailing_average":
        parts.append("kind = 'metered'")
    return "(" + " OR ".join(parts) + ")"


def first_period_sql(settings: Settings, as_of: date) -> str:
    """The index of the first period with any counted line (NULL when there is none)."""
    start = index_sql("start_date", settings.period)
    return (
        f"SELECT min({start}) AS first_p FROM revenue_lines "
        f"WHERE start_date <= {date_sql(as_of)} AND {counted_kinds(settings)}"
    )


def _timed_end(settings: Settings) -> str:
    """The day a line ends after the churn-timing setting."""
    if settings.churn_timing == "requested":
        return (
            "CASE WHEN cancel_requested_date IS NOT NULL AND end_date IS NOT NULL "
            "AND cancel_requested_date < end_date THEN cancel_requested_date ELSE end_date END"
        )
    return "end_date"


def grace_cutoff(settings: Settings) -> str:
    """The day the past-due grace period runs out."""
    return f"CAST(past_due_since + INTERVAL {int(settings.past_due_grace_days or 0)} DAY AS DATE)"


def _grace_ends(settings: Settings, end: str) -> str:
    """True where the past-due grace period ends the line before ``end`` does."""
    return f"past_due_since IS NOT NULL AND ({end} IS NULL OR {grace_cutoff(settings)} < {end})"


def end_expr(settings: Settings) -> str:
    """The day a line stops counting, after the churn-timing, grace and metered settings."""
    end = _timed_end(settings)
    if settings.past_due_grace_days is not None:
        end = f"CASE WHEN {_grace_ends(settings, end)} THEN {grace_cutoff(settings)} ELSE {end} END"
    if settings.metered == "trailing_average":
        end = (
            f"CASE WHEN kind = 'metered' AND {end} IS NOT NULL "
            f"THEN CAST({end} + INTERVAL 2 MONTH AS DATE) ELSE {end} END"
        )
    return end


def churn_reason_expr(settings: Settings) -> str:
    """Why a line ends, where it does: ``involuntary`` when the past-due grace period ends it
    (the customer stopped paying), otherwise the reason the data gives."""
    if settings.past_due_grace_days is None:
        return "churn_reason"
    return (f"CASE WHEN {_grace_ends(settings, _timed_end(settings))} THEN 'involuntary' "
            "ELSE churn_reason END")  # fmt: skip


def crossing_customers_sql(settings: Settings, before: date, after: date) -> str:
    """Customers with a line that starts or stops counting between two as-of days: the only ones
    whose per-customer stages differ between them when their lines did not change."""
    kinds = counted_kinds(settings)
    end = end_expr(settings)
    lo, hi = date_sql(before), date_sql(after)
    return (
        f"SELECT DISTINCT customer_id FROM revenue_lines WHERE {kinds} AND ("
        f"(start_date > {lo} AND start_date <= {hi}) OR (({end}) > {lo} AND ({end}) <= {hi}))"
    )


# The revenue-line columns the per-customer stages read: an update copies only these of the
# touched customers' lines (the ids and references are long text the stages never look at).
LINE_COLUMNS = (
    "customer_id", "start_date", "end_date", "mrr_minor", "currency", "kind",
    "discount_duration", "plan", "cancel_requested_date", "past_due_since", "churn_reason",
)  # fmt: skip


def touched_lines_sql() -> str:
    """Every revenue line (counted or not) of the customers listed in ``touched``."""
    return (
        f"SELECT {', '.join(LINE_COLUMNS)} FROM revenue_lines "
        "WHERE customer_id IN (SELECT customer_id FROM touched)"
    )


def mrr_expr(settings: Settings) -> str:
    if settings.metered == "trailing_average":
        # The trailing three-period average of billed usage: a third of each billed amount, over
        # the billed period and the two after it.
        return (
            "CASE WHEN kind = 'metered' THEN CAST(round(mrr_minor / 3.0) AS BIGINT) "
            "ELSE mrr_minor END"
        )
    return "mrr_minor"


def ident(dimension: str) -> str:
    """A table-name-safe form of a dimension name (attribute keys are user data)."""
    safe = "".join(ch if ch.isalnum() else "_" for ch in dimension.lower())
    return f"{safe}_{abs(hash_str(dimension)) % 100000}" if safe != dimension.lower() else safe


def hash_str(text: str) -> int:
    """A stable (non-salted) small hash, so generated SQL is the same in every process."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 2_147_483_647
    return value
