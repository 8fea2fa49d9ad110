"""Derive revenue lines from the synced Stripe objects and hand them to the workspace.

Only the subscriptions whose objects changed are derived again (all of them after a full sync or a
catalog change); the pending list lives in the raw store and is cleared in the same transaction
that stores their new lines, so an interrupted derivation simply resumes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nrr.schema import REVENUE_LINES, column_names
from nrr.sources import stripe_lines
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
        discounts={d["id"]: d for d in store.discount_payloads()},
    )


def derive_pending(store: RawStore) -> int:
    """Re-derive every pending subscription; returns how many were derived."""
    pending = store.pending()
    if not pending:
        return 0
    everything = ALL in pending
    subs = store.subscription_ids() if everything else sorted(pending)
    cat = catalog(store)
    for start in range(0, max(len(subs), 1), BATCH):
        batch = subs[start:start + BATCH]
        first = start == 0
        store.replace_derived(batch, _derive(store, batch, cat), clear_all=everything and first,
                              whole=everything,
                              done=[ALL] if everything and start + BATCH >= len(subs) else [])
    return len(subs)


def _derive(store: RawStore, subs: list[str], cat: stripe_lines.Catalog) -> list[dict[str, Any]]:
    facts = store.facts(subs)
    rows: list[dict[str, Any]] = []
    for sub in store.objects("subscription", subs):
        if sub.get("deleted") or sub.get("test_clock"):
            continue
        for row in stripe_lines.subscription_lines(sub, facts.get(sub["id"], []), cat):
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
    with workspace.transaction() as con:
        _replace_lines(con, changed)
        _replace_raw(con, int(import_row["import_id"]), changed)
        _replace_customers(con)
        lines = con.execute("SELECT count(*) FROM revenue_lines WHERE source = ?",
                            [SOURCE]).fetchall()[0][0]
        row = {**import_row, "line_count": lines}
        con.execute(f"INSERT INTO imports ({', '.join(row)}) VALUES "
                    f"({', '.join('?' for _ in row)})", list(row.values())).fetchall()
        workspace.bump_version()  # the store's own counter: readers' caches key on it
    store.mark_published(changed)
    return int(lines)


_LINE_COLUMNS = ", ".join(column_names(REVENUE_LINES))


def _replace_lines(con: Any, changed: list[str] | None) -> None:
    if changed is None:
        con.execute("DELETE FROM revenue_lines WHERE source = ?", [SOURCE]).fetchall()
        con.execute(f"INSERT INTO revenue_lines SELECT {_LINE_COLUMNS} "
                    f"FROM {ALIAS}.derived_lines").fetchall()
        return
    # Semi and anti joins against the changed list: a per-row list test is quadratic.
    con.execute(f"""DELETE FROM revenue_lines WHERE source = ? AND line_id NOT IN (
        SELECT line_id FROM {ALIAS}.derived_lines
        WHERE subscription NOT IN (SELECT unnest(?::VARCHAR[])))""", [SOURCE, changed]).fetchall()
    con.execute(f"INSERT INTO revenue_lines SELECT {_LINE_COLUMNS} FROM {ALIAS}.derived_lines "
                "WHERE subscription IN (SELECT unnest(?::VARCHAR[]))", [changed]).fetchall()


def _replace_raw(con: Any, import_id: int, changed: list[str] | None) -> None:
    """The Stripe object behind each line's source_ref (``in_…/il_…`` or ``sub_…/si_…``)."""
    if changed is None:
        con.execute("DELETE FROM raw_records WHERE source = ?", [SOURCE]).fetchall()
        only, subs = "", []
    else:
        con.execute(f"""DELETE FROM raw_records WHERE source = ? AND source_ref NOT IN (
            SELECT source_ref FROM {ALIAS}.derived_lines
            WHERE subscription NOT IN (SELECT unnest(?::VARCHAR[])))""",
                    [SOURCE, changed]).fetchall()
        if not changed:
            return
        only, subs = "AND subscription IN (SELECT unnest(?::VARCHAR[]))", [changed]
    con.execute(f"""
        INSERT INTO raw_records
        SELECT '{SOURCE}', invoice || '/' || line_id, ?::INTEGER, payload
        FROM {ALIAS}.line_facts WHERE fact IS NOT NULL {only}
          AND invoice || '/' || line_id IN (
              SELECT source_ref FROM {ALIAS}.derived_lines WHERE TRUE {only})
        UNION ALL
        SELECT '{SOURCE}', d.source_ref, ?::INTEGER, any_value(o.payload)
        FROM (SELECT DISTINCT source_ref, subscription FROM {ALIAS}.derived_lines
              WHERE source_ref LIKE 'sub_%' {only}) d
        JOIN {ALIAS}.objects o ON o.kind = 'subscription' AND o.id = d.subscription
        GROUP BY d.source_ref""", [import_id, *subs, *subs, import_id, *subs]).fetchall()


def _replace_customers(con: Any) -> None:
    con.execute("DELETE FROM customers WHERE source = ?", [SOURCE]).fetchall()
    con.execute("DELETE FROM customer_attributes WHERE source = ?", [SOURCE]).fetchall()
    # Customers deleted before the first sync are known only by the id their subscriptions carry.
    con.execute(f"""
        INSERT INTO customers
        SELECT customer_id, name, '{SOURCE}' FROM {ALIAS}.customer_rows
        UNION ALL
        SELECT DISTINCT customer_id, NULL, '{SOURCE}' FROM {ALIAS}.derived_lines
        WHERE customer_id NOT IN (SELECT customer_id FROM {ALIAS}.customer_rows)""").fetchall()
    con.execute(f"""
        INSERT INTO customer_attributes
        SELECT customer_id, k, json_extract_string(attributes, '$."' || k || '"'), '{SOURCE}'
        FROM (SELECT customer_id, attributes, unnest(json_keys(attributes)) AS k
              FROM {ALIAS}.customer_rows)""").fetchall()
