"""Helpers for the import tests: a fresh workspace, files written from rows, table contents."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from nrr.store import Workspace, open_workspace

TABLES = ("revenue_lines", "customers", "customer_attributes", "raw_records", "imports", "meta")


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = open_workspace(tmp_path / "ws")
    yield workspace
    workspace.close()


def write_csv(folder: Path, name: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
              delimiter: str = ",", encoding: str = "utf-8") -> Path:
    path = folder / name
    with path.open("w", newline="", encoding=encoding) as handle:
        out = csv.writer(handle, delimiter=delimiter)
        out.writerow(header)
        out.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def contents(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row of every table, sorted: equal contents mean an unchanged workspace."""
    return {t: sorted(ws.con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def lines(ws: Workspace) -> list[tuple[Any, ...]]:
    return ws.con.execute(
        "SELECT line_id, customer_id, start_date, end_date, mrr_minor, currency, kind, "
        "discount_duration FROM revenue_lines ORDER BY line_id").fetchall()


def total_mrr(ws: Workspace) -> int:
    row = ws.con.execute("SELECT coalesce(sum(mrr_minor), 0) FROM revenue_lines").fetchone()
    assert row is not None
    return int(row[0])
