"""Chart specs are pure functions of report rows: checked here without a browser."""

from __future__ import annotations

from nrr.web import charts
from nrr.web.html import Html, esc, json_block, tag
from nrr.web.render import to_csv, to_json

APRIL = {"period": "2024-04", "start_mrr": 38000, "new": 0, "reactivation": 4000,
         "expansion": 0, "contraction": 8000, "churn": 0, "involuntary_churn": 0, "fx": 0,
         "end_mrr": 34000}


def test_waterfall_steps_from_start_to_end() -> None:
    fig = charts.waterfall(APRIL, "EUR", "2024-04")
    bar = fig["data"][0]
    assert bar["x"] == ["Start", "New", "Reactivation", "Expansion", "Contraction", "Churn", "FX",
                        "End"]
    # In euros: start 380; +40 reactivation lifts the level to 420; -80 contraction drops to 340.
    assert bar["base"] == [0, 380, 380, 420, 340, 340, 340, 0]
    assert bar["y"] == [380, 0, 40, 0, 80, 0, 0, 340]
    assert bar["text"][4] == "−80" and bar["text"][2] == "+40"
    assert bar["marker"]["color"][5] == charts.COLOURS["churn"]
    assert bar["customdata"][4] == {"metric": "contraction", "period": "2024-04"}
    low, high = fig["layout"]["yaxis"]["range"]
    assert low < 340 and high > 420  # zoomed around the movements


def test_waterfall_handles_a_negative_fx_and_zero_decimal_currencies() -> None:
    row = {**APRIL, "fx": -500, "end_mrr": 33500}
    bar = charts.waterfall(row, "JPY", "2024-04")["data"][0]
    assert bar["base"][6] == 33500 and bar["y"][6] == 500  # JPY has no minor unit
    assert bar["text"][6] == "−500"


def test_movement_bars_put_losses_below_zero() -> None:
    fig = charts.movement_bars([APRIL], "EUR")
    by_name = {t["name"]: t for t in fig["data"]}
    assert by_name["Contraction"]["y"] == [-80] and by_name["Reactivation"]["y"] == [40]
    assert fig["layout"]["barmode"] == "relative"


def test_movement_bars_split_churn_into_cancelled_and_failed_payments() -> None:
    march = {**APRIL, "period": "2024-03", "churn": 9000, "involuntary_churn": 4000}
    fig = charts.movement_bars([march], "EUR")
    assert [t["name"] for t in fig["data"]] == ["New", "Reactivation", "Expansion", "Contraction",
                                                "Churn, cancelled", "Churn, failed payment", "FX"]
    by_name = {t["name"]: t for t in fig["data"]}
    assert by_name["Churn, cancelled"]["y"] == [-50] and by_name["Churn, failed payment"]["y"] == [
        -40]  # 90 euros churned, 40 of them for failed payments
    assert by_name["Churn, failed payment"]["customdata"] == [
        {"metric": "involuntary_churn", "period": "2024-03"}]
    assert by_name["Churn, cancelled"]["customdata"] == [
        {"metric": "voluntary_churn", "period": "2024-03"}]


def test_mrr_and_customers_in_major_units_with_customers_on_a_second_axis() -> None:
    march = {**APRIL, "period": "2024-03", "end_mrr": 38000, "customers_end": 3}
    fig = charts.mrr_and_customers([march, {**APRIL, "customers_end": 4}], "EUR")
    mrr, customers = fig["data"]
    assert (mrr["x"], mrr["y"], customers["y"]) == (["2024-03", "2024-04"], [380, 340], [3, 4])
    assert customers["yaxis"] == "y2" and fig["layout"]["yaxis2"]["overlaying"] == "y"
    assert customers["customdata"][0] == {"metric": "end", "period": "2024-03"}
    yen = charts.mrr_and_customers([{**APRIL, "customers_end": 4}], "JPY")
    assert yen["data"][0]["y"] == [34000]  # no minor unit


def test_quick_ratio_on_a_log_axis_with_no_growth_as_a_gap() -> None:
    rows = [{"period": "2024-01", "quick_ratio": 3500.0}, {"period": "2024-02", "quick_ratio": 0.0},
            {"period": "2024-03", "quick_ratio": 1.234}, {"period": "2024-04", "quick_ratio": None}]
    fig = charts.quick_ratio_line(rows)
    assert fig["data"][0]["y"] == [3500.0, None, 1.23, None]
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["shapes"][0]["y0"] == 1  # break-even


