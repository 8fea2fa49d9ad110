"""The DuckDB-dialect core SQL becomes Spark SQL that Spark accepts (checked without a JVM)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlglot

from nrr.core import pipeline
from nrr.core.periods import index_of
from nrr.engines.spark import inline_named_windows, to_spark_sql
from nrr.schema import Settings


def test_named_window_is_written_out_where_used() -> None:
    sql = (
        "SELECT lead(p) OVER w AS nxt, "
        "sum(v) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running "
        "FROM t WINDOW w AS (PARTITION BY c ORDER BY p)"
    )
    assert to_spark_sql(sql) == (
        "SELECT LEAD(p) OVER (PARTITION BY c ORDER BY p NULLS LAST) AS nxt, "
        "SUM(v) OVER (PARTITION BY c ORDER BY p NULLS LAST "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM t"
    )


def test_each_select_keeps_its_own_named_windows() -> None:
    sql = (
        "SELECT lag(x) OVER w FROM (SELECT lag(y) OVER w AS x FROM q WINDOW w AS (ORDER BY z)) "
        "AS s WINDOW w AS (ORDER BY x)"
    )
    tree = inline_named_windows(sqlglot.parse_one(sql, read="duckdb"))
    assert tree.sql(dialect="spark") == (
        "SELECT LAG(x) OVER (ORDER BY x NULLS LAST) FROM "
        "(SELECT LAG(y) OVER (ORDER BY z NULLS LAST) AS x FROM q) AS s"
    )


def test_duckdb_idioms_get_their_spark_spelling() -> None:
    sql = "SELECT arg_max(plan, v) FILTER (WHERE k <> 'x'), a // 3 FROM t ORDER BY a"
    assert to_spark_sql(sql) == (
        "SELECT MAX_BY(plan, v) FILTER(WHERE k <> 'x'), a DIV 3 FROM t ORDER BY a NULLS LAST"
    )


def test_more_than_one_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="one SQL statement"):
        to_spark_sql("SELECT 1; SELECT 2")


SETTINGS = (
    Settings(),
    Settings(discounts="all", churn_timing="requested", past_due_grace_days=14),
    Settings(period="quarter", fx_date="service_start", metered="trailing_average"),
    Settings(period="year", reporting_currency="CHF"),
)


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.period}-{s.discounts}")
def test_every_core_stage_transpiles_without_named_windows(settings: Settings) -> None:
    first = index_of(dt.date(2023, 1, 1), settings.period)
    frame = pipeline.Frame(settings, dt.date(2025, 6, 15), first_p=first)
    stages = pipeline.build(frame, ("all", "plan", "size", "country"))
    assert len({stage.name for stage in stages}) == len(stages)
    for stage in stages:
        spark_sql = to_spark_sql(stage.sql)
        tree = sqlglot.parse_one(spark_sql, read="spark")
        assert not any(select.args.get("windows") for select in tree.find_all(sqlglot.exp.Select))
        assert "ARG_MAX" not in spark_sql.upper()
