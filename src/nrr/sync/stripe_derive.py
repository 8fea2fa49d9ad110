"""Derive revenue lines from the synced Stripe objects and hand them to the workspace.

Only the subscriptions whose objects changed are derived again (all of them after a full sync or a
catalog change); the pending list lives in the raw store and is cleared in the same transaction
that stores their new lines, so an interrupted derivation simply resumes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from nrr.schema import REVENUE_LINES, column_names
from nrr.sources import stripe_lines
from nrr.sync import stripe_handover
from nrr.sync.stripe_store import ALIAS, ALL, RawStore

if TYPE_CHECKING:
    from nrr.store import Workspace

BATCH = 2_000
SOURCE = stripe_lines.SOURCE


def catalog(store: RawStore) -> stripe_lines.Catalog:
    return stripe_lines.Catalog(
        prices={p["id"]: p for p in store.objects("price")},
        products={p["id"]: p for p in store.objects("product")},
        coupons={c["id"]: c for c in store.objects("coupon")},
        discounts=store.discounts(),
    )


def derive_pending(store: RawStore, known: Mapping[str, dict[str, Any]] | None = None) -> int:
    """Re-derive every pending subscription; returns how many were derived.

    ``known``: subscriptions as the caller just stored them (spares reading them back).
    """
    pending = store.pending()
    if not pending:
        return 0
    if ALL in pending:
        return _derive_all(store, catalog(store))
    subs = sorted(pending)
    with ThreadPoolExecutor(1) as pool:  # the catalog loads while the first inputs are read
        cat = pool.submit(_catalog_apart, store)
        for start in range(0, len(subs), BATCH):
            batch = subs[start : start + BATCH]
            inputs = list(store.derivation_inputs(batch, known=known))
            store.replace_derived(batch, _derive(inputs, cat.result()))
    return len(subs)


def _catalog_apart(store: RawStore) -> stripe_lines.Catalog:
    with store.reading() as reader:
        return catalog(reader)


def _derive_all(store: RawStore, cat: stripe_lines.Catalog) -> int:
    """Every subscription, read in one pass; ``*`` leaves the pending list with the last batch."""
    count, first = 0, True
    for inputs in store.derivation_inputs(None, batch=BATCH):
        subs = [sub["id"] for sub, _ in inputs]
        store.replace_derived(subs, _derive([inputs], cat), clear_all=first, whole=True)
        count, first = count + len(subs), False
    store.replace_derived([], [], clear_all=first, whole=True, done=[ALL])
    return count


def _derive(
    batches: Iterable[list[tuple[dict[str, Any], list[Any]]]], cat: stripe_lines.Catalog
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for inputs in batches:
        for sub, facts in inputs:
            if sub.get("deleted") or sub.get("test_clock"):
                continue
            for row in stripe_lines.subscription_lines(sub, facts, cat):
                row["subscription"] = sub["id"]
                rows.append(row)
    return rows


def publish(workspace: Workspace, store: RawStore, import_row: dict[str, Any]) -> int:
    """Put the derived rows into the workspace in one transaction; returns the line count.

    The caller publishes the snapshot for readers afterwards.

    Only the lines and source rows of subscriptions derived since the last publish are swapped
    (all of them after a full sync); the rest stay as they are. Everything is copied with SQL
    from the attached raw store, so no table passes through Python. The raw store forgets
    what it published only after the workspace committed: an interrupted publish repeats.
    """
    changed = store.unpublished()
    fresh = None if changed is None else store.derived_here(changed)
    try:
        lines = _publish(workspace, store, import_row, changed, fresh)
    finally:
        store.checkpoint_as_usual()
    store.mark_published(changed)
    return lines


def _publish(
    workspace: Workspace,
    store: RawStore,
    import_row: dict[str, Any],
    changed: list[str] | None,
    fresh: Any,
) -> int:
    with workspace.transaction() as con:
        if fresh is not None:
            con.register("_changed_lines", fresh)
        try:
            _replace_lines(con, changed, fresh is not None)
            if changed is not None:  # readers recompute the customers of the swapped lines
                workspace.note_changed(
                    f"SELECT customer_id FROM {ALIAS}.retired UNION ALL "
                    f"SELECT customer_id FROM {_changed_lines(fresh is not None)}",
                    None if fresh is not None else {"changed": changed},
                )
            if fresh is not None and store.handover is not None:
                stripe_handover.replace_raw(
                    con, int(import_row["import_id"]), fresh, store.handover
                )
            else:
                _replace_raw(con, int(import_row["import_id"]), changed, fresh is not None)
        finally:
            if fresh is not None:
                con.unregister("_changed_lines")
        if changed is None or store.customers_changed(changed):
            _replace_customers(con, None if changed is None else workspace)
        lines = con.execute(
            "SELECT count(*) FROM revenue_lines WHERE source = ?", [SOURCE]
        ).fetchall()[0][0]
        row = {**import_row, "line_count": lines}
        con.execute(
            f"INSERT INTO imports ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            list(row.values()),
        ).fetchall()
        # the store's own counter, with the customers noted above (after a full swap: all of
        # them): readers' caches key on it, and bring results forward by those customers
        workspace.bump_version()
        # This commit checkpoints at once instead of writing the changes to the log first
        # (DuckDB skips the log for a large commit that checkpoints): the snapshot published
        # next needs them in the database file anyway.
        con.execute("SET checkpoint_threshold = '0b'").fetchall()
    return int(lines)


_LINE_COLUMNS = ", ".join(column_names(REVENUE_LINES))


def _changed_lines(in_memory: bool) -> str:
    """The changed subscriptions' derived lines: the table this process registered, or the
    raw store's rows of the subscriptions in ``$changed``."""
    if in_memory:
        return "_changed_lines"
    return (
        f"(SELECT * FROM {ALIAS}.derived_lines "
        "WHERE subscription IN (SELECT unnest($changed::VARCHAR[])))"
    )


