"""The compiled pipeline SQL must not drift silently: it is compared with a stored snapshot.

After an intended change, regenerate with NRR_UPDATE_SNAPSHOTS=1 and review the diff.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from nrr.core import pipeline
from nrr.core.periods import index_of
from nrr.schema import Settings

SNAPSHOTS = Path(__file__).parent / "snapshots"
CASES = {
    "default": Settings(),
    "every_setting": Settings(discounts="all", churn_timing="requested", past_due_grace_days=30,
                              metered="trailing_average", fx_date="service_start",
                              reporting_currency="CHF", period="quarter"),
}


def compiled(settings: Settings) -> str:
    frame = pipeline.Frame(settings, date(2026, 10, 31), first_p=index_of(
        date(2024, 1, 15), settings.period))
    stages = pipeline.build(frame, ("all", "plan", "size", "country"))
    return "\n".join(f"-- {s.name}{' (view)' if s.view else ''}\n{s.sql.strip()}\n"
                     for s in stages)


@pytest.mark.parametrize("case", sorted(CASES))
def test_pipeline_sql_matches_snapshot(case: str) -> None:
    path = SNAPSHOTS / f"pipeline_{case}.sql"
    sql = compiled(CASES[case])
    if os.environ.get("NRR_UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(sql)
    assert sql == path.read_text()


def test_pipeline_sql_is_deterministic() -> None:
    assert compiled(Settings()) == compiled(Settings())
