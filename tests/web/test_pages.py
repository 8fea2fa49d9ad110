"""The HTML pages show the same figures as their JSON twins, and every figure links to customers."""

from __future__ import annotations

import json
import re

import pytest
from starlette.testclient import TestClient

AS_OF = "as_of=2024-04-30"


def page(client: TestClient, path: str) -> str:
    response = client.get(path + ("&" if "?" in path else "?") + AS_OF)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def figures(html: str, element_id: str) -> dict[str, object]:
    block = re.search(rf'<script type="application/json" id="{element_id}-data">(.*?)</script>',
                      html, re.S)
    assert block is not None, element_id
    return dict(json.loads(block.group(1)))


def test_overview_cards_and_waterfall(client: TestClient) -> None:
    html = page(client, "/")
    # MRR 34000 cents = 340 EUR; ARR 4080; TTM NRR 27000/35000 = 77.1 %; GRR 22000/35000 = 62.9 %.
    # Churn in the last twelve months: c5's 4000 (its card failed) and c2's 5000: 44.4 % failed.
    for text in (">340<", ">4,080<", ">4<", "77.1 %", "62.9 %", "Leaky bucket"):
        assert text in html, text
    assert "44.4 % of churn from failed payments" in html  # the GRR card's note
    # April's change under MRR and customers: 380 -> 340 EUR is -10.5 %; 3 -> 4 paying
    assert '<div class="note">EUR · −10.5 % in 2024-04</div>' in html
    assert '<div class="note">paying · +1 in 2024-04</div>' in html
    bar = figures(html, "bridge-chart")["data"][0]  # type: ignore[index]
    assert bar["y"] == [380, 0, 40, 0, 80, 0, 0, 340]  # type: ignore[index]
    assert 'href="/drill?as_of=2024-04-30&amp;metric=contraction&amp;period=2024-04"' in html
    assert 'href="/drill?as_of=2024-04-30&amp;metric=window12&amp;period=2024-04"' in html


def test_trends_draw_mrr_and_paying_customers_at_each_period_end(client: TestClient) -> None:
    mrr, customers = figures(page(client, "/trends"), "mrr-chart")["data"]  # type: ignore[misc]
    points = dict(zip(mrr["x"], zip(mrr["y"], customers["y"], strict=True), strict=True))
    # January: c1 100 + c2 50 + c3 200 + c5 40 (4 paying); February: c5's card failed, c4 came
    # with 30 (4); March: c2 left, c1 +50 (3); April: c3 down to 120, c5 back with 40 (4).
    assert [points[p] for p in ("2024-01", "2024-02", "2024-03", "2024-04")] == [
        (390, 4), (380, 4), (380, 3), (340, 4)]
    assert mrr["customdata"][-1] == {"metric": "end", "period": "2024-04"}  # a point lists them


def test_segments_show_each_segments_ttm_nrr_over_time(client: TestClient) -> None:
    html = page(client, "/segments?by=country")
    lines = {t["name"]: t["y"][-1] for t in figures(html, "segment-trend-chart")["data"]}  # type: ignore[index]
    # a year back from April 2024: DE c1 100 -> 150, AT c2 50 -> 0, CH c3 200 -> 120; all 77.1 %
    assert lines == {"DE": 150.0, "AT": 0.0, "CH": 60.0, "All customers": 77.14}


def test_settings_travel_in_every_link(client: TestClient) -> None:
    html = page(client, "/trends?grain=quarter&discounts=none")
    nav = re.findall(r'<nav class="nav".*?</nav>', html, re.S)[0]
    assert nav.count("grain=quarter") == 6 and nav.count("discounts=none") == 6
    assert '<option value="quarter" selected>' in html
    csv = "/api/bridge?as_of=2024-04-30&amp;discounts=none&amp;grain=quarter&amp;format=csv"
    assert csv in html


