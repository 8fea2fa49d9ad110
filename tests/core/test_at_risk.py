"""Accounts at risk (nrr.core.risk): hand-built customers, each signal hand-computed."""

from __future__ import annotations

from datetime import date

import pytest

from factories import line, lines_table, month, rates_table
from nrr import reports
from nrr.api import compute_frames
from nrr.schema import Settings

D = date
JAN, MAR, AS_OF = D(2025, 1, 1), D(2025, 3, 1), D(2025, 3, 31)
ROWS = [
    # C asked on 10 March to leave on 1 May: all of its 100 is at risk.
    line("C", JAN, D(2025, 5, 1), 100_00, cancel_requested_date=D(2025, 3, 10)),
    # T cancels one of its two lines: only that line's 40 is at risk, of 100.
    line("T", JAN, D(2025, 4, 15), 40_00, cancel_requested_date=D(2025, 3, 1)),
    line("T", JAN, None, 60_00),
    # P's payment is past due since 20 March: its 80 is at risk (also pending cancellation on
    # the same line: counted once).
    line("P", JAN, D(2025, 6, 1), 80_00, past_due_since=D(2025, 3, 20),
         cancel_requested_date=D(2025, 3, 25)),  # fmt: skip
    # Q has been past due since 1 January: with 30 days of grace it stopped counting on 31 Jan.
    line("Q", JAN, None, 70_00, past_due_since=D(2025, 1, 1)),
    # X went from 50 to 30 in March: a downgrade of 20, nothing at risk.
    line("X", JAN, MAR, 50_00),
    line("X", MAR, None, 30_00),
    # Y's downgrade was in November: too long ago to count.
    line("Y", D(2024, 10, 1), D(2024, 11, 1), 90_00),
    line("Y", D(2024, 11, 1), None, 45_00),
    # G asked to leave and already left: churned, not at risk.
    line("G", JAN, D(2025, 3, 15), 30_00, cancel_requested_date=D(2025, 2, 1)),
    # F pays 10.05 + 10.05 CHF (1.10 EUR in March) and asked to leave on 1 June: 20.10 CHF =
    # 22.11 EUR at risk, all of its MRR (converted once: line by line it would be 2 × 11.06).
    *[line("F", JAN, D(2025, 6, 1), 10_05, currency="CHF", cancel_requested_date=D(2025, 3, 5))
      for _ in range(2)],
    # A requested cancellation that lies after the as-of day is not known yet.
    line("L", JAN, D(2025, 6, 1), 10_00, cancel_requested_date=D(2025, 4, 2)),
    line("K", JAN, None, 10_00),
    # Z's only line is past due; its discount line (without the mark) leaves with it: all 80.
    line("Z", JAN, None, 100_00, past_due_since=D(2025, 3, 28)),
    line("Z", JAN, None, -20_00, kind="discount", discount_duration="repeating"),
    # W cancels 60 of its 110 and keeps 50; its discount of 20 stays: 60 at risk of 90.
    line("W", JAN, D(2025, 5, 1), 60_00, cancel_requested_date=D(2025, 3, 3)),
    line("W", JAN, None, 50_00),
    line("W", JAN, None, -20_00, kind="discount", discount_duration="repeating"),
]
RATES = rates_table([("CHF", p, "1.1") for p in range(month(2024, 9), month(2025, 4))])


def risk(settings: Settings | None = None) -> reports.Row:
    res = compute_frames(lines_table([dict(r) for r in ROWS]), as_of=AS_OF, rates=RATES,
                         settings=settings)  # fmt: skip
    return reports.at_risk(res)


def by_customer(data: reports.Row) -> dict[str, tuple[object, ...]]:
    return {
        r["customer_id"]: (r["mrr"], r["mrr_at_risk"], r["cancels_on"], r["past_due_since"],
                           r["lapses_on"], r["downgraded"], tuple(r["reasons"]))
        for r in data["customers"]
    }  # fmt: skip


