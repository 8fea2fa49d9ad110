"""The reference model: every customer evaluated on every period's reading day, by brute force.

Nothing here is clever on purpose. MRR is summed from the active lines on each reading day (a
customer x period grid); movements compare neighbouring grid cells; the bridge, retention windows,
segments and cohorts are plain loops over that grid. Ratios are exact ``Fraction`` values.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from fractions import Fraction

from nrr.schema import Settings

from .lines import Line, Row, effective_lines, reading_days, round_half_away

Rates = Mapping[tuple[str, int], Decimal]
Segment = str | int | None  # plan name, size band index, attribute value; None = not set

BRIDGE_MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn", "fx")
_COUNTERS = {"new": "new_customers", "reactivation": "reactivated_customers",
             "churn": "churned_customers"}  # fmt: skip


@dataclass(frozen=True)
class Movement:
    customer_id: str
    p: int
    movement: str
    amount: int


@dataclass
class BridgeRow:
    p: int
    segment: Segment = None
    start_mrr: int = 0
    new: int = 0
    reactivation: int = 0
    expansion: int = 0
    contraction: int = 0
    churn: int = 0
    fx: int = 0
    end_mrr: int = 0
    customers_start: int = 0
    customers_end: int = 0
    new_customers: int = 0
    reactivated_customers: int = 0
    churned_customers: int = 0
    involuntary_churn: int = 0  # the part of churn whose ending lines include an unpaid one

    def identity_holds(self) -> bool:
        moved = self.new + self.reactivation + self.expansion - self.contraction - self.churn
        return self.start_mrr + moved + self.fx == self.end_mrr


@dataclass
class RetentionRow:
    t1: int
    window: int
    segment: Segment = None
    start_mrr: int = 0
    end_mrr: int = 0
    gross_mrr: int = 0
    customers_start: int = 0
    customers_retained: int = 0
    expansion: int = 0  # netted per customer over the whole window
    contraction: int = 0
    churn: int = 0

    @property
    def t0(self) -> int:
        return self.t1 - self.window

    @property
    def nrr(self) -> Fraction | None:
        return Fraction(self.end_mrr, self.start_mrr) if self.start_mrr else None

    @property
    def grr(self) -> Fraction | None:
        return Fraction(self.gross_mrr, self.start_mrr) if self.start_mrr else None

    @property
    def logo_retention(self) -> Fraction | None:
        if not self.customers_start:
            return None
        return Fraction(self.customers_retained, self.customers_start)


@dataclass
class CohortRow:
    cohort: int
    age: int
    customers: int = 0
    mrr: int = 0
    base_customers: int = 0
    base_mrr: int = 0

    @property
    def nrr(self) -> Fraction | None:
        return Fraction(self.mrr, self.base_mrr) if self.base_mrr else None

    @property
    def logo_retention(self) -> Fraction | None:
        return Fraction(self.customers, self.base_customers) if self.base_customers else None


def numbers(row: object) -> dict[str, int]:
    """The integer fields of a result row (for comparisons)."""
    return {f.name: getattr(row, f.name) for f in fields(row) if f.name != "segment"}  # type: ignore[arg-type]


class Reference:
    """The metrics of one company, computed the slow and obvious way."""

    def __init__(
        self,
        rows: Iterable[Row],
        as_of: date,
        settings: Settings | None = None,
        attributes: Iterable[Row] = (),
        rates: Rates | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.grain = self.settings.period
        self.rates: Rates = rates or {}
        lines = effective_lines(rows, as_of, self.settings)
        self.days = reading_days(lines, as_of, self.grain)
        self.periods = sorted(self.days)
        self.first = self.periods[0] if self.periods else 0
        self.lines: dict[str, list[Line]] = defaultdict(list)
        for line in lines:
            self.lines[line.customer_id].append(line)
        self.currency = {c: ls[0].currency for c, ls in self.lines.items()}
        self.grid = {c: {p: self._native_on(ls, self.days[p]) for p in self.periods}
                     for c, ls in self.lines.items()}  # fmt: skip
        self.attributes: dict[str, dict[str, str]] = defaultdict(dict)
        for attr in attributes:
            self.attributes[str(attr["customer_id"])][str(attr["key"])] = str(attr["value"])

    # -- the grid --------------------------------------------------------------------------

    @staticmethod
    def _native_on(lines: list[Line], day: date) -> int:
        return max(0, sum(line.mrr for line in lines if line.active(day)))

    @property
    def customers(self) -> list[str]:
        return sorted(self.grid)

    def native(self, customer: str, p: int) -> int:
        """MRR in the customer's own currency; 0 outside the grid."""
        return self.grid[customer].get(p, 0)

    def rate(self, currency: str, p: int) -> Decimal:
        if currency == self.settings.reporting_currency:
            return Decimal(1)
        return self.rates[(currency, p)]

    def has_rate(self, customer: str, p: int) -> bool:
        currency = self.currency[customer]
        return currency == self.settings.reporting_currency or (currency, p) in self.rates

    def value(self, customer: str, p: int, rate_period: int | None = None) -> int:
        """MRR in the reporting currency at the rate of `rate_period` (default: p itself)."""
        native = self.native(customer, p)
        if native == 0:
            return 0
        rate = self.rate(self.currency[customer], p if rate_period is None else rate_period)
        return round_half_away(native * rate)

    def paid_before(self, customer: str, p: int) -> bool:
        return any(self.native(customer, q) > 0 for q in self.periods if q < p)

    # -- movements -------------------------------------------------------------------------

    def movements_of(self, customer: str, p: int) -> list[Movement]:
        before, after = self.native(customer, p - 1), self.native(customer, p)
        # Constant currency is p-1's rate; before the first period there may be none (then p's).
        constant = p - 1 if p > self.first or self.has_rate(customer, p - 1) else p
        a, c = self.value(customer, p - 1, constant), self.value(customer, p, constant)
        found: list[tuple[str, int]] = []
        if before == 0 and after > 0:
            found.append(("reactivation" if self.paid_before(customer, p) else "new", c))
        elif before > 0 and after == 0:
            found.append(("churn", a))
        elif c != a and after > 0:
            found.append(("expansion", c - a) if c > a else ("contraction", a - c))
        fx = self.value(customer, p) - c
        if after > 0 and fx != 0:
            found.append(("fx", fx))
        return [Movement(customer, p, kind, amount) for kind, amount in found]

    def movements(self) -> list[Movement]:
        return [m for c in self.customers for p in self.periods for m in self.movements_of(c, p)]

    # -- segments --------------------------------------------------------------------------

    def plan_at(self, customer: str, p: int) -> str | None:
        active = [line for line in self.lines[customer] if line.active(self.days[p])]
        if not active:
            return None
        best = min(active, key=lambda line: (-line.mrr, line.plan is None, line.plan or ""))
        return best.plan

    def size_band(self, customer: str, p: int) -> int:
        """Band of the MRR at p converted at the rate of the customer's first paying period
        (docs/definitions.md), so exchange rates alone never move a customer between bands."""
        cohort = self.cohort_of(customer)
        mrr = self.value(customer, p, rate_period=p if cohort is None else cohort)
        return bisect.bisect_right(self.settings.size_bands, mrr)

    def segment(self, customer: str, p: int, by: str | None) -> Segment:
        if by is None:
            return None
        if by == "plan":
            return self.plan_at(customer, p)
        if by == "size":
            return self.size_band(customer, p)
        return self.attributes[customer].get(by)

    # -- bridge ----------------------------------------------------------------------------

    def bridge(self, by: str | None = None) -> list[BridgeRow]:
        """One row per period (and segment): a customer counts where it was at p-1, else at p."""
        rows: dict[tuple[int, Segment], BridgeRow] = {}
        if by is None:
            rows = {(p, None): BridgeRow(p) for p in self.periods}
        for customer in self.customers:
            for p in self.periods:
                self._add_to_bridge(rows, customer, p, by)
        return sorted(rows.values(), key=lambda r: (r.p, str(r.segment)))

    def _add_to_bridge(
        self, rows: dict[tuple[int, Segment], BridgeRow], customer: str, p: int, by: str | None
    ) -> None:
        before, after = self.native(customer, p - 1), self.native(customer, p)
        if before == 0 and after == 0:
            return
        segment = self.segment(customer, p - 1 if before > 0 else p, by)
        row = rows.setdefault((p, segment), BridgeRow(p, segment))
        row.start_mrr += self.value(customer, p - 1)
        row.end_mrr += self.value(customer, p)
        row.customers_start += before > 0
        row.customers_end += after > 0
        for move in self.movements_of(customer, p):
            setattr(row, move.movement, getattr(row, move.movement) + move.amount)
            counter = _COUNTERS.get(move.movement)
            if counter:
                setattr(row, counter, getattr(row, counter) + 1)
            if move.movement == "churn" and self.ended_unpaid(customer, p):
                row.involuntary_churn += move.amount

    def ended_unpaid(self, customer: str, p: int) -> bool:
        """A line of the customer that ends for lack of payment stopped counting at p."""
        before, after = self.days[p - 1], self.days[p]
        return any(line.involuntary and line.active(before) and not line.active(after)
                   for line in self.lines[customer])  # fmt: skip

    # -- retention -------------------------------------------------------------------------

    def retention(self, window: int, by: str | None = None) -> list[RetentionRow]:
        """Per window end t1 (t0 = t1 - window within the data), cohort = paying at t0."""
        rows: dict[tuple[int, Segment], RetentionRow] = {}
        for t1 in self.periods:
            t0 = t1 - window
            if t0 < self.first:
                continue
            if by is None:
                rows[(t1, None)] = RetentionRow(t1, window)
            for customer in self.customers:
                self._add_to_retention(rows, customer, t0, t1, by)
        return sorted(rows.values(), key=lambda r: (r.t1, str(r.segment)))

    def _add_to_retention(
        self, rows: dict[tuple[int, Segment], RetentionRow], customer: str, t0: int, t1: int,
        by: str | None,
    ) -> None:  # fmt: skip
        if self.native(customer, t0) == 0:
            return
        segment = self.segment(customer, t0, by)
        row = rows.setdefault((t1, segment), RetentionRow(t1, t1 - t0, segment))
        a, b = self.value(customer, t0), self.value(customer, t1, t0)
        row.start_mrr += a
        row.end_mrr += b
        row.gross_mrr += min(a, b)
        row.customers_start += 1
        retained = self.native(customer, t1) > 0
        row.customers_retained += retained
        if not retained:
            row.churn += a
        elif b > a:
            row.expansion += b - a
        else:
            row.contraction += a - b

    # -- cohorts ---------------------------------------------------------------------------

    def cohort_of(self, customer: str) -> int | None:
        return next((p for p in self.periods if self.native(customer, p) > 0), None)

    def cohorts(self) -> list[CohortRow]:
        rows: dict[tuple[int, int], CohortRow] = {}
        for customer in self.customers:
            cohort = self.cohort_of(customer)
            if cohort is None:
                continue
            for p in (q for q in self.periods if q >= cohort):
                row = rows.setdefault((cohort, p - cohort), CohortRow(cohort, p - cohort))
                row.customers += self.native(customer, p) > 0
                row.mrr += self.value(customer, p, cohort)
        for row in rows.values():
            base = rows[(row.cohort, 0)]
            row.base_customers, row.base_mrr = base.customers, base.mrr
        return sorted(rows.values(), key=lambda r: (r.cohort, r.age))
