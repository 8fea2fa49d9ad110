"""DuckDB and Spark on the same generated company: every report table compared row for row.

    .venv/bin/python -m benchmarks.compare_engines /tmp/nrr-bench/100k-m36-s42

Needs the company's workspace and Parquet layout (the ``import`` stages of benchmarks.run).
Prints one line per table and exits non-zero when any differs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.generate import month_end
from benchmarks.stage import DIMENSIONS, _results, layout_dir, meta, rates, workspace_dir

if TYPE_CHECKING:
    import pyarrow as pa

    from nrr.engines.results import Results


def tables(results: Results) -> dict[str, Callable[[], pa.Table]]:
    found: dict[str, Callable[[], pa.Table]] = {
        "bridge": results.bridge,
        "retention 1": lambda: results.retention(1),
        "retention 12": lambda: results.retention(12),
        "cohorts": results.cohorts,
        "movements": results.movements,
    }
    for d in DIMENSIONS:
        found[f"bridge by {d}"] = lambda d=d: results.bridge(by=d)
        found[f"retention 12 by {d}"] = lambda d=d: results.retention(12, by=d)
    return found


def main(company: Path) -> int:
    import duckdb

    from nrr.api import _rates_for
    from nrr.engines import spark as engine
    from nrr.schema import Settings
    from nrr.store import DB_FILE

    as_of = month_end(meta(company)["months"] - 1)
    duck = _results(duckdb.connect(str(workspace_dir(company) / DB_FILE), read_only=True),
                    company, as_of)  # fmt: skip
    began = time.perf_counter()
    spark = engine.session(engine.SparkOptions(shuffle_partitions=4,
                                               extra=(("spark.driver.memory", "6g"),)))  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    on_spark = engine.compute(spark, as_of=as_of, settings=Settings(), folder=layout_dir(company),
                              rates_for=_rates_for(Settings(), rates(company)))  # fmt: skip
    print(f"spark computed in {time.perf_counter() - began:.1f}s")
    failures = 0
    expected, got = tables(duck), tables(on_spark)
    for name, table in expected.items():
        a, b = table(), got[name]()
        same = a.schema == b.schema and a.to_pylist() == b.to_pylist()
        failures += not same
        print(f"{name:24} {a.num_rows:>9,} rows  {'identical' if same else 'DIFFERENT'}")
    spark.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
