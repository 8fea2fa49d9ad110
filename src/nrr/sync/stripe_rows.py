"""Stripe objects as the rows that store them: Arrow tables, built without the database.

``prepare`` is pure Python (it may run on any thread while the store writes the previous page):
the objects themselves as JSON text, each invoice line as a row of its own with the small record
the derivation reads (``stripe_lines.line_facts``), customers' names and attributes, and every
expanded discount object found on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nrr.sources import stripe_lines


@dataclass(frozen=True)
class Rows:
    """Rows for one table; rows with the same ``key`` (within ``kind``) are replaced."""

    table: str
    data: Any  # a pyarrow Table
    key: str | None = None
    kind: str | None = None
    replaces: tuple[str, list[str]] | None = None  # (column, values): rows to delete first
    # The oldest ``created`` among the objects (None: unknown). An object's creation time never
    # changes, so the rows these replace have ``created`` >= it (or none): the delete skips
    # every older part of the table by its statistics, which is most of it for new objects.
    since: int | None = None


def prepare(kind: str, records: list[dict[str, Any]], generation: int) -> list[Rows]:
    """The rows that upsert these objects (no database access: safe on any thread)."""
    if not records:
        return []
    import pyarrow as pa

    ids = [str(r["id"]) for r in records]
    since = oldest_created(records)
    out = [Rows("objects", pa.table({
        "kind": pa.array([kind] * len(records), pa.string()),
        "id": ids,
        "created": pa.array([r.get("created") for r in records], pa.int64()),
        "deleted": [bool(r.get("deleted")) for r in records],
        "generation": pa.array([generation] * len(records), pa.int32()),
        "payload": _json_column(_without_lines(r) if kind == "invoice" else r
                                for r in records),
    }), key="id", kind=kind, since=since)]  # fmt: skip
    if kind == "invoice":
        out.append(_facts_rows(records, ids, since))
    elif kind == "customer":
        out.append(_customer_rows(records))
    if kind in ("invoice", "subscription", "customer"):
        out += _discount_rows(records)
    return out


def oldest_created(records: Iterable[Mapping[str, Any]]) -> int | None:
    """The smallest ``created`` of these objects; None when one of them has none."""
    oldest: int | None = None
    for record in records:
        created = record.get("created")
        if not isinstance(created, int) or isinstance(created, bool):
            return None
        oldest = created if oldest is None or created < oldest else oldest
    return oldest


def is_stub(record: Mapping[str, Any]) -> bool:
    """A deleted object as Stripe answers for it: id, object, deleted and nothing else."""
    return bool(record.get("deleted")) and len(record) <= 3


def dumps(obj: Any) -> str:
    """Compact JSON text (orjson: several times faster than json on large invoices)."""
    import orjson

    return orjson.dumps(obj).decode()


def _json_column(values: Iterable[Any]) -> Any:
    """An Arrow string column of JSON texts: from orjson's UTF-8 bytes, never decoded to str
    (building an Arrow column from Python strings costs five times as much)."""
    import orjson
    import pyarrow as pa

    return pa.array([None if v is None else orjson.dumps(v) for v in values], pa.string())


def _facts_rows(invoices: list[dict[str, Any]], ids: list[str], since: int | None) -> Rows:
    """Every line of these invoices (replacing what was stored for them), with its fact."""
    import pyarrow as pa

    columns: dict[str, list[Any]] = {
        name: []
        for name in ("invoice", "created", "position", "subscription", "line_id", "fact", "payload")
    }
    for invoice in invoices:
        if invoice.get("deleted"):
            continue
        facts = {f["id"]: f for f in stripe_lines.line_facts(invoice) if f["subscription"]}
        lines = (invoice.get("lines") or {}).get("data") or []
        for position, line in enumerate(lines):
            fact = facts.get(line["id"])
            columns["invoice"].append(invoice["id"])
            columns["created"].append(invoice.get("created"))
            columns["position"].append(position)
            columns["subscription"].append(fact["subscription"] if fact else None)
            columns["line_id"].append(str(line["id"]))
            columns["fact"].append(fact)
            columns["payload"].append(line)
    table = pa.table(
        {
            **columns,
            "created": pa.array(columns["created"], pa.int64()),
            "position": pa.array(columns["position"], pa.int32()),
            "subscription": pa.array(columns["subscription"], pa.string()),
            "fact": _json_column(columns["fact"]),
            "payload": _json_column(columns["payload"]),
        }
    )
    return Rows("line_facts", table, replaces=("invoice", ids), since=since)


def _customer_rows(customers: list[dict[str, Any]]) -> Rows:
    import pyarrow as pa

    return Rows("customer_rows", pa.table({
        "customer_id": [str(c["id"]) for c in customers],
        "name": [stripe_lines.customer_row(c)["name"] for c in customers],
        "attributes": [dumps({a["key"]: a["value"] for a in
                              stripe_lines.customer_attributes(c)}) for c in customers],
    }), key="customer_id")  # fmt: skip


def _discount_rows(records: list[dict[str, Any]]) -> list[Rows]:
    import pyarrow as pa

    found = stripe_lines.discount_objects(records)
    if not found:
        return []
    return [Rows("discounts", pa.table({
        "id": pa.array(list(found), pa.string()),
        "payload": _json_column(found.values()),
    }), key="id")]  # fmt: skip


def _without_lines(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice as stored: its lines live in ``line_facts``, one row each, not twice."""
    lines = invoice.get("lines")
    if not isinstance(lines, dict):
        return invoice
    return {**invoice, "lines": {**lines, "data": [], "stored_in": "line_facts"}}
