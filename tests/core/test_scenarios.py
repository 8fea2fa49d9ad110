"""Hand-built companies with hand-computed figures, one rule at a time."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from factories import attributes_table, line, lines_table, month, rates_table
from nrr import reports
from nrr.api import compute_frames
from nrr.schema import Settings

D = date


def bridge_at(res, p, by=None, segment=None):
    rows = [r for r in res.bridge(by).to_pylist() if r["p"] == p]
    if segment is not None:
        rows = [r for r in rows if r["segment"] == segment]
    assert len(rows) == 1, rows
    return rows[0]


def retention_at(res, p, window, by=None, segment=None):
    rows = [r for r in res.retention(window, by).to_pylist() if r["p"] == p]
    if segment is not None:
        rows = [r for r in rows if r["segment"] == segment]
    assert len(rows) == 1, rows
    return rows[0]


def movements(res):
    return [
        (r["customer_id"], r["p"], r["movement"], r["amount"]) for r in res.movements().to_pylist()
    ]


# -- the worked examples of SPEC §2 ---------------------------------------------------------------
def test_worked_example_nrr_101_grr_95():
    # Start 50,000: A 20,000 expands by 3,000; B 10,000 contracts by 500; C 2,000 churns; D flat.
    jan, feb = D(2025, 1, 1), D(2025, 2, 1)
    rows = [
        line("A", jan, feb, 20_000_00),
        line("A", feb, None, 23_000_00),
        line("B", jan, feb, 10_000_00),
        line("B", feb, None, 9_500_00),
        line("C", jan, feb, 2_000_00),
        line("D", jan, None, 18_000_00),
        line("N", feb, None, 7_000_00),  # new in February: never part of the cohort
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 2, 28))
    r = retention_at(res, month(2025, 2), 1)
    assert (r["start_mrr"], r["expansion"], r["contraction"], r["churn"]) == (
        50_000_00,
        3_000_00,
        500_00,
        2_000_00,
    )
    assert Fraction(r["end_mrr"], r["start_mrr"]) == Fraction(101, 100)
    assert Fraction(r["gross_mrr"], r["start_mrr"]) == Fraction(95, 100)
    assert (r["customers_start"], r["customers_retained"]) == (4, 3)
    b = bridge_at(res, month(2025, 2))
    assert (
        b["start_mrr"],
        b["new"],
        b["expansion"],
        b["contraction"],
        b["churn"],
        b["end_mrr"],
    ) == (50_000_00, 7_000_00, 3_000_00, 500_00, 2_000_00, 57_500_00)


def test_gross_and_net_mrr_churn_example():
    # Start 100: churn 10, contraction 10, expansion 10 -> gross churn 20 %, net 10 %, GRR 80 %.
    jan, feb = D(2025, 1, 1), D(2025, 2, 1)
    rows = [
        line("churns", jan, feb, 10_00),
        line("shrinks", jan, feb, 30_00),
        line("shrinks", feb, None, 20_00),
        line("grows", jan, feb, 30_00),
        line("grows", feb, None, 40_00),
        line("flat", jan, None, 30_00),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 2, 28))
    b = bridge_at(res, month(2025, 2))
    assert b["start_mrr"] == 100_00
    assert Fraction(b["contraction"] + b["churn"], b["start_mrr"]) == Fraction(20, 100)
    assert Fraction(b["contraction"] + b["churn"] - b["expansion"], b["start_mrr"]) == Fraction(
        10, 100
    )
    r = retention_at(res, month(2025, 2), 1)
    assert Fraction(r["gross_mrr"], r["start_mrr"]) == Fraction(80, 100)


def test_mrr_is_the_sum_of_normalised_lines():
    # 100 subscriptions at 100/month and 50 at 600/year (50/month) -> MRR 12,500.
    rows = [line(f"m{i}", D(2025, 1, 1), None, 100_00) for i in range(100)]
    rows += [line(f"y{i}", D(2025, 1, 1), None, 50_00) for i in range(50)]
    res = compute_frames(lines_table(rows), as_of=D(2025, 1, 31))
    b = bridge_at(res, month(2025, 1))
    assert (b["end_mrr"], b["customers_end"], b["new"]) == (12_500_00, 150, 12_500_00)


def test_annual_customer_shows_no_churn_between_invoices():
    # One annual invoice spread over its year, renewed: no movement in any month after the first.
    rows = [
        line("A", D(2024, 1, 1), D(2025, 1, 1), 100_00),
        line("A", D(2025, 1, 1), D(2026, 1, 1), 100_00),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 12, 31))
    assert movements(res) == [("A", month(2024, 1), "new", 100_00)]
    assert {r["end_mrr"] for r in res.bridge().to_pylist()} == {100_00}


# -- movements -------------------------------------------------------------------------------------
def test_each_movement_type():
    rows = [
        line("A", D(2025, 1, 1), D(2025, 3, 1), 100_00),  # new Jan, churn Mar
        line("A", D(2025, 5, 10), None, 120_00),  # reactivation May
        line("B", D(2025, 1, 20), D(2025, 2, 15), 50_00),  # new Jan (mid-month)
        line("B", D(2025, 2, 15), None, 80_00),  # expansion Feb (+30)
        line("C", D(2025, 2, 1), D(2025, 4, 1), 200_00),  # new Feb
        line("C", D(2025, 4, 1), None, 150_00),  # contraction Apr (-50)
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 5, 31))
    assert movements(res) == [
        ("A", month(2025, 1), "new", 100_00),
        ("B", month(2025, 1), "new", 50_00),
        ("B", month(2025, 2), "expansion", 30_00),
        ("C", month(2025, 2), "new", 200_00),
        ("A", month(2025, 3), "churn", 100_00),
        ("C", month(2025, 4), "contraction", 50_00),
        ("A", month(2025, 5), "reactivation", 120_00),
    ]
    ends = [r["end_mrr"] for r in res.bridge().to_pylist()]
    assert ends == [150_00, 380_00, 280_00, 230_00, 350_00]
    customers = [r["customers_end"] for r in res.bridge().to_pylist()]
    assert customers == [2, 3, 2, 2, 3]


def test_a_line_is_read_on_the_period_end():
    # Starts after one month end and ends before the next: never visible, no movement at all.
    rows = [line("A", D(2025, 2, 2), D(2025, 2, 20), 100_00), line("B", D(2025, 1, 1), None, 10_00)]
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 31))
    assert movements(res) == [("B", month(2025, 1), "new", 10_00)]


def test_as_of_reads_the_current_period_on_that_day():
    rows = [
        line("A", D(2025, 1, 1), D(2025, 3, 20), 100_00),  # still active on the 15th
        line("B", D(2025, 3, 20), None, 70_00),  # starts after the as-of day: unknown
        line("C", D(2025, 1, 1), D(2025, 3, 10), 40_00),  # ended before the as-of day
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 15))
    last = res.bridge().to_pylist()[-1]
    assert (last["p"], str(last["period_end"]), last["end_mrr"], last["churn"]) == (
        month(2025, 3),
        "2025-03-15",
        100_00,
        40_00,
    )


def test_customer_mrr_never_goes_below_zero():
    rows = [
        line("A", D(2025, 1, 1), None, 10_00),
        line(
            "A", D(2025, 2, 1), D(2025, 3, 1), -30_00, kind="discount", discount_duration="forever"
        ),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 31))
    assert movements(res) == [
        ("A", month(2025, 1), "new", 10_00),
        ("A", month(2025, 2), "churn", 10_00),
        ("A", month(2025, 3), "reactivation", 10_00),
    ]


# -- settings --------------------------------------------------------------------------------------
def _discounted():
    start = D(2025, 1, 1)
    return lines_table(
        [
            line("A", start, None, 10_00),  # 120/year
            line("A", start, None, -1_00, kind="discount", discount_duration="forever"),
            line("B", start, None, 10_00),
            line("B", start, D(2025, 4, 1), -2_00, kind="discount", discount_duration="repeating"),
            line("C", start, None, 10_00),
            line("C", start, D(2025, 2, 1), -5_00, kind="discount", discount_duration="once"),
        ]
    )


@pytest.mark.parametrize(
    ("policy", "jan", "apr"),
    [
        ("recurring", 10_00 * 3 - 1_00 - 2_00, 30_00 - 1_00),
        ("forever", 30_00 - 1_00, 30_00 - 1_00),
        ("all", 30_00 - 1_00 - 2_00 - 5_00, 30_00 - 1_00),
        ("none", 30_00, 30_00),
    ],
)
def test_discount_policies(policy, jan, apr):
    res = compute_frames(_discounted(), as_of=D(2025, 4, 30), settings=Settings(discounts=policy))
    ends = {r["p"]: r["end_mrr"] for r in res.bridge().to_pylist()}
    assert (ends[month(2025, 1)], ends[month(2025, 4)]) == (jan, apr)


def test_ten_percent_forever_discount_on_120_a_year_is_9():
    res = compute_frames(_discounted(), as_of=D(2025, 4, 30))
    mrr = {r["customer_id"]: r["mrr"] for r in res.customer_mrr(month(2025, 4)).to_pylist()}
    assert mrr["A"] == 9_00


def test_a_discount_ending_is_an_expansion():
    res = compute_frames(_discounted(), as_of=D(2025, 4, 30))
    assert ("B", month(2025, 4), "expansion", 2_00) in movements(res)


def test_churn_timing_requested_moves_churn_to_the_request():
    rows = [
        line(
            "A",
            D(2025, 1, 1),
            D(2025, 4, 1),
            100_00,
            cancel_requested_date=D(2025, 2, 10),
            churn_reason="voluntary",
        ),
        line("B", D(2025, 1, 1), None, 10_00),
    ]
    ended = compute_frames(lines_table(rows), as_of=D(2025, 5, 31))
    requested = compute_frames(
        lines_table(rows), as_of=D(2025, 5, 31), settings=Settings(churn_timing="requested")
    )
    assert ("A", month(2025, 4), "churn", 100_00) in movements(ended)
    assert ("A", month(2025, 2), "churn", 100_00) in movements(requested)


def test_past_due_grace_period():
    rows = [
        line("A", D(2025, 1, 1), None, 100_00, past_due_since=D(2025, 2, 20)),
        line("B", D(2025, 1, 1), None, 10_00),
    ]
    counts = compute_frames(lines_table(rows), as_of=D(2025, 5, 31))
    graced = compute_frames(
        lines_table(rows), as_of=D(2025, 5, 31), settings=Settings(past_due_grace_days=30)
    )
    assert [m for m in movements(counts) if m[2] == "churn"] == []
    # 20 Feb + 30 days = 22 Mar: no longer MRR on 31 Mar.
    assert ("A", month(2025, 3), "churn", 100_00) in movements(graced)


def test_churn_is_split_into_voluntary_and_involuntary():
    # March: V cancels (voluntary), F's card fails (involuntary), S has two lines and loses only
    # its failed one (a contraction: no churn), G stops paying on 20 Feb and, with 30 days of
    # grace, stops counting on 22 Mar: involuntary whatever its data says.
    jan, mar = D(2025, 1, 1), D(2025, 3, 1)
    rows = [
        line("V", jan, mar, 300_00, churn_reason="voluntary"),
        line("F", jan, mar, 200_00, churn_reason="involuntary"),
        line("S", jan, mar, 40_00, churn_reason="involuntary"),
        line("S", jan, None, 60_00),
        line("G", jan, None, 50_00, past_due_since=D(2025, 2, 20)),
        line("K", jan, None, 10_00),
    ]
    counts = compute_frames(lines_table(rows), as_of=D(2025, 3, 31))
    graced = compute_frames(
        lines_table(rows), as_of=D(2025, 3, 31), settings=Settings(past_due_grace_days=30)
    )
    b = bridge_at(counts, month(2025, 3))
    assert (b["churn"], b["involuntary_churn"], b["contraction"]) == (500_00, 200_00, 40_00)
    b = bridge_at(graced, month(2025, 3))
    assert (b["churn"], b["involuntary_churn"], b["contraction"]) == (550_00, 250_00, 40_00)
    assert b["start_mrr"] - b["contraction"] - b["churn"] == b["end_mrr"] == 70_00
    moved = {(r["customer_id"], r["movement"]): r["churn_reason"]
             for r in graced.movements().to_pylist() if r["p"] == month(2025, 3)}  # fmt: skip
    assert moved == {("V", "churn"): "voluntary", ("F", "churn"): "involuntary",
                     ("G", "churn"): "involuntary", ("S", "contraction"): None}  # fmt: skip
    behind = reports.customers_behind(graced, "involuntary_churn", month(2025, 3))
    assert sorted((r["customer_id"], r["amount"]) for r in behind) == [("F", 200_00),
                                                                      ("G", 50_00)]  # fmt: skip
    assert reports.headline(graced)["involuntary_churn_share"] == 0.454545  # 250 / 550


def test_metered_excluded_by_default_or_trailing_average():
    rows = [
        line("A", D(2025, 1, 1), None, 100_00),
        line("A", D(2025, 2, 1), D(2025, 3, 1), 90_00, kind="metered"),
    ]
    excluded = compute_frames(lines_table(rows), as_of=D(2025, 5, 31))
    averaged = compute_frames(
        lines_table(rows), as_of=D(2025, 5, 31), settings=Settings(metered="trailing_average")
    )
    assert {r["end_mrr"] for r in excluded.bridge().to_pylist()} == {100_00}
    # 90 billed for February counts 30 a month in February, March and April.
    assert [r["end_mrr"] for r in averaged.bridge().to_pylist()] == [
        100_00,
        130_00,
        130_00,
        130_00,
        100_00,
    ]


# -- currencies ------------------------------------------------------------------------------------
def test_fx_is_its_own_movement_and_classification_is_at_constant_currency():
    jan, feb, mar = month(2025, 1), month(2025, 2), month(2025, 3)
    rates = rates_table(
        [
            ("CHF", jan - 1, "1.0000000000"),
            ("CHF", jan, "1.0500000000"),
            ("CHF", feb, "1.1000000000"),
            ("CHF", mar, "1.0000000000"),
        ]
    )
    rows = [
        line("A", D(2025, 1, 1), D(2025, 3, 1), 100_00, currency="CHF"),
        line("A", D(2025, 3, 1), None, 120_00, currency="CHF"),
        line("B", D(2025, 1, 1), None, 50_00),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 31), rates=rates)
    b = {r["p"]: r for r in res.bridge().to_pylist()}
    # Jan: new at December's rate (1.00) = 100 + 50; fx brings A to Jan's 1.05 -> +5.
    assert (b[jan]["new"], b[jan]["fx"], b[jan]["end_mrr"]) == (150_00, 5_00, 155_00)
    # Feb: nothing changes but the rate: 100 * 1.10 - 100 * 1.05 = +5.
    assert (b[feb]["expansion"], b[feb]["fx"], b[feb]["end_mrr"]) == (0, 5_00, 160_00)
    # Mar: +20 CHF at Feb's rate 1.10 = +22 expansion; the rate falls to 1.00: 120 - 132 = -12.
    assert (b[mar]["expansion"], b[mar]["fx"], b[mar]["end_mrr"]) == (22_00, -12_00, 170_00)
    # Retention over Feb -> Mar at Feb's rates: start 110 + 50, end 132 + 50.
    r = retention_at(res, mar, 1)
    assert (r["start_mrr"], r["end_mrr"], r["gross_mrr"]) == (160_00, 182_00, 160_00)


def test_zero_and_three_decimal_currencies_convert_in_minor_units():
    p = month(2025, 1)
    # 1 JPY = 0.62 euro cents; 1 fils (BHD/1000) = 0.245 euro cents.
    rates = rates_table(
        [("JPY", p - 1, "0.62"), ("JPY", p, "0.62"), ("BHD", p - 1, "0.245"), ("BHD", p, "0.245")]
    )
    rows = [
        line("J", D(2025, 1, 1), None, 10_000, currency="JPY"),
        line("K", D(2025, 1, 1), None, 10_000, currency="BHD"),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 1, 31), rates=rates)
    mrr = {r["customer_id"]: r["mrr"] for r in res.customer_mrr(p).to_pylist()}
    assert mrr == {"J": 6_200, "K": 2_450}


# -- segments and cohorts --------------------------------------------------------------------------
def _segmented():
    rows = [
        line("A", D(2025, 1, 1), D(2025, 3, 1), 100_00, plan="Basic"),
        line("A", D(2025, 3, 1), None, 300_00, plan="Pro"),  # upgrade to Pro in March
        line("B", D(2025, 1, 1), D(2025, 2, 1), 80_00, plan="Pro"),  # churns in February
        line("C", D(2025, 2, 1), None, 40_00, plan="Basic"),  # new in February
    ]
    attrs = attributes_table(
        [("A", "country", "DE"), ("B", "country", "AT"), ("C", "country", "DE")]
    )
    return compute_frames(lines_table(rows), as_of=D(2025, 3, 31), attributes=attrs)


def test_segment_is_taken_at_the_start_of_the_period():
    res = _segmented()
    mar = month(2025, 3)
    basic = bridge_at(res, mar, "plan", "Basic")
    # A was Basic at the end of February, so its upgrade counts in Basic's March bridge.
    assert (basic["start_mrr"], basic["expansion"], basic["end_mrr"]) == (140_00, 200_00, 340_00)
    assert retention_at(res, mar, 1, "plan", "Basic")["end_mrr"] == 340_00


def test_a_stretch_takes_the_plan_of_its_largest_line_first_by_name_on_a_tie():
    rows = [
        line("X", D(2025, 1, 1), None, 100_00, plan="Zeta"),
        line("X", D(2025, 1, 1), None, 100_00, plan="Alpha"),  # a tie: Alpha, first by name
        line("X", D(2025, 2, 1), D(2025, 3, 1), 150_00, plan="Mid"),  # the largest in February
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 31))
    # A month's row is the plan at the month's start (new customers: their first plan), so
    # February is Alpha's (Mid from February's end on) and March is Mid's.
    ends = {(r["p"] - month(2025, 1), r["segment"]): r["end_mrr"]
            for r in res.bridge("plan").to_pylist() if r["end_mrr"]}  # fmt: skip
    assert ends == {(0, "Alpha"): 200_00, (1, "Alpha"): 350_00, (2, "Mid"): 200_00}
    moved = {(r["p"] - month(2025, 1), r["segment"]): (r["new"], r["expansion"], r["contraction"])
             for r in res.bridge("plan").to_pylist() if r["new"] or r["expansion"]
             or r["contraction"]}  # fmt: skip
    assert moved == {(0, "Alpha"): (200_00, 0, 0), (1, "Alpha"): (0, 150_00, 0),
                     (2, "Mid"): (0, 0, 150_00)}  # fmt: skip


def test_lists_and_drill_downs_show_the_plan_of_the_largest_line():
    """The same customer as above, seen per customer: January Alpha (a tie with Zeta), February
    Mid (its largest line), March Alpha again; a cancellation pending on Zeta puts it at risk in
    March, on Alpha."""
    rows = [
        line("X", D(2025, 1, 1), D(2025, 5, 1), 100_00, plan="Zeta",
             cancel_requested_date=D(2025, 3, 10)),
        line("X", D(2025, 1, 1), None, 100_00, plan="Alpha"),
        line("X", D(2025, 2, 1), D(2025, 3, 1), 150_00, plan="Mid"),
    ]  # fmt: skip
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 31))
    assert [r["plan"] for r in res.customer_timeline("X").to_pylist()] == ["Alpha", "Mid", "Alpha"]
    assert [r["plan"] for r in res.customer_list().to_pylist()] == ["Alpha"]
    february = res.customer_mrr(month(2025, 2)).to_pylist()
    assert [(r["plan"], r["mrr"]) for r in february] == [("Mid", 350_00)]
    assert [(r["plan"], r["mrr_at_risk"]) for r in res.at_risk().to_pylist()] == [("Alpha", 100_00)]


def test_a_customer_on_one_plan_has_it_only_while_a_plan_line_counts():
    """Pro from January to March, nothing in April and May, Pro again from June; a free line
    (MRR 0) still puts its customer on its plan; a discount alone does not."""
    rows = [
        line("A", D(2025, 1, 1), D(2025, 4, 1), 100_00, plan="Pro"),
        line("A", D(2025, 6, 1), None, 100_00, plan="Pro"),
        line("F", D(2025, 1, 1), None, 0, plan="Free"),
        line("F", D(2025, 3, 1), D(2025, 5, 1), -10_00, kind="discount",
             discount_duration="forever", plan="Promo"),
    ]  # fmt: skip
    res = compute_frames(lines_table(rows), as_of=D(2025, 7, 31))
    plans = [r["plan"] for r in res.customer_timeline("A").to_pylist()]
    assert plans == ["Pro", "Pro", "Pro", None, None, "Pro", "Pro"]
    assert {r["plan"] for r in res.customer_timeline("F").to_pylist()} == {"Free"}
    listed = {r["customer_id"]: r["plan"] for r in res.customer_list().to_pylist()}
    assert listed == {"A": "Pro", "F": "Free"}
    # A's churn in April and its return in June are Pro's, the plan before and after the gap
    rows_by_plan = res.bridge("plan").to_pylist()
    moved = {(r["p"] - month(2025, 1), r["segment"]): (r["churn"], r["reactivation"])
             for r in rows_by_plan if r["churn"] or r["reactivation"]}  # fmt: skip
    assert moved == {(3, "Pro"): (100_00, 0), (5, "Pro"): (0, 100_00)}


def test_a_plan_line_added_to_a_line_without_plan_expands_the_no_plan_segment():
    """B pays 100 without a plan from January and adds a Pro line of 200 in March: March's
    expansion belongs to the segment B was in when the month began, no plan; from April, Pro."""
    rows = [
        line("B", D(2025, 1, 1), None, 100_00, plan=None),
        line("B", D(2025, 3, 1), None, 200_00, plan="Pro"),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 4, 30))
    plans = [r["plan"] for r in res.customer_timeline("B").to_pylist()]
    assert plans == [None, None, "Pro", "Pro"]
    rows_by_plan = [r for r in res.bridge("plan").to_pylist() if r["start_mrr"] or r["expansion"]]
    by_plan = {(r["p"] - month(2025, 1), r["segment"]): (r["start_mrr"], r["expansion"])
               for r in rows_by_plan}  # fmt: skip
    assert by_plan == {(1, "(none)"): (100_00, 0), (2, "(none)"): (100_00, 200_00),
                       (3, "Pro"): (300_00, 0)}  # fmt: skip


def test_segments_sum_to_the_total():
    res = _segmented()
    for by in ("plan", "size", "country"):
        total = {r["p"]: r for r in res.bridge().to_pylist()}
        seg = res.bridge(by).to_pylist()
        for p, t in total.items():
            for key in ("start_mrr", "new", "expansion", "contraction", "churn", "fx", "end_mrr"):
                assert sum(r[key] for r in seg if r["p"] == p) == t[key], (by, p, key)


def test_cohorts_heatmap():
    rows = [
        line("A", D(2025, 1, 1), D(2025, 3, 1), 100_00),
        line("A", D(2025, 3, 1), None, 150_00),
        line("B", D(2025, 1, 1), D(2025, 2, 1), 100_00),
        line("C", D(2025, 2, 1), None, 60_00),
    ]
    res = compute_frames(lines_table(rows), as_of=D(2025, 3, 31))
    got = [
        (r["cohort"] - month(2025, 1), r["age"], r["customers"], r["mrr"])
        for r in res.cohorts().to_pylist()
    ]
    assert got == [
        (0, 0, 2, 200_00),
        (0, 1, 1, 100_00),
        (0, 2, 1, 150_00),
        (1, 0, 1, 60_00),
        (1, 1, 1, 60_00),
    ]


def test_a_customer_whose_first_months_are_free_joins_the_cohort_of_its_first_paid_month():
    """F starts on a free line in January and pays 40 from March; G's 100 is fully discounted
    in January and February. Both belong to March's cohort, with a new customer's movement."""
    rows = [
        line("F", D(2025, 1, 1), D(2025, 3, 1), 0, plan="Free"),
        line("F", D(2025, 3, 1), None, 40_00, plan="Pro"),
        line("G", D(2025, 1, 1), None, 100_00),
        line("G", D(2025, 1, 1), D(2025, 3, 1), -100_00, kind="discount",
             discount_duration="repeating"),
        line("H", D(2025, 1, 1), None, 10_00),
    ]  # fmt: skip
    res = compute_frames(lines_table(rows), as_of=D(2025, 4, 30))
    got = [(r["cohort"] - month(2025, 1), r["age"], r["customers"], r["mrr"])
           for r in res.cohorts().to_pylist()]  # fmt: skip
    assert got == [(0, 0, 1, 10_00), (0, 1, 1, 10_00), (0, 2, 1, 10_00), (0, 3, 1, 10_00),
                   (2, 0, 2, 140_00), (2, 1, 2, 140_00)]  # fmt: skip
    march = res.bridge().to_pylist()[2]
    assert (march["new"], march["reactivation"], march["new_customers"]) == (140_00, 0, 2)


def test_quarter_grain():
    rows = [line("A", D(2025, 1, 15), D(2025, 5, 1), 100_00), line("B", D(2025, 2, 1), None, 10_00)]
    res = compute_frames(
        lines_table(rows), as_of=D(2025, 6, 30), settings=Settings(period="quarter")
    )
    b = res.bridge().to_pylist()
    assert [(r["p"], r["new"], r["churn"], r["end_mrr"]) for r in b] == [
        (2025 * 4, 110_00, 0, 110_00),
        (2025 * 4 + 1, 0, 100_00, 10_00),
    ]


def test_bridge_end_equals_next_start():
    res = _segmented()
    rows = res.bridge().to_pylist()
    for before, after in zip(rows, rows[1:], strict=False):
        assert before["end_mrr"] == after["start_mrr"]
        assert before["customers_end"] == after["customers_start"]


def test_a_customer_in_two_currencies_is_refused_by_name():
    rows = [
        line("A", D(2025, 1, 1), None, 10_00),
        line("A", D(2025, 1, 1), None, 10_00, currency="CHF"),
    ]
    with pytest.raises(ValueError, match="customer A is billed in more than one currency"):
        compute_frames(lines_table(rows), as_of=D(2025, 1, 31))


def test_a_company_nobody_pays_yet_reports_zeros():
    # Only a fully discounted line: every period is there, at 0, and the headline says 0.
    rows = [line("A", D(2024, 11, 9), None, 14_00),
            line("A", D(2024, 11, 9), None, -14_00, kind="discount", discount_duration="forever")]
    res = compute_frames(lines_table(rows), as_of=D(2025, 1, 31))
    assert [(r["p"], r["start_mrr"], r["new"], r["end_mrr"]) for r in res.bridge().to_pylist()] == [
        (month(2024, 11), 0, 0, 0), (month(2024, 12), 0, 0, 0), (month(2025, 1), 0, 0, 0)]
    head = reports.headline(res)
    assert (head["mrr"], head["customers"], head["arpa"], head["ttm"]) == (0, 0, None, None)
    assert (head["mrr_growth"], head["customers_change"]) == (None, 0)  # no growth from nothing
    assert reports.at_risk(res)["accounts"] == 0
