"""Bridge identity, retention bounds and segment sums hold for every random company."""

from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from nrr.schema import Settings
from reference.companies import Company, companies, describe

from .checks import all_identities
from .engine import engine_metrics
from .metrics import (
    ENGINE_EXAMPLES,
    ENGINE_PHASES,
    REFERENCE_EXAMPLES,
    VARIANTS,
    reference_metrics,
    variant_id,
)

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large]


@given(companies(), st.sampled_from(VARIANTS))
@settings(max_examples=REFERENCE_EXAMPLES, deadline=None, suppress_health_check=SLOW)
def test_reference_keeps_every_identity(company: Company, chosen: Settings) -> None:
    all_identities(reference_metrics(company, chosen))


@given(companies(), st.sampled_from(VARIANTS))
@settings(max_examples=ENGINE_EXAMPLES, deadline=None, suppress_health_check=SLOW,
          phases=ENGINE_PHASES)
def test_engine_keeps_every_identity(company: Company, chosen: Settings) -> None:
    note(f"{variant_id(chosen)}\n{describe(company)}")
    all_identities(engine_metrics(company, chosen))
