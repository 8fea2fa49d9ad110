"""Every API route against the hand-built workspace (see workspace.py), figures worked out by hand.

Month ends (cents of MRR):  c1 Alpha  c2 Beta  c3 Gamma  c4 Delta  c5 Eps   total
    2023-04 .. 2023-11      10000     5000     20000     -         -        35000
    2023-12, 2024-01        10000     5000     20000     -         4000     39000
    2024-02                 10000     5000     20000     3000      0        38000
    2024-03                 15000     0        20000     3000      0        38000
    2024-04 (as of 30th)    15000     0        12000     3000      4000     34000
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from starlette.testclient import TestClient

AS_OF = "as_of=2024-04-30"


def get(client: TestClient, path: str, status: int = 200) -> object:
    if "as_of=" not in path:
        path += ("&" if "?" in path else "?") + AS_OF
    response = client.get(path)
    assert response.status_code == status, response.text
    return response.json()


def by_period(rows: object) -> dict[str, dict[str, object]]:
    assert isinstance(rows, list)
    return {str(r["period"]): r for r in rows}


def test_overview_headline(client: TestClient) -> None:
    head = get(client, "/api/overview")
    assert isinstance(head, dict)
    assert (head["mrr"], head["arr"], head["customers"]) == (34000, 408000, 4)
    assert head["period"] == "2024-04" and head["currency"] == "EUR"
    # TTM: the cohort of 2023-04 (c1, c2, c3) = 35000; a year later 15000 + 0 + 12000 = 27000.
    # GRR: min(15000, 10000) + 0 + min(12000, 20000) = 22000.
    ttm = head["ttm"]
    assert (ttm["start_mrr"], ttm["end_mrr"], ttm["gross_mrr"]) == (35000, 27000, 22000)
    assert ttm["nrr"] == round(27000 / 35000, 6) and ttm["grr"] == round(22000 / 35000, 6)
    assert ttm["logo_retention"] == round(2 / 3, 6)
    # One month: the cohort of 2024-03 (c1 15000, c3 20000, c4 3000) = 38000 -> 30000.
    assert head["month"]["nrr"] == round(30000 / 38000, 6)
    assert head["band"]["key"] == "leaky"
    assert head["years_to_double"] is None  # a shrinking base never doubles
    # April: 380.00 -> 340.00 EUR; 3 -> 4 paying customers (c5 came back)
    assert (head["mrr_growth"], head["customers_change"]) == (round(-4000 / 38000, 6), 1)
    last = head["bridge"]
    assert (last["start_mrr"], last["reactivation"], last["contraction"], last["end_mrr"]) == (
        38000, 4000, 8000, 34000)


def test_bridge_every_period(client: TestClient) -> None:
    rows = by_period(get(client, "/api/bridge"))
    assert list(rows)[0] == "2023-04" and list(rows)[-1] == "2024-04" and len(rows) == 13
    assert (rows["2023-04"]["new"], rows["2023-12"]["new"], rows["2024-02"]["new"]) == (
        35000, 4000, 3000)
    feb, mar = rows["2024-02"], rows["2024-03"]
    assert (feb["start_mrr"], feb["churn"], feb["end_mrr"]) == (39000, 4000, 38000)
    assert (mar["expansion"], mar["churn"], mar["end_mrr"]) == (5000, 5000, 38000)
    assert (feb["involuntary_churn"], mar["involuntary_churn"]) == (4000, 0)  # c5's card failed


def test_bridge_range_and_segment(client: TestClient) -> None:
    rows = get(client, "/api/bridge?from=2024-02&to=2024-03")
    assert [r["period"] for r in rows] == ["2024-02", "2024-03"]  # type: ignore[index]
    pro = by_period(get(client, "/api/bridge?by=plan&segment=pro"))
    # pro in April: c1 15000 and c3 20000 -> 12000.
    apr = pro["2024-04"]
    assert (apr["start_mrr"], apr["contraction"], apr["end_mrr"]) == (35000, 8000, 27000)
    assert {r["segment"] for r in pro.values()} == {"pro"}


def test_retention_windows_and_segments(client: TestClient) -> None:
    month = by_period(get(client, "/api/retention?window=1"))
    assert month["2024-04"]["nrr"] == round(30000 / 38000, 6)
    # March: the cohort of 2024-02 (38000) loses c2 (5000) and gains c1's 5000 seats back.
    assert (month["2024-03"]["start_mrr"], month["2024-03"]["end_mrr"]) == (38000, 38000)
    assert month["2024-03"]["grr"] == round(33000 / 38000, 6)
    ttm = by_period(get(client, "/api/retention"))
    assert list(ttm) == ["2024-04"]  # the only period with twelve months behind it
    de = by_period(get(client, "/api/retention?by=country&segment=DE"))
    # DE at 2023-04 is c1 alone: 10000 -> 15000.
    assert (de["2024-04"]["nrr"], de["2024-04"]["grr"]) == (1.5, 1.0)


def test_trends_is_the_pages_twin(client: TestClient) -> None:
    data = get(client, "/api/trends?from=2024-01")
    assert isinstance(data, dict)
    assert [r["period"] for r in data["bridge"]] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert [r["period"] for r in data["ttm"]] == ["2024-04"]
    assert len(data["monthly"]) == 4


def test_cohorts(client: TestClient) -> None:
    rows = get(client, "/api/cohorts")
    cells = {(r["cohort"], r["age"]): r for r in rows}  # type: ignore[union-attr]
    first_year = cells[("2023-04", 12)]
    assert (first_year["mrr_start"], first_year["mrr"], first_year["customers"]) == (
        35000, 27000, 2)
    assert first_year["nrr"] == round(27000 / 35000, 6)
    # c5: paid from 2023-12, gone in 2024-02, back in 2024-04.
    assert [cells[("2023-12", a)]["mrr"] for a in range(5)] == [4000, 4000, 0, 0, 4000]
    assert cells[("2024-02", 2)]["logo_retention"] == 1.0


def test_segments_by_plan_and_attribute(client: TestClient) -> None:
    rows = {r["segment"]: r for r in get(client, "/api/segments?by=plan")}  # type: ignore[union-attr]
    pro, basic = rows["pro"], rows["basic"]
    assert (pro["mrr"], pro["customers"], basic["mrr"], basic["customers"]) == (27000, 2, 7000, 2)
    assert pro["ttm_nrr"] == 0.9 and pro["ttm_grr"] == round(22000 / 30000, 6)
    assert basic["ttm_nrr"] == 0.0  # c2 alone was basic a year ago, and left
    countries = {r["segment"] for r in get(client, "/api/segments?by=country")}  # type: ignore[union-attr]
    assert countries == {"AT", "CH", "DE"}
    assert get(client, "/api/dimensions") == [
        {"dimension": "plan"}, {"dimension": "size"}, {"dimension": "country"}]


def test_customers_list_search_and_sort(client: TestClient) -> None:
    rows = get(client, "/api/customers")
    paying = [(r["customer_id"], r["mrr"]) for r in rows if r["mrr"]]  # type: ignore[union-attr]
    assert paying == [("c1", 15000), ("c3", 12000), ("c5", 4000), ("c4", 3000)]
    assert [r["customer_id"] for r in get(client, "/api/customers?q=c3")] == ["c3"]  # type: ignore[union-attr]
    ids = [r["customer_id"] for r in get(client, "/api/customers?sort=customer_id")]  # type: ignore[union-attr]
    assert ids == sorted(ids)
    names = [r["name"] for r in get(client, "/api/customers?sort=name")]  # type: ignore[union-attr]
    assert names == ["Alpha GmbH", "Beta AG", "Delta Ltd", "Eps & Co", "Gamma SA"]
    assert [r["customer_id"] for r in get(client, "/api/customers?q=gamma")] == ["c3"]  # type: ignore[union-attr]
    # one segment's customers at the last period: DE holds c1 (150), c5 (40) and c4 (30)
    german = get(client, "/api/customers?by=country&segment=DE")
    assert [(r["customer_id"], r["mrr"]) for r in german] == [  # type: ignore[union-attr]
        ("c1", 15000), ("c5", 4000), ("c4", 3000)]
    assert client.get(f"/api/customers?segment=DE&{AS_OF}").status_code == 400
    assert len(get(client, "/api/customers?limit=2&offset=1")) == 2  # type: ignore[arg-type]
    # A search is a bound value: quotes and SQL find nothing, and break nothing.
    assert get(client, "/api/customers?q=' OR 1=1 --") == []


def test_customer_explain(client: TestClient) -> None:
    info = get(client, "/api/customers/c3")
    assert isinstance(info, dict)
    moves = [(m["period"], m["movement"], m["amount"]) for m in info["movements"]]
    assert moves == [("2023-04", "new", 20000), ("2024-04", "contraction", 8000)]
    assert info["timeline"][-1]["mrr"] == 12000 and len(info["timeline"]) == 13
    assert [s["source_ref"] for s in info["source_rows"]] == ["billing.csv:5", "billing.csv:6"]
    assert '"amount": 120.0' in info["source_rows"][1]["payload"]
    # its April downgrade puts it on the at-risk list; c1 grew and is not on it
    assert info["at_risk"]["reasons"] == ["downgraded"]  # type: ignore[index]
    assert info["at_risk"]["summary"] == "downgraded by 80.00 EUR · 0.00 EUR MRR at risk"  # type: ignore[index]
    assert get(client, "/api/customers/c1")["at_risk"] is None  # type: ignore[index]


@pytest.mark.parametrize(("query", "expected"), [
    ("metric=contraction&period=2024-04", [("c3", 8000)]),
    ("metric=churn&period=2024-03", [("c2", 5000)]),
    ("metric=churn&period=2024-02", [("c5", 4000)]),
    ("metric=new&period=2024-02", [("c4", 3000)]),
    ("metric=reactivation&period=2024-04", [("c5", 4000)]),
    ("metric=expansion&period=2024-03", [("c1", 5000)]),
    ("metric=contraction&period=2024-04&by=plan&segment=pro", [("c3", 8000)]),
    ("metric=churn&period=2024-03&by=plan&segment=pro", []),
    ("metric=involuntary_churn&period=2024-02", [("c5", 4000)]),  # its card failed
    ("metric=involuntary_churn&period=2024-03", []),  # c2 cancelled
    ("metric=voluntary_churn&period=2024-03", [("c2", 5000)]),
    ("metric=voluntary_churn&period=2024-02", []),
])  # fmt: skip
def test_drill_movements(client: TestClient, query: str, expected: list[tuple[str, int]]) -> None:
    rows = get(client, f"/api/drill?{query}")
    assert [(r["customer_id"], r["amount"]) for r in rows] == expected  # type: ignore[union-attr]


def test_drill_levels_and_cohorts(client: TestClient) -> None:
    end = get(client, "/api/drill?metric=end&period=2024-04")
    assert sorted((r["customer_id"], r["mrr"]) for r in end) == [  # type: ignore[union-attr]
        ("c1", 15000), ("c3", 12000), ("c4", 3000), ("c5", 4000)]
    start = get(client, "/api/drill?metric=start&period=2024-04")  # = the end of 2024-03
    assert sorted(r["customer_id"] for r in start) == ["c1", "c3", "c4"]  # type: ignore[union-attr]
    cohort = get(client, "/api/drill?metric=window12&period=2024-04")
    assert [(r["customer_id"], r["mrr_start"], r["mrr_end"]) for r in cohort] == [  # type: ignore[union-attr]
        ("c1", 10000, 15000), ("c2", 5000, 0), ("c3", 20000, 12000)]


def test_settings_in_the_url(client: TestClient) -> None:
    quarters = by_period(get(client, "/api/bridge?grain=quarter"))
    assert list(quarters)[0] == "2023-Q2" and list(quarters)[-1] == "2024-Q2"
    assert quarters["2024-Q1"]["end_mrr"] == 38000 and quarters["2024-Q2"]["end_mrr"] == 34000
    early = get(client, "/api/overview?as_of=2024-03-31")
    assert early["mrr"] == 38000  # type: ignore[index]


def test_status_names_the_view(client: TestClient) -> None:
    status = get(client, "/api/status?discounts=none&grain=quarter")
    assert isinstance(status, dict)
    assert status["as_of"] == "2024-04-30"
    assert status["settings"]["discounts"] == "none" and status["settings"]["period"] == "quarter"


def test_tables_download_as_csv(client: TestClient) -> None:
    response = client.get(f"/api/bridge?format=csv&{AS_OF}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    april = next(r for r in rows if r["period"] == "2024-04")
    assert (april["contraction"], april["reactivation"], april["end_mrr"]) == ("8000", "4000",
                                                                               "34000")
    assert "drill" not in rows[0]
    drill = client.get(f"/api/drill?metric=churn&period=2024-03&format=csv&{AS_OF}")
    assert list(csv.DictReader(io.StringIO(drill.text)))[0]["customer_id"] == "c2"


def test_api_and_library_agree(client: TestClient, workspace: object) -> None:
    """The API prints exactly what nrr.reports gives the CLI's --json."""
    import json

    from nrr import api, reports
    from nrr.web.library import open_reader

    ws = open_reader(workspace)  # type: ignore[arg-type]
    try:
        res = api.compute(ws, as_of=date(2024, 4, 30))
        expected = json.loads(json.dumps(reports.headline(res), default=str))
        assert get(client, "/api/overview") == expected
        assert get(client, "/api/segments?by=country") == json.loads(
            json.dumps(reports.segments(res, "country"), default=str))
    finally:
        ws.close()


