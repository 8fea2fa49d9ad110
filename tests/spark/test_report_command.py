"""`nrr report --engine spark` prints exactly what the DuckDB engine prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from nrr.cli import main
from test_cli import workspace  # noqa: F401 - the shared hand-built workspace fixture

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


def test_report_on_spark_matches_duckdb(
    workspace: Path,  # noqa: F811
    tmp_path: Path,
    spark: SparkSession,  # the tests' session, which the command reuses
) -> None:
    args = ["report", "-w", str(workspace), "--as-of", "2025-03-31", "--by", "plan", "--json"]
    duck = CliRunner().invoke(main, args, catch_exceptions=False)
    export = CliRunner().invoke(main, ["export", "-w", str(workspace), "--as-of", "2025-03-31",
                                       "--parquet", str(tmp_path / "lake")])
    assert export.exit_code == 0, export.output
    on_spark = [*args, "--engine", "spark", "--spark-master", "local[2]",
                "--parquet", str(tmp_path / "lake"), "--spark-work-dir", str(tmp_path / "work"),
                "--spark-conf", "spark.sql.shuffle.partitions=3"]  # fmt: skip
    result = CliRunner().invoke(main, on_spark, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(duck.output)
    assert (tmp_path / "work" / "bridge_b0").is_dir()  # the stage results went where asked
    assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
    spark.conf.set("spark.sql.shuffle.partitions", "2")


def test_a_spark_setting_must_be_key_equals_value(workspace: Path) -> None:  # noqa: F811
    args = ["report", "-w", str(workspace), "--engine", "spark", "--spark-conf", "partitions"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "give a Spark setting as KEY=VALUE" in result.output


def test_the_partitions_spark_submit_set_are_kept(spark: SparkSession) -> None:
    from nrr.engines.spark import SparkOptions, session

    jvm = spark.sparkContext._jvm
    assert jvm is not None
    jvm.System.setProperty("spark.sql.shuffle.partitions", "5")  # as spark-submit --conf sets it
    try:
        session(SparkOptions())
        assert spark.conf.get("spark.sql.shuffle.partitions") == "2"  # not the default 8
        session(SparkOptions(shuffle_partitions=3))
        assert spark.conf.get("spark.sql.shuffle.partitions") == "3"
    finally:
        jvm.System.clearProperty("spark.sql.shuffle.partitions")
        spark.conf.set("spark.sql.shuffle.partitions", "2")
    session(SparkOptions())
    assert spark.conf.get("spark.sql.shuffle.partitions") == "8"  # nothing given: nrr's own
    spark.conf.set("spark.sql.shuffle.partitions", "2")
