"""One benchmark stage in its own process, so its peak memory is its own (run by benchmarks.run).

    python -m benchmarks.stage ENGINE STAGE COMPANY_DIR [--memory-limit 8GB] [--temp-dir DIR] ...

Prints one JSON object: the stage's wall seconds (the work itself, not interpreter start-up or
imports) and whatever it checked or measured on the side.

Stages:
- ``import``: the canonical Parquet files into a new workspace database (DuckDB), or the DuckDB
  workspace out to the Parquet layout Spark reads (``nrr export --parquet``), one transaction.
- ``recompute``: the whole core pipeline: stretches, movements, bridge, monthly and TTM retention,
  cohorts, and the segments plan, size and country. For DuckDB also the month-grid formulation
  of the same company-level tables on the same connection, checked equal to the core's first.
- ``report``: after a recompute (not timed), every report table read out as Arrow.
- ``incremental``: the next month's rows applied to a copy of the workspace (timed separately),
  then ``Results.update`` to the new as-of day, compared with a full recompute. Beside it, what
  any update that recomputes the changed customers pays at the least: the whole pipeline over
  only those customers as a company of their own (``changed_alone``), and over ten of them
  (``ten_alone``: the pipeline's fixed cost).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import month_grid
from benchmarks.generate import month_end

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from nrr.engines.results import Results

DIMENSIONS = ("plan", "size", "country")
BRIDGE_COLUMNS = (
    "p", "start_mrr", "new", "reactivation", "expansion", "contraction", "churn", "fx", "end_mrr",
    "customers_start", "customers_end", "new_customers", "reactivated_customers",
    "churned_customers",
)  # fmt: skip


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (the kernel's high-water mark)."""
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Stopwatch:
    def __init__(self) -> None:
        self.began = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        spent, self.began = now - self.began, now
        return round(spent, 3)


# -- the company on disk -------------------------------------------------------------------------


