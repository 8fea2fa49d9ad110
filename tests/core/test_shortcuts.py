"""Shortcuts in the pipeline give the same figures as the general formulation they replace."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from factories import attributes_table, line, lines_table
from nrr.api import compute_frames
from nrr.core import pipeline


def random_company(seed: int):
    rng = random.Random(seed)
    rows, attrs = [], []
    for c in range(40):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(500))
        currency = rng.choice(["EUR", "EUR", "CHF", "USD"])
        for _ in range(rng.randrange(1, 4)):
            end = start + timedelta(days=rng.randrange(20, 400)) if rng.random() < 0.6 else None
            rows.append(line(f"c{c}", start, end, rng.choice([900, 2900, 9900, 29900]),
                             currency=currency, plan=rng.choice(["A", "B", "C"])))
            if end is None:
                break
            start = end + timedelta(days=rng.choice([0, 0, 40]))
        attrs.append((f"c{c}", "country", rng.choice(["DE", "AT", "CH"])))
    return lines_table(rows), attributes_table(attrs)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("by", [None, "plan", "country"])
def test_one_period_retention_equals_the_general_window(seed: int, by: str | None) -> None:
    lines, attrs = random_company(seed)
    res = compute_frames(lines, as_of=date(2025, 12, 31), attributes=attrs)
    shortcut = [{k: v for k, v in r.items() if k != "dimension"}
                for r in res.retention(1, by).to_pylist()]
    dimension = by or "all"
    res.prepare([dimension])
    batch = res.batch_of(dimension)
    assert res.frame is not None
    for stage in pipeline.window_stages(res.frame, batch, 1):
        res.executor.run(stage)
    general = pipeline.retention_stage(res.frame, batch, 12)
    sql = general.sql.replace(batch.table("wchanges_12"), batch.table("wchanges_1")).replace(
        " + 12", " + 1").replace("12 AS window_periods", "1 AS window_periods")
    cols = ("segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, "
            "contraction, churn, customers_start, customers_retained")
    full = res.executor.query(
        f"SELECT {cols} FROM ({sql}) WHERE dim = ? ORDER BY segment, p", [dimension]
    ).to_pylist()
    if by is None:
        for row in full:
            row.pop("segment")
    assert shortcut == full
