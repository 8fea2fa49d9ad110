"""The Python API: open a workspace, compute, read tables. The CLI and the web call only this."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr.engines.duckdb import DuckDBExecutor, memory_connection
from nrr.engines.results import Results
from nrr.fx import rate_rows, rates_table
from nrr.schema import Settings
from nrr.store import Workspace, open_workspace

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "Results",
    "Settings",
    "Workspace",
    "compute",
    "compute_frames",
    "compute_on_spark",
    "follow_snapshot",
    "open_snapshot",
    "open_workspace",
    "revenue_lines",
]

_DEFAULTS = {"source": "python", "kind": "recurring", "currency": "EUR"}


def revenue_lines(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Canonical revenue lines from plain dicts; missing columns are NULL (or a default)."""
    import pyarrow as pa

    from nrr.schema import REVENUE_LINES

    types = {"DATE": pa.date32(), "BIGINT": pa.int64(), "VARCHAR": pa.string()}
    filled = []
    for n, row in enumerate(rows):
        full = {**_DEFAULTS, "line_id": f"line{n + 1}", **row}
        full.setdefault("source_ref", full["line_id"])
        filled.append(full)
    return pa.table(
        {name: pa.array([r.get(name) for r in filled], types[typ]) for name, typ in REVENUE_LINES}
    )


def _rates_for(settings: Settings, given: pa.Table | None = None):  # type: ignore[no-untyped-def]
    # The as-of day is the results' own (an update moves it): the current period's rate is read
    # on that day.
    def rates_for(currencies: list[str], periods: list[int], as_of: date) -> pa.Table:
        if given is not None:
            return given
        return rates_table(rate_rows(currencies, periods, settings, as_of))

    return rates_for


def open_snapshot(path: str | Path) -> Workspace:
    """The workspace's published snapshot, read-only: what readers use while a writer works."""
    import duckdb

    from nrr.store import SNAPSHOT_FILE, WorkspaceError

    snapshot = Path(path) / SNAPSHOT_FILE
    if not snapshot.exists():
        raise WorkspaceError(
            f"no published data in {path}: run `nrr import FILE` or `nrr sync stripe` first"
        )
    return Workspace(Path(path), duckdb.connect(str(snapshot), read_only=True), read_only=True)


def follow_snapshot(path: str | Path, reader: Workspace | None = None) -> Workspace:
    """The published snapshot for a reader that follows it as writers replace it (the
    dashboard): given the ``reader`` this returned before, the current snapshot is attached in
    its place on the same connection, so results computed there can be brought forward with
    ``Results.update`` instead of computed again (see ``nrr.store.attach_snapshot``)."""
    from nrr.store import attach_snapshot

    return attach_snapshot(path, reader)


def compute_frames(
    lines: pa.Table,
    *,
    as_of: date,
    settings: Settings | None = None,
    attributes: pa.Table | None = None,
    rates: pa.Table | None = None,
) -> Results:
    """Compute everything from in-memory canonical tables (no workspace needed)."""
    settings = settings or Settings()
    con = memory_connection(lines, attributes, rates)
    return Results(DuckDBExecutor(con), settings, as_of, _rates_for(settings, rates))


def compute_on_spark(
    workspace: Workspace | None,
    *,
    as_of: date,
    settings: Settings | None = None,
    parquet: str | None = None,
    master: str | None = None,
    staging: str | Path | None = None,
    work_dir: str | None = None,
    conf: Mapping[str, str] | None = None,
) -> Results:
    """The same definitions run by Apache Spark, over Parquet (the layout ``nrr export --parquet``
    writes, or a data lake path). Without ``parquet`` the workspace is exported to ``staging``.
    ``work_dir`` holds the stage results (required on a cluster); ``conf`` adds Spark settings
    (``spark.sql.shuffle.partitions`` and the like) to the session's."""
    import tempfile

    from nrr.engines import parquet_layout, spark

    settings = settings or (workspace.settings if workspace is not None else Settings())
    if parquet is None:
        if workspace is None:
            raise ValueError("give a workspace or a Parquet folder")
        staging = Path(staging or tempfile.mkdtemp(prefix="nrr-spark-"))
        parquet_layout.write(workspace.con, staging / "inputs")
        parquet = str(staging / "inputs")
    options = spark.SparkOptions(
        master=master, extra=tuple((conf or {}).items())  # None: spark-submit's, else local
    )
    return spark.compute(
        spark.session(options),
        as_of=as_of,
        settings=settings,
        folder=parquet,
        rates_for=_rates_for(settings),
        work_dir=work_dir,
    )


def compute(workspace: Workspace, *, as_of: date, settings: Settings | None = None) -> Results:
    """Compute everything for a workspace; ``settings`` default to the workspace's own."""
    settings = settings or workspace.settings
    con = workspace.cursor()
    from nrr.engines.duckdb_config import configure

    configure(con, settings.memory_limit, settings.temp_directory, settings.threads)
    return Results(DuckDBExecutor(con), settings, as_of, _rates_for(settings))
