"""Run the core pipeline on Apache Spark: the same SQL stages, transpiled from DuckDB's dialect.

Nothing here knows a metric. Each core stage is transpiled with sqlglot to Spark SQL, run, cached
and registered as a temporary view under the stage's name, so later stages (and the queries of
``Results``) read it exactly as they read DuckDB's temporary tables. The canonical inputs come
from Parquet: the folder ``nrr export --parquet`` writes (see ``parquet_layout``), or paths a user
gives (a data lake). Query results come back as Arrow tables with the types DuckDB gives, so
reports and comparisons never see which engine ran.

pyspark is imported only inside functions: the CLI must start without a JVM.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr.core.pipeline import Stage
from nrr.engines.parquet_layout import INPUT_TABLES, table_path
from nrr.engines.results import RatesFor, Results
from nrr.schema import CUSTOMER_ATTRIBUTES, FX_RATES, REVENUE_LINES, Settings

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[*]"
DEFAULT_SHUFFLE_PARTITIONS = 8  # local mode on a few cores; a cluster sets its own

_COLUMNS = {
    "revenue_lines": REVENUE_LINES,
    "customer_attributes": CUSTOMER_ATTRIBUTES,
    "fx_rates": FX_RATES,
}


@dataclass(frozen=True)
class SparkOptions:
    """How to reach Spark. ``master`` is a URL (``spark://host:7077``, ``yarn``, ``local[4]``);
    ``None`` keeps the one spark-submit (or a Databricks/EMR cluster) set, else local mode."""

    master: str | None = None
    shuffle_partitions: int | None = None  # None: the one spark-submit set, else 8
    app_name: str = "nrr"
    extra: tuple[tuple[str, str], ...] = ()


def session(options: SparkOptions | None = None) -> SparkSession:
    """A Spark session configured for exact results; reuses the active one when there is one.

    Decimal arithmetic keeps its full scale (rates carry 10 decimals: losing one would change a
    rounded minor unit), and times are UTC so dates never shift.
    """
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    opts = options or SparkOptions()
    builder = SparkSession.builder
    # Under spark-submit the JVM already carries the cluster's master: read it, never override.
    SparkContext._ensure_initialized()
    given = SparkConf()
    if opts.master is not None or not given.contains("spark.master"):
        builder = builder.master(opts.master or DEFAULT_MASTER)
    if opts.shuffle_partitions is not None or not given.contains("spark.sql.shuffle.partitions"):
        partitions = opts.shuffle_partitions or DEFAULT_SHUFFLE_PARTITIONS
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    builder = (
        builder.appName(opts.app_name)
        .config("spark.sql.decimalOperations.allowPrecisionLoss", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
    )
    for key, value in opts.extra:
        builder = builder.config(key, value)
    return builder.getOrCreate()


@functools.lru_cache(maxsize=512)
def to_spark_sql(sql: str) -> str:
    """One DuckDB-dialect statement in Spark SQL."""
    import sqlglot

    statements = sqlglot.parse(sql, read="duckdb")
    if len(statements) != 1 or statements[0] is None:
        raise ValueError(f"expected one SQL statement, got {len(statements)}")
    return wide_hashes(inline_named_windows(statements[0])).sql(dialect="spark")


def wide_hashes(tree: Any) -> Any:
    """DuckDB's ``hash`` is 64 bits wide, Spark's 32: customer keys are hashes of the ids, and 32
    bits would make two ids share one in most companies of 100k customers (the core then numbers
    them instead, which costs a pass); Spark's ``xxhash64`` is as wide as DuckDB's."""
    from sqlglot import exp

    def widen(node: Any) -> Any:
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hash":
            return exp.Anonymous(this="XXHASH64", expressions=node.expressions)
        return node

    return tree.transform(widen)


def inline_named_windows(tree: Any) -> Any:
    """Replace ``OVER w`` / ``OVER (w ROWS ...)`` by the window ``w`` spells out.

    DuckDB lets a frame extend a named window (``OVER (w ROWS BETWEEN ...)``); Spark does not, so
    every use of a named window is written out in full and the WINDOW clause dropped.
    """
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        named = {w.this.name: w for w in select.args.get("windows") or []}
        if not named:
            continue
        for window in list(select.find_all(exp.Window)):
            alias = window.args.get("alias")
            if window.parent_select is not select or alias is None or alias.name not in named:
                continue
            base = named[alias.name]
            window.set("alias", None)
            window.set("partition_by", [e.copy() for e in base.args.get("partition_by") or []])
            order = base.args.get("order")
            window.set("order", order.copy() if order is not None else None)
            if window.args.get("spec") is None and base.args.get("spec") is not None:
                window.set("spec", base.args["spec"].copy())
        select.set("windows", None)
    return tree


class SparkExecutor:
    """Executes core stages on a Spark session; the counterpart of ``DuckDBExecutor``."""

    name = "spark"

    def __init__(self, spark: SparkSession, *, work_dir: str | Path | None = None) -> None:
        """``work_dir`` holds each stage's result as Parquet while the computation runs.

        On a cluster it must be storage every node reaches (``s3a://…``, ``abfss://…``,
        ``dbfs:/…``, ``hdfs://…``); in local mode a temporary folder is made when none is given.
        """
        self.spark = spark
        self._own_dir: Path | None = None
        if work_dir is None:
            if not spark.sparkContext.master.startswith("local"):
                raise ValueError(
                    "on a cluster, give a work directory every executor can reach "
                    "(--spark-work-dir s3a://bucket/tmp/nrr, dbfs:/tmp/nrr, hdfs:///tmp/nrr)"
                )
            self._own_dir = Path(tempfile.mkdtemp(prefix="nrr-spark-"))
            weakref.finalize(self, shutil.rmtree, self._own_dir, True)
            work_dir = self._own_dir
        self.work_dir = str(work_dir).rstrip("/")
        self._shape = ShapeOracle()

    def run(self, stage: Stage) -> None:
        frame = self.spark.sql(to_spark_sql(stage.sql))
        if getattr(stage, "view", False):
            frame.createOrReplaceTempView(stage.name)  # a cheap projection: inlined where read
        else:
            self._publish(stage.name, frame)
        self._shape.run(stage)

    def register(self, name: str, table: pa.Table) -> None:
        self._publish(name, self.spark.createDataFrame(_plain_arrow(table)))
        self._shape.register(name, table)

    def register_frame(self, name: str, frame: DataFrame) -> None:
        """A Spark DataFrame (e.g. read from Parquet) as an input relation."""
        frame.createOrReplaceTempView(name)

    def query(self, sql: str, params: list[object] | dict[str, object] | None = None) -> pa.Table:
        frame = self.spark.sql(to_spark_sql(sql), args=params or None)
        return _cast_to(frame.toArrow(), self._shape.schema(sql, params))

    def scalar(self, sql: str) -> object:
        rows = self.spark.sql(to_spark_sql(sql)).collect()
        return rows[0][0] if rows else None

    def release(self) -> None:
        """Forget the stage results (and delete the work folder this executor made)."""
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def _publish(self, name: str, frame: DataFrame) -> None:
        # Each stage is computed once and read back as a plain Parquet scan. A view over a view
        # makes Spark re-analyse every earlier stage's whole plan (CTEs are inlined), so planning
        # time and driver memory would grow with each stage; Spark's own checkpoints cut the plan
        # but keep partitioning metadata that breaks later self-unions and joins
        # ("key not found"), and cached plans are still re-analysed. Files are what a cluster
        # job would write between steps anyway.
        # Reading back with the schema already known skips a job that opens the files' footers.
        location = f"{self.work_dir}/{name}"
        frame.write.mode("overwrite").parquet(location)
        self.spark.read.schema(frame.schema).parquet(location).createOrReplaceTempView(name)


def read_inputs(
    executor: SparkExecutor,
    folder: str | Path | None = None,
    paths: Mapping[str, str] | None = None,
) -> None:
    """Register ``revenue_lines`` and ``customer_attributes`` (and ``fx_rates`` if present).

    ``paths`` (table -> Parquet file, folder or glob, any URL Spark reads: s3a://, abfss://,
    dbfs:/) win over ``folder``, a layout written by ``nrr export --parquet``.
    """
    given = dict(paths or {})
    for table in INPUT_TABLES:
        location = given.get(table) or (table_path(folder, table) if folder is not None else None)
        if location is None or not _exists(location):
            if table == "revenue_lines":
                raise FileNotFoundError(f"no Parquet data for revenue_lines at {location}")
            executor.register_frame(table, _empty(executor.spark, table))
            continue
        frame = executor.spark.read.option("mergeSchema", "false").parquet(str(location))
        executor.register_frame(table, _canonical(frame, table))


def compute(
    spark: SparkSession,
    *,
    as_of: date,
    rates_for: RatesFor,
    settings: Settings | None = None,
    folder: str | Path | None = None,
    paths: Mapping[str, str] | None = None,
    work_dir: str | Path | None = None,
) -> Results:
    """Everything ``nrr.api.compute`` gives, computed by Spark from Parquet inputs.

    ``folder`` is a layout written by ``nrr export --parquet``; ``paths`` name tables anywhere
    Spark reads; ``work_dir`` is where stage results go (required on a cluster).
    """
    executor = SparkExecutor(spark, work_dir=work_dir)
    read_inputs(executor, folder, paths)
    return Results(executor, settings or Settings(), as_of, rates_for)


def compute_tables(
    spark: SparkSession,
    *,
    as_of: date,
    rates_for: RatesFor,
    lines: pa.Table,
    staging: str | Path,
    settings: Settings | None = None,
    attributes: pa.Table | None = None,
) -> Results:
    """The same from in-memory Arrow tables (tests, small data), staged as Parquet in ``staging``.

    Spark plans over in-memory rows are evaluated by the optimizer itself (ConvertToLocalRelation),
    slowly and on the driver's heap; a Parquet scan keeps the plan a real job, as on a cluster.
    """
    import pyarrow.parquet as pq

    folder = Path(staging)
    tables = {"revenue_lines": lines, "customer_attributes": attributes}
    for name, table in tables.items():
        if table is not None:
            (folder / name).mkdir(parents=True, exist_ok=True)
            pq.write_table(_plain_arrow(table), folder / name / "part-0.parquet")
    return compute(spark, as_of=as_of, rates_for=rates_for, settings=settings, folder=folder)


def parquet_rates(folder: str | Path) -> pa.Table | None:
    """The ``fx_rates`` table a layout carries, if it carries one (read locally with pyarrow)."""
    import pyarrow.parquet as pq

    location = table_path(folder, "fx_rates")
    return pq.read_table(location) if Path(location).exists() else None


# -- type plumbing -----------------------------------------------------------------------------


def _spark_type(duck_type: str) -> str:
    return {"VARCHAR": "STRING"}.get(duck_type, duck_type)


def _schema_ddl(table: str) -> str:
    return ", ".join(f"{col} {_spark_type(typ)}" for col, typ in _COLUMNS[table])


def _empty(spark: SparkSession, table: str) -> DataFrame:
    return spark.createDataFrame([], _schema_ddl(table))


def _canonical(frame: DataFrame, table: str) -> DataFrame:
    """Only the canonical columns, in canonical order and types (drops partition columns)."""
    from pyspark.sql import functions as F

    cols = [F.col(col).cast(_spark_type(typ)).alias(col) for col, typ in _COLUMNS[table]]
    return frame.select(*cols)


def _plain_arrow(table: pa.Table) -> pa.Table:
    """Arrow types Spark accepts: views and large strings become plain strings."""
    import pyarrow as pa

    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_string_view(kind) or pa.types.is_large_string(kind):
            kind = pa.string()
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields))


class ShapeOracle:
    """The Arrow schema DuckDB gives for a query, learnt by running the pipeline on no rows.

    Spark and DuckDB type some expressions differently (``year()`` is 32-bit in Spark and 64-bit
    in DuckDB; sums widen differently). Running each stage on empty canonical tables in an
    in-memory DuckDB costs milliseconds and tells the exact types the DuckDB engine returns, so
    Spark's results are cast to them and reports never see which engine ran.
    """

    def __init__(self) -> None:
        import duckdb

        from nrr.schema import ddl

        self.con = duckdb.connect()
        for table in ("revenue_lines", "customer_attributes"):
            create = ddl(table, _COLUMNS[table]).replace("CREATE TABLE", "CREATE TEMP TABLE")
            self.con.execute(create).fetchall()

    def run(self, stage: Stage) -> None:
        kind = "VIEW" if getattr(stage, "view", False) else "TABLE"
        sql = f"CREATE OR REPLACE TEMP {kind} {stage.name} AS SELECT * FROM ({stage.sql}) LIMIT 0"
        self.con.execute(sql).fetchall()

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table.slice(0, 0))

    def schema(self, sql: str, params: list[object] | dict[str, object] | None) -> pa.Schema:
        query = f"SELECT * FROM ({sql}) LIMIT 0"
        return self.con.sql(query, params=params or None).to_arrow_table().schema


def _cast_to(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Spark's result with DuckDB's column types (names are the same: both follow the SQL)."""
    import pyarrow as pa

    if table.num_columns != len(schema):
        raise RuntimeError(f"Spark returned {table.column_names}, DuckDB expects {schema.names}")
    return pa.Table.from_arrays(
        [col.cast(field.type) for col, field in zip(table.columns, schema, strict=True)],
        schema=schema,
    )


def _exists(location: str | Path) -> bool:
    text = str(location)
    return "://" in text or text.startswith("dbfs:") or Path(text).exists()


def describe(spark: SparkSession) -> dict[str, Any]:
    """Master and the settings that matter, for the CLI's `--engine spark` header."""
    conf = spark.sparkContext.getConf()
    return {
        "master": spark.sparkContext.master,
        "version": spark.version,
        "shuffle_partitions": spark.conf.get("spark.sql.shuffle.partitions"),
        "executor_memory": conf.get("spark.executor.memory", "default"),
    }
