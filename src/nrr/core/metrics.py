"""Reading the numbers: ratios, benchmark bands, compounding and warnings. Pure arithmetic.

Ratios are exact fractions of integer minor units, turned into floats only at the edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

# Public SaaS median NRR (context shown beside a company's figure).
PUBLIC_SAAS_MEDIAN = (1.10, 1.15)

# A high NRR built on expansion hides a weak GRR when NRR is at least this ...
MASKING_NRR = Fraction(1)
# ... while GRR is below this.
MASKING_GRR = Fraction(90, 100)
# NRR "falling": TTM NRR lower than it was this many periods earlier, by at least FALLING_DROP.
FALLING_LOOKBACK = 3
FALLING_DROP = Fraction(2, 100)


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """numerator / denominator, or None when the denominator is zero (no cohort)."""
    return Fraction(numerator, denominator) if denominator else None


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    low: float | None
    high: float | None


BANDS: tuple[Band, ...] = (
    Band("leaky", "Leaky bucket", None, 0.80),
    Band("acceptable", "Acceptable, limited expansion", 0.80, 1.00),
    Band("strong", "Strong", 1.00, 1.20),
    Band("exceptional", "Exceptional", 1.20, None),
)


def band(nrr: Fraction | None) -> Band | None:
    """The benchmark band of an NRR: < 80 %, 80–100 %, 100–120 %, > 120 % (lower bounds count)."""
    if nrr is None:
        return None
    for candidate in BANDS:
        if candidate.high is None or nrr < Fraction(candidate.high).limit_denominator(100):
            return candidate
    return BANDS[-1]


def years_to_double(annual_nrr: Fraction | None) -> float | None:
    """ln 2 / ln r: how long the existing base takes to double at annual NRR r (None if r <= 1)."""
    if annual_nrr is None or annual_nrr <= 1:
        return None
    return math.log(2) / math.log(float(annual_nrr))


def compounded(annual_nrr: Fraction | None, years: int) -> float | None:
    """What one unit of today's base is worth after ``years`` years at annual NRR r: r ** years."""
    if annual_nrr is None:
        return None
    return float(annual_nrr) ** years


def quick_ratio(
    new: int, reactivation: int, expansion: int, contraction: int, churn: int
) -> Fraction | None:
    """(new + reactivation + expansion) / (contraction + churn)."""
    return ratio(new + reactivation + expansion, contraction + churn)


def gross_mrr_churn(start: int, contraction: int, churn: int) -> Fraction | None:
    return ratio(contraction + churn, start)


def net_mrr_churn(start: int, expansion: int, contraction: int, churn: int) -> Fraction | None:
    return ratio(contraction + churn - expansion, start)


def masking_warning(nrr: Fraction | None, grr: Fraction | None) -> str | None:
    """Say so when a healthy-looking NRR rests on expansion over a weak gross retention."""
    if nrr is None or grr is None:
        return None
    if nrr >= MASKING_NRR and grr < MASKING_GRR:
        return (
            f"NRR {float(nrr):.1%} rests on expansion: gross retention is only {float(grr):.1%}, "
            f"so {float(1 - grr):.1%} of the starting MRR was lost to churn and contraction."
        )
    return None


def falling_warning(ttm_history: Sequence[Fraction | None]) -> str | None:
    """Say so when TTM NRR has fallen noticeably over the last few periods (an early warning)."""
    known = [v for v in ttm_history if v is not None]
    if len(known) <= FALLING_LOOKBACK:
        return None
    now, before = known[-1], known[-1 - FALLING_LOOKBACK]
    if before - now >= FALLING_DROP:
        return (
            f"TTM NRR is falling: {float(now):.1%} now against {float(before):.1%} "
            f"{FALLING_LOOKBACK} periods ago. The existing base is weakening even if new sales "
            "look healthy."
        )
    return None
