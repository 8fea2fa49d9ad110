"""The seeded demo company: deterministic, structurally complete, importable, plausible."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from nrr.demo_data import COLUMNS, generate_demo_company, write_demo_csv
from nrr.imports import import_file
from nrr.store import Workspace

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return generate_demo_company()


def test_same_seed_same_file(tmp_path: Path) -> None:
    a = write_demo_csv(tmp_path / "a.csv", customers=300)
    b = write_demo_csv(tmp_path / "b.csv", customers=300)
    c = write_demo_csv(tmp_path / "c.csv", customers=300, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert a.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)


def test_what_the_company_contains(rows: list[dict[str, str]]) -> None:
    assert len({r["customer_id"] for r in rows}) == 2000
    assert {r["plan"] for r in rows} == {"Starter", "Growth", "Scale", "Enterprise"}
    assert {r["interval"] for r in rows} == {"month", "quarter", "year"}
    currencies = [r["currency"] for r in rows]
    assert set(currencies) == {"EUR", "CHF", "USD"}
    assert currencies.count("EUR") > len(currencies) / 2
    assert {"DE", "AT", "CH"} < {r["country"] for r in rows}
    assert {r["discount_duration"] for r in rows} == {"", "once", "repeating", "forever"}
    assert {r["churn_reason"] for r in rows if r["status"] == "canceled"} >= {"payment_failed",
                                                                            "too_expensive"}
    assert all(r["start_date"] <= END.isoformat() for r in rows)
    assert all(r["employees"].isdigit() and r["industry"] for r in rows)


def test_lifecycle_events_are_present(rows: list[dict[str, str]]) -> None:
    by_customer: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_customer[row["customer_id"]].append(row)
    changes = reactivations = 0
    for periods in by_customer.values():
        for before, after in zip(periods, periods[1:], strict=False):
            if before["end_date"] == after["start_date"]:
                changes += (before["quantity"], before["plan"]) != (after["quantity"],
                                                                    after["plan"])
            elif before["status"] == "canceled" and after["start_date"] > before["end_date"]:
                reactivations += 1
    assert changes > 500 and reactivations > 20
    requested = [r for r in rows if r["cancel_requested_date"]]
    assert requested and all(r["cancel_requested_date"] < r["end_date"] for r in requested)
    assert any(r["end_date"] > END.isoformat() for r in requested)  # announced, not yet ended
    assert any(r["status"] == "past_due" and r["past_due_since"] for r in rows)


def test_imports_cleanly_and_looks_like_a_b2b_saas(ws: Workspace, tmp_path: Path) -> None:
    report = import_file(ws, write_demo_csv(tmp_path / "demo.csv"), as_of=END)
    assert report.ok and report.warnings == []
    assert report.attributes == ["country", "industry", "employees"]
    nrr, grr = _ttm_retention(ws, date(2025, 10, 31), END)
    assert 1.00 <= nrr <= 1.10
    assert 0.85 <= grr <= 0.92


def _ttm_retention(ws: Workspace, t0: date, t1: date) -> tuple[float, float]:
    """A deliberately plain reading: MRR on both days at rough fixed rates, once-discounts out."""
    rate = {"EUR": 1.0, "CHF": 1.05, "USD": 0.92}

    def mrr(day: date) -> dict[str, float]:
        got = ws.con.execute(
            "SELECT customer_id, currency, sum(mrr_minor) FROM revenue_lines "
            "WHERE start_date <= ? AND (end_date IS NULL OR end_date > ?) "
            "AND coalesce(discount_duration, '') <> 'once' GROUP BY 1, 2", [day, day]).fetchall()
        return {c: float(v) * rate[cur] for c, cur, v in got}

    start, end = mrr(t0), mrr(t1)
    cohort = [c for c, v in start.items() if v > 0]
    base = sum(start[c] for c in cohort)
    kept = sum(end.get(c, 0.0) for c in cohort)
    gross = sum(min(start[c], end.get(c, 0.0)) for c in cohort)
    return kept / base, gross / base
