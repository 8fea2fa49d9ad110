"""Syncing the loopback server's account: full, incremental, forced and stale-cursor runs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from stripe_sync_helpers import complete

from nrr.schema import REVENUE_LINES
from nrr.sources import stripe_lines
from nrr.store import Workspace, open_workspace
from nrr.sync import sync_stripe
from nrr.sync.stripe_store import RawStore
from nrr.testing.stripe_account import Account
from nrr.testing.stripe_server import StripeServer

LINE_SQL = "SELECT * FROM revenue_lines ORDER BY line_id"
RESOURCES = ("subscriptions", "invoices", "prices", "products", "coupons", "customers", "discounts")


def _rows(ws: Workspace, sql: str = LINE_SQL) -> list[tuple[Any, ...]]:
    return ws.con.execute(sql).fetchall()


def _expected_lines(account: Account) -> list[tuple[Any, ...]]:
    """The same rules applied to the account's objects directly, without HTTP or a store."""
    objs = {r: [complete(account, r, i) for i in account.ids(r)] for r in RESOURCES}
    rows = stripe_lines.revenue_lines(
        objs["subscriptions"],
        objs["invoices"],
        prices=objs["prices"],
        products=objs["products"],
        coupons=objs["coupons"],
        customers=objs["customers"],
        discounts=objs["discounts"],
    )
    return sorted(tuple(r[c] for c, _ in REVENUE_LINES) for r in rows)


