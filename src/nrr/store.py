"""The workspace: one folder holding one DuckDB file. The store owns the database and transactions.

Everything that writes goes through ``Workspace`` methods that run in one transaction, so an
import or a sync either lands whole or not at all. Readers that must not wait for a writer (the
dashboard) read the latest published snapshot (see ``publish_snapshot``), a separate file the
writer replaces atomically after each successful write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, REVENUE_LINES, Settings, column_names, ddl

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

DB_FILE = "nrr.duckdb"
SNAPSHOT_FILE = "snapshot.duckdb"

_META_DDL = (
    ddl("revenue_lines", REVENUE_LINES),
    ddl("customers", CUSTOMERS),
    ddl("customer_attributes", CUSTOMER_ATTRIBUTES),
    """CREATE TABLE IF NOT EXISTS imports (
        import_id INTEGER, source VARCHAR, kind VARCHAR, file_name VARCHAR, content_hash VARCHAR,
        row_count BIGINT, line_count BIGINT, imported_at TIMESTAMP)""",
    # The rows exactly as the source gave them, keyed by the same ref the revenue lines carry.
    # zstd: these texts are most of the file; it halves writing them and shrinks the snapshot.
    """CREATE TABLE IF NOT EXISTS raw_records (
        source VARCHAR, source_ref VARCHAR, import_id INTEGER,
        payload JSON USING COMPRESSION zstd)""",
    "CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY, body VARCHAR)",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    # The customers each write changed, under the data version it made: what a reader holding
    # results of an older version recomputes (``Results.update``). customer_id NULL: the write
    # could not tell, so every customer counts as changed. Versions from ``changes_since`` on are
    # recorded (no row: nothing changed); older ones are pruned.
    "CREATE TABLE IF NOT EXISTS changes (data_version BIGINT, customer_id VARCHAR)",
)
CHANGES_KEPT = 64  # data versions whose changed customers stay recorded
_NOTED = "_nrr_noted_changes"  # the current write's changed customers (a temporary table)
SNAPSHOT_ALIAS = "snapshot"  # the name a following reader attaches the snapshot file under


class WorkspaceError(Exception):
    """A workspace problem a user can act on (missing folder, locked file, ...)."""


class Workspace:
    """A workspace folder. Open it with :func:`open_workspace`; close it (or use ``with``)."""

    def __init__(
        self,
        path: Path,
        con: duckdb.DuckDBPyConnection,
        read_only: bool,
        database: str | None = None,
    ) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only
        self.database = database  # the attached database the tables are in (None: the main one)
        self._noted = False  # whether the write under way noted its changed customers

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to the same database (its own temporary tables), reading the same
        tables as ``con``."""
        con = self.con.cursor()
        if self.database is not None:
            con.execute(f"USE {self.database}").fetchall()
        return con

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All statements inside land together or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        self._noted = False
        try:
            yield self.con
        except BaseException:
            self._noted = False
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- settings --------------------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        row = self.con.execute("SELECT body FROM settings WHERE id = 1").fetchall()
        return Settings.from_json(row[0][0]) if row else Settings()

    def save_settings(self, settings: Settings) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO settings VALUES (1, ?)", [settings.to_json()]
        ).fetchall()

    # -- data version ----------------------------------------------------------------------------
    @property
    def data_version(self) -> int:
        """Increases by one with every successful write; caches key on it."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
        return int(row[0][0]) if row else 0

    def bump_version(self) -> None:
        """Mark a successful write; call inside the write's transaction.

        Records the customers the write noted as changed (:meth:`note_changed`) under the new
        version; a write that noted none is recorded as changing every customer.
        """
        con = self.con
        version = self.data_version + 1
        con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [str(version)])
        if self._noted:
            con.execute(
                f"INSERT INTO changes SELECT DISTINCT ?::BIGINT, customer_id FROM {_NOTED}",
                [version],
            ).fetchall()
            con.execute(f"DROP TABLE {_NOTED}").fetchall()
            self._noted = False
        else:
            con.execute("INSERT INTO changes VALUES (?, NULL)", [version]).fetchall()
        oldest = version - CHANGES_KEPT + 1
        if oldest > (self._changes_since() or version):
            con.execute("DELETE FROM changes WHERE data_version < ?", [oldest]).fetchall()
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('changes_since', ?)", [str(oldest)]
            ).fetchall()

    def note_changed(self, select: str, params: Any = None) -> None:
        """Within a write's transaction: customers whose rows it changes, as a SELECT of one
        ``customer_id`` column. Call it before :meth:`bump_version`, as often as needed."""
        if not self._noted:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_NOTED} (customer_id VARCHAR)"
            ).fetchall()
            self._noted = True
        self.con.execute(f"INSERT INTO {_NOTED} {select}", params).fetchall()

    def note_replaced(self, table: str, source: str, rows: str) -> None:
        """Note the customers whose rows of ``table`` (revenue lines, customers or attributes)
        from ``source`` differ from ``rows``, a SELECT of the canonical columns about to replace
        them (:func:`replaced_customers`). Call it before the replacement, in its transaction;
        the same rows again note nobody."""
        self.note_changed(replaced_customers(table, source, rows))

    def _changes_since(self) -> int | None:
        """The first data version whose changes are recorded (None: a store from before)."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'changes_since'").fetchall()
        return int(row[0][0]) if row else None

    @property
    def identity(self) -> str | None:
        """An id given when the store was created: a workspace made again has another one."""
        row = self.con.execute("SELECT value FROM meta WHERE key = 'workspace_id'").fetchall()
        return str(row[0][0]) if row else None

    def changed_since(self, version: int) -> frozenset[str] | None:
        """The customers the writes after data version ``version`` changed (up to this one);
        None when that is not known: not recorded, pruned, or a write that could not tell."""
        now = self.data_version
        if version == now:
            return frozenset()
        since = self._changes_since()
        if version > now or since is None or version + 1 < since:
            return None
        rows = self.con.execute(
            "SELECT DISTINCT customer_id FROM changes WHERE data_version > ? AND data_version <= ?",
            [version, now],
        ).fetchall()
        if any(r[0] is None for r in rows):
            return None
        return frozenset(str(r[0]) for r in rows)

    # -- writing ---------------------------------------------------------------------------------
    def next_import_id(self) -> int:
        row = self.con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()
        return int(row[0][0]) if row else 1

    def replace_source(
        self,
        source: str,
        *,
        lines: pa.Table,
        customers: pa.Table | None = None,
        attributes: pa.Table | None = None,
        raw: pa.Table | None = None,
        import_row: dict[str, Any] | None = None,
    ) -> None:
        """Replace everything ``source`` brought before with these tables, in one transaction.

        Importing the same file twice therefore changes nothing, and a corrected file replaces
        what its earlier import brought. Tables must carry the canonical columns (schema.py).
        """
        with self.transaction() as con:
            self._replace_in(con, source, lines, customers, attributes, raw)
            _record_import(con, import_row)
            self.bump_version()

    def replace_source_from(
        self,
        source: str,
        database: Path,
        *,
        queries: dict[str, str],
        import_row: dict[str, Any] | None = None,
    ) -> None:
        """Like :meth:`replace_source`, reading straight from another DuckDB file.

        ``queries`` maps ``revenue_lines``, ``customers``, ``customer_attributes`` and
        ``raw_records`` to SELECTs over that file (attached as ``staged``) giving the canonical
        columns. Rows stream from file to file, so memory stays bounded however large the import.
        """
        self.con.execute(f"ATTACH '{_sql_path(database)}' AS staged (READ_ONLY)").fetchall()
        try:
            with self.transaction() as con:
                for table, _ in _CUSTOMER_TABLES:
                    nothing = f"SELECT * FROM {table} WHERE false"
                    self.note_replaced(table, source, queries.get(table) or nothing)
                for table in ("revenue_lines", "customers", "customer_attributes", "raw_records"):
                    con.execute(f"DELETE FROM {table} WHERE source = ?", [source]).fetchall()
                    if table in queries:
                        con.execute(f"INSERT INTO {table} {queries[table]}").fetchall()
                _record_import(con, import_row)
                self.bump_version()
        finally:
            self.con.execute("DETACH staged").fetchall()

    def _replace_in(
        self,
        con: duckdb.DuckDBPyConnection,
        source: str,
        lines: pa.Table,
        customers: pa.Table | None,
        attributes: pa.Table | None,
        raw: pa.Table | None,
    ) -> None:
        for (table, columns), data in zip(_CUSTOMER_TABLES, (lines, customers, attributes),
                                          strict=True):  # fmt: skip
            given = data is not None and bool(getattr(data, "num_rows", 1))  # Table or reader
            incoming = f"SELECT * FROM {table} WHERE false"
            if given:
                con.register("_incoming", data)
                incoming = f"SELECT {', '.join(column_names(columns))} FROM _incoming"
                if not hasattr(data, "num_rows"):  # a batch reader is read once: keep its rows
                    con.execute(
                        f"CREATE OR REPLACE TEMP TABLE _incoming_rows AS {incoming}"
                    ).fetchall()
                    incoming = "SELECT * FROM _incoming_rows"
            self.note_replaced(table, source, incoming)
            con.execute(f"DELETE FROM {table} WHERE source = ?", [source]).fetchall()
            if given:
                con.execute(f"INSERT INTO {table} {incoming}").fetchall()
                con.unregister("_incoming")
        con.execute("DROP TABLE IF EXISTS _incoming_rows").fetchall()
        con.execute("DELETE FROM raw_records WHERE source = ?", [source]).fetchall()
        if raw is not None and getattr(raw, "num_rows", 1):
            con.register("_incoming_raw", raw)
            con.execute(
                "INSERT INTO raw_records SELECT source, source_ref, import_id, payload "
                "FROM _incoming_raw"
            ).fetchall()
            con.unregister("_incoming_raw")

    # -- reading ---------------------------------------------------------------------------------
    def table(self, name: str) -> pa.Table:
        if name not in {"revenue_lines", "customers", "customer_attributes", "imports"}:
            raise WorkspaceError(f"unknown table {name!r}")
        return self.con.sql(f"SELECT * FROM {name}").to_arrow_table()

    def has_data(self) -> bool:
        row = self.con.execute("SELECT count(*) FROM revenue_lines").fetchall()
        return bool(row and row[0][0])

    def customer_name(self, customer_id: str) -> str | None:
        rows = self.con.execute(
            "SELECT max(name) FROM customers WHERE customer_id = ?", [customer_id]
        ).fetchall()
        return None if not rows or rows[0][0] is None else str(rows[0][0])

    def customer_lines(self, customer_id: str) -> list[dict[str, Any]]:
        """The revenue lines of one customer, oldest first, as plain rows."""
        query = "SELECT * FROM revenue_lines WHERE customer_id = ? ORDER BY start_date, line_id"
        return self.con.sql(query, params=[customer_id]).to_arrow_table().to_pylist()

    def source_rows(self, refs: list[str]) -> list[tuple[str, str, str]]:
        """(source, source_ref, payload JSON) of the raw rows behind the given refs."""
        if not refs:
            return []
        rows = self.con.execute(
            "SELECT source, source_ref, CAST(payload AS VARCHAR) FROM raw_records "
            "WHERE source_ref IN (SELECT unnest(?)) ORDER BY source_ref",
            [refs],
        ).fetchall()
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    # -- snapshots for readers -------------------------------------------------------------------
    def publish_snapshot(self) -> Path:
        """Copy the database to the snapshot file readers use, replacing the old one atomically.

        After a checkpoint the database file alone holds every committed row, and this process
        is its only writer, so a copy of the file is a consistent snapshot. The kernel copies it
        (``copyfile``), about fifty times faster than DuckDB writing every table again with
        ``COPY FROM DATABASE``, which made publishing the main cost of a small incremental sync.
        """
        target = self.path / SNAPSHOT_FILE
        tmp = self.path / f".{SNAPSHOT_FILE}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        self.con.execute("CHECKPOINT").fetchall()
        try:
            shutil.copyfile(self._db_file(), tmp)
            _fsync(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def _db_file(self) -> Path:
        row = self.con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        if not row or not row[0][0]:
            raise WorkspaceError("an in-memory workspace has no file to publish")
        return Path(str(row[0][0]))


_CUSTOMER_TABLES = (
    ("revenue_lines", REVENUE_LINES),
    ("customers", CUSTOMERS),
    ("customer_attributes", CUSTOMER_ATTRIBUTES),
)


def replaced_customers(table: str, source: str, rows: str) -> str:
    """A SELECT of the customers whose rows of ``table`` from ``source`` differ from ``rows`` (a
    SELECT of its canonical columns): the symmetric difference of the two, duplicates counted.
    Each distinct row's count on one side minus the other: one hash aggregate, several times
    cheaper than ``EXCEPT ALL`` (which numbers the rows)."""
    columns = dict(_CUSTOMER_TABLES)[table]
    names = ", ".join(column_names(columns))
    cast = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns)
    literal = source.replace("'", "''")
    return f"""SELECT DISTINCT customer_id FROM (
        SELECT {names}, sum(side) AS net FROM (
            SELECT {names}, 1 AS side FROM {table} WHERE source = '{literal}'
            UNION ALL SELECT {cast}, -1 AS side FROM ({rows}) AS incoming)
        GROUP BY ALL HAVING sum(side) <> 0) AS difference"""


