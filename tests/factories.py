"""Tiny builders of canonical tables for hand-computed tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow as pa

from nrr.schema import CUSTOMER_ATTRIBUTES, REVENUE_LINES

_TYPES = {"DATE": pa.date32(), "BIGINT": pa.int64(), "VARCHAR": pa.string()}


def line(customer: str, start: date, end: date | None, mrr: int, **extra: Any) -> dict[str, Any]:
    """One revenue line; ``extra`` sets any other canonical column."""
    row: dict[str, Any] = {
        "line_id": f"{customer}:{start.isoformat()}:{mrr}:{len(extra)}",
        "source": "test",
        "source_ref": f"test:{customer}",
        "customer_id": customer,
        "start_date": start,
        "end_date": end,
        "mrr_minor": mrr,
        "currency": "EUR",
        "kind": "recurring",
        "plan": "Pro",
    }
    row.update(extra)
    return row


def lines_table(rows: list[dict[str, Any]]) -> pa.Table:
    ids: dict[str, int] = {}
    for r in rows:  # line ids must be unique; number duplicates
        n = ids.get(r["line_id"], 0)
        ids[r["line_id"]] = n + 1
        if n:
            r["line_id"] = f"{r['line_id']}#{n}"
    return pa.table(
        {name: pa.array([r.get(name) for r in rows], _TYPES[typ]) for name, typ in REVENUE_LINES}
    )


def attributes_table(rows: list[tuple[str, str, str]]) -> pa.Table:
    data = [{"customer_id": c, "key": k, "value": v, "source": "test"} for c, k, v in rows]
    return pa.table(
        {name: pa.array([r[name] for r in data], _TYPES[typ]) for name, typ in CUSTOMER_ATTRIBUTES}
    )


def rates_table(rows: list[tuple[str, int, str]]) -> pa.Table:
    return pa.table(
        {
            "currency": pa.array([r[0] for r in rows], pa.string()),
            "p": pa.array([r[1] for r in rows], pa.int32()),
            "rate": pa.array([Decimal(r[2]) for r in rows], pa.decimal128(18, 10)),
        }
    )


def month(year: int, month: int) -> int:
    """Period index of a month."""
    return year * 12 + month - 1
