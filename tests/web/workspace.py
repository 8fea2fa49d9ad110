"""A tiny hand-written workspace whose every figure is worked out by hand in the tests.

Five customers, EUR only, month grain, read as of 2024-04-30 (amounts in cents of MRR):

    customer  plan   country  lines
    c1 Alpha  pro    DE       10000 from 2023-04-01; +5000 from 2024-03-01 (more seats)
    c2 Beta   basic  AT       5000 from 2023-04-01 to 2024-03-15 (voluntary cancellation)
    c3 Gamma  pro    CH       20000 from 2023-04-01 to 2024-04-01; then 12000 from 2024-04-01
    c4 Delta  basic  DE       3000 from 2024-02-10
    c5 Eps    basic  DE       4000 from 2023-12-01 to 2024-02-01 (failed payment); 4000 again
                              from 2024-04-05

MRR at month ends: 2023-04..2023-11 35000; 2023-12 and 2024-01 39000; 2024-02 38000;
2024-03 38000; 2024-04 34000.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from nrr.schema import CUSTOMER_ATTRIBUTES, CUSTOMERS, REVENUE_LINES
from nrr.store import open_workspace

AS_OF = date(2024, 4, 30)
SOURCE = "file:billing.csv"

_TYPES = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BIGINT": pa.int64()}

# (customer, start, end, mrr_minor, plan, quantity, churn_reason)
LINES: tuple[tuple[str, date, date | None, int, str, int, str | None], ...] = (
    ("c1", date(2023, 4, 1), None, 10000, "pro", 1, None),
    ("c1", date(2024, 3, 1), None, 5000, "pro", 1, None),
    ("c2", date(2023, 4, 1), date(2024, 3, 15), 5000, "basic", 1, "voluntary"),
    ("c3", date(2023, 4, 1), date(2024, 4, 1), 20000, "pro", 2, None),
    ("c3", date(2024, 4, 1), None, 12000, "pro", 1, None),
    ("c4", date(2024, 2, 10), None, 3000, "basic", 1, None),
    ("c5", date(2023, 12, 1), date(2024, 2, 1), 4000, "basic", 1, "involuntary"),
    ("c5", date(2024, 4, 5), None, 4000, "basic", 1, None),
)
NAMES = {"c1": "Alpha GmbH", "c2": "Beta AG", "c3": "Gamma SA", "c4": "Delta Ltd", "c5": "Eps & Co"}
COUNTRIES = {"c1": "DE", "c2": "AT", "c3": "CH", "c4": "DE", "c5": "DE"}


def _table(columns: tuple[tuple[str, str], ...], rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([(name, _TYPES[typ]) for name, typ in columns])
    return pa.Table.from_pylist(rows, schema=schema)


def _line_rows() -> list[dict[str, Any]]:
    rows = []
    for n, (cid, start, end, mrr, plan, qty, reason) in enumerate(LINES, start=2):
        rows.append({
            "line_id": f"billing.csv:{n}", "source": SOURCE, "source_ref": f"billing.csv:{n}",
            "customer_id": cid, "start_date": start, "end_date": end, "mrr_minor": mrr,
            "currency": "EUR", "kind": "recurring", "discount_duration": None, "plan": plan,
            "quantity": qty, "cancel_requested_date": None, "past_due_since": None,
            "churn_reason": reason,
        })  # fmt: skip
    return rows


def _raw_rows(lines: list[dict[str, Any]]) -> pa.Table:
    payloads = [
        json.dumps({"customer": r["customer_id"], "amount": r["mrr_minor"] / 100,
                    "start": r["start_date"].isoformat(), "plan": r["plan"]})
        for r in lines
    ]  # fmt: skip
    return pa.table({
        "source": [SOURCE] * len(lines),
        "source_ref": [r["source_ref"] for r in lines],
        "import_id": pa.array([1] * len(lines), pa.int32()),
        "payload": payloads,
    })  # fmt: skip


def build(folder: Path) -> Path:
    """Create the workspace in ``folder`` and publish its snapshot; returns the folder."""
    lines = _line_rows()
    customers = [{"customer_id": c, "name": n, "source": SOURCE} for c, n in NAMES.items()]
    attributes = [
        {"customer_id": c, "key": "country", "value": v, "source": SOURCE}
        for c, v in COUNTRIES.items()
    ]
    with open_workspace(folder) as ws:
        ws.replace_source(
            SOURCE,
            lines=_table(REVENUE_LINES, lines),
            customers=_table(CUSTOMERS, customers),
            attributes=_table(CUSTOMER_ATTRIBUTES, attributes),
            raw=_raw_rows(lines),
        )
        ws.publish_snapshot()
    return folder


def build_peer(folder: Path) -> Path:
    """Another company for the Portfolio page: b1 pays 10000 from 2023-01-01 and stays."""
    line = {**_line_rows()[0], "line_id": "peer.csv:2", "source_ref": "peer.csv:2",
            "customer_id": "b1", "start_date": date(2023, 1, 1),
            "source": "file:peer.csv"}  # fmt: skip
    with open_workspace(folder) as ws:
        ws.replace_source("file:peer.csv", lines=_table(REVENUE_LINES, [line]))
        ws.publish_snapshot()
    return folder
