"""The synced Stripe objects, kept as they came, in their own file beside the workspace database.

``stripe.duckdb`` is attached to the workspace connection as ``stripe_raw``: the raw objects do
not bloat the workspace file (or the snapshot readers copy), while revenue lines derived from them
are read across in one statement. Every write here is one transaction in this one file, so a
page of objects and the cursor that points past it always land together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from nrr.schema import REVENUE_LINES, column_names
from nrr.sources import stripe_lines

if TYPE_CHECKING:
    import duckdb

    from nrr.store import Workspace

RAW_FILE = "stripe.duckdb"
ALIAS = "stripe_raw"
ALL = "*"  # the pending-derivation marker meaning "every subscription"
CHECKPOINT_EVERY = "128MB"
MEMORY_LIMIT = "384MB"  # DuckDB would otherwise cache up to 80 % of the machine's memory

_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.objects (
        kind VARCHAR, id VARCHAR, created BIGINT, deleted BOOLEAN, generation INTEGER,
        payload VARCHAR)""",
    # Every invoice line as it came (``payload``); ``fact`` for subscription lines only.
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.line_facts (
        invoice VARCHAR, subscription VARCHAR, line_id VARCHAR, fact VARCHAR, payload VARCHAR)""",
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.discounts (id VARCHAR, payload VARCHAR)",
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.customer_rows (
        customer_id VARCHAR, name VARCHAR, attributes VARCHAR)""",
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.state (key VARCHAR PRIMARY KEY, value VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.pending (subscription VARCHAR PRIMARY KEY)",
    # Derived but not yet in the workspace (cleared once the workspace has them).
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.unpublished (subscription VARCHAR PRIMARY KEY)",
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.derived_lines (subscription VARCHAR, {
        ", ".join(f"{c} {t}" for c, t in REVENUE_LINES)})""",
)


def dumps(obj: Any) -> str:
    """Compact JSON text; orjson when installed (several times faster on large invoices)."""
    try:
        import orjson
    except ImportError:
        return json.dumps(obj, separators=(",", ":"))
    return orjson.dumps(obj).decode()


def loads(text: str | bytes) -> Any:
    try:
        import orjson
    except ImportError:
        return json.loads(text)
    return orjson.loads(text)


class RawStore:
    """Upserts by object id, the sync cursors, and what still needs deriving."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @classmethod
    def attach(cls, workspace: Workspace) -> RawStore:
        path = str(workspace.path / RAW_FILE).replace("'", "''")
        attached = {r[0] for r in workspace.con.execute("SELECT database_name FROM "
                                                        "duckdb_databases()").fetchall()}
        if ALIAS not in attached:
            workspace.con.execute(f"ATTACH '{path}' AS {ALIAS}").fetchall()
        for statement in _DDL:
            workspace.con.execute(statement).fetchall()
        # Checkpointing every 16 MB of WAL (the default) triples the cost of storing pages.
        workspace.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_EVERY}'").fetchall()
        workspace.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'").fetchall()
        return cls(workspace.con)

    def detach(self) -> None:
        self.con.execute("RESET checkpoint_threshold").fetchall()
        self.con.execute("RESET memory_limit").fetchall()
        self.con.execute(f"DETACH {ALIAS}").fetchall()

    # -- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, str]:
        rows = self.con.execute(f"SELECT key, value FROM {ALIAS}.state").fetchall()
        return {str(k): str(v) for k, v in rows}

    def set_state(self, values: Mapping[str, str | None], *, pending: Iterable[str] = ()) -> None:
        self.con.execute("BEGIN TRANSACTION").fetchall()
        try:
            self._write_state(values)
            self._write_pending(pending)
        except BaseException:
            self.con.execute("ROLLBACK").fetchall()
            raise
        self.con.execute("COMMIT").fetchall()

    def _write_state(self, values: Mapping[str, str | None]) -> None:
        for key, value in values.items():
            if value is None:
                self.con.execute(f"DELETE FROM {ALIAS}.state WHERE key = ?", [key]).fetchall()
            else:
                self.con.execute(f"INSERT OR REPLACE INTO {ALIAS}.state VALUES (?, ?)",
                                 [key, value]).fetchall()

    def _write_pending(self, subscriptions: Iterable[str]) -> None:
        subs = sorted({s for s in subscriptions if s})
        if subs:
            self.con.execute(f"INSERT OR IGNORE INTO {ALIAS}.pending SELECT unnest(?)",
                             [subs]).fetchall()

    # -- objects -------------------------------------------------------------------------------
    def commit(self, kind: str, records: list[dict[str, Any]], generation: int,
               state: Mapping[str, str | None], pending: Iterable[str] = ()) -> None:
        """Upsert one page of objects and advance the cursor, all in one transaction."""
        records = [self.with_known_payload(kind, r) for r in records]
        self.con.execute("BEGIN TRANSACTION").fetchall()
        try:
            self._upsert(kind, records, generation)
            self._write_state(state)
            self._write_pending(pending)
        except BaseException:
            self.con.execute("ROLLBACK").fetchall()
            raise
        self.con.execute("COMMIT").fetchall()

    def with_known_payload(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """A deleted stub keeps what was known before (a coupon's duration, a country)."""
        if not record.get("deleted") or len(record) > 3:
            return record
        old = self.payload(kind, str(record["id"]))
        return {**old, **record} if old else record

    def payload(self, kind: str, object_id: str) -> dict[str, Any] | None:
        row = self.con.execute(f"SELECT payload FROM {ALIAS}.objects WHERE kind = ? AND id = ?",
                               [kind, object_id]).fetchone()
        return loads(row[0]) if row else None

    def _upsert(self, kind: str, records: list[dict[str, Any]], generation: int) -> None:
        if not records:
            return
        import pyarrow as pa

        table = pa.table({
            "kind": [kind] * len(records),
            "id": [str(r["id"]) for r in records],
            "created": [r.get("created") for r in records],
            "deleted": [bool(r.get("deleted")) for r in records],
            "generation": [generation] * len(records),
            "payload": [dumps(_without_lines(r) if kind == "invoice" else r) for r in records],
        })  # fmt: skip
        self._insert("objects", table, key="id", kind=kind)
        if kind == "invoice":
            self._upsert_facts(records)
        elif kind == "customer":
            self._upsert_customers(records)
        if kind in ("invoice", "subscription", "customer"):
            self._upsert_discounts(records)

    def _insert(self, name: str, table: Any, *, key: str | None = None,
                kind: str | None = None) -> None:
        """Insert rows; with ``key``, rows with the same key are replaced (an upsert).

        Delete-then-insert is several times faster in DuckDB than a primary key's
        INSERT OR REPLACE on tables of large JSON texts.
        """
        self.con.register("_page", table)
        try:
            if key is not None:
                where = "kind = ? AND " if kind is not None else ""
                self.con.execute(f"DELETE FROM {ALIAS}.{name} WHERE {where}{key} IN "
                                 f"(SELECT {key} FROM _page)",
                                 [kind] if kind is not None else []).fetchall()
            self.con.execute(f"INSERT INTO {ALIAS}.{name} BY NAME SELECT * FROM _page").fetchall()
        finally:
            self.con.unregister("_page")

    def _upsert_facts(self, invoices: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        ids = [str(i["id"]) for i in invoices]
        self.con.execute(f"DELETE FROM {ALIAS}.line_facts WHERE invoice IN (SELECT unnest(?))",
                         [ids]).fetchall()
        rows = [(inv["id"], fact, line) for inv in invoices if not inv.get("deleted")
                for fact, line in _lines_with_facts(inv)]  # fmt: skip
        if not rows:
            return
        self._insert("line_facts", pa.table({
            "invoice": [i for i, _, _ in rows],
            "subscription": [f["subscription"] if f else None for _, f, _ in rows],
            "line_id": [str(ln["id"]) for _, _, ln in rows],
            "fact": [dumps(f) if f else None for _, f, _ in rows],
            "payload": [dumps(ln) for _, _, ln in rows],
        }))  # fmt: skip

    def _upsert_customers(self, customers: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        self._insert("customer_rows", pa.table({
            "customer_id": [str(c["id"]) for c in customers],
            "name": [stripe_lines.customer_row(c)["name"] for c in customers],
            "attributes": [dumps({a["key"]: a["value"] for a in
                                       stripe_lines.customer_attributes(c)}) for c in customers],
        }), key="customer_id")  # fmt: skip

    def _upsert_discounts(self, records: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        found = stripe_lines.discount_objects(records)
        if found:
            self._insert("discounts", pa.table({
                "id": list(found),
                "payload": [dumps(d) for d in found.values()],
            }), key="id")  # fmt: skip

    def mark_vanished(self, kinds: Iterable[str], generation: int) -> list[tuple[str, str]]:
        """Objects a full re-list no longer returned (deleted in Stripe)."""
        rows = self.con.execute(
            f"SELECT kind, id FROM {ALIAS}.objects WHERE kind IN (SELECT unnest(?)) "
            "AND generation < ? AND NOT deleted", [list(kinds), generation]).fetchall()
        return [(str(k), str(i)) for k, i in rows]

    # -- reading for derivation ----------------------------------------------------------------
    def objects(self, kind: str, ids: list[str] | None = None) -> Iterator[dict[str, Any]]:
        sql = f"SELECT payload FROM {ALIAS}.objects WHERE kind = ?"
        params: list[Any] = [kind]
        if ids is not None:
            sql += " AND id IN (SELECT unnest(?))"
            params.append(ids)
        for (payload,) in self.con.execute(sql, params).fetchall():
            yield loads(payload)

    def discount_payloads(self) -> list[dict[str, Any]]:
        rows = self.con.execute(f"SELECT payload FROM {ALIAS}.discounts").fetchall()
        return [loads(p) for (p,) in rows]

    def facts(self, subscriptions: list[str]) -> dict[str, list[dict[str, Any]]]:
        rows = self.con.execute(
            f"SELECT subscription, fact FROM {ALIAS}.line_facts "
            "WHERE fact IS NOT NULL AND subscription IN (SELECT unnest(?))",
            [subscriptions]).fetchall()
        out: dict[str, list[dict[str, Any]]] = {}
        for sub, fact in rows:
            out.setdefault(str(sub), []).append(loads(fact))
        return out

    def pending(self) -> list[str]:
        return [str(r[0]) for r in
                self.con.execute(f"SELECT subscription FROM {ALIAS}.pending").fetchall()]

    def unpublished(self) -> list[str] | None:
        """Subscriptions whose lines the workspace lacks; None: all of them."""
        subs = [str(r[0]) for r in
                self.con.execute(f"SELECT subscription FROM {ALIAS}.unpublished").fetchall()]
        return None if ALL in subs else subs

    def mark_published(self, subscriptions: list[str] | None) -> None:
        if subscriptions is None:
            self.con.execute(f"DELETE FROM {ALIAS}.unpublished").fetchall()
            return
        self.con.execute(f"DELETE FROM {ALIAS}.unpublished WHERE subscription IN "
                         "(SELECT unnest(?))", [subscriptions]).fetchall()

    def subscription_ids(self) -> list[str]:
        return [str(r[0]) for r in self.con.execute(
            f"SELECT id FROM {ALIAS}.objects WHERE kind = 'subscription' ORDER BY id").fetchall()]

    def replace_derived(self, subscriptions: list[str], rows: list[dict[str, Any]], *,
                        clear_all: bool = False, whole: bool = False,
                        done: Iterable[str] = ()) -> None:
        """Swap the derived lines of these subscriptions and clear them from the pending list."""
        import pyarrow as pa

        names = ["subscription", *column_names(REVENUE_LINES)]
        self.con.execute("BEGIN TRANSACTION").fetchall()
        try:
            if clear_all:
                self.con.execute(f"DELETE FROM {ALIAS}.derived_lines").fetchall()
            self.con.execute(f"DELETE FROM {ALIAS}.derived_lines WHERE subscription IN "
                             "(SELECT unnest(?))", [subscriptions]).fetchall()
            if rows:
                self._insert("derived_lines", pa.Table.from_pylist(rows).select(names))
            self.con.execute(f"DELETE FROM {ALIAS}.pending WHERE subscription IN "
                             "(SELECT unnest(?))", [[*subscriptions, *done]]).fetchall()
            marks = [ALL] if whole else subscriptions
            self.con.execute(f"INSERT OR IGNORE INTO {ALIAS}.unpublished SELECT unnest(?)",
                             [marks]).fetchall()
        except BaseException:
            self.con.execute("ROLLBACK").fetchall()
            raise
        self.con.execute("COMMIT").fetchall()


def _lines_with_facts(
        invoice: dict[str, Any]) -> Iterator[tuple[dict[str, Any] | None, dict[str, Any]]]:
    """Every line of an invoice with its fact (None for lines that are not subscription lines)."""
    facts = {f["id"]: f for f in stripe_lines.line_facts(invoice) if f["subscription"]}
    for line in (invoice.get("lines") or {}).get("data") or []:
        yield facts.get(str(line["id"])), line


def _without_lines(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice as stored: its lines live in ``line_facts``, one row each, not twice."""
    lines = invoice.get("lines")
    if not isinstance(lines, dict):
        return invoice
    return {**invoice, "lines": {**lines, "data": [], "stored_in": "line_facts"}}
