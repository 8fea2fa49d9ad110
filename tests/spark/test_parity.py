"""The core on Spark gives the DuckDB engine's tables, row for row and type for type.

Seeded generated companies (the benchmark generator at a small scale) in one and in three
currencies, under several settings, computed by both engines from the same Parquet files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from benchmarks.generate import Company, generate

from nrr.api import _rates_for
from nrr.engines import parquet_layout
from nrr.engines import spark as spark_engine
from nrr.engines.duckdb import DuckDBExecutor, memory_connection
from nrr.engines.results import Results
from nrr.schema import Settings

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


@dataclass(frozen=True)
class Scenario:
    name: str
    customers: int
    multi_currency: bool
    settings: Settings
    dimensions: tuple[str, ...]
    ecb_rates: bool = False  # real ECB rates (10 decimals) instead of the generator's
    via_layout: bool = False  # Spark reads the folder `nrr export --parquet` writes


SCENARIOS = (
    Scenario("multi-currency defaults", 300, True, Settings(), ("country", "size", "plan")),
    Scenario(
        "single currency, every discount, churn when requested, 7 days grace",
        250,
        False,
        Settings(discounts="all", churn_timing="requested", past_due_grace_days=7),
        ("industry",),
        via_layout=True,
    ),
    Scenario(
        "quarters in CHF at ECB rates",
        200,
        True,
        Settings(period="quarter", reporting_currency="CHF", discounts="forever"),
        ("size",),
        ecb_rates=True,
    ),
)


@dataclass
class Pair:
    scenario: Scenario
    duck: Results
    spark: Results


def _parquet(company: Company, table: str) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(company.folder / f"{table}.parquet")


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda s: s.name)
def pair(
    request: pytest.FixtureRequest, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> Pair:
    scenario: Scenario = request.param
    folder: Path = tmp_path_factory.mktemp("company")
    company = generate(
        folder, scenario.customers, months=36, seed=7, multi_currency=scenario.multi_currency
    )
    given = None if scenario.ecb_rates else _parquet(company, "fx_rates")
    rates_for = _rates_for(scenario.settings, given)
    lines = _parquet(company, "revenue_lines")
    attributes = _parquet(company, "customer_attributes")
    con = memory_connection(lines, attributes, given)
    duck = Results(DuckDBExecutor(con), scenario.settings, company.as_of, rates_for)
    paths = {"revenue_lines": str(company.lines), "customer_attributes": str(company.attributes)}
    layout = None
    if scenario.via_layout:
        layout = folder / "layout"
        tables = ("revenue_lines", "customer_attributes")
        parquet_layout.write(memory_connection(lines, attributes, given), layout, tables=tables)
    on_spark = spark_engine.compute(
        spark,
        as_of=company.as_of,
        rates_for=rates_for,
        settings=scenario.settings,
        folder=layout,
        paths=None if layout else paths,
    )
    return Pair(scenario, duck, on_spark)


Table = Callable[[Results], Any]


def _same(pair: Pair, table: Table) -> None:
    expected, got = table(pair.duck), table(pair.spark)
    assert got.schema == expected.schema
    assert got.num_rows == expected.num_rows > 0
    assert got.to_pylist() == expected.to_pylist()


def test_bridge(pair: Pair) -> None:
    _same(pair, lambda r: r.bridge())


def test_retention_one_period_and_ttm(pair: Pair) -> None:
    for window in pair.duck.frame.windows if pair.duck.frame else ():
        _same(pair, lambda r, w=window: r.retention(w))


def test_movements(pair: Pair) -> None:
    _same(pair, lambda r: r.movements())


def test_cohorts(pair: Pair) -> None:
    _same(pair, lambda r: r.cohorts())


def test_segments(pair: Pair) -> None:
    for results in (pair.duck, pair.spark):  # one batch for every dimension, as the dashboard
        results.prepare(pair.scenario.dimensions)  # asks (the company's is a batch before it)
    ttm = pair.duck.ttm_window
    for dimension in pair.scenario.dimensions:
        _same(pair, lambda r, d=dimension: r.bridge(by=d))
        _same(pair, lambda r, d=dimension: r.retention(ttm, by=d))


def test_customer_drill_down(pair: Pair) -> None:
    last = pair.duck.last_period
    _same(pair, lambda r: r.customer_mrr(last))
    _same(pair, lambda r: r.window_customers(last, pair.duck.ttm_window))


def test_the_bridge_identity_holds_on_spark(pair: Pair) -> None:
    rows = pair.spark.bridge().to_pylist()
    for row in rows:
        flows = (row["new"] + row["reactivation"] + row["expansion"] - row["contraction"]
                 - row["churn"] + row["fx"])  # fmt: skip
        assert row["start_mrr"] + flows == row["end_mrr"]
    if not pair.scenario.multi_currency:
        assert all(row["fx"] == 0 for row in rows)
    else:
        assert any(row["fx"] != 0 for row in rows)


def test_as_of_is_the_generator_month_end(pair: Pair) -> None:
    assert pair.spark.as_of == dt.date(2025, 12, 31)
