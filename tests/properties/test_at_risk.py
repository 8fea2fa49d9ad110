"""Accounts at risk: the engine equals a brute-force reading of the lines, for every setting value.

The reference walks each customer's raw lines on the as-of day (``reference.lines``) and its
movements (``reference.model``): no SQL, nothing shared with ``nrr.core.risk`` but the rules.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from nrr import reports
from nrr.schema import Settings
from reference.companies import Company, companies, describe, random_company
from reference.lines import effective_end, effective_mrr, kept, period_of, round_half_away
from reference.model import Reference

from .engine import compute
from .metrics import ENGINE_EXAMPLES, ENGINE_PHASES, VARIANTS, variant_id

RECENT = {"month": 3, "quarter": 1, "year": 1}
Risk = dict[str, tuple[Any, ...]]


def reference_at_risk(company: Company, chosen: Settings) -> Risk:
    rates = company.rates(chosen.period, chosen.reporting_currency)
    ref = Reference(company.lines, company.as_of, chosen, company.attributes, rates)
    as_of, p = company.as_of, period_of(company.as_of, chosen.period)
    found: Risk = {}
    for customer in ref.customers:
        if ref.native(customer, p) <= 0:
            continue
        live = [r for r in company.lines if r["customer_id"] == customer and kept(r, chosen)
                and r["start_date"] <= as_of and _counts_after(r, chosen, as_of)]  # fmt: skip
        cancels = [r["end_date"] for r in live if _pending(r, as_of)]
        due = [r["past_due_since"] for r in live if _due(r, as_of)]
        marked = [r for r in live if _pending(r, as_of) or _due(r, as_of)]
        mrr = ref.value(customer, p)
        at_risk = 0
        if marked:
            native = sum(effective_mrr(r, chosen) for r in marked)
            rate = ref.rate(ref.currency[customer], p)
            at_risk = max(0, min(round_half_away(native * rate), mrr))
        downgraded = sum(m.amount for q in range(p - RECENT[chosen.period] + 1, p + 1)
                         for m in ref.movements_of(customer, q) if m.movement == "contraction")
        if marked or downgraded > 0:
            grace = chosen.past_due_grace_days
            lapses = None if grace is None or not due else min(due) + timedelta(days=grace)
            found[customer] = (mrr, at_risk, _day(min(cancels, default=None)),
                               _day(min(due, default=None)), _day(lapses), downgraded)
    return found


def _counts_after(row: dict[str, Any], chosen: Settings, day: date) -> bool:
    end = effective_end(row, chosen)
    return end is None or end > day


def _pending(row: dict[str, Any], day: date) -> bool:
    """A cancellation asked for by ``day`` that takes effect after it."""
    asked, end = row["cancel_requested_date"], row["end_date"]
    return asked is not None and asked <= day and end is not None and end > day


def _due(row: dict[str, Any], day: date) -> bool:
    return row["past_due_since"] is not None and row["past_due_since"] <= day


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def engine_at_risk(company: Company, chosen: Settings) -> Risk:
    return {
        r["customer_id"]: (r["mrr"], r["mrr_at_risk"], r["cancels_on"], r["past_due_since"],
                           r["lapses_on"], r["downgraded"])
        for r in reports.at_risk(compute(company, chosen))["customers"]
    }  # fmt: skip


SEEDS = (13, 21)  # between them: every signal, and customers with only part of their MRR at risk


def test_the_seeded_companies_show_every_signal() -> None:
    found = [risk for seed in SEEDS
             for risk in reference_at_risk(random_company(seed, max_customers=12),
                                           Settings()).values()]  # fmt: skip
    assert any(r[2] for r in found) and any(r[3] for r in found) and any(r[5] for r in found)
    assert any(0 < r[1] < r[0] for r in found) and any(r[1] == r[0] for r in found)


@pytest.mark.parametrize("chosen", VARIANTS, ids=variant_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_seeded_company(seed: int, chosen: Settings) -> None:
    company = random_company(seed, max_customers=12)
    assert engine_at_risk(company, chosen) == reference_at_risk(company, chosen)


@given(companies(), st.sampled_from(VARIANTS))
@settings(max_examples=2 * ENGINE_EXAMPLES, deadline=None, phases=ENGINE_PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
def test_random_company(company: Company, chosen: Settings) -> None:
    note(f"{variant_id(chosen)}\n{describe(company)}")
    engine = engine_at_risk(company, chosen)
    assert engine == reference_at_risk(company, chosen)
    assert all(0 <= risk[1] <= risk[0] for risk in engine.values())
