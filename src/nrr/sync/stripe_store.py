"""The synced Stripe objects, kept as they came, in their own file beside the workspace database.

``stripe.duckdb`` is attached to the workspace connection as ``stripe_raw``: the raw objects do
not bloat the workspace file (or the snapshot readers copy), while revenue lines derived from them
are read across in one statement. Every write here is one transaction in this one file, so a
page of objects and the cursor that points past it always land together.

Writing is split in two so that a sync can overlap them: ``stripe_rows.prepare`` turns records
into Arrow tables (Python, no database), :meth:`RawStore.write` stores them with the cursor in
one transaction (DuckDB, which releases the GIL).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr.schema import REVENUE_LINES, column_names
from nrr.sync import stripe_rows
from nrr.sync.stripe_rows import Rows, is_stub

if TYPE_CHECKING:
    import duckdb

    from nrr.store import Workspace

RAW_FILE = "stripe.duckdb"
ALIAS = "stripe_raw"
ALL = "*"  # the pending-derivation marker meaning "every subscription"
CUSTOMERS_CHANGED = "customers.changed"  # state: customers stored since the last publish
# Bumped when the tables change; an older store is dropped and the next sync lists everything.
VERSION = "3"
CHECKPOINT_EVERY = "256MB"
LAZY_CHECKPOINT_BELOW = 32 * 2**20  # bytes of write-ahead log a detach leaves unmerged
MEMORY_LIMIT = "384MB"  # DuckDB would otherwise cache up to 80 % of the machine's memory
# zstd for the JSON texts: a quarter of the checkpoint time of DuckDB's default (FSST) on a
# year of invoices, and a sixth of the file size.
_JSON = "VARCHAR USING COMPRESSION zstd"

_TABLES = (
    "objects",
    "line_facts",
    "discounts",
    "customer_rows",
    "state",
    "pending",
    "unpublished",
    "retired",
    "derived_lines",
)
_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.objects (
        kind VARCHAR, id VARCHAR, created BIGINT, deleted BOOLEAN, generation INTEGER,
        payload {_JSON})""",
    # Every invoice line as it came (``payload``), in its invoice's order (``position``);
    # ``fact`` for subscription lines only, left uncompressed: each derivation reads the facts
    # of a few hundred subscriptions scattered over the whole table, twice as fast so.
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.line_facts (
        invoice VARCHAR, created BIGINT, position INTEGER, subscription VARCHAR,
        line_id VARCHAR, fact VARCHAR USING COMPRESSION uncompressed, payload {_JSON})""",
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.discounts (id VARCHAR, payload VARCHAR)",
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.customer_rows (
        customer_id VARCHAR, name VARCHAR, attributes VARCHAR)""",
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.state (key VARCHAR PRIMARY KEY, value VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.pending (subscription VARCHAR PRIMARY KEY)",
    # Derived but not yet in the workspace (cleared once the workspace has them).
    f"CREATE TABLE IF NOT EXISTS {ALIAS}.unpublished (subscription VARCHAR PRIMARY KEY)",
    # Lines derived before and since replaced: the workspace drops them at the next publish.
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.retired (
        line_id VARCHAR, source_ref VARCHAR, customer_id VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS {ALIAS}.derived_lines (subscription VARCHAR, {
        ", ".join(f"{c} {t}" for c, t in REVENUE_LINES)
    })""",
)


def loads(text: str | bytes) -> Any:
    import orjson

    return orjson.loads(text)


class RawStore:
    """Upserts by object id, the sync cursors, and what still needs deriving."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
        self.con = con
        self.path = path  # the attached file
        self._derived: dict[str, None] | None = {}  # subscriptions derived by this process
        self._derived_tables: list[Any] = []
        self.handover: Any = None  # a stripe_handover.Handover remembering this run's writes

    @classmethod
    def attach(cls, workspace: Workspace) -> RawStore:
        path = str(workspace.path / RAW_FILE).replace("'", "''")
        attached = {
            r[0]
            for r in workspace.con.execute(
                "SELECT database_name FROM duckdb_databases()"
            ).fetchall()
        }
        if ALIAS not in attached:
            workspace.con.execute(f"ATTACH '{path}' AS {ALIAS}").fetchall()
        _upgrade(workspace.con)
        store = cls(workspace.con, workspace.path / RAW_FILE)
        store.checkpoint_as_usual()
        workspace.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'").fetchall()
        return store

    def published_everything(self) -> bool:
        """Whether the workspace has every derived line (no hand-over was interrupted)."""
        rows = self.con.execute(
            f"SELECT (SELECT count(*) FROM {ALIAS}.unpublished) "
            f"+ (SELECT count(*) FROM {ALIAS}.retired)"
        ).fetchall()
        return not rows[0][0]

    def checkpoint_as_usual(self) -> None:
        """Checkpoint once CHECKPOINT_EVERY of log has piled up while this store is attached.

        Checkpointing every 16 MB of WAL (the default) triples the cost of storing pages.
        """
        self.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_EVERY}'").fetchall()

    def detach(self) -> None:
        """Detach the file; a small write-ahead log is left for the next attach to replay.

        Checkpointing a few changed objects into a file holding a year of invoices costs more
        than the change (DuckDB rewrites whole row groups); replaying a log of a few megabytes
        costs a hundredth of a second. So an incremental sync leaves its log and one that finds
        it past LAZY_CHECKPOINT_BELOW checkpoints: the log is durable either way.
        """
        self.con.execute("RESET checkpoint_threshold").fetchall()
        self.con.execute("RESET memory_limit").fetchall()
        lazy = self._wal_size() < LAZY_CHECKPOINT_BELOW and self._set_checkpoint_on_detach(False)
        try:
            self.con.execute(f"DETACH {ALIAS}").fetchall()
        finally:
            if lazy:
                self.con.execute("RESET checkpoint_on_detach").fetchall()

    def _wal_size(self) -> int:
        if self.path is None:
            return 2**62
        wal = self.path.with_name(self.path.name + ".wal")
        return wal.stat().st_size if wal.exists() else 0

    def _set_checkpoint_on_detach(self, enabled: bool) -> bool:
        import duckdb

        try:
            value = "ENABLED" if enabled else "DISABLED"
            self.con.execute(f"SET checkpoint_on_detach = '{value}'").fetchall()
        except duckdb.Error:  # a DuckDB without the setting: detach checkpoints as before
            return False
        return True

    # -- state ---------------------------------------------------------------------------------
    def state(self) -> dict[str, str]:
        rows = self.con.execute(f"SELECT key, value FROM {ALIAS}.state").fetchall()
        return {str(k): str(v) for k, v in rows if k != "store.version"}

    def set_state(self, values: Mapping[str, str | None], *, pending: Iterable[str] = ()) -> None:
        self.write([], values, pending)

    def _write_state(self, values: Mapping[str, str | None]) -> None:
        gone = [k for k, v in values.items() if v is None]
        kept = [(k, v) for k, v in values.items() if v is not None]
        if gone:
            self.con.execute(
                f"DELETE FROM {ALIAS}.state WHERE key IN (SELECT unnest(?))", [gone]
            ).fetchall()
        if kept:
            self.con.execute(
                f"INSERT OR REPLACE INTO {ALIAS}.state SELECT unnest(?), unnest(?)",
                [[k for k, _ in kept], [v for _, v in kept]],
            ).fetchall()

    # -- objects -------------------------------------------------------------------------------
    def commit(
        self,
        kind: str,
        records: list[dict[str, Any]],
        generation: int,
        state: Mapping[str, str | None],
        pending: Iterable[str] = (),
    ) -> None:
        """Upsert one page of objects and advance the cursor, all in one transaction."""
        records = [self.with_known_payload(kind, r) for r in records]
        self.write(self.prepare(kind, records, generation), state, pending)

    def write(
        self, rows: list[Rows], state: Mapping[str, str | None], pending: Iterable[str] = ()
    ) -> None:
        """Store prepared rows, the state and the pending marks in one transaction.

        The whole transaction is one ``execute`` of several statements over registered Arrow
        tables: DuckDB runs it without taking Python's lock back between statements, so a
        sync's writer thread is not kept waiting by the threads fetching the next pages.
        """
        if any(part.table == "customer_rows" for part in rows):
            state = {**state, CUSTOMERS_CHANGED: "1"}
        tables: dict[str, Any] = {}
        statements = [s for n, part in enumerate(rows) for s in _upsert(part, n, tables)]
        statements += _state_statements(state, list(pending), tables)
        self._transaction(statements, tables)
        if self.handover is not None:
            self.handover.record(rows)

    def _transaction(self, statements: list[str], tables: dict[str, Any]) -> None:
        """Run the statements in one transaction over the registered Arrow ``tables``."""
        for name, table in tables.items():
            self.con.register(name, table)
        try:
            self.con.execute(";\n".join(["BEGIN TRANSACTION", *statements, "COMMIT"])).fetchall()
        except BaseException:
            self._rollback()
            raise
        finally:
            for name in tables:
                self.con.unregister(name)

    def _rollback(self) -> None:
        import duckdb

        # The failure may have come before the transaction began or after it ended.
        with contextlib.suppress(duckdb.TransactionException):
            self.con.execute("ROLLBACK").fetchall()

    def with_known_payload(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """A deleted stub keeps what was known before (a coupon's duration, a country)."""
        if not is_stub(record):
            return record
        old = self.payload(kind, str(record["id"]))
        return {**old, **record} if old else record

    def payload(self, kind: str, object_id: str) -> dict[str, Any] | None:
        rows = self.con.execute(
            f"SELECT payload FROM {ALIAS}.objects WHERE kind = ? AND id = ?", [kind, object_id]
        ).fetchall()
        return loads(rows[0][0]) if rows else None

    prepare = staticmethod(stripe_rows.prepare)

    def mark_vanished(self, kinds: Iterable[str], generation: int) -> list[tuple[str, str]]:
        """Objects a full re-list no longer returned (deleted in Stripe)."""
        rows = self.con.execute(
            f"SELECT kind, id FROM {ALIAS}.objects WHERE kind IN (SELECT unnest(?)) "
            "AND generation < ? AND NOT deleted",
            [list(kinds), generation],
        ).fetchall()
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

    @contextlib.contextmanager
    def reading(self) -> Iterator[RawStore]:
        """The store on a connection of its own, for reads while this one is busy."""
        cursor = self.con.cursor()
        try:
            yield RawStore(cursor, self.path)
        finally:
            cursor.close()

    def read_objects(self, kind: str, ids: list[str]) -> list[dict[str, Any]]:
        """``objects`` read on a connection of its own (safe on another thread)."""
        if not ids:
            return []
        with self.reading() as reader:
            # The row ids first, then the payloads by row id (one snapshot): a payload read
            # beside the filter on ``id`` would be decompressed for every object of the kind.
            reader.con.execute("BEGIN TRANSACTION").fetchall()
            try:
                rows = reader.con.execute(
                    f"SELECT rowid FROM {ALIAS}.objects WHERE kind = ? "
                    "AND id IN (SELECT unnest(?))",
                    [kind, ids],
                ).fetchall()
                payloads = reader.con.execute(
                    f"SELECT payload FROM {ALIAS}.objects WHERE rowid = ANY(?)",
                    [[r[0] for r in rows]],
                ).fetchall()
            finally:
                reader.con.execute("COMMIT").fetchall()
            return [loads(p) for (p,) in payloads]

    def discounts(self) -> Mapping[str, dict[str, Any]]:
        """Every discount object seen expanded, by id (each parsed when first read)."""
        rows = self.con.execute(f"SELECT id, payload FROM {ALIAS}.discounts").fetchall()
        return _Parsed({str(i): p for i, p in rows})

    def derivation_inputs(
        self,
        subscriptions: list[str] | None,
        *,
        batch: int = 2_000,
        known: Mapping[str, dict[str, Any]] | None = None,
    ) -> Iterator[list[tuple[dict[str, Any], list[Any]]]]:
        """(subscription, its line facts) in batches; every subscription when None is given.

        The facts come oldest invoice first, each invoice's in its order. DuckDB joins each
        subscription's facts into one JSON array (one parse per subscription, not per line),
        and the rows stream through a cursor of their own, so writes may go on meanwhile.
        ``known`` holds subscriptions as this process just stored them: they are not read back.
        """
        if subscriptions is not None and known and any(s in known for s in subscriptions):
            unknown = [s for s in subscriptions if s not in known]
            with ThreadPoolExecutor(1) as pool:  # both reads at once, on two connections
                others = pool.submit(self.read_objects, "subscription", unknown)
                facts = self._facts(subscriptions)
                subs = [known[s] for s in subscriptions if s in known] + others.result()
            yield [(sub, facts.get(str(sub["id"]), [])) for sub in subs]
            return
        only = "" if subscriptions is None else "AND {} IN (SELECT unnest($ids))"
        sql = f"""
            SELECT o.payload, f.facts FROM {ALIAS}.objects o
            LEFT JOIN ({_FACTS.format(only=only.format("subscription"))}) f
              ON f.subscription = o.id
            WHERE o.kind = 'subscription' {only.format("o.id")}"""
        cursor = self.con.cursor()
        try:
            cursor.execute(sql, {} if subscriptions is None else {"ids": subscriptions})
            while rows := cursor.fetchmany(batch):
                yield [(loads(sub), loads(facts) if facts else []) for sub, facts in rows]
        finally:
            cursor.close()

    def _facts(self, subscriptions: list[str]) -> dict[str, list[Any]]:
        sql = _FACTS.format(only="AND subscription IN (SELECT unnest($ids))")
        rows = self.con.execute(sql, {"ids": subscriptions}).fetchall()
        return {str(sub): loads(facts) for sub, facts in rows}

    def pending(self) -> list[str]:
        return [
            str(r[0])
            for r in self.con.execute(f"SELECT subscription FROM {ALIAS}.pending").fetchall()
        ]

    def unpublished(self) -> list[str] | None:
        """Subscriptions whose lines the workspace lacks; None: all of them."""
        subs = [
            str(r[0])
            for r in self.con.execute(f"SELECT subscription FROM {ALIAS}.unpublished").fetchall()
        ]
        return None if ALL in subs else subs

    def mark_published(self, subscriptions: list[str] | None) -> None:
        """The workspace has the lines of these subscriptions (None: of all of them)."""
        self.con.execute("BEGIN TRANSACTION").fetchall()
        try:
            if subscriptions is None:
                self.con.execute(f"DELETE FROM {ALIAS}.unpublished").fetchall()
            else:
                self.con.execute(
                    f"DELETE FROM {ALIAS}.unpublished WHERE subscription IN (SELECT unnest(?))",
                    [subscriptions],
                ).fetchall()
            self.con.execute(f"DELETE FROM {ALIAS}.retired").fetchall()
            self._write_state({CUSTOMERS_CHANGED: None})
        except BaseException:
            self.con.execute("ROLLBACK").fetchall()
            raise
        self.con.execute("COMMIT").fetchall()

    def customers_changed(self, subscriptions: list[str]) -> bool:
        """Whether the workspace's customers may differ from what it got at the last publish.

        They change with the customer objects stored since, or with a customer known only from
        the lines of these subscriptions (one deleted before the first sync) coming or going.
        """
        if CUSTOMERS_CHANGED in self.state():
            return True
        fresh = self.derived_here(subscriptions)  # the lines in memory spare reading them
        if fresh is not None:
            self.con.register("_fresh_lines", fresh.select(["customer_id"]))
        lines = (
            "SELECT customer_id FROM _fresh_lines"
            if fresh is not None
            else f"SELECT customer_id FROM {ALIAS}.derived_lines "
            "WHERE subscription IN (SELECT unnest($subs::VARCHAR[]))"
        )
        try:
            row = self.con.execute(
                f"""
                SELECT count(*) FROM ({lines} UNION ALL SELECT customer_id FROM {ALIAS}.retired)
                WHERE customer_id NOT IN (SELECT customer_id FROM {ALIAS}.customer_rows)""",
                {} if fresh is not None else {"subs": subscriptions},
            ).fetchall()
        finally:
            if fresh is not None:
                self.con.unregister("_fresh_lines")
        return bool(row[0][0])

    def replace_derived(
        self,
        subscriptions: list[str],
        rows: list[dict[str, Any]],
        *,
        clear_all: bool = False,
        whole: bool = False,
        done: Iterable[str] = (),
    ) -> None:
        """Swap the derived lines of these subscriptions and clear them from the pending list.

        Unless everything is derived again (``whole``), the lines swapped out are kept in
        ``retired`` until the workspace has the new ones: publishing deletes exactly those.
        """
        import pyarrow as pa

        def column(values: list[str]) -> Any:
            return pa.table({"subscription": pa.array(values, pa.string())})

        derived = _columns(rows, ["subscription", *column_names(REVENUE_LINES)])
        tables = {
            "_subs": column(subscriptions),
            "_done": column([*subscriptions, *done]),
            "_marks": column([ALL] if whole else subscriptions),
            "_derived": derived,
        }
        statements = []
        if clear_all:
            statements.append(f"DELETE FROM {ALIAS}.derived_lines")
        elif subscriptions:
            if not whole:
                statements.append(
                    f"INSERT INTO {ALIAS}.retired SELECT line_id, source_ref, "
                    f"customer_id FROM {ALIAS}.derived_lines WHERE subscription "
                    "IN (SELECT subscription FROM _subs)"
                )
            statements.append(
                f"DELETE FROM {ALIAS}.derived_lines WHERE subscription IN "
                "(SELECT subscription FROM _subs)"
            )
        statements += [
            f"INSERT INTO {ALIAS}.derived_lines BY NAME SELECT * FROM _derived",
            f"DELETE FROM {ALIAS}.pending WHERE subscription IN (SELECT subscription FROM _done)",
            f"INSERT OR IGNORE INTO {ALIAS}.unpublished SELECT subscription FROM _marks",
        ]
        self._transaction(statements, tables)
        self._remember(subscriptions, derived, whole=whole)

    def _remember(self, subscriptions: list[str], derived: Any, *, whole: bool) -> None:
        """Keep the lines derived by this process for ``derived_here``."""
        if whole or self._derived is None or any(s in self._derived for s in subscriptions):
            self._derived = None  # derived twice, or everything: publishing reads the table
            return
        self._derived.update(dict.fromkeys(subscriptions))
        self._derived_tables.append(derived)

    def derived_here(self, subscriptions: list[str]) -> Any | None:
        """The derived lines of exactly these subscriptions, when this process derived them
        all (an Arrow table: publishing need not read them back); otherwise None."""
        import pyarrow as pa

        if self._derived is None or set(self._derived) != set(subscriptions):
            return None
        if not self._derived_tables:
            return None
        return pa.concat_tables(self._derived_tables)


class _Parsed(Mapping[str, Any]):
    """JSON texts by key, each parsed the first time it is read: a derivation of a few
    subscriptions needs a few of the account's thousands of discounts."""

    def __init__(self, texts: dict[str, str]) -> None:
        self._texts = texts
        self._parsed: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._parsed:
            self._parsed[key] = loads(self._texts[key])
        return self._parsed[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


# Each subscription's line facts as one JSON array, oldest invoice first.
_FACTS = f"""
    SELECT subscription, '[' || string_agg(fact, ',' ORDER BY created, invoice, position) || ']'
        AS facts
    FROM {ALIAS}.line_facts WHERE fact IS NOT NULL {{only}} GROUP BY subscription"""


def _upsert(rows: Rows, n: int, tables: dict[str, Any]) -> list[str]:
    """Statements inserting ``rows``; with a ``key``, rows with the same key are replaced.

    Delete-then-insert is several times faster in DuckDB than a primary key's
    INSERT OR REPLACE on tables of large JSON texts.
    """
    import pyarrow as pa

    table, out = f"{ALIAS}.{rows.table}", []
    # Rows being replaced were created no earlier than the objects replacing them: DuckDB skips
    # the older row groups by their statistics (for new objects: the whole table).
    since = "" if rows.since is None else f"(created >= {int(rows.since)} OR created IS NULL) AND "
    if rows.replaces is not None:
        column, values = rows.replaces
        tables[f"_gone{n}"] = pa.table({"value": pa.array(values, pa.string())})
        out.append(f"DELETE FROM {table} WHERE {since}{column} IN (SELECT value FROM _gone{n})")
    if not rows.data.num_rows:
        return out
    tables[f"_rows{n}"] = rows.data
    if rows.key is not None:
        kind = "" if rows.kind is None else f"kind = {_literal(rows.kind)} AND "
        out.append(
            f"DELETE FROM {table} WHERE {kind}{since}{rows.key} IN "
            f"(SELECT {rows.key} FROM _rows{n})"
        )
    out.append(f"INSERT INTO {table} BY NAME SELECT * FROM _rows{n}")
    return out


def _state_statements(
    state: Mapping[str, str | None], pending: list[str], tables: dict[str, Any]
) -> list[str]:
    import pyarrow as pa

    out = []
    gone = [k for k, v in state.items() if v is None]
    kept = {k: v for k, v in state.items() if v is not None}
    if gone:
        tables["_state_gone"] = pa.table({"key": pa.array(gone, pa.string())})
        out.append(f"DELETE FROM {ALIAS}.state WHERE key IN (SELECT key FROM _state_gone)")
    if kept:
        tables["_state"] = pa.table(
            {
                "key": pa.array(list(kept), pa.string()),
                "value": pa.array(list(kept.values()), pa.string()),
            }
        )
        out.append(f"INSERT OR REPLACE INTO {ALIAS}.state SELECT key, value FROM _state")
    subs = sorted({s for s in pending if s})
    if subs:
        tables["_pending"] = pa.table({"subscription": pa.array(subs, pa.string())})
        out.append(f"INSERT OR IGNORE INTO {ALIAS}.pending SELECT subscription FROM _pending")
    return out


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_ARROW_TYPES = {"VARCHAR": "string", "DATE": "date32", "BIGINT": "int64"}


def _columns(rows: list[dict[str, Any]], names: list[str]) -> Any:
    """An Arrow table of these columns of the rows (typed: columns of only NULLs are common)."""
    import pyarrow as pa

    types = {"subscription": "VARCHAR", **dict(REVENUE_LINES)}
    return pa.table(
        {
            name: pa.array([r[name] for r in rows], getattr(pa, _ARROW_TYPES[types[name]])())
            for name in names
        }
    )


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables; a store written by an older nrr is dropped first (it is a cache)."""
    import duckdb

    try:
        rows = con.execute(
            f"SELECT value FROM {ALIAS}.state WHERE key = 'store.version'"
        ).fetchall()
    except duckdb.CatalogException:  # a new file (or one without state: nothing to keep)
        rows = None
    version = rows[0][0] if rows else None
    if version == VERSION:
        return
    if rows is not None:
        for table in _TABLES:
            con.execute(f"DROP TABLE IF EXISTS {ALIAS}.{table}").fetchall()
    for statement in _DDL:
        con.execute(statement).fetchall()
    con.execute(
        f"INSERT OR REPLACE INTO {ALIAS}.state VALUES ('store.version', ?)", [VERSION]
    ).fetchall()
