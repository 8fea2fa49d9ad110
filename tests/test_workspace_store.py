"""The workspace store: atomic replacement by source, data versions, snapshots for readers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from nrr.api import open_workspace, revenue_lines
from nrr.store import SNAPSHOT_FILE, WorkspaceError


def lines(*customers: str, source: str = "file:a.csv"):
    return revenue_lines([{"customer_id": c, "start_date": date(2025, 1, 1), "mrr_minor": 100,
                           "source": source} for c in customers])


def count(ws, table="revenue_lines"):
    return ws.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_replacing_a_source_keeps_other_sources(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        ws.replace_source("file:b.csv", lines=lines("C", source="file:b.csv"))
        ws.replace_source("file:a.csv", lines=lines("A"))
        ids = ws.con.execute("SELECT customer_id FROM revenue_lines ORDER BY 1").fetchall()
        assert [r[0] for r in ids] == ["A", "C"]
        assert ws.data_version == 3


def test_a_failing_write_leaves_everything_as_it_was(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        broken = pa.table({"customer_id": ["X"]})  # not the canonical columns
        with pytest.raises(Exception):  # noqa: B017 - any database error
            ws.replace_source("file:a.csv", lines=broken)
        assert count(ws) == 2
        assert ws.data_version == 1


def test_snapshot_is_a_readable_copy(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        path = ws.publish_snapshot()
        assert path == tmp_path / "ws" / SNAPSHOT_FILE
        # The writer still holds the workspace open; the snapshot opens read-only beside it.
        import duckdb

        snap = duckdb.connect(str(path), read_only=True)
        assert snap.execute("SELECT count(*) FROM revenue_lines").fetchall()[0][0] == 2
        snap.close()
        ws.replace_source("file:a.csv", lines=lines("A", "B", "C"))
        ws.publish_snapshot()
    snap = duckdb.connect(str(path), read_only=True)
    assert snap.execute("SELECT count(*) FROM revenue_lines").fetchall()[0][0] == 3
    snap.close()


def test_missing_workspace_is_refused_for_reading(tmp_path: Path):
    with pytest.raises(WorkspaceError, match="no workspace"):
        open_workspace(tmp_path / "nothing", create=False)