@pytest.mark.parametrize(("path", "expected"), [
    # the Overview's line on the accounts at risk: c3's April downgrade, nothing else
    ("/", ['<p class="risk"><a href="/at-risk?as_of=2024-04-30" class="flag">At risk</a> 1 '
           "account in 2024-04 · 0.00 EUR MRR at risk (0.0 % of MRR): "
           '<a href="/at-risk?as_of=2024-04-30&amp;reason=downgraded">1 recently downgraded</a>'
           "</p>"]),
    ("/trends", ["MRR bridge per period", "TTM retention", 'id="movements-chart"',
                 "of which involuntary", "metric=involuntary_churn&amp;period=2024-02"]),
    ("/cohorts?view=logo_retention", ["Cohort logo retention at milestone ages", "2023-12"]),
    ("/segments?by=country", ["Segments by country", ">DE<", ">CH<", ">AT<",
                              # each segment's name lists its customers
                              'href="/customers?as_of=2024-04-30&amp;by=country&amp;segment=DE"']),
    ("/customers?by=country&segment=DE",
     ["country DE: customers 1–3", "/customers/c1?", "/customers/c4?", "/customers/c5?",
      ">All customers</a>", '<input type="hidden" name="segment" value="DE">',
      "/api/customers?as_of=2024-04-30&amp;format=csv&amp;by=country&amp;segment=DE"]),
    ("/customers?q=c1", ["c1", "expansion", "2024-03"]),
    # the name beside the id, and a search that finds it
    ("/customers?q=gamma", ['href="/customers/c3?as_of=2024-04-30">c3</a></td><td>Gamma SA</td>',
                            "Search id or name", "sort=-name"]),
    ("/customers/c5", ["reactivation", "billing.csv:9", "involuntary"]),
    ("/customers/c3", ['class="flag">At risk</a> downgraded by 80.00 EUR · 0.00 EUR MRR at risk']),
    ("/drill?metric=churn&period=2024-03", ["Churn in 2024-03", "/customers/c2", "voluntary"]),
    ("/drill?metric=involuntary_churn&period=2024-02",
     ["Churn from failed payments in 2024-02", "/customers/c5", "involuntary"]),
    ("/at-risk", ['<div class="label">Accounts at risk</div><div class="value">1</div>',
                  '<div class="label">MRR at risk</div><div class="value">0</div>'
                  '<div class="note">EUR · 0.0 % of MRR</div>',
                  '<div class="label">Downgraded</div><div class="value"><a '
                  'href="/at-risk?as_of=2024-04-30&amp;reason=downgraded" class="figure"',
                  '<div class="label">Payment past due</div><div class="value"><a '
                  'href="/at-risk?as_of=2024-04-30&amp;reason=payment-past-due" class="figure"',
                  'href="/customers/c3?as_of=2024-04-30"', "Gamma SA",
                  ">120.00<", ">80.00<", 'class="mv mv-contraction">downgraded<',
                  "1 account, most MRR at risk first",
                  "/api/at-risk?as_of=2024-04-30&amp;format=csv"]),
    # a reason's card lists its accounts: none is past due; the totals stay
    ("/at-risk?reason=payment-past-due",
     ['<div class="card chosen"><div class="label">Payment past due</div>',
      '<div class="label">Accounts at risk</div><div class="value"><a '
      'href="/at-risk?as_of=2024-04-30" class="figure"',
      "No account with a payment past due",
      "/api/at-risk?as_of=2024-04-30&amp;format=csv&amp;reason=payment-past-due"]),
    ("/at-risk?reason=downgraded",
     ["1 account recently downgraded (0.00 EUR at risk), most MRR at risk first",
      'href="/customers/c3?as_of=2024-04-30"']),
])  # fmt: skip
def test_each_page_renders_its_figures(client: TestClient, path: str,
                                       expected: list[str]) -> None:  # fmt: skip
    html = page(client, path)
    for text in expected:
        assert text in html, text


def test_a_segments_customers_leave_the_others_out(client: TestClient) -> None:
    html = page(client, "/customers?by=country&segment=CH")
    assert "/customers/c3?" in html and "/customers/c1?" not in html
    assert "sort=-name&amp;by=country&amp;segment=CH" in html  # sorting keeps the segment


def test_the_overview_says_when_no_account_is_at_risk(client: TestClient) -> None:
    # at the end of March the last three months hold churn and growth, no downgrade
    response = client.get("/?as_of=2024-03-31")
    assert '<p class="risk">No account at risk in 2024-03.</p>' in response.text


def test_customer_ids_are_escaped_in_pages(client: TestClient) -> None:
    response = client.get("/customers/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E?" + AS_OF)
    assert response.status_code == 404
    assert "<img" not in response.text and "no customer &#x27;&lt;img src=x" in response.text


@pytest.mark.parametrize("path", ["/", "/trends", "/cohorts", "/segments", "/customers",
                                  "/at-risk", "/drill?metric=end&period=2019-12"])
def test_pages_before_the_first_billing_day(client: TestClient, path: str) -> None:
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}as_of=2020-01-31")
    assert response.status_code == 200, response.text
    assert "<h1>" in response.text
