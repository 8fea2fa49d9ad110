"""The raw Stripe store: upserts by id, derivation of pending subscriptions, the hand-over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from stripe_builders import item, monthly_invoices, price, sub

from nrr.store import Workspace, open_workspace
from nrr.sync import stripe_derive
from nrr.sync.stripe_store import ALL, RAW_FILE, RawStore


def _publish(ws: Workspace, store: RawStore) -> int:
    stripe_derive.derive_pending(store)
    row = {
        "import_id": ws.next_import_id(),
        "source": "stripe",
        "kind": "stripe-full",
        "file_name": None,
        "content_hash": None,
        "row_count": 0,
        "imported_at": None,
    }
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
            ("il_sub_a_0", 3_000),
            ("il_sub_a_1", 3_000),
        ]
        store.detach()


def test_customer_known_only_from_a_subscription_still_gets_a_row(tmp_path: Path) -> None:
    p = price(amount=1_000)
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit(
            "subscription",
            [sub("sub_g", [item("si_g", p)], customer="cus_gone")],
            1,
            {},
            pending=["sub_g"],
        )
        store.commit(
            "customer",
            [{"id": "cus_here", "name": "Here GmbH", "address": {"country": "at"}}],
            1,
            {},
        )
        _publish(ws, store)
        assert _rows(ws, "SELECT customer_id, name FROM customers ORDER BY 1") == [
            ("cus_gone", None),
            ("cus_here", "Here GmbH"),
        ]
        assert _rows(ws, "SELECT customer_id, key, value FROM customer_attributes") == [
            ("cus_here", "country", "AT")
        ]
        store.detach()


def test_deleted_stub_keeps_what_was_known(tmp_path: Path) -> None:
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit(
            "customer", [{"id": "cus_x", "name": "X AG", "address": {"country": "ch"}}], 1, {}
        )
        store.commit("customer", [{"id": "cus_x", "object": "customer", "deleted": True}], 1, {})
        assert store.payload("customer", "cus_x") == {
            "id": "cus_x",
            "name": "X AG",
            "address": {"country": "ch"},
            "object": "customer",
            "deleted": True,
        }
        _publish(ws, store)
        assert _rows(ws, "SELECT key, value FROM customer_attributes ORDER BY 1") == [
            ("country", "CH"),
            ("deleted_in_stripe", "true"),
        ]
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
        store.commit("subscription", [sub("sub_1", [item("si_1", p, 4)])], 1, {}, pending=["sub_1"])
        stripe_derive.derive_pending(store)
        assert store.unpublished() == ["sub_1"]
        _publish(ws, store)
        assert _rows(ws, "SELECT line_id, mrr_minor FROM revenue_lines ORDER BY 1") == [
            ("si_0", 1_000),
            ("si_1", 4_000),
            ("si_2", 1_000),
        ]
        assert store.unpublished() == []
        store.detach()


def test_an_incremental_publish_swaps_only_what_changed(tmp_path: Path) -> None:
    """Lines that went away go, customers known only from a subscription come and go."""
    p = price(amount=1_000)
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit("customer", [{"id": "cus_1", "name": "One"}], 1, {})
        subs = [sub("sub_0", [item("si_0", p), item("si_x", p)]), sub("sub_1", [item("si_1", p)])]
        store.commit("subscription", subs, 1, {}, pending=[ALL])
        _publish(ws, store)
        store.commit(
            "subscription",
            [
                sub("sub_0", [item("si_0", p, 2)]),
                sub("sub_2", [item("si_2", p)], customer="cus_gone"),
            ],
            1,
            {},
            pending=["sub_0", "sub_2"],
        )
        _publish(ws, store)
        assert _rows(ws, "SELECT line_id, mrr_minor FROM revenue_lines ORDER BY 1") == [
            ("si_0", 2_000),
            ("si_1", 1_000),
            ("si_2", 1_000),
        ]
        assert _rows(ws, "SELECT source_ref FROM raw_records ORDER BY 1") == [
            ("sub_0/si_0",),
            ("sub_1/si_1",),
            ("sub_2/si_2",),
        ]
        assert _rows(ws, "SELECT customer_id, name FROM customers ORDER BY 1") == [
            ("cus_1", "One"),
            ("cus_gone", None),
        ]
        store.commit(
            "subscription",
            [sub("sub_2", [item("si_2", p)], status="incomplete", customer="cus_gone")],
            1,
            {},
            pending=["sub_2"],
        )
        _publish(ws, store)
        assert _rows(ws, "SELECT customer_id FROM customers ORDER BY 1") == [("cus_1",)]
        assert _rows(ws, "SELECT count(*) FROM stripe_raw.retired") == [(0,)]
        store.detach()


def test_pages_of_one_batch_keep_the_latest_row_per_key() -> None:
    from nrr.sync.stripe_writer import Batch

    batch = Batch()
    for name in ("old", "new"):
        batch.add(RawStore.prepare("customer", [{"id": "cus_a", "name": name}], 1), 1)
    merged = {rows.table: rows.data.to_pylist() for rows in batch.merged()}
    assert [r["name"] for r in merged["customer_rows"]] == ["new"]
    assert [r["payload"] for r in merged["objects"]] == ['{"id":"cus_a","name":"new"}']


def test_a_failed_write_surfaces_and_what_came_before_stays(tmp_path: Path) -> None:
    from nrr.sync.stripe_rows import Rows
    from nrr.sync.stripe_writer import Writer

    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        broken = [Rows("objects", pa.table({"nonsense": [1]}))]
        with pytest.raises(Exception, match="nonsense"), Writer(store) as writer:  # noqa: B017
            writer.submit(store.prepare("price", [price()], 1), {"cursor": "one"})
            writer.submit(broken, {"cursor": "two"})
            writer.wait()
        assert store.state() == {"cursor": "one"}
        assert _rows(ws, "SELECT id FROM stripe_raw.objects") == [("price_basic",)]
        store.detach()


def test_a_store_written_by_an_older_nrr_is_dropped(tmp_path: Path) -> None:
    with open_workspace(tmp_path) as ws:
        ws.con.execute(f"ATTACH '{tmp_path / RAW_FILE}' AS old").fetchall()
        ws.con.execute("CREATE TABLE old.state (key VARCHAR PRIMARY KEY, value VARCHAR)")
        ws.con.execute("INSERT INTO old.state VALUES ('events.cursor', '1')")
        ws.con.execute("CREATE TABLE old.objects (kind VARCHAR, id VARCHAR, payload VARCHAR)")
        ws.con.execute("DETACH old")
        store = RawStore.attach(ws)
        assert store.state() == {}  # no cursor: the next sync lists everything
        assert _rows(ws, "SELECT count(*) FROM stripe_raw.objects") == [(0,)]
        store.detach()
        assert RawStore.attach(ws).state() == {}


def test_a_small_change_leaves_its_log_and_a_large_one_is_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nrr.sync import stripe_store

    wal = tmp_path / f"{RAW_FILE}.wal"
    with open_workspace(tmp_path) as ws:
        store = RawStore.attach(ws)
        store.commit("price", [price()], 1, {"cursor": "one"})
        store.detach()
        assert wal.exists()  # replayed by the next attach, which sees everything
        store = RawStore.attach(ws)
        assert store.state() == {"cursor": "one"}
        monkeypatch.setattr(stripe_store, "LAZY_CHECKPOINT_BELOW", 0)
        store.detach()
        assert not wal.exists()
        assert RawStore.attach(ws).payload("price", "price_basic") == price()


def test_a_publish_after_an_interruption_reads_the_derived_lines_back(tmp_path: Path) -> None:
    """The lines just derived are handed over from memory; after a restart, from the store."""
    p = price(amount=1_000)
    invs = monthly_invoices("sub_a", "si_a", p, ["2024-01", "2024-02"], 3_000, 3)

    def run(path: Path, *, restart: bool) -> dict[str, list[tuple[Any, ...]]]:
        with open_workspace(path) as ws:
            store = RawStore.attach(ws)
            store.commit("price", [p], 1, {}, pending=[ALL])
            store.commit("subscription", [sub("sub_a", [item("si_a", p, 3)])], 1, {})
            _publish(ws, store)
            store.detach()  # the next sync
            store = RawStore.attach(ws)
            store.commit("invoice", invs, 1, {}, pending=["sub_a"])
            stripe_derive.derive_pending(store)
            if restart:
                store.detach()
                store = RawStore.attach(ws)
                assert store.derived_here(["sub_a"]) is None
            else:
                assert store.derived_here(["sub_a"]) is not None
            _publish(ws, store)
            store.detach()
            return {
                t: _rows(ws, f"SELECT * FROM {t} ORDER BY ALL")
                for t in ("revenue_lines", "raw_records")
            }

    assert run(tmp_path / "memory", restart=False) == run(tmp_path / "store", restart=True)


def test_a_hand_over_from_memory_equals_one_read_back(tmp_path: Path) -> None:
    """After a clean publish, a run remembers what it stores and hands only that over."""
    from nrr.sync.stripe_handover import Handover

    p = price(amount=1_000)
    old = monthly_invoices("sub_a", "si_a", p, ["2024-01", "2024-02", "2024-03"], 3_000, 3)
    changed = [
        {
            **old[1],
            "lines": {
                **old[1]["lines"],
                "data": [{**old[1]["lines"]["data"][0], "description": "3 × Basic (corrected)"}],
            },
        }
    ]

    def run(path: Path, *, remember: bool) -> dict[str, list[tuple[Any, ...]]]:
        with open_workspace(path) as ws:
            store = RawStore.attach(ws)
            store.commit("price", [p], 1, {}, pending=[ALL])
            store.commit("subscription", [sub("sub_a", [item("si_a", p, 3)])], 1, {})
            store.commit("invoice", old, 1, {})
            _publish(ws, store)
            store.detach()  # the next sync
            store = RawStore.attach(ws)
            assert store.published_everything()
            if remember:
                store.handover = Handover()
            store.commit("invoice", changed, 1, {}, pending=["sub_a"])
            store.commit("subscription", [sub("sub_a", [item("si_a", p, 4)])], 1, {})
            stripe_derive.derive_pending(store)
            assert not store.published_everything()  # until the workspace has the lines
            _publish(ws, store)
            assert store.published_everything()
            store.detach()
            return {
                t: _rows(ws, f"SELECT * EXCLUDE (import_id) FROM {t} ORDER BY ALL")
                for t in ("raw_records",)
            } | {"revenue_lines": _rows(ws, "SELECT * FROM revenue_lines ORDER BY ALL")}

    remembered, read_back = (
        run(tmp_path / "memory", remember=True),
        run(tmp_path / "store", remember=False),
    )
    assert remembered == read_back
    assert any("corrected" in str(payload) for *_, payload in remembered["raw_records"])
