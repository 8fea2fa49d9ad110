"""The Portfolio page and /api/portfolio: the served workspace beside a second company.

The served company (tests/web/workspace.py): a year before 2024-04 c1 10000, c2 5000 and c3
20000 paid (35000); in 2024-04 c1 pays 15000, c2 left, c3 fell to 12000: 27000 kept, gross 22000.
The peer, beta-co: b1 pays 10000 from January 2023 and stays.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from starlette.testclient import TestClient

from nrr.web import create_app
from nrr.web.app import warm_up
from nrr.web.backend import Backend
from nrr.web.context import context
from served import free_port, get_when_up

from .workspace import build_peer

AS_OF = "as_of=2024-04-30"


def test_the_portfolio_figures_by_hand(portfolio_client: TestClient, workspace: Path) -> None:
    data = portfolio_client.get(f"/api/portfolio?{AS_OF}").json()
    served = workspace.name
    keys = ("company", "mrr", "customers", "ttm_start_mrr", "ttm_end_mrr", "ttm_gross_mrr",
            "ttm_nrr", "ttm_grr")  # fmt: skip
    rows = [tuple(r[k] for k in keys) for r in data["companies"]]
    assert rows == [  # best TTM NRR first
        ("beta-co", 10000, 1, 10000, 10000, 10000, 1.0, 1.0),
        (served, 34000, 4, 35000, 27000, 22000, 0.771429, 0.628571),
    ]
    # as one company: 45000 -> 37000, gross 32000
    total = data["portfolio"]
    assert (total["mrr"], total["customers"], total["ttm_nrr"], total["ttm_grr"]) == (
        44000, 5, 0.822222, 0.711111)
    assert (total["band"], total["band_label"]) == ("acceptable", "Acceptable, limited expansion")
    # the served company has a year of history only by 2024-04; beta-co from 2024-01
    trend = {t["period"]: (t["companies"], t["ttm_nrr"]) for t in data["trend"]}
    assert len(trend) == 12 and trend["2023-12"] == ({"beta-co": None, served: None}, None)
    assert trend["2024-01"] == ({"beta-co": 1.0, served: None}, 1.0)
    assert trend["2024-04"] == ({"beta-co": 1.0, served: 0.771429}, 0.822222)
    response = portfolio_client.get(f"/api/portfolio?format=csv&{AS_OF}")
    companies = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["company"], r["mrr"]) for r in companies] == [
        ("beta-co", "10000"), (served, "34000")]


def test_the_view_settings_apply_to_every_company(portfolio_client: TestClient) -> None:
    # at a quarter grain both companies are read by quarter; in CHF both are converted
    data = portfolio_client.get(f"/api/portfolio?grain=quarter&{AS_OF}").json()
    assert data["trend"][-1]["period"] == "2024-Q2"
    assert portfolio_client.get(f"/api/portfolio?currency=USD&{AS_OF}").json()["currency"] == "USD"


def test_the_page_shows_the_companies_and_the_trend(portfolio_client: TestClient,
                                                    workspace: Path) -> None:  # fmt: skip
    html = portfolio_client.get(f"/portfolio?{AS_OF}").text
    for text in ['<a href="/portfolio?as_of=2024-04-30" aria-current="page">Portfolio</a>',
                 '<div class="label">Portfolio MRR</div><div class="value">440</div>',
                 '<div class="note">EUR · 2 companies</div>',
                 '<div class="label">NRR (TTM)</div><div class="value">82.2 %</div>'
                 '<div class="note">Acceptable, limited expansion</div>',
                 f'<a href="/?as_of=2024-04-30">{workspace.name}</a>',  # opens its Overview
                 "<td>beta-co</td>", ">77.1 %<", ">62.9 %<", 'id="portfolio-chart"',
                 "TTM NRR by period end", "/api/portfolio?as_of=2024-04-30&amp;format=csv"]:
        assert text in html, text
    # every page of this dashboard offers the Portfolio page
    assert ">Portfolio</a>" in portfolio_client.get(f"/trends?{AS_OF}").text


def test_warming_computes_the_portfolio_too(workspace: Path, tmp_path: Path) -> None:
    backend = Backend(workspace, as_of=date(2024, 4, 30))
    backend.peers["beta-co"] = peer = Backend(build_peer(tmp_path / "beta-co"), backend.as_of)
    try:
        warm_up(backend)
        assert peer.counts["computed"] == 1  # the peer's results are ready for the first visit
        cached = len(backend.values)
        data = context(backend, {}).portfolio()  # a hit, not a recompute
        assert data["portfolio"]["mrr"] == 44000 and len(backend.values) == cached
    finally:
        backend.close()


def test_without_other_companies_there_is_no_portfolio_tab(client: TestClient) -> None:
    assert ">Portfolio</a>" not in client.get(f"/?{AS_OF}").text
    data = client.get(f"/api/portfolio?{AS_OF}").json()  # a portfolio of one still reads
    assert [r["company"] for r in data["companies"]] == [data["companies"][0]["company"]]


def test_nrr_serve_takes_the_portfolio_from_the_command_line(workspace: Path,
                                                             tmp_path: Path) -> None:  # fmt: skip
    peer = build_peer(tmp_path / "beta-co")
    nrr = Path(sys.executable).with_name("nrr")
    port = free_port()
    serve = [str(nrr), "serve", "-w", str(workspace), "--portfolio"]
    missing = subprocess.run([*serve, str(tmp_path / "missing")], capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    proc = subprocess.Popen([*serve, str(peer), "--port", str(port), "--as-of", "2024-04-30"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        data = json.loads(get_when_up(f"http://127.0.0.1:{port}/api/portfolio", proc, 60))
        assert data["portfolio"]["mrr"] == 44000 and len(data["companies"]) == 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_company_without_published_data_breaks_only_the_portfolio(
    workspace: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-co"
    empty.mkdir()
    app = create_app(workspace, portfolio=[empty])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get(f"/?{AS_OF}").status_code == 200  # the served company reads as usual
        response = c.get(f"/api/portfolio?{AS_OF}")
        assert response.status_code == 503 and "no published data in" in response.text
        assert "empty-co" in response.text
    app.state.backend.close()