def _replace_lines(con: Any, changed: list[str] | None, in_memory: bool) -> None:
    if changed is None:
        con.execute("DELETE FROM revenue_lines WHERE source = ?", [SOURCE]).fetchall()
        con.execute(
            f"INSERT INTO revenue_lines SELECT {_LINE_COLUMNS} FROM {ALIAS}.derived_lines"
        ).fetchall()
        return
    # The changed subscriptions' lines as the workspace has them are in ``retired``: deleting
    # those probes the table once, where comparing with every derived line joined it twice.
    con.execute(
        f"DELETE FROM revenue_lines WHERE source = ? AND line_id IN ("
        f"SELECT line_id FROM {ALIAS}.retired)",
        [SOURCE],
    ).fetchall()
    con.execute(
        f"INSERT INTO revenue_lines SELECT {_LINE_COLUMNS} FROM {_changed_lines(in_memory)}",
        {} if in_memory else {"changed": changed},
    ).fetchall()


def _replace_raw(con: Any, import_id: int, changed: list[str] | None, in_memory: bool) -> None:
    """The Stripe object behind each line's source_ref (``in_…/il_…`` or ``sub_…/si_…``)."""
    if changed is None:
        con.execute("DELETE FROM raw_records WHERE source = ?", [SOURCE]).fetchall()
        params: dict[str, Any] = {"import": import_id}
        lines, only = f"{ALIAS}.derived_lines", ""
    else:
        con.execute(
            f"DELETE FROM raw_records WHERE source = ? AND source_ref IN ("
            f"SELECT source_ref FROM {ALIAS}.retired)",
            [SOURCE],
        ).fetchall()
        if not changed:
            return
        lines = _changed_lines(in_memory)
        only = "AND subscription IN (SELECT unnest($changed::VARCHAR[]))"
        params = {"import": import_id, "changed": changed}
    con.execute(
        f"""
        INSERT INTO raw_records
        SELECT '{SOURCE}', invoice || '/' || line_id, $import::INTEGER, payload
        FROM {ALIAS}.line_facts WHERE fact IS NOT NULL {only}
          AND invoice || '/' || line_id IN (SELECT source_ref FROM {lines})
        UNION ALL
        SELECT '{SOURCE}', d.source_ref, $import::INTEGER, any_value(o.payload)
        FROM (SELECT DISTINCT source_ref, subscription FROM {lines}
              WHERE source_ref LIKE 'sub_%') d
        JOIN {ALIAS}.objects o ON o.kind = 'subscription' AND o.id = d.subscription
        GROUP BY d.source_ref""",
        params,
    ).fetchall()


# Customers deleted before the first sync are known only by the id their subscriptions carry.
_CUSTOMERS = f"""
    SELECT customer_id, name, '{SOURCE}' AS source FROM {ALIAS}.customer_rows
    UNION ALL
    SELECT DISTINCT customer_id, NULL, '{SOURCE}' FROM {ALIAS}.derived_lines
    WHERE customer_id NOT IN (SELECT customer_id FROM {ALIAS}.customer_rows)"""
_ATTRIBUTES = f"""
    SELECT customer_id, k AS key, json_extract_string(attributes, '$."' || k || '"') AS value,
           '{SOURCE}' AS source
    FROM (SELECT customer_id, attributes, unnest(json_keys(attributes)) AS k
          FROM {ALIAS}.customer_rows)"""


def _replace_customers(con: Any, workspace: Workspace | None = None) -> None:
    """The Stripe customers and attributes as the raw store has them. Given ``workspace`` (an
    incremental publish), only the customers whose rows differ are replaced, and noted as changed
    for readers: finding them costs about what replacing every row did."""
    if workspace is None:
        for table, rows in (("customers", _CUSTOMERS), ("customer_attributes", _ATTRIBUTES)):
            con.execute(f"DELETE FROM {table} WHERE source = ?", [SOURCE]).fetchall()
            con.execute(f"INSERT INTO {table} {rows}").fetchall()
        return
    from nrr.store import replaced_customers

    differ = " UNION ".join(replaced_customers(table, SOURCE, rows) for table, rows in (
        ("customers", _CUSTOMERS), ("customer_attributes", _ATTRIBUTES)))  # fmt: skip
    con.execute(f"CREATE OR REPLACE TEMP TABLE _customers_differ AS {differ}").fetchall()
    workspace.note_changed("SELECT customer_id FROM _customers_differ")
    for table, rows in (("customers", _CUSTOMERS), ("customer_attributes", _ATTRIBUTES)):
        con.execute(
            f"DELETE FROM {table} t USING _customers_differ d WHERE t.source = ? "
            "AND t.customer_id IS NOT DISTINCT FROM d.customer_id",
            [SOURCE],
        ).fetchall()
        con.execute(
            f"INSERT INTO {table} SELECT n.* FROM ({rows}) AS n SEMI JOIN _customers_differ d "
            "ON n.customer_id IS NOT DISTINCT FROM d.customer_id"
        ).fetchall()
    con.execute("DROP TABLE _customers_differ").fetchall()