def meta(company: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((company / "company.json").read_text())
    return data


def workspace_dir(company: Path) -> Path:
    return company / "workspace"


def layout_dir(company: Path) -> Path:
    return company / "layout"


def rates(company: Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(company / "fx_rates.parquet")


# -- DuckDB --------------------------------------------------------------------------------------


def _connect(path: Path, args: argparse.Namespace, read_only: bool) -> duckdb.DuckDBPyConnection:
    import duckdb

    from nrr.engines.duckdb_config import configure

    con = duckdb.connect(str(path), read_only=read_only)
    configure(con, args.memory_limit, args.temp_dir, args.threads)
    return con


def duckdb_import(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, REVENUE_LINES, column_names, ddl
    from nrr.store import DB_FILE, open_workspace

    folder = workspace_dir(company)
    shutil.rmtree(folder, ignore_errors=True)
    open_workspace(folder).close()  # the store creates its tables
    watch = Stopwatch()
    con = _connect(folder / DB_FILE, args, read_only=False)
    lines = ", ".join(column_names(REVENUE_LINES))
    attrs = ", ".join(column_names(CUSTOMER_ATTRIBUTES))
    con.execute("BEGIN TRANSACTION")
    for statement in (
        ddl("revenue_lines", REVENUE_LINES),
        f"INSERT INTO revenue_lines SELECT {lines} "
        f"FROM read_parquet('{company}/revenue_lines.parquet')",
        f"INSERT INTO customer_attributes SELECT {attrs} "
        f"FROM read_parquet('{company}/customer_attributes.parquet')",
        ddl("customers", CUSTOMERS),
        "INSERT INTO customers "
        "SELECT DISTINCT customer_id, customer_id, 'bench' FROM revenue_lines",
    ):
        con.execute(statement).fetchall()
    con.execute("COMMIT")
    con.execute("CHECKPOINT").fetchall()
    wall = watch.lap()
    rows = con.execute("SELECT count(*) FROM revenue_lines").fetchall()[0][0]
    con.close()
    return {"wall": wall, "lines": rows}


def _results(con: duckdb.DuckDBPyConnection, company: Path, as_of: Any) -> Results:
    from nrr.api import _rates_for
    from nrr.engines.duckdb import DuckDBExecutor
    from nrr.engines.results import Results
    from nrr.schema import Settings

    settings = Settings()
    rates_for = _rates_for(settings, rates(company))
    return Results(DuckDBExecutor(con), settings, as_of, rates_for)


def _segments(results: Results) -> None:
    # the company and every dimension in one pass, as the dashboard does
    results.prepare(("all", *DIMENSIONS))
    read_report(results)


def _company(results: Results) -> None:
    """What ``nrr report`` without ``--by`` needs."""
    results.bridge()
    results.retention(12)
    results.cohorts()


def duckdb_recompute(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    from nrr.store import DB_FILE

    as_of = month_end(meta(company)["months"] - 1)
    con = _connect(workspace_dir(company) / DB_FILE, args, read_only=True)
    watch = Stopwatch()
    results = _results(con, company, as_of)
    base = watch.lap()
    _segments(results)
    segments = watch.lap()
    out: dict[str, Any] = {"wall": round(base + segments, 3), "base": base}
    out["rss_mb"] = peak_rss_mb()  # the core's own peak, before the month grid runs beside it
    con.close()  # the company alone, again, on a fresh connection (as ``nrr report`` does)
    con = _connect(workspace_dir(company) / DB_FILE, args, read_only=True)
    watch.lap()
    results = _results(con, company, as_of)
    _company(results)
    out["core_company"] = watch.lap()
    if args.grid:
        watch.lap()
        month_grid.run(con, as_of)
        out["grid"] = watch.lap()
        core = [tuple(row[c] for c in BRIDGE_COLUMNS) for row in results.bridge().to_pylist()]
        out["grid_equal"] = core == month_grid.bridge_rows(con)
    out["stages"] = args.profile and profile(con, results)
    return out


def profile(con: duckdb.DuckDBPyConnection, results: Results) -> dict[str, float]:
    """Seconds per core stage, each re-run alone (inputs already materialised)."""
    from nrr.core import pipeline
    from nrr.engines.duckdb import DuckDBExecutor

    executor = DuckDBExecutor(con)
    timings: dict[str, float] = {}
    if results.frame is None:
        return timings
    stages = pipeline.base_stages(results.frame) + pipeline.plan_stages(results.frame)
    stages += pipeline.batch_stages(results.frame, pipeline.Batch(0, ("all",)))
    stages += pipeline.batch_stages(results.frame, pipeline.Batch(1, DIMENSIONS))
    for stage in stages:
        watch = Stopwatch()
        executor.run(stage)
        timings[stage.name] = watch.lap()
    return timings


def read_report(results: Results) -> int:
    tables: list[Callable[[], pa.Table]] = [
        results.bridge, lambda: results.retention(1), lambda: results.retention(12),
        results.cohorts,
    ]  # fmt: skip
    for dimension in DIMENSIONS:
        tables.append(lambda d=dimension: results.bridge(by=d))
        tables.append(lambda d=dimension: results.retention(12, by=d))
    return sum(table().num_rows for table in tables)


def duckdb_report(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    from nrr.store import DB_FILE

    as_of = month_end(meta(company)["months"] - 1)
    con = _connect(workspace_dir(company) / DB_FILE, args, read_only=True)
    results = _results(con, company, as_of)
    _segments(results)
    watch = Stopwatch()
    rows = read_report(results)
    return {"wall": watch.lap(), "rows": rows}


def _apply_delta(con: duckdb.DuckDBPyConnection, company: Path) -> None:
    """The month's rows stored as an import stores them: one transaction, then a checkpoint
    (``publish_snapshot``). Without it DuckDB checkpoints on a later commit of its choosing, which
    put 0.05-0.33 s of writing the stored lines inside the timed update."""
    delta = f"read_parquet('{company}/revenue_lines_delta.parquet')"
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM revenue_lines WHERE line_id IN (SELECT line_id FROM {delta})")
    con.execute(f"INSERT INTO revenue_lines SELECT * FROM {delta}").fetchall()
    con.execute("COMMIT")
    con.execute("CHECKPOINT").fetchall()


def duckdb_incremental(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    """A new month: the results as of the last month are in memory (as in ``nrr serve``); the
    month's rows are applied and the results updated, then compared with a full recompute."""
    from nrr.store import DB_FILE

    scratch = company / "incremental.duckdb"
    shutil.copyfile(workspace_dir(company) / DB_FILE, scratch)
    as_of, next_as_of = month_end(meta(company)["months"] - 1), month_end(meta(company)["months"])
    con = _connect(scratch, args, read_only=False)
    results = _results(con, company, as_of)
    _segments(results)
    delta = f"read_parquet('{company}/revenue_lines_delta.parquet')"
    changed = [r[0] for r in con.execute(f"SELECT DISTINCT customer_id FROM {delta}").fetchall()]
    watch = Stopwatch()
    _apply_delta(con, company)
    applied = watch.lap()
    exact = results.update(next_as_of, changed)
    read_report(results)
    updated = watch.lap()
    figures = _figures(results)
    con.close()  # the full recompute it is compared with runs on a fresh connection
    con = _connect(scratch, args, read_only=True)
    watch.lap()
    fresh = _results(con, company, next_as_of)
    _segments(fresh)
    full = watch.lap()
    same = figures == _figures(fresh)
    con.close()
    alone = _alone(scratch, company, changed, next_as_of)
    ten = _alone(scratch, company, sorted(changed)[:10], next_as_of)
    scratch.unlink()
    return {"wall": applied + updated, "apply_delta": applied, "update": updated,
            "full_recompute": full, "changed_customers": len(changed), "exact_path": exact,
            "equal_to_full": same, "changed_alone": alone, "ten_alone": ten}  # fmt: skip


def _alone(workspace: Path, company: Path, ids: list[str], as_of: Any) -> float:
    """Seconds to compute the given customers as a company of their own, every dimension, from
    tables in memory: the least that recomputing them costs, before anything is merged."""
    import duckdb
    import pyarrow as pa

    mem = duckdb.connect()
    mem.register("ids", pa.table({"customer_id": pa.array(ids, pa.string())}))
    mem.execute(f"ATTACH '{workspace}' AS w (READ_ONLY)")
    for table in ("revenue_lines", "customer_attributes", "customers"):
        mem.execute(f"CREATE TABLE {table} AS SELECT * FROM w.{table} "
                    "WHERE customer_id IN (SELECT customer_id FROM ids)")  # fmt: skip
    mem.execute("DETACH w")
    watch = Stopwatch()
    _segments(_results(mem, company, as_of))
    spent = watch.lap()
    mem.close()
    return spent


def _figures(results: Results) -> list[Any]:
    out: list[Any] = [results.bridge().to_pylist(), results.cohorts().to_pylist()]
    for dimension in DIMENSIONS:
        out += [results.bridge(by=dimension).to_pylist(),
                results.retention(12, by=dimension).to_pylist()]  # fmt: skip
    return out


# -- Spark ---------------------------------------------------------------------------------------


def spark_import(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The workspace written as the Parquet layout (``nrr export --parquet``)."""
    from nrr.engines import parquet_layout
    from nrr.store import DB_FILE

    con = _connect(workspace_dir(company) / DB_FILE, args, read_only=True)
    watch = Stopwatch()
    counts = parquet_layout.write(con, layout_dir(company), rates=rates(company))
    return {"wall": watch.lap(), "lines": counts["revenue_lines"]}


def _spark(args: argparse.Namespace) -> Any:
    from nrr.engines.spark import SparkOptions, session

    options = SparkOptions(
        master=args.spark_master,
        shuffle_partitions=args.shuffle_partitions,
        extra=(("spark.ui.enabled", "false"), ("spark.driver.memory", args.spark_memory)),
    )
    spark = session(options)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _spark_results(spark: Any, company: Path, as_of: Any, folder: Path) -> Results:
    from nrr.api import _rates_for
    from nrr.engines import spark as engine
    from nrr.schema import Settings

    settings = Settings()
    rates_for = _rates_for(settings, rates(company))
    return engine.compute(spark, as_of=as_of, rates_for=rates_for, settings=settings, folder=folder)


def spark_recompute(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    watch = Stopwatch()
    spark = _spark(args)
    started = watch.lap()
    as_of = month_end(meta(company)["months"] - 1)
    results = _spark_results(spark, company, as_of, layout_dir(company))
    _segments(results)
    wall = watch.lap()
    spark.stop()
    return {"wall": wall, "session_start": started}


def spark_report(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    spark = _spark(args)
    as_of = month_end(meta(company)["months"] - 1)
    results = _spark_results(spark, company, as_of, layout_dir(company))
    _segments(results)
    watch = Stopwatch()
    rows = read_report(results)
    wall = watch.lap()
    spark.stop()
    return {"wall": wall, "rows": rows}


def spark_incremental(company: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The next month appended as new rows of the layout, then a full recompute."""
    import duckdb

    from nrr.engines import parquet_layout

    scratch = company / "layout-next"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(layout_dir(company), scratch)
    watch = Stopwatch()
    con = duckdb.connect()
    base = parquet_layout.read_sql(scratch, "revenue_lines")
    con.execute(f"CREATE TABLE revenue_lines AS SELECT * FROM {base}").fetchall()
    _apply_delta(con, company)
    con.execute(
        f"CREATE TABLE customer_attributes AS SELECT * FROM "
        f"{parquet_layout.read_sql(scratch, 'customer_attributes')}"
    ).fetchall()
    con.execute("CREATE TABLE customers AS SELECT DISTINCT customer_id, customer_id AS name, "
                "'bench' AS source FROM revenue_lines").fetchall()  # fmt: skip
    parquet_layout.write(con, scratch, rates=rates(company))
    applied = watch.lap()
    spark = _spark(args)
    watch.lap()
    results = _spark_results(spark, company, month_end(meta(company)["months"]), scratch)
    _segments(results)
    wall = watch.lap()
    spark.stop()
    shutil.rmtree(scratch, ignore_errors=True)
    return {"wall": wall, "apply_delta": applied}


STAGES: dict[tuple[str, str], Callable[[Path, argparse.Namespace], dict[str, Any]]] = {
    ("duckdb", "import"): duckdb_import,
    ("duckdb", "recompute"): duckdb_recompute,
    ("duckdb", "report"): duckdb_report,
    ("duckdb", "incremental"): duckdb_incremental,
    ("spark", "import"): spark_import,
    ("spark", "recompute"): spark_recompute,
    ("spark", "report"): spark_report,
    ("spark", "incremental"): spark_incremental,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="run one benchmark stage")
    p.add_argument("engine", choices=("duckdb", "spark"))
    p.add_argument("stage", choices=("import", "recompute", "report", "incremental"))
    p.add_argument("company", type=Path)
    p.add_argument("--memory-limit")
    p.add_argument("--temp-dir")
    p.add_argument("--threads", type=int)
    p.add_argument("--grid", action="store_true", help="also run the month-grid formulation")
    p.add_argument("--profile", action="store_true", help="also time every core stage alone")
    p.add_argument("--spark-master", default="local[*]")
    p.add_argument("--shuffle-partitions", type=int, default=8)
    p.add_argument("--spark-memory", default="4g")
    return p


def preload() -> None:
    """Import what the timed stages use before any stopwatch starts: they time the work, not
    Python loading modules. PyArrow imports pandas (when installed) the first time it builds a
    table; where bytecode is not cached (PYTHONDONTWRITEBYTECODE, as on the benchmark machine)
    that took 0.6-0.9 s inside the first timed stage."""
    import importlib
    import importlib.util

    modules = ["pyarrow.parquet", "pyarrow.dataset", "nrr.api", "nrr.engines.results",
               "nrr.engines.duckdb", "nrr.reports", "nrr.store", "nrr.schema"]  # fmt: skip
    if importlib.util.find_spec("pandas") is not None:
        modules.append("pandas")
    for module in modules:
        importlib.import_module(module)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    preload()
    result = STAGES[(args.engine, args.stage)](args.company.resolve(), args)
    result["self_rss_mb"] = peak_rss_mb()
    sys.stdout.write("BENCH " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
