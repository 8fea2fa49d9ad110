"""A new snapshot brings the dashboard's computed results forward instead of computing them again.

The app serves the hand-built workspace (workspace.py) as of 2024-05-31; then the billing file is
imported again with a new month in it, and the next requests must give exactly the figures of an
app that computes everything from the new snapshot, having taken the update path (the backend
counts how it obtained each result: ``Backend.counts``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, REVENUE_LINES
from nrr.store import open_workspace
from nrr.web import create_app

from .conftest import BASE
from .workspace import COUNTRIES, NAMES, SOURCE, _line_rows, _table, build

AS_OF = "as_of=2024-05-31"
PATHS = (
    "/api/overview", "/api/trends", "/api/bridge", "/api/bridge?by=plan", "/api/bridge?by=size",
    "/api/bridge?by=country&segment=DE", "/api/bridge?grain=quarter", "/api/retention",
    "/api/retention?window=1", "/api/retention?by=country", "/api/cohorts",
    "/api/segments?by=plan", "/api/segments?by=country", "/api/customers", "/api/customers/c1",
    "/api/customers/c6", "/api/drill?metric=end&period=2024-05",
    "/api/drill?metric=window12&period=2024-05", "/api/dimensions", "/api/at-risk",
)  # fmt: skip
RESULTS = 2  # the paths read two results: by month and by quarter


def _line(n: int, customer: str, start: date, mrr: int) -> dict[str, Any]:
    ref = f"billing.csv:{n}"
    return {"line_id": ref, "source": SOURCE, "source_ref": ref, "customer_id": customer,
            "start_date": start, "end_date": None, "mrr_minor": mrr, "currency": "EUR",
            "kind": "recurring", "discount_duration": None, "plan": "pro", "quantity": 1,
            "cancel_requested_date": None, "past_due_since": None,
            "churn_reason": None}  # fmt: skip


def _import(folder: Path, extra: list[dict[str, Any]], countries: dict[str, str],
            ends: dict[str, date] | None = None) -> None:  # fmt: skip
    """The billing file again, with ``extra`` lines, these countries and the open lines of
    ``ends``' customers ended; then the snapshot is published."""
    lines = [*_line_rows(), *extra]
    for row in lines:
        if row["customer_id"] in (ends or {}) and row["end_date"] is None:
            row["end_date"] = (ends or {})[row["customer_id"]]
    names = {**NAMES, **{r["customer_id"]: r["customer_id"].upper() for r in extra}}
    customers = [{"customer_id": c, "name": n, "source": SOURCE} for c, n in names.items()]
    attributes = [{"customer_id": c, "key": "country", "value": v, "source": SOURCE}
                  for c, v in countries.items()]  # fmt: skip
    time.sleep(0.01)  # a distinct modification time for the new file
    with open_workspace(folder) as ws:
        ws.replace_source(SOURCE, lines=_table(REVENUE_LINES, lines),
                          customers=_table(CUSTOMERS, customers),
                          attributes=_table(CUSTOMER_ATTRIBUTES, attributes))  # fmt: skip
        ws.publish_snapshot()


def _figures(client: TestClient) -> dict[str, Any]:
    out = {}
    for path in PATHS:
        response = client.get(path + ("&" if "?" in path else "?") + AS_OF)
        assert response.status_code in (200, 404), (path, response.text)
        out[path] = (response.status_code, response.json())
    return out


@contextmanager
def _serving(folder: Path) -> Iterator[tuple[TestClient, Any]]:
    """A client of an app over ``folder``, and the app's backend (closed afterwards)."""
    app = create_app(folder)
    try:
        with TestClient(app, base_url=BASE) as client:
            yield client, app.state.backend
    finally:
        app.state.backend.close()


def _fresh(folder: Path) -> dict[str, Any]:
    """The figures of an app that computes everything from the current snapshot."""
    with _serving(folder) as (client, backend):
        figures = _figures(client)
        assert backend.counts == {"computed": RESULTS}
    return figures


# May: c1 grows, c4 leaves, c6 arrives in a new country, c2 moves to DE.
MAY = [_line(20, "c1", date(2024, 5, 1), 2500), _line(21, "c6", date(2024, 5, 10), 7000)]
MAY_COUNTRIES = {**COUNTRIES, "c2": "DE", "c6": "FR"}


def test_a_new_month_updates_the_results_to_the_figures_of_a_full_recompute(
    tmp_path: Path,
) -> None:
    folder = build(tmp_path / "ws")
    with _serving(folder) as (client, backend):
        before = _figures(client)
        assert backend.counts == {"computed": RESULTS}
        assert before["/api/overview"][1]["mrr"] == 34000
        _import(folder, MAY, MAY_COUNTRIES, ends={"c4": date(2024, 5, 20)})
        after = _figures(client)
        assert backend.counts == {"computed": RESULTS, "updated": RESULTS}
    assert after["/api/overview"][1]["mrr"] == 34000 + 2500 + 7000 - 3000
    assert after["/api/customers/c6"][0] == 200 and before["/api/customers/c6"][0] == 404
    assert after == _fresh(folder)


def test_several_writes_between_requests_are_brought_forward_together(tmp_path: Path) -> None:
    folder = build(tmp_path / "ws")
    with _serving(folder) as (client, backend):
        _figures(client)
        _import(folder, MAY[:1], COUNTRIES)
        _import(folder, MAY, MAY_COUNTRIES)  # the app never saw the snapshot between
        _import(folder, MAY, MAY_COUNTRIES)  # nor this one: the same file, nothing changed
        after = _figures(client)
        assert backend.counts == {"computed": RESULTS, "updated": RESULTS}
    assert after == _fresh(folder)


def test_older_data_falls_back_to_a_full_recompute_with_the_same_figures(
    tmp_path: Path,
) -> None:
    """A customer billed before the first period: the update cannot be exact, and says so."""
    folder = build(tmp_path / "ws")
    with _serving(folder) as (client, backend):
        _figures(client)
        _import(folder, [*MAY, _line(22, "c7", date(2022, 6, 1), 900)], MAY_COUNTRIES)
        after = _figures(client)
        assert backend.counts == {"computed": RESULTS, "update_recomputed": RESULTS}
    assert after["/api/cohorts"] != _figures_of_build(tmp_path)["/api/cohorts"]
    assert after == _fresh(folder)


def test_a_write_that_does_not_say_what_it_changed_is_computed_afresh(tmp_path: Path) -> None:
    folder = build(tmp_path / "ws")
    with _serving(folder) as (client, backend):
        _figures(client)
        time.sleep(0.01)
        with open_workspace(folder) as ws, ws.transaction() as con:  # a writer of its own
            con.execute("UPDATE revenue_lines SET mrr_minor = 11000 "
                        "WHERE line_id = 'billing.csv:2'").fetchall()  # fmt: skip
            ws.bump_version()
        with open_workspace(folder) as ws:
            ws.publish_snapshot()
        after = _figures(client)
        assert backend.counts == {"computed": 2 * RESULTS}
    assert after["/api/overview"][1]["mrr"] == 34000 + 1000
    assert after == _fresh(folder)


def _figures_of_build(tmp_path: Path) -> dict[str, Any]:
    return _fresh(build(tmp_path / "original"))
