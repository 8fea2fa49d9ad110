"""Crashes, faults and refusals: kill -9 and rerun, retries, persistent failures, 403s."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from stripe_sync_helpers import cli_command, cli_env, run_cli

from nrr.sources.stripe_fetch import MissingPermission, StripeUnavailable
from nrr.store import Workspace, open_workspace
from nrr.sync import ModeMismatch, sync_stripe
from nrr.sync.stripe_store import RawStore
from nrr.testing.stripe_server import StripeServer

TABLES = ("revenue_lines", "customers", "customer_attributes")


def _snapshot(path: Path) -> dict[str, Any]:
    """Everything a sync leaves behind that a report reads, plus the raw object counts."""
    with open_workspace(path) as ws:
        out: dict[str, Any] = {t: ws.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                               for t in TABLES}
        out["raw_records"] = ws.con.execute(
            "SELECT source_ref, payload FROM raw_records ORDER BY ALL").fetchall()
        out["objects"] = _stored(ws, "SELECT kind, id, payload FROM stripe_raw.objects "
                                     "ORDER BY ALL")
    return out


def _stored(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    store = RawStore.attach(ws)
    try:
        return ws.con.execute(sql).fetchall()
    finally:
        store.detach()


def test_kill_9_at_random_points_then_rerun_equals_a_clean_run(
        tmp_path: Path, server: StripeServer) -> None:
    server.faults.slow(15)  # stretch the run so the kills land inside it
    started = time.perf_counter()
    clean = run_cli(tmp_path / "clean", server.api_key, server.url, "--page-size", "10")
    duration = time.perf_counter() - started
    assert clean.returncode == 0, clean.stderr
    rng = random.Random(20261124)
    killed = tmp_path / "killed"
    states = []
    for _ in range(8):
        # --full: a finished run would leave little for the next kill to interrupt.
        proc = subprocess.Popen(cli_command(killed, "--page-size", "10", "--full"),
                                env=cli_env(server.api_key, server.url),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 0.8 * duration))
        proc.kill()  # SIGKILL: no cleanup of any kind
        states.append(proc.wait())
    assert states.count(-9) >= 6, states  # most runs really were killed mid-way
    rerun = run_cli(killed, server.api_key, server.url, "--page-size", "10")
    assert rerun.returncode == 0, rerun.stderr
    assert _snapshot(killed) == _snapshot(tmp_path / "clean")


def test_rate_limits_and_server_errors_are_retried(tmp_path: Path,
                                                   server: StripeServer) -> None:
    server.faults.rate_limit(times=2, should_retry=None, path="/v1/invoices")
    server.faults.rate_limit(times=1, should_retry=True, path="/v1/subscriptions")
    server.faults.server_error(times=2, path="/v1/customers")
    with open_workspace(tmp_path / "a") as ws:
        report = sync_stripe(ws, server.api_key, api_base=server.url)
    assert server.faults.pending() == []
    assert report.requests >= 21
    assert server.stats.as_dict()["statuses"].get("429") == 3
    assert server.stats.as_dict()["statuses"].get("500") == 2
    with open_workspace(tmp_path / "b") as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_should_retry_false_is_honoured(tmp_path: Path, server: StripeServer) -> None:
    server.faults.rate_limit(times=1, should_retry=False, path="/v1/prices")
    with open_workspace(tmp_path) as ws, pytest.raises(StripeUnavailable, match="price"):
        sync_stripe(ws, server.api_key, api_base=server.url)
    assert server.stats.as_dict()["statuses"].get("429") == 1


def test_persistent_failure_stops_with_the_cursor_where_it_was(
        tmp_path: Path, server: StripeServer) -> None:
    fault = server.faults.server_error(times=None, path="/v1/invoices")
    with open_workspace(tmp_path / "a") as ws:
        store = RawStore.attach(ws)  # permissions already checked: the failure lands mid-list
        store.set_state({"permissions_checked": "1"})
        store.detach()
        with pytest.raises(StripeUnavailable) as failed:
            sync_stripe(ws, server.api_key, api_base=server.url, page_size=20)
        message = str(failed.value)
        assert "invoice" in message and "HTTP 500" in message and "run the sync again" in message
        state = dict(_stored(ws, "SELECT key, value FROM stripe_raw.state"))
        assert state["full.subscription.done"] == "1"
        assert "full.invoice.cursor" not in state and "events.cursor" not in state
        assert ws.con.execute("SELECT count(*) FROM revenue_lines").fetchall() == [(0,)]
    server.faults.clear()
    assert fault.times is None
    with open_workspace(tmp_path / "a") as ws:
        assert sync_stripe(ws, server.api_key, api_base=server.url).mode == "full"
    with open_workspace(tmp_path / "b") as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_a_cursor_deleted_mid_walk_does_not_lose_the_rest(tmp_path: Path,
                                                          server: StripeServer) -> None:
    server.faults.delete_cursor_object(times=1, path="/v1/invoices")
    with open_workspace(tmp_path / "a") as ws:
        sync_stripe(ws, server.api_key, api_base=server.url, page_size=25)
    with open_workspace(tmp_path / "b") as ws:
        sync_stripe(ws, server.api_key, api_base=server.url, page_size=25)
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert a["revenue_lines"] == b["revenue_lines"]
    assert {r[1] for r in b["objects"]} <= {r[1] for r in a["objects"]}


@pytest.mark.parametrize(("resource", "permission"), [
    ("invoices", "Invoices"), ("credit_notes", "Credit notes"), ("events", "Events")])
def test_a_missing_permission_fails_loudly_by_name(tmp_path: Path, server: StripeServer,
                                                   resource: str, permission: str) -> None:
    server.denied.add(resource)
    with open_workspace(tmp_path) as ws:
        with pytest.raises(MissingPermission, match=f"'{permission}: Read'"):
            sync_stripe(ws, server.api_key, api_base=server.url)
        assert ws.con.execute("SELECT count(*) FROM revenue_lines").fetchall() == [(0,)]


def test_a_permission_lost_after_the_first_sync_still_fails(tmp_path: Path,
                                                            server: StripeServer) -> None:
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        lines = ws.con.execute("SELECT count(*) FROM revenue_lines").fetchall()
        server.denied.add("invoices")
        with pytest.raises(MissingPermission, match="Invoices"):
            sync_stripe(ws, server.api_key, api_base=server.url, full=True)
        assert ws.con.execute("SELECT count(*) FROM revenue_lines").fetchall() == lines


def test_test_and_live_data_never_mix(tmp_path: Path, server: StripeServer) -> None:
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        with pytest.raises(ModeMismatch, match="test-mode data"):
            sync_stripe(ws, "rk_live_" + "x" * 24, api_base=server.url)
