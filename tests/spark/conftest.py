"""One local Spark session for the whole directory: a JVM start costs seconds, not one a test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    if shutil.which("java") is None:
        pytest.fail("Spark tests need Java 17 on PATH (apt-get install openjdk-17-jre-headless)")
    from nrr.engines.spark import SparkOptions, session

    options = SparkOptions(
        master="local[2]",
        shuffle_partitions=2,
        app_name="nrr-tests",
        extra=(
            ("spark.ui.enabled", "false"),
            # tiny data: compiling generated code costs more than it saves
            ("spark.sql.codegen.wholeStage", "false"),
            # and interpreted expressions throughout: each stage's code is new, and compiling it
            # cost more than running it (the hand example's pipeline: 19-25 s against 16-18 s)
            ("spark.sql.codegen.factoryMode", "NO_CODEGEN"),
            ("spark.driver.memory", "1g"),
            # adaptive planning re-plans every stage at run time: slower on tiny data
            ("spark.sql.adaptive.enabled", "false"),
        ),
    )
    active = session(options)
    active.sparkContext.setLogLevel("ERROR")
    yield active
    active.stop()
