"""The dashboard in real headless Chromium: pages render, charts draw, clicks and controls work."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest

from .conftest import SCREENSHOTS, Watched

pytestmark = pytest.mark.browser

PAGES = [
    ("/", "overview", ["#bridge-chart"]),
    ("/trends", "trends", ["#mrr-chart", "#retention-chart", "#movements-chart",
                           "#quick-ratio-chart"]),
    ("/cohorts", "cohorts", ["#cohort-chart"]),
    ("/segments", "segments", ["#segments-chart", "#segment-trend-chart"]),
    ("/customers", "customers", []),
    ("/at-risk", "at-risk", []),
    ("/portfolio", "portfolio", ["#portfolio-chart"]),
]


def open_page(watched: Watched, url: str) -> Any:
    page = watched.page
    page.goto(url, wait_until="load")
    for chart in page.locator(".chart").all():
        chart_id = chart.get_attribute("id")
        page.wait_for_selector(f"#{chart_id}.drawn", timeout=15_000)
    return page


def follow(page: Any, link: Any, url: Any) -> None:
    """Click ``link`` once the page has settled (leaving earlier would cut the favicon's request)
    and wait for ``url``."""
    page.wait_for_load_state("networkidle")
    link.click()
    page.wait_for_url(url)


def assert_drawn(page: Any, selector: str) -> None:
    svg = page.locator(f"{selector} svg.main-svg").first
    box = svg.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 150, selector
    marks = page.locator(f"{selector} .overplot .point, {selector} .overplot path.js-line, "
                         f"{selector} .overplot image, {selector} .overplot .hm")
    assert marks.count() > 0, f"{selector} drew nothing"


@pytest.mark.parametrize(("path", "name", "charts"), PAGES)
def test_each_page_loads_clean_and_draws(server: str, watched: Watched, path: str, name: str,
                                         charts: list[str]) -> None:  # fmt: skip
    page = open_page(watched, server + path)
    assert page.locator("h1").inner_text()
    for selector in charts:
        assert_drawn(page, selector)
    assert page.locator("table tbody tr").count() > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert watched.problems == []


def test_customer_page_shows_timeline_and_sources(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/customers")
    page.locator("table tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/customers/[^/?]+"))
    page.wait_for_selector("#timeline-chart.drawn", timeout=15_000)
    assert_drawn(page, "#timeline-chart")
    assert page.get_by_text("Source rows behind these figures").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "customer.png"), full_page=True)
    assert watched.problems == []


def test_clicking_a_bridge_bar_lists_its_customers(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/")
    bars = page.locator("#bridge-chart .barlayer .point")
    labels = ["start", "new", "reactivation", "expansion", "contraction", "churn", "fx", "end"]
    box = bars.nth(labels.index("new")).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    panel = page.locator("#drill-panel")
    panel.locator("h2").wait_for(timeout=10_000)
    heading = panel.locator("h2").inner_text()
    count = int(re.search(r"(\d+) customers", heading).group(1))  # type: ignore[union-attr]
    assert heading.startswith("New in ") and count > 0
    assert panel.locator("tbody tr").count() == count
    # The card's figure equals the panel's list: both come from the same report.
    page.screenshot(path=str(SCREENSHOTS / "overview-drill.png"), full_page=True)
    assert watched.problems == []


def test_clicking_an_mrr_point_lists_the_customers_paying_then(server: str,
                                                               watched: Watched) -> None:
    page = open_page(watched, server + "/trends")
    figure = json.loads(page.locator("#mrr-chart-data").inner_text())
    mrr, customers = figure["data"]
    points = page.locator("#mrr-chart .scatterlayer .trace").first.locator(".point")
    assert points.count() == len(mrr["x"])
    points.last.click(force=True)  # the marker of the last period end
    panel = page.locator("#drill-panel")
    panel.locator("h2").wait_for(timeout=10_000)
    heading = panel.locator("h2").inner_text()
    # the paying customers the chart's second line shows are the ones the panel lists
    assert heading == f"Paying at the end of {mrr['x'][-1]}: {customers['y'][-1]} customers"
    assert panel.locator("tbody tr").count() == customers["y"][-1] > 0
    assert watched.problems == []


def test_changing_the_segment_dimension_updates_the_figures(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/segments")
    before = page.locator("table tbody tr td:first-child").all_inner_texts()
    options = page.locator("#segment-by option").all_inner_texts()
    other = next(o for o in options if o != "plan")
    page.locator("#segment-by").select_option(other)  # submits on change
    page.wait_for_url(re.compile(rf"by={other}"))
    page.wait_for_selector("#segments-chart.drawn", timeout=15_000)
    after = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert after and after != before
    assert page.locator("table caption").first.inner_text().startswith(f"Segments by {other}")
    assert watched.problems == []


def test_changing_the_period_grain_updates_the_figures(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/trends")
    monthly = page.locator("table tbody tr td:first-child").first.inner_text()
    assert re.fullmatch(r"\d{4}-\d{2}", monthly)
    page.locator("select[name=grain]").select_option("quarter")
    page.wait_for_url(re.compile(r"grain=quarter"))
    page.wait_for_selector("#movements-chart.drawn", timeout=15_000)
    quarterly = page.locator("table tbody tr td:first-child").first.inner_text()
    assert re.fullmatch(r"\d{4}-Q[1-4]", quarterly)
    # The choice stays in the URL and travels with the navigation.
    assert "grain=quarter" in page.locator("nav.nav a", has_text="Overview").get_attribute("href")
    assert watched.problems == []


def test_a_table_downloads_as_csv(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/trends")
    with page.expect_download() as info:
        page.locator("a.csv").first.click()
    text = open(info.value.path(), encoding="utf-8").read()  # noqa: SIM115
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and {"period", "start_mrr", "churn", "end_mrr"} <= set(rows[0])
    for row in rows:  # the bridge identity holds in every downloaded row
        moves = sum(int(row[k]) for k in ("new", "reactivation", "expansion", "fx"))
        assert int(row["start_mrr"]) + moves - int(row["contraction"]) - int(row["churn"]) == int(
            row["end_mrr"])
    assert watched.problems == []


def test_at_risk_pages_through_the_accounts(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/at-risk")
    # the demo has 120 accounts at risk: a page of 100, then the rest
    caption = page.locator("caption").inner_text()
    assert "120 accounts, most MRR at risk first (shown: 1–100)" in caption
    assert page.locator("table tbody tr").count() == 100
    follow(page, page.locator("nav.pager a", has_text="next"), re.compile(r"offset=100"))
    assert page.locator("table tbody tr").count() == 20
    assert watched.problems == []


def test_the_overview_and_the_reason_cards_list_each_signals_accounts(
    server: str, watched: Watched
) -> None:
    page = open_page(watched, server + "/")
    line = page.locator("p.risk").inner_text()
    assert "120 accounts in 2026-10 · 62,783.23 EUR MRR at risk (2.0 % of MRR)" in line
    follow(page, page.locator("p.risk a", has_text="24 with a payment past due"),
           re.compile(r"/at-risk\?.*reason=payment-past-due"))
    caption = page.locator("caption").inner_text()
    assert "24 accounts with a payment past due (44,016.93 EUR at risk)" in caption
    rows = page.locator("table tbody tr")
    assert rows.count() == 24
    assert all("payment past due" in rows.nth(n).inner_text() for n in range(24))
    follow(page, page.locator(".card", has_text="Cancellation pending").locator("a"),
           re.compile(r"reason=cancellation-pending"))
    assert page.locator("table tbody tr").count() == 8
    assert "(18,766.30 EUR at risk)" in page.locator("caption").inner_text()
    # the 90 downgraded accounts, 50 a page: the next page keeps the reason
    page = open_page(watched, server + "/at-risk?reason=downgraded&limit=50")
    follow(page, page.locator("nav.pager a", has_text="next"), re.compile(r"offset=50"))
    assert "reason=downgraded" in page.url
    assert page.locator("table tbody tr").count() == 40
    assert watched.problems == []


def test_the_portfolio_draws_each_company_and_opens_the_served_one(
    server: str, watched: Watched
) -> None:
    page = open_page(watched, server + "/portfolio")
    # the demo and the tiny company, one line each, and the portfolio's
    assert page.locator("#portfolio-chart .scatterlayer .trace").count() == 3
    assert page.locator("caption", has_text="Companies, best TTM NRR first").count() == 1
    assert page.locator("table").first.locator("tbody tr").count() == 3  # and the total
    follow(page, page.locator("table tbody tr td a").first, server + "/")
    assert page.locator("h1").inner_text() == "Overview"
    assert watched.problems == []


def test_at_risk_opens_the_customer_behind_a_row(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/at-risk")
    first = page.locator("table tbody tr").first
    customer = first.locator("td a").first.inner_text()
    assert "cancellation pending" in first.inner_text() or "past due" in first.inner_text()
    follow(page, first.locator("td a").first, re.compile(rf"/customers/{customer}"))
    assert customer in page.locator("h1").inner_text()
    assert "At risk" in page.locator("p.risk").inner_text()  # the customer page says why
    assert watched.problems == []


def test_the_keyboard_reaches_the_controls_and_figures(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(12):
        page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.tagName")
    assert focused in {"A", "INPUT", "SELECT", "BUTTON", "SUMMARY"}
    assert watched.problems == []


def test_recompute_posts_with_the_csrf_token_and_reloads(server: str, watched: Watched) -> None:
    page = open_page(watched, server + "/segments?by=plan")
    with page.expect_response(lambda r: r.url.endswith("/api/recompute")) as info:
        page.locator("#recompute").click()
    assert info.value.status == 200
    page.wait_for_selector("#segments-chart.drawn", timeout=15_000)
    assert "by=plan" in page.url
    assert watched.problems == []
