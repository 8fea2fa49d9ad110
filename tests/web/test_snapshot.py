"""The dashboard reads the published snapshot: a writer never blocks it, and a new one shows up."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.testclient import TestClient

from nrr.schema import REVENUE_LINES
from nrr.store import open_workspace
from nrr.web import create_app

from .conftest import BASE
from .workspace import SOURCE, _line_rows, _table, build


def _drop_c3(folder: Path) -> None:
    """Re-import the billing file without c3 (c3 brought 12000 of April's 34000)."""
    rows = [r for r in _line_rows() if r["customer_id"] != "c3"]
    with open_workspace(folder) as ws:
        ws.replace_source(SOURCE, lines=_table(REVENUE_LINES, rows))
        ws.publish_snapshot()


def test_a_running_writer_does_not_block_reads(tmp_path: Path) -> None:
    folder = build(tmp_path / "ws")
    app = create_app(folder)
    with TestClient(app, base_url=BASE) as client, open_workspace(folder) as writer:
        # The writer holds nrr.duckdb open (and could be mid-import); the app reads the snapshot.
        writer.con.execute("BEGIN TRANSACTION").fetchall()
        response = client.get("/api/overview?as_of=2024-04-30")
        assert response.status_code == 200 and response.json()["mrr"] == 34000
        writer.con.execute("ROLLBACK").fetchall()
    app.state.backend.close()


def test_a_newly_published_snapshot_replaces_the_cached_figures(tmp_path: Path) -> None:
    folder = build(tmp_path / "ws")
    app = create_app(folder)
    with TestClient(app, base_url=BASE) as client:
        assert client.get("/api/overview?as_of=2024-04-30").json()["mrr"] == 34000
        time.sleep(0.01)  # a distinct modification time for the new file
        _drop_c3(folder)
        assert client.get("/api/overview?as_of=2024-04-30").json()["mrr"] == 34000 - 12000
    app.state.backend.close()


def test_without_a_snapshot_the_api_says_what_to_do(tmp_path: Path) -> None:
    app = create_app(tmp_path / "empty")
    with TestClient(app, base_url=BASE) as client:
        response = client.get("/api/overview")
        assert response.status_code == 503
        assert "nrr demo" in response.json()["error"]


def test_warm_calls_are_served_from_the_cache(client: TestClient) -> None:
    path = "/api/bridge?as_of=2024-04-30&grain=quarter&by=plan"
    first = client.get(path)
    started = time.perf_counter()
    for _ in range(20):
        again = client.get(path)
    per_call = (time.perf_counter() - started) / 20
    assert again.content == first.content
    assert per_call < 0.05, f"warm call took {per_call * 1000:.1f} ms"


def test_warming_computes_the_default_view_before_the_first_request(workspace: Path) -> None:
    import datetime

    from nrr.web.app import warm_up
    from nrr.web.backend import Backend

    backend = Backend(workspace, as_of=datetime.date(2024, 4, 30))
    try:
        warm_up(backend)
        assert len(backend.results) == 1  # the default settings, as of 2024-04-30
        warmed = len(backend.values)
        assert warmed >= 3  # headline, bridge and retention, ready for the first page
        snap = backend.snapshot()
        headline = backend.cached(
            (snap.stamp, snap.default_as_of, snap.settings.to_json(), "headline", (), ()),
            lambda: None,
        )
        assert headline["mrr"] == 34000 and len(backend.values) == warmed  # a hit, not a recompute
        risk = backend.cached(
            (snap.stamp, snap.default_as_of, snap.settings.to_json(), "at_risk", (), ()),
            lambda: None,
        )  # the Overview's at-risk line, warmed too
        assert risk["accounts"] == 1 and len(backend.values) == warmed
    finally:
        backend.close()
