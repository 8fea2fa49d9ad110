"""An incremental sync records which customers it changed, and that is enough for readers to bring
computed results forward (``Results.update``) to exactly the figures of a full recompute."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from nrr.api import compute, follow_snapshot
from nrr.store import Workspace, open_workspace
from nrr.sync import sync_stripe
from nrr.testing.stripe_account import Account
from nrr.testing.stripe_server import StripeServer

AS_OF = date(2026, 11, 30)  # the account's clock stands at 2026-11-01; mutations come after


def _rows_by_customer(ws: Workspace) -> dict[str, set[tuple[Any, ...]]]:
    out: dict[str, set[tuple[Any, ...]]] = {}
    for table in ("revenue_lines", "customers", "customer_attributes"):
        for row in ws.con.execute(f"SELECT customer_id, * FROM {table}").fetchall():
            out.setdefault(str(row[0]), set()).add((table, *row[1:]))
    return out


def _tables(results: Any) -> dict[str, Any]:
    out = {"movements": results.movements().to_pylist(), "cohorts": results.cohorts().to_pylist()}
    for by in (None, "plan", "size"):
        out[f"bridge {by}"] = results.bridge(by).to_pylist()
        out[f"retention {by}"] = results.retention(1, by).to_pylist()
    return out


def test_an_incremental_sync_records_the_customers_it_changed(
    tmp_path: Path, server: StripeServer, account: Account
) -> None:
    from nrr.testing.stripe_mutate import record_event

    with open_workspace(tmp_path) as ws:
        first = sync_stripe(ws, server.api_key, api_base=server.url)
        ws.publish_snapshot()  # as a command does after each sync
        assert first.mode == "full" and ws.changed_since(ws.data_version - 1) is None  # all
        version, before = ws.data_version, _rows_by_customer(ws)
        reader = follow_snapshot(tmp_path)
        results = compute(reader, as_of=AS_OF)
        results.prepare(("all", "plan", "size"))

        account.mutate(fraction=0.1, seed=4)
        renamed = account.get("customers", account.ids("customers")[-1])
        assert renamed is not None
        account.put("customers", {**renamed, "metadata": {"tier": "gold"}})
        record_event(account, "customer.updated", "customers", renamed["id"])
        report = sync_stripe(ws, server.api_key, api_base=server.url)
        assert report.mode == "incremental" and report.subscriptions_derived > 0
        ws.publish_snapshot()
        after = _rows_by_customer(ws)
        changed = ws.changed_since(version)

    differ = {c for c in before.keys() | after.keys() if before.get(c) != after.get(c)}
    assert changed is not None and differ and renamed["id"] in differ
    assert differ <= changed  # every customer whose rows changed, the renamed one among them
    assert len(changed) < len(after) / 2  # the customers of the changed subscriptions, not all

    reader = follow_snapshot(tmp_path, reader)  # the new snapshot on the same connection
    assert results.update(AS_OF, changed) is True
    assert _tables(results) == _tables(compute(follow_snapshot(tmp_path), as_of=AS_OF))
    reader.close()
