"""Run the core pipeline on DuckDB: each stage becomes a temporary table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nrr.core.pipeline import Stage

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


class DuckDBExecutor:
    """Executes stages on one connection. Stage tables are temporary: stored data stays as is."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def run(self, stage: Stage) -> None:
        import duckdb

        kind, other = ("VIEW", "TABLE") if stage.view else ("TABLE", "VIEW")
        create = f"CREATE OR REPLACE TEMP {kind} {stage.name} AS {stage.sql}"
        try:
            self.con.execute(create).fetchall()
        except duckdb.CatalogException:
            # a stage may change kind between computations on one connection (a batch's
            # segment table is a view when the batch is the company alone)
            self.con.execute(f"DROP {other} {stage.name}").fetchall()
            self.con.execute(create).fetchall()
        for name in stage.frees:
            self.con.execute(f"DROP TABLE IF EXISTS {name}").fetchall()

    def execute(self, sql: str) -> None:
        """A statement that changes stage tables in place (an update's splice)."""
        self.con.execute(sql).fetchall()

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def query(self, sql: str, params: list[object] | dict[str, object] | None = None) -> pa.Table:
        return self.con.sql(sql, params=params or None).to_arrow_table()

    def scalar(self, sql: str) -> object:
        rows = self.con.execute(sql).fetchall()
        return rows[0][0] if rows else None


def memory_connection(
    lines: pa.Table, attributes: pa.Table | None, rates: pa.Table | None
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the canonical input relations registered."""
    import duckdb
    import pyarrow as pa

    from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, FX_RATES, column_names

    con = duckdb.connect()
    con.register("revenue_lines", lines)
    con.register(
        "customer_attributes", attributes if attributes is not None else _empty(CUSTOMER_ATTRIBUTES)
    )
    empty_rates = pa.table({c: pa.array([], pa.string()) for c in column_names(FX_RATES)})
    con.register("fx_rates", rates if rates is not None else empty_rates)
    con.register("customers", _empty(CUSTOMERS))
    return con


def _empty(columns: tuple[tuple[str, str], ...]) -> pa.Table:
    import pyarrow as pa

    return pa.table({name: pa.array([], pa.string()) for name, _ in columns})