def test_each_signal_with_its_mrr_at_risk():
    data = risk()
    assert by_customer(data) == {
        "C": (100_00, 100_00, "2025-05-01", None, None, 0, ("cancellation pending",)),
        "P": (80_00, 80_00, "2025-06-01", "2025-03-20", None, 0,
              ("cancellation pending", "payment past due")),
        "Q": (70_00, 70_00, None, "2025-01-01", None, 0, ("payment past due",)),
        "T": (100_00, 40_00, "2025-04-15", None, None, 0, ("cancellation pending",)),
        "F": (22_11, 22_11, "2025-06-01", None, None, 0, ("cancellation pending",)),
        "X": (30_00, 0, None, None, None, 20_00, ("downgraded",)),
        "Z": (80_00, 80_00, None, "2025-03-28", None, 0, ("payment past due",)),
        "W": (90_00, 60_00, "2025-05-01", None, None, 0, ("cancellation pending",)),
    }  # fmt: skip
    # Most MRR at risk first.
    assert [r["customer_id"] for r in data["customers"]] == ["C", "P", "Z", "Q", "W", "T", "F", "X"]
    assert {r["plan"] for r in data["customers"]} == {"Pro"}
    # Company MRR at the end of March: C 100 + T 100 + P 80 + Q 70 + X 30 + Y 45 + F 22.11
    # + L 10 + K 10 + Z 80 + W 90 = 637.11; at risk 100 + 80 + 80 + 70 + 60 + 40 + 22.11 = 452.11.
    assert (data["accounts"], data["mrr_at_risk"], data["mrr"]) == (8, 452_11, 637_11)
    assert data["share_of_mrr"] == 0.709626  # 452.11 / 637.11
    assert data["reasons"] == {"cancellation pending": 5, "payment past due": 3, "downgraded": 1}
    assert data["period"] == "2025-03"


def test_grace_days_give_the_lapse_day_and_drop_lapsed_customers():
    data = risk(Settings(past_due_grace_days=30))
    rows = by_customer(data)
    assert "Q" not in rows  # lapsed on 31 January: churned, no longer at risk
    assert rows["P"][1:5] == (80_00, "2025-06-01", "2025-03-20", "2025-04-19")
    assert rows["Z"][1:5] == (80_00, None, "2025-03-28", "2025-04-27")


def test_when_churn_counts_at_the_request_pending_cancellations_are_already_churn():
    rows = by_customer(risk(Settings(churn_timing="requested")))
    # C, P and F churned when they asked; T's and W's cancelled lines are contractions in March.
    assert sorted(rows) == ["Q", "T", "W", "X", "Z"]
    assert rows["T"] == (60_00, 0, None, None, None, 40_00, ("downgraded",))
    assert rows["W"] == (30_00, 0, None, None, None, 60_00, ("downgraded",))


def test_no_data_gives_an_empty_list():
    res = compute_frames(lines_table([line("A", D(2026, 1, 1), None, 10_00)]), as_of=AS_OF)
    data = reports.at_risk(res)
    assert (data["accounts"], data["mrr_at_risk"], data["customers"]) == (0, 0, [])


def test_a_reason_lists_only_its_accounts_and_keeps_the_totals():
    res = compute_frames(lines_table([dict(r) for r in ROWS]), as_of=AS_OF, rates=RATES)
    past_due = reports.at_risk(res, "payment-past-due")
    # P 80 + Z 80 + Q 70; P is also pending and is listed under both
    assert [r["customer_id"] for r in past_due["customers"]] == ["P", "Z", "Q"]
    assert past_due["listed"] == {"accounts": 3, "mrr_at_risk": 230_00}
    assert past_due["reason"] == "payment past due"
    assert (past_due["accounts"], past_due["mrr_at_risk"]) == (8, 452_11)  # still the company's
    pending = reports.at_risk(res, "cancellation pending")
    # C 100 + P 80 + W 60 + T 40 + F 22.11
    assert [r["customer_id"] for r in pending["customers"]] == ["C", "P", "W", "T", "F"]
    assert pending["listed"] == {"accounts": 5, "mrr_at_risk": 302_11}
    assert reports.at_risk(res, "downgraded")["listed"] == {"accounts": 1, "mrr_at_risk": 0}
    whole = reports.at_risk(res)
    assert (whole["reason"], whole["listed"]) == (None, {"accounts": 8, "mrr_at_risk": 452_11})
    with pytest.raises(ValueError, match="reason must be one of cancellation-pending, "
                       "payment-past-due, downgraded; got 'late'"):  # fmt: skip
        reports.at_risk(res, "late")
