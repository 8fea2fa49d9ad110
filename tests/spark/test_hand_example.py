"""A four-month company worked out by hand, computed on Spark: every figure pinned."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

from nrr.api import _rates_for
from nrr.engines import spark as spark_engine
from nrr.engines.results import Results
from nrr.schema import REVENUE_LINES, Settings, column_names

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

AS_OF = date(2025, 4, 15)
JAN, FEB, MAR, APR = 24300, 24301, 24302, 24303


def _line(n: int, customer: str, start: date, end: date | None, mrr: int,
          kind: str = "recurring", duration: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"line_id": f"hand.csv:{n}", "source": "file:hand.csv", "source_ref": f"hand.csv:{n}",
            "customer_id": customer, "start_date": start, "end_date": end, "mrr_minor": mrr,
            "currency": "EUR", "kind": kind, "discount_duration": duration, "plan": "team",
            "quantity": 1, "cancel_requested_date": None, "past_due_since": None,
            "churn_reason": "voluntary" if end else None}  # fmt: skip


# A: 1,200 from January, 600 more from March.  B: 2,500 until 20 February, back at 1,800 in April.
# C: 4,000 from 5 February, with a forever discount of 400 from 15 March.
LINES = [
    _line(1, "A", date(2025, 1, 10), None, 1200),
    _line(2, "A", date(2025, 3, 1), None, 600),
    _line(3, "B", date(2025, 1, 1), date(2025, 2, 20), 2500),
    _line(4, "B", date(2025, 4, 1), None, 1800),
    _line(5, "C", date(2025, 2, 5), None, 4000),
    _line(6, "C", date(2025, 3, 15), None, -400, kind="discount", duration="forever"),
]


@pytest.fixture(scope="module")
def results(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Results:
    schema = pa.schema([(c, {"VARCHAR": pa.string(), "DATE": pa.date32(), "BIGINT": pa.int64()}[t])
                        for c, t in REVENUE_LINES])  # fmt: skip
    lines = pa.Table.from_pylist(LINES, schema=schema).select(column_names(REVENUE_LINES))
    return spark_engine.compute_tables(
        spark, as_of=AS_OF, rates_for=_rates_for(Settings()), lines=lines,
        staging=tmp_path_factory.mktemp("hand"),
    )  # fmt: skip


def test_bridge(results: Results) -> None:
    keys = ("p", "start_mrr", "new", "reactivation", "expansion", "contraction", "churn", "fx",
            "end_mrr", "customers_start", "customers_end")  # fmt: skip
    assert [tuple(row[k] for k in keys) for row in results.bridge().to_pylist()] == [
        (JAN, 0, 3700, 0, 0, 0, 0, 0, 3700, 0, 2),
        (FEB, 3700, 4000, 0, 0, 0, 2500, 0, 5200, 2, 2),
        (MAR, 5200, 0, 0, 600, 400, 0, 0, 5400, 2, 2),
        (APR, 5400, 0, 1800, 0, 0, 0, 0, 7200, 2, 3),
    ]


def test_one_month_retention(results: Results) -> None:
    keys = ("p", "start_mrr", "end_mrr", "gross_mrr", "customers_start", "customers_retained")
    assert [tuple(row[k] for k in keys) for row in results.retention(1).to_pylist()] == [
        (FEB, 3700, 1200, 1200, 2, 1),
        (MAR, 5200, 5400, 4800, 2, 2),
        (APR, 5400, 5400, 5400, 2, 2),
    ]


def test_movements_of_b(results: Results) -> None:
    moves = [(m["p"], m["movement"], m["amount"]) for m in results.movements().to_pylist()
             if m["customer_id"] == "B"]  # fmt: skip
    assert moves == [(JAN, "new", 2500), (FEB, "churn", 2500), (APR, "reactivation", 1800)]