def _fsync(path: Path) -> None:
    """Make the copy durable before it replaces the old snapshot (as DuckDB does its own files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record_import(con: duckdb.DuckDBPyConnection, row: dict[str, Any] | None) -> None:
    """The import's row in ``imports`` (within the caller's transaction), when there is one."""
    if row is not None:
        cols, marks = ", ".join(row), ", ".join("?" for _ in row)
        con.execute(f"INSERT INTO imports ({cols}) VALUES ({marks})", list(row.values())).fetchall()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def open_workspace(
    path: str | os.PathLike[str],
    *,
    create: bool = True,
    read_only: bool = False,
    settings: Settings | None = None,
) -> Workspace:
    """Open (or create) the workspace folder ``path``."""
    import duckdb

    folder = Path(path)
    db = folder / DB_FILE
    if not db.exists():
        if not create or read_only:
            raise WorkspaceError(
                f"no workspace at {folder}: run `nrr import FILE --workspace {folder}` "
                "or `nrr demo` to create one"
            )
        folder.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db), read_only=read_only)
    except duckdb.IOException as exc:
        raise WorkspaceError(
            f"the workspace {folder} is in use by another nrr process that is writing to it; "
            "wait for it to finish (readers use the published snapshot)"
        ) from exc
    # DuckDB draws its progress bar on stdout, which would corrupt --json output.
    con.execute("SET enable_progress_bar = false").fetchall()
    ws = Workspace(folder, con, read_only)
    if not read_only:
        for statement in _META_DDL:
            con.execute(statement).fetchall()
        _start_change_log(ws)
        if settings is not None:
            ws.save_settings(settings)
    return ws


def _start_change_log(ws: Workspace) -> None:
    """A store made before changes were recorded records them from its next write on; every
    store gets an identity once."""
    rows = ws.con.execute(
        "SELECT key FROM meta WHERE key IN ('changes_since', 'workspace_id')"
    ).fetchall()
    keys = {r[0] for r in rows}
    if len(keys) == 2:
        return
    import uuid

    with ws.transaction() as con:
        if "changes_since" not in keys:
            con.execute(
                "INSERT INTO meta VALUES ('changes_since', ?)", [str(ws.data_version + 1)]
            ).fetchall()
        if "workspace_id" not in keys:
            identity = uuid.uuid4().hex
            con.execute("INSERT INTO meta VALUES ('workspace_id', ?)", [identity]).fetchall()


def attach_snapshot(path: str | os.PathLike[str], reader: Workspace | None = None) -> Workspace:
    """The published snapshot, read-only, for a reader that follows it as it is replaced.

    The file is attached (read-only) to an in-memory DuckDB connection, as ``snapshot``, which
    is made the default database. Given ``reader`` (what an earlier call returned), the current
    file is attached to that connection instead, in place of the one before: tables computed on
    its connections (the temporary stage tables of results) stay, so results computed on the
    old snapshot can be brought forward (``Results.update``) rather than computed again. The
    file was replaced by rename, so attaching the path again opens the new one.
    """
    import duckdb

    folder = Path(path)
    snapshot = folder / SNAPSHOT_FILE
    if not snapshot.exists():
        raise WorkspaceError(
            f"no published data in {folder}: run `nrr import FILE` or `nrr sync stripe` first"
        )
    if reader is None:
        # Spill where a connection to the snapshot file would (an in-memory one uses the cwd).
        con = duckdb.connect(config={"temp_directory": f"{snapshot}.tmp"})
        con.execute("SET enable_progress_bar = false").fetchall()
    else:
        con = reader.con
        con.execute("USE memory").fetchall()  # a connection cannot detach its default database
        con.execute(f"DETACH DATABASE IF EXISTS {SNAPSHOT_ALIAS}").fetchall()
    con.execute(f"ATTACH '{_sql_path(snapshot)}' AS {SNAPSHOT_ALIAS} (READ_ONLY)").fetchall()
    con.execute(f"USE {SNAPSHOT_ALIAS}").fetchall()
    return Workspace(folder, con, read_only=True, database=SNAPSHOT_ALIAS)


def remove_workspace(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)
