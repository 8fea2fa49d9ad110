"""DuckDB's memory limit and spill folder from the workspace settings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from nrr.engines.duckdb_config import configure, current


def test_settings_are_applied(tmp_path: Path) -> None:
    con = duckdb.connect()
    spill = tmp_path / "spill" / "nested"
    configure(con, memory_limit="1GB", temp_directory=str(spill), threads=1)
    assert current(con) == {
        "memory_limit": "810.6 MiB",  # 85 % of 1 GB: the rest is for Python and Arrow
        "temp_directory": str(spill),
        "threads": "1",
        "preserve_insertion_order": "false",
    }
    assert spill.is_dir()


def test_nothing_given_changes_nothing() -> None:
    con = duckdb.connect()
    before = current(con)
    configure(con)
    assert current(con) == before


@pytest.mark.parametrize("bad", ["lots", "4 GiB please", "-1GB", ""])
def test_a_bad_memory_limit_names_the_setting(bad: str) -> None:
    with pytest.raises(ValueError, match="setting memory_limit must be a size such as '4GB'"):
        configure(duckdb.connect(), memory_limit=bad)


def test_threads_must_be_positive() -> None:
    with pytest.raises(ValueError, match="setting threads must be >= 1, got 0"):
        configure(duckdb.connect(), threads=0)


def test_a_sort_larger_than_the_limit_spills_and_completes(tmp_path: Path) -> None:
    con = duckdb.connect()
    configure(con, memory_limit="48MB", temp_directory=str(tmp_path), threads=1)
    # about 200 MB of rows, sorted: four times the limit
    con.execute(
        "CREATE TABLE big AS SELECT i, md5(CAST(i AS VARCHAR)) || md5(CAST(i + 1 AS VARCHAR)) AS s "
        "FROM range(2500000) t(i)"
    ).fetchall()
    # a window over the whole table must hold every row sorted: it can only finish by spilling
    con.execute(
        "CREATE TABLE ranked AS SELECT row_number() OVER (ORDER BY s) AS r, s FROM big"
    ).fetchall()
    ranked = con.execute(
        "SELECT count(*), min(s) FILTER (WHERE r = 1), max(s) FILTER (WHERE r = 2500000) "
        "FROM ranked"
    ).fetchall()
    expected = con.execute("SELECT count(*), min(s), max(s) FROM big").fetchall()
    assert ranked == expected
    assert expected[0][0] == 2_500_000


@pytest.mark.parametrize(("budget", "duckdb_limit"), [("1GiB", "870.3 MiB"), ("8GB", "6.3 GiB")])
def test_duckdb_gets_85_percent_of_the_budget(budget: str, duckdb_limit: str) -> None:
    con = duckdb.connect()
    configure(con, memory_limit=budget)
    assert current(con)["memory_limit"] == duckdb_limit
