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


# -- what each write changed -----------------------------------------------------------------------

HEADER = ["customer", "start", "end", "amount", "interval", "currency", "country"]
ROWS = [["c1", "2024-01-01", "", "1200", "year", "EUR", "DE"],
        ["c2", "2024-02-01", "2024-08-01", "90", "quarter", "EUR", "CH"],
        ["c3", "2024-03-01", "", "50", "month", "EUR", "AT"],
        ["c5", "2024-03-01", "", "70", "month", "EUR", "AT"]]  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def recorded(ws, version: int) -> set[str | None]:
    rows = ws.con.execute("SELECT customer_id FROM changes WHERE data_version = ?", [version])
    return {r[0] for r in rows.fetchall()}


def test_a_changed_file_records_exactly_the_customers_it_changed(tmp_path: Path):
    from nrr.imports import import_file

    path = tmp_path / "billing.csv"
    with open_workspace(tmp_path / "ws") as ws:
        import_file(ws, write_csv(tmp_path / "other.csv", HEADER, [ROWS[0]]))
        import_file(ws, write_csv(path, HEADER, ROWS))
        assert (ws.data_version, recorded(ws, 2)) == (2, {"c1", "c2", "c3", "c5"})
        # c1 pays more, c2 is unchanged, c3 moves country, c5's row now brings c4
        changed = [["c1", "2024-01-01", "", "2400", "year", "EUR", "DE"], ROWS[1],
                   ["c3", "2024-03-01", "", "50", "month", "EUR", "DE"],
                   ["c4", "2024-04-01", "", "30", "month", "EUR", "AT"]]  # fmt: skip
        import_file(ws, write_csv(path, HEADER, changed))
        assert (ws.data_version, recorded(ws, 3)) == (3, {"c1", "c3", "c4", "c5"})
        assert ws.changed_since(2) == {"c1", "c3", "c4", "c5"}
        assert ws.changed_since(1) == {"c1", "c2", "c3", "c4", "c5"}
        # The same rows from a file that reads differently (columns in another order): a write
        # that changed no customer records none.
        order = [6, 5, 4, 3, 2, 1, 0]
        import_file(ws, write_csv(path, [HEADER[i] for i in order],
                                  [[row[i] for i in order] for row in changed]))  # fmt: skip
        assert (ws.data_version, recorded(ws, 4)) == (4, set())
        assert ws.changed_since(3) == set()
        assert ws.changed_since(2) == {"c1", "c3", "c4", "c5"}


def test_replacing_with_the_same_tables_records_no_change(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        ws.replace_source("file:b.csv", lines=lines("A", source="file:b.csv"))
        assert recorded(ws, 1) == {"A", "B"} and recorded(ws, 2) == {"A"}
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        assert ws.data_version == 3 and recorded(ws, 3) == set()
        ws.replace_source("file:a.csv", lines=lines("A"))  # B's line goes
        assert recorded(ws, 4) == {"B"}
        batches = lines("A", "C").to_reader()  # a reader, read once
        ws.replace_source("file:a.csv", lines=batches)
        assert recorded(ws, 5) == {"C"}


def test_a_write_that_cannot_tell_counts_as_changing_everyone(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        with ws.transaction():
            ws.bump_version()  # a writer that noted nothing
        assert recorded(ws, 2) == {None}
        assert ws.changed_since(1) is None and ws.changed_since(0) is None
        ws.replace_source("file:a.csv", lines=lines("A"))
        assert ws.changed_since(2) == {"B"}


def test_a_failed_write_records_nothing(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        with pytest.raises(Exception):  # noqa: B017 - any database error
            ws.replace_source("file:a.csv", lines=pa.table({"customer_id": ["X"]}))
        ws.replace_source("file:a.csv", lines=lines("A", "B", "C"))
        assert ws.data_version == 2 and recorded(ws, 2) == {"C"}


def test_only_recent_versions_are_kept(tmp_path: Path):
    from nrr.store import CHANGES_KEPT

    with open_workspace(tmp_path / "ws") as ws:
        for n in range(CHANGES_KEPT + 5):
            ws.replace_source("file:a.csv", lines=lines(f"c{n}"))
        now = ws.data_version
        kept = ws.con.execute("SELECT DISTINCT data_version FROM changes").fetchall()
        assert len(kept) == CHANGES_KEPT
        assert ws.changed_since(now - CHANGES_KEPT) == {f"c{n}" for n in range(4, now)}
        assert ws.changed_since(now - CHANGES_KEPT - 1) is None  # pruned: not known


def test_a_store_from_before_records_changes_from_its_next_write(tmp_path: Path):
    with open_workspace(tmp_path / "ws") as ws:
        ws.replace_source("file:a.csv", lines=lines("A", "B"))
        ws.con.execute("DROP TABLE changes").fetchall()  # as the store was before
        ws.con.execute("DELETE FROM meta WHERE key IN ('changes_since', 'workspace_id')")
    with open_workspace(tmp_path / "ws") as ws:
        assert ws.identity is not None
        assert ws.changed_since(0) is None
        ws.replace_source("file:a.csv", lines=lines("A"))
        assert ws.changed_since(1) == {"B"}
