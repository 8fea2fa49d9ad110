"""Resource settings for a DuckDB connection: how much memory it may use and where it spills.

With a memory limit, DuckDB's sorts, joins, aggregates and window functions write what does not fit
to ``temp_directory`` instead of failing, so a company larger than memory still completes on one
machine. The values come from the workspace settings (``memory_limit``, ``temp_directory``,
``threads``); ``None`` keeps DuckDB's own default (80 % of RAM, ``<database>.tmp``, all cores).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

# DuckDB's own size syntax: a number and a unit, e.g. "4GB", "1.5 GiB", "800MB".
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def configure(
    con: duckdb.DuckDBPyConnection,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    threads: int | None = None,
) -> None:
    """Apply the limits to ``con``; raise ValueError naming the setting when a value is invalid."""
    if memory_limit is not None:
        _set(con, "memory_limit", f"{int(_bytes(_check_size(memory_limit)) * DUCKDB_SHARE)}B")
        # keeping insertion order forces whole intermediate results to stay buffered; results
        # that need an order are sorted explicitly, so dropping it lets big stages stream
        con.execute("SET preserve_insertion_order = false").fetchall()
    if temp_directory is not None:
        folder = Path(temp_directory).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        _set(con, "temp_directory", str(folder))
    if threads is not None:
        if threads < 1:
            raise ValueError(f"setting threads must be >= 1, got {threads}")
        con.execute(f"SET threads = {int(threads)}").fetchall()


def current(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The settings as DuckDB reports them (for `nrr doctor` style output and tests)."""
    names = ("memory_limit", "temp_directory", "threads", "preserve_insertion_order")
    rows = con.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN (SELECT unnest(?))", [list(names)]
    ).fetchall()
    return {str(name): str(value) for name, value in rows}


# The setting is the budget of the whole process; DuckDB gets this share of it. The rest is for
# what lives outside DuckDB's buffer manager: Python, Arrow results, the web server. Measured at
# 10M customers, that was about 0.9 GB beside a 7.45 GiB DuckDB limit.
DUCKDB_SHARE = 0.85
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip


def _bytes(size: str) -> int:
    number = size.rstrip("BbIiKkMmGgTt ").strip()
    unit = size[len(number) :].strip().upper()
    return int(float(number) * _UNITS[unit])


def _check_size(value: str) -> str:
    if not _SIZE.match(value):
        raise ValueError(
            f"setting memory_limit must be a size such as '4GB' or '512MB', got {value!r}"
        )
    return value.strip()


def _set(con: duckdb.DuckDBPyConnection, name: str, value: str) -> None:
    con.execute(f"SET {name} = ?", [value]).fetchall()
