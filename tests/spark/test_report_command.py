"""`nrr report --engine spark` prints exactly what the DuckDB engine prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nrr.cli import main
from test_cli import workspace  # noqa: F401 - the shared hand-built workspace fixture


@pytest.mark.spark
def test_report_on_spark_matches_duckdb(workspace: Path, tmp_path: Path) -> None:  # noqa: F811
    args = ["report", "-w", str(workspace), "--as-of", "2025-03-31", "--by", "plan", "--json"]
    duck = CliRunner().invoke(main, args, catch_exceptions=False)
    export = CliRunner().invoke(main, ["export", "-w", str(workspace), "--as-of", "2025-03-31",
                                       "--parquet", str(tmp_path / "lake")])
    assert export.exit_code == 0, export.output
    spark = CliRunner().invoke(main, [*args, "--engine", "spark", "--spark-master", "local[2]",
                                      "--parquet", str(tmp_path / "lake")],
                               catch_exceptions=False)
    assert spark.exit_code == 0, spark.output
    assert json.loads(spark.output) == json.loads(duck.output)
