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
)


class WorkspaceError(Exception):
    """A workspace problem a user can act on (missing folder, locked file, ...)."""


class Workspace:
    """A workspace folder. Open it with :func:`open_workspace`; close it (or use ``with``)."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All statements inside land together or not at all."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
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
        """Mark a successful write; call inside the write's transaction."""
        self.con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [str(self.data_version + 1)]
        ).fetchall()

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
        for table, data, columns in (
            ("revenue_lines", lines, REVENUE_LINES),
            ("customers", customers, CUSTOMERS),
            ("customer_attributes", attributes, CUSTOMER_ATTRIBUTES),
        ):
            con.execute(f"DELETE FROM {table} WHERE source = ?", [source]).fetchall()
            if data is not None and getattr(data, "num_rows", 1):  # a Table or a batch reader
                names = ", ".join(column_names(columns))
                con.register("_incoming", data)
                con.execute(f"INSERT INTO {table} SELECT {names} FROM _incoming").fetchall()
                con.unregister("_incoming")
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
        if settings is not None:
            ws.save_settings(settings)
    return ws


def remove_workspace(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)
