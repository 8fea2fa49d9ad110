"""The raw Stripe store: upserts by id, derivation of pending subscriptions, the hand-over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stripe_builders import item, monthly_invoices, price, sub

from nrr.store import Workspace, open_workspace
from nrr.sync import stripe_derive
from nrr.sync.stripe_store import ALL, RawStore


def _publish(ws: Workspace, store: RawStore) -> int:
    stripe_derive.derive_pending(store)
    row = {"import_id": ws.next_import_id(), "source": "stripe", "kind": "stripe-full",
           "file_name": None, "content_hash": None, "row_count": 0, "imported_at": None}
    return stripe_derive.publish(ws, store, row)


def _rows(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    return ws.con.execute(sql).fetchall()


def test_pages_stored_twice_give_the_same_rows(tmp_path: Path) -> None:
    p = price(amount=1_000)
    invs = monthly_invoices("sub_a", "si_a", p, ["2024-01", "2024-02"], 3_000, 3)
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit("price", [p], 1, {"cursor": "price_basic"}, pending=[ALL])
        for _ in range(2):
            store.commit("subscription", [sub("sub_a", [item("si_a", p, 3)])], 1, {})
            store.commit("invoice", invs, 1, {})
        assert _rows(ws, "SELECT count(*) FROM stripe_raw.objects") == [(4,)]
        assert _rows(ws, "SELECT count(*) FROM stripe_raw.line_facts") == [(2,)]
        assert _publish(ws, store) == 2
        assert store.pending() == [] and store.state() == {"cursor": "price_basic"}
        assert _rows(ws, "SELECT line_id, mrr_minor FROM revenue_lines ORDER BY 1") == [
            ("il_sub_a_0", 3_000), ("il_sub_a_1", 3_000)]
        store.detach()


def test_customer_known_only_from_a_subscription_still_gets_a_row(tmp_path: Path) -> None:
    p = price(amount=1_000)
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit("subscription", [sub("sub_g", [item("si_g", p)], customer="cus_gone")], 1,
                     {}, pending=["sub_g"])
        store.commit("customer", [{"id": "cus_here", "name": "Here GmbH",
                                   "address": {"country": "at"}}], 1, {})
        _publish(ws, store)
        assert _rows(ws, "SELECT customer_id, name FROM customers ORDER BY 1") == [
            ("cus_gone", None), ("cus_here", "Here GmbH")]
        assert _rows(ws, "SELECT customer_id, key, value FROM customer_attributes") == [
            ("cus_here", "country", "AT")]
        store.detach()


def test_deleted_stub_keeps_what_was_known(tmp_path: Path) -> None:
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit("customer", [{"id": "cus_x", "name": "X AG", "address": {"country": "ch"}}],
                     1, {})
        store.commit("customer", [{"id": "cus_x", "object": "customer", "deleted": True}], 1, {})
        assert store.payload("customer", "cus_x") == {
            "id": "cus_x", "name": "X AG", "address": {"country": "ch"}, "object": "customer",
            "deleted": True}
        _publish(ws, store)
        assert _rows(ws, "SELECT key, value FROM customer_attributes ORDER BY 1") == [
            ("country", "CH"), ("deleted_in_stripe", "true")]
        store.detach()


def test_only_subscriptions_derived_again_are_handed_over_again(tmp_path: Path) -> None:
    p = price(amount=1_000)
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        subs = [sub(f"sub_{n}", [item(f"si_{n}", p)]) for n in range(3)]
        store.commit("subscription", subs, 1, {}, pending=[ALL])
        stripe_derive.derive_pending(store)
        assert store.unpublished() is None  # everything
        _publish(ws, store)
        assert store.unpublished() == []
        store.commit("subscription", [sub("sub_1", [item("si_1", p, 4)])], 1, {},
                     pending=["sub_1"])
        stripe_derive.derive_pending(store)
        assert store.unpublished() == ["sub_1"]
        _publish(ws, store)
        assert _rows(ws, "SELECT line_id, mrr_minor FROM revenue_lines ORDER BY 1") == [
            ("si_0", 1_000), ("si_1", 4_000), ("si_2", 1_000)]
        assert store.unpublished() == []
        store.detach()