def test_openapi_lists_every_route(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    api_routes = {r.path for r in client.app.routes if getattr(r, "path", "").startswith("/api/")}  # type: ignore[attr-defined]
    assert set(spec["paths"]) == api_routes - {"/api/openapi.json"}
    drill = spec["paths"]["/api/drill"]["get"]
    names = {p["name"] for p in drill["parameters"]}
    assert {"metric", "period", "by", "segment", "as_of", "grain", "format"} <= names


def test_at_risk_lists_the_recent_downgrade(client: TestClient) -> None:
    # No cancellation is pending and no payment past due; c3 went from 20000 to 12000 in April.
    risk = get(client, "/api/at-risk")
    assert isinstance(risk, dict)
    assert (risk["accounts"], risk["mrr_at_risk"], risk["mrr"], risk["share_of_mrr"]) == (
        1, 0, 34000, 0.0)
    assert risk["customers"] == [{
        "customer_id": "c3", "name": "Gamma SA", "plan": "pro", "currency": "EUR", "mrr": 12000,
        "mrr_at_risk": 0, "cancels_on": None, "past_due_since": None, "lapses_on": None,
        "downgraded": 8000, "reasons": ["downgraded"]}]  # fmt: skip
    assert risk["reasons"] == {"cancellation pending": 0, "payment past due": 0, "downgraded": 1}
    # At the end of March the last three months hold churn and growth, no downgrade.
    assert get(client, "/api/at-risk?as_of=2024-03-31")["customers"] == []  # type: ignore[index]
    response = client.get(f"/api/at-risk?format=csv&{AS_OF}")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["customer_id"], r["downgraded"]) for r in rows] == [("c3", "8000")]


def test_at_risk_by_reason_filters_the_list_and_keeps_the_totals(client: TestClient) -> None:
    late = get(client, "/api/at-risk?reason=payment-past-due")
    assert isinstance(late, dict)
    assert (late["reason"], late["listed"], late["customers"]) == (
        "payment past due", {"accounts": 0, "mrr_at_risk": 0}, [])
    assert (late["accounts"], late["reasons"]["downgraded"]) == (1, 1)  # the company's, whole
    down = get(client, "/api/at-risk?reason=downgraded")
    assert [r["customer_id"] for r in down["customers"]] == ["c3"]  # type: ignore[index]
    response = client.get(f"/api/at-risk?format=csv&reason=payment-past-due&{AS_OF}")
    assert list(csv.DictReader(io.StringIO(response.text))) == []
    response = client.get(f"/api/at-risk?reason=late&{AS_OF}")
    assert response.status_code == 400
    assert "reason must be one of cancellation-pending, payment-past-due, downgraded; got " \
        "'late'" in response.text  # fmt: skip