def test_retention_lines_draw_the_bands_and_order_periods() -> None:
    monthly = [{"period": "2024-04", "nrr": 0.8, "grr": 0.7}, {"period": "2024-03", "nrr": 1.0,
                                                               "grr": 0.9}]
    fig = charts.retention_lines(monthly, [{"period": "2024-04", "nrr": 1.1, "grr": None}],
                                 "monthly")
    assert [t["name"] for t in fig["data"]] == ["NRR TTM", "GRR TTM", "NRR monthly",
                                                "GRR monthly"]
    assert fig["data"][1]["y"] == [None] and fig["data"][2]["y"] == [80.0, 100.0]
    assert fig["layout"]["xaxis"]["categoryorder"] == "category ascending"
    bands = [(s["y0"], s["y1"]) for s in fig["layout"]["shapes"]]
    assert bands[:3] == [(0, 80), (80, 100), (100, 120)]


def test_portfolio_lines_draw_each_company_and_the_portfolio() -> None:
    trend = [{"period": "2024-03", "companies": {"A": None, "B": 1.0}, "ttm_nrr": 1.0},
             {"period": "2024-04", "companies": {"A": 0.771429, "B": 1.0}, "ttm_nrr": 0.822222}]
    fig = charts.portfolio_lines(trend, ["B", "A"])
    lines = [(t["name"], t["y"], t["line"]["width"]) for t in fig["data"]]
    assert lines == [("B", [100.0, 100.0], 1.5), ("A", [None, 77.14], 1.5),
                     ("Portfolio", [100.0, 82.22], 3)]  # fmt: skip
    assert fig["data"][0]["x"] == ["2024-03", "2024-04"]
    assert len(fig["layout"]["shapes"]) == 4  # the benchmark bands behind them


def test_segment_lines_follow_the_company_periods() -> None:
    company = [{"period": "2024-03", "nrr": None}, {"period": "2024-04", "nrr": 0.771429}]
    rows = [{"period": "2024-04", "segment": "DE", "nrr": 1.5},
            {"period": "2024-04", "segment": "AT", "nrr": 0.0}]  # fmt: skip
    fig = charts.segment_lines(rows, company, "country")
    assert [(t["name"], t["y"]) for t in fig["data"]] == [
        ("DE", [None, 150.0]), ("AT", [None, 0.0]), ("All customers", [None, 77.14])]
    assert fig["layout"]["title"]["text"] == "TTM NRR by country (%)"


def test_cohort_heatmap_is_cohort_by_age() -> None:
    rows = [{"cohort": "2024-01", "age": 0, "nrr": 1.0, "logo_retention": 1.0},
            {"cohort": "2024-01", "age": 1, "nrr": 1.25, "logo_retention": 0.5},
            {"cohort": "2024-02", "age": 0, "nrr": 1.0, "logo_retention": 1.0}]
    heat = charts.cohort_heatmap(rows, "logo_retention")["data"][0]
    assert heat["y"] == ["2024-01", "2024-02"] and heat["x"] == [0, 1]
    assert heat["z"] == [[100.0, 50.0], [100.0, None]]
    assert (heat["zmin"], heat["zmax"]) == (0, 100)
    assert charts.cohort_heatmap(rows, "nrr")["data"][0]["zmax"] == 150


def test_segment_bars_use_ttm_figures_and_drill() -> None:
    rows = [{"segment": "pro", "ttm_nrr": 0.9, "ttm_grr": 0.733333,
             "drill": {"metric": "end", "period": "2024-04", "by": "plan", "segment": "pro"}}]
    nrr, grr = charts.segment_bars(rows, "plan")["data"]
    assert nrr["y"] == [90.0] and grr["y"] == [73.33]
    assert nrr["customdata"][0]["segment"] == "pro"


def test_html_escapes_everything_it_is_not_told_is_safe() -> None:
    assert tag("td", "<script>") == "<td>&lt;script&gt;</td>"
    expected = '<a href="&quot;&gt;&lt;b&gt;" data-id="1">x</a>'
    assert tag("a", "x", href='"><b>', data_id=1) == expected
    assert tag("input", name="q", disabled=True, hidden=False) == '<input name="q" disabled>'
    assert esc(Html("<b>ok</b>")) == "<b>ok</b>"
    block = json_block("d", to_json({"name": "</script><script>alert(1)</script>"}))
    assert "</script><script>" not in block and block.count("</script>") == 1


def test_json_and_csv_serialisation() -> None:
    assert to_json({"r": float("nan"), "d": [1, None]}) == b'{"r":null,"d":[1,null]}'
    text = to_csv([{"a": 1, "drill": {"x": 1}}, {"a": None, "b": "x,y"}]).decode()
    assert text == 'a,b\n1,\n,"x,y"\n'
