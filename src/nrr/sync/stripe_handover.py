"""The raw records of an incremental hand-over, from what this process just stored.

Every revenue line points at the Stripe object behind it (``raw_records``: the invoice line for
``in_…/il_…``, the subscription for ``sub_…/si_…``). After an incremental sync most lines of a
changed subscription still come from invoices that did not change, whose rows the workspace
already has. Reading every such payload back from ``stripe.duckdb`` (scattered over a year of
invoices) cost more than the rest of the hand-over; so the objects this process stored are
remembered as it stores them (``Handover.record``), and only the rows that differ are touched:
those whose object was stored again, and refs that came or went.

This is only right when the workspace matched ``stripe.duckdb`` before this run (nothing left
unpublished by an interrupted one): the caller checks that and otherwise copies the rows with SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nrr.sources.stripe_lines import SOURCE
from nrr.sync.stripe_rows import Rows
from nrr.sync.stripe_store import ALIAS

if TYPE_CHECKING:
    import duckdb


@dataclass
class Handover:
    """Subscriptions and invoice lines (with facts) stored by this process, as JSON text."""

    subscriptions: dict[str, str] = field(default_factory=dict)
    invoices: set[str] = field(default_factory=set)
    lines: dict[str, str] = field(default_factory=dict)  # "in_…/il_…" -> payload

    def record(self, rows: list[Rows]) -> None:
        """Remember what a committed write stored."""
        for part in rows:
            if part.table == "objects" and part.kind == "subscription":
                data = part.data.select(["id", "payload"]).to_pydict()
                self.subscriptions.update(zip(data["id"], data["payload"], strict=True))
            elif part.table == "line_facts":
                if part.replaces is not None:
                    self.invoices.update(part.replaces[1])
                data = part.data.select(["invoice", "line_id", "fact", "payload"]).to_pydict()
                for invoice, line, fact, payload in zip(*data.values(), strict=True):
                    if fact is not None:
                        self.lines[f"{invoice}/{line}"] = payload

    def stored(self, ref: str) -> bool:
        """Whether the object behind ``ref`` was stored by this process."""
        owner = ref.split("/", 1)[0]
        return owner in self.invoices or owner in self.subscriptions


def replace_raw(
    con: duckdb.DuckDBPyConnection, import_id: int, lines: Any, handover: Handover
) -> None:
    """Update the raw records of the changed subscriptions' ``lines`` (an Arrow table)."""
    import pyarrow as pa

    new = set(lines.column("source_ref").to_pylist())
    old = {r for (r,) in con.execute(f"SELECT DISTINCT source_ref FROM {ALIAS}.retired").fetchall()}
    drop = (old - new) | {r for r in new if handover.stored(r)}
    _with(
        con,
        "_refs",
        sorted(drop),
        "DELETE FROM raw_records WHERE source = $source AND source_ref IN (SELECT ref FROM _refs)",
    )
    # The workspace held exactly the old lines' rows (each ref belongs to one subscription):
    # those not dropped stay, without asking the table.
    kept = (new & old) - drop
    payloads = _payloads(con, sorted(new - kept), handover)
    missing = sorted(payloads)
    table = pa.table(
        {
            "ref": pa.array(missing, pa.string()),
            "payload": pa.array([payloads[r] for r in missing], pa.string()),
        }
    )
    con.register("_raw", table)
    try:
        con.execute(
            "INSERT INTO raw_records SELECT $source, ref, $import::INTEGER, payload FROM _raw",
            {"source": SOURCE, "import": import_id},
        ).fetchall()
    finally:
        con.unregister("_raw")


def _payloads(
    con: duckdb.DuckDBPyConnection, refs: list[str], handover: Handover
) -> dict[str, str]:
    """The JSON behind each ref: remembered, else read (a line newly counted, say)."""
    found: dict[str, str] = {}
    lines, subs = [], []
    for ref in refs:
        owner = ref.split("/", 1)[0]
        if owner.startswith("sub_"):
            if owner in handover.subscriptions:
                found[ref] = handover.subscriptions[owner]
            else:
                subs.append(ref)
        elif ref in handover.lines:
            found[ref] = handover.lines[ref]
        else:
            lines.append(ref)
    if lines:
        found.update(
            _with(
                con,
                "_refs",
                lines,
                f"""
            SELECT invoice || '/' || line_id, payload FROM {ALIAS}.line_facts
            WHERE invoice || '/' || line_id IN (SELECT ref FROM _refs)""",
            )
        )
    if subs:
        owners = {r: r.split("/", 1)[0] for r in subs}
        payload = dict(
            _with(
                con,
                "_refs",
                sorted(set(owners.values())),
                f"""
            SELECT id, payload FROM {ALIAS}.objects
            WHERE kind = 'subscription' AND id IN (SELECT ref FROM _refs)""",
            )
        )
        found.update({r: payload[o] for r, o in owners.items()})
    return found


def _with(
    con: duckdb.DuckDBPyConnection, name: str, refs: list[str], sql: str
) -> list[tuple[Any, ...]]:
    """Run ``sql`` with ``refs`` registered as a one-column table ``name`` (column ``ref``)."""
    import pyarrow as pa

    if not refs:
        return []
    con.register(name, pa.table({"ref": pa.array(refs, pa.string())}))
    try:
        params = {"source": SOURCE} if "$source" in sql else {}
        return con.execute(sql, params).fetchall()
    finally:
        con.unregister(name)