def _stored(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    store = RawStore.attach(ws)
    try:
        return ws.con.execute(sql).fetchall()
    finally:
        store.detach()


def _sync_fresh(path: Path, server: StripeServer) -> list[tuple[Any, ...]]:
    with open_workspace(path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        return _rows(ws)


def test_full_sync_stores_every_object_and_derives_the_rules(
    tmp_path: Path, server: StripeServer, account: Account
) -> None:
    with open_workspace(tmp_path) as ws:
        report = sync_stripe(ws, server.api_key, api_base=server.url)
        assert report.mode == "full"
        assert _rows(ws) == _expected_lines(account)
        assert report.lines == len(_rows(ws)) > 0
        assert Counter(r[8] for r in _rows(ws))["discount"] > 0
        clocked = {
            i
            for r in RESOURCES
            for i in account.ids(r)
            if (account.get(r, i) or {}).get("test_clock")
        }
        # Stripe leaves test-clock customers and subscriptions out of lists; the rest nrr drops.
        assert 0 < report.excluded_test_clock <= len(clocked)
        stored = _stored(
            ws,
            "SELECT kind, count(*), count(DISTINCT id) FROM stripe_raw.objects "
            "GROUP BY 1 ORDER BY 1",
        )
    for kind, count, distinct in stored:
        if kind == "discount":
            continue
        assert count == distinct  # upserts: one row per object
        resource = f"{kind}s"
        live = {i for i in account.ids(resource) if i not in clocked}
        assert count == len(live), kind


def test_nested_lists_are_paged_to_the_end(
    tmp_path: Path, server: StripeServer, account: Account
) -> None:
    invoice_id = account.ids("invoices")[-1]
    lines = complete(account, "invoices", invoice_id)["lines"]["data"]
    extra = [{**lines[0], "id": f"il_extra{n:02d}", "amount": 100,
              "parent": {"type": "invoice_item_details", "subscription_item_details": None,
                         "invoice_item_details": {"invoice_item": f"ii_{n}", "proration": False,
                                                  "subscription": None}}}
             for n in range(14)]  # fmt: skip
    account.set_children(invoice_id, [*lines, *extra])
    account.changed()
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url, page_size=7)
        stored = _stored(
            ws, f"SELECT line_id, payload FROM stripe_raw.line_facts WHERE invoice = '{invoice_id}'"
        )
    assert sorted(i for i, _ in stored) == sorted(ln["id"] for ln in [*lines, *extra])
    assert {i: json.loads(p) for i, p in stored}["il_extra13"]["amount"] == 100


def test_rerun_without_changes_is_incremental_and_changes_nothing(
    tmp_path: Path, server: StripeServer
) -> None:
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        before = _rows(ws)
        report = sync_stripe(ws, server.api_key, api_base=server.url)
        assert report.mode == "incremental"
        assert _rows(ws) == before


def _everything(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What readers see of a workspace: the published snapshot's tables."""
    from nrr.api import open_snapshot

    with open_snapshot(path) as ws:
        return {t: _rows(ws, f"SELECT {cols} FROM {t} ORDER BY ALL") for t, cols in (
            ("revenue_lines", "*"), ("customers", "*"), ("customer_attributes", "*"),
            ("raw_records", "source, source_ref, payload"))}  # fmt: skip


def test_incremental_after_changes_equals_a_fresh_full_sync(
    tmp_path: Path, server: StripeServer, account: Account
) -> None:
    with open_workspace(tmp_path / "a") as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        before = _rows(ws)
        account.mutate(fraction=0.2, seed=3)
        report = sync_stripe(ws, server.api_key, api_base=server.url)
        assert report.mode == "incremental" and report.events > 0
        assert report.subscriptions_derived > 0
        assert report.objects.get("invoice", 0) > 0  # new invoices came from created[gte] lists
        after = _rows(ws)
    assert after != before
    assert after == _sync_fresh(tmp_path / "b", server)
    assert after == _expected_lines(account)
    assert _everything(tmp_path / "a") == _everything(tmp_path / "b")


def test_a_customer_changed_between_syncs_reaches_the_workspace(
    tmp_path: Path, server: StripeServer, account: Account
) -> None:
    from nrr.testing.stripe_mutate import record_event

    customer = account.get("customers", account.ids("customers")[0])
    assert customer is not None
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        account.put("customers", {**customer, "name": "Renamed GmbH", "metadata": {"tier": "gold"}})
        record_event(account, "customer.updated", "customers", customer["id"])
        sync_stripe(ws, server.api_key, api_base=server.url)
        assert ws.customer_name(customer["id"]) == "Renamed GmbH"
        assert ("tier", "gold") in _rows(
            ws, f"SELECT key, value FROM customer_attributes WHERE customer_id = '{customer['id']}'"
        )


def test_forced_full_and_stale_cursor_relist_everything(
    tmp_path: Path, server: StripeServer
) -> None:
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        before = _rows(ws)
        forced = sync_stripe(ws, server.api_key, api_base=server.url, full=True)
        assert forced.mode == "full" and _rows(ws) == before
        cursor = int(
            _stored(ws, "SELECT value FROM stripe_raw.state WHERE key = 'events.cursor'")[0][0]
        )
        stale = sync_stripe(ws, server.api_key, api_base=server.url, now=cursor + 31 * 86_400)
        assert stale.mode == "full" and "30-day" in stale.warnings[0]
        assert _rows(ws) == before


def test_explain_finds_the_stripe_objects_behind_lines(
    tmp_path: Path, server: StripeServer
) -> None:
    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        refs = [r[0] for r in _rows(ws, "SELECT DISTINCT source_ref FROM revenue_lines")]
        found = ws.source_rows(refs)
    assert {r[1] for r in found} == set(refs)
    assert all(ref.startswith(("in_", "sub_")) for ref in refs)
    assert all(r[1].split("/")[1].startswith(("il_", "si_")) for r in found)


def test_a_reader_of_the_old_snapshot_is_not_disturbed_by_a_new_one(
    tmp_path: Path, server: StripeServer, account: Account
) -> None:
    import duckdb

    from nrr.store import SNAPSHOT_FILE

    with open_workspace(tmp_path) as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        reader = duckdb.connect(str(tmp_path / SNAPSHOT_FILE), read_only=True)
        before = reader.execute(LINE_SQL).fetchall()
        account.mutate(fraction=0.3, seed=4)
        sync_stripe(ws, server.api_key, api_base=server.url)
        assert reader.execute(LINE_SQL).fetchall() == before  # still the file it opened
        reader.close()
        assert _everything(tmp_path)["revenue_lines"] == sorted(_rows(ws))
        assert sorted(_rows(ws)) != sorted(before)


def test_a_hand_over_interrupted_then_resumed_equals_a_fresh_full_sync(
    tmp_path: Path, server: StripeServer, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nrr.sync import stripe_derive

    with open_workspace(tmp_path / "a") as ws:
        sync_stripe(ws, server.api_key, api_base=server.url)
        account.mutate(fraction=0.2, seed=5)
        with monkeypatch.context() as patched:
            patched.setattr(stripe_derive, "publish", _crash)
            with pytest.raises(RuntimeError, match="killed"):
                sync_stripe(ws, server.api_key, api_base=server.url)
        account.mutate(fraction=0.2, seed=6)
        sync_stripe(ws, server.api_key, api_base=server.url)
    _sync_fresh(tmp_path / "b", server)
    assert _everything(tmp_path / "a") == _everything(tmp_path / "b")


def _crash(*args: Any) -> int:
    raise RuntimeError("killed between deriving and handing over")
