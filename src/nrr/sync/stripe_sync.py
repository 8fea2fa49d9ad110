"""Sync one Stripe account into a workspace: a full backfill, then incremental runs via events.

Crash safety: every page of objects is stored together with the cursor that follows it, so a sync
killed at any moment resumes where it stopped; upserts by id make replays harmless. The events
cursor advances only after every object the events name has been fetched again and stored.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nrr.sources import stripe_fetch, stripe_lines
from nrr.sources.stripe_fetch import RESOURCES, Resource, StripeSource, StripeSourceError
from nrr.sync import stripe_derive
from nrr.sync.stripe_store import ALL, RawStore

if TYPE_CHECKING:
    from nrr.store import Workspace

Progress = Callable[[str, int], None]
EVENT_RETENTION = 30 * 86_400  # Stripe keeps events for 30 days
RETENTION_MARGIN = 3_600
OVERLAP = 300  # seconds of events read again: events can land a little out of order
FETCH_THREADS = 8
# Pages are stored together with the cursor after them; grouping a few pages into one
# transaction keeps that guarantee and saves most of the per-commit cost.
COMMIT_EVERY = 500
SYNCED_KINDS = {r.kind for r in RESOURCES}
CATALOG_KINDS = {"price", "product", "coupon"}


class ModeMismatch(StripeSourceError):
    """A live key on a test-mode workspace or the other way round."""


@dataclass
class SyncReport:
    """What one sync did; ``to_json`` is what ``--json`` prints."""

    mode: str = "incremental"
    livemode: bool = False
    objects: dict[str, int] = field(default_factory=dict)
    events: int = 0
    excluded_test_clock: int = 0
    excluded_other_mode: int = 0
    subscriptions_derived: int = 0
    lines: int = 0
    requests: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds spent in each step

    @property
    def total_objects(self) -> int:
        return sum(self.objects.values())

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "livemode": self.livemode, "objects": dict(self.objects),
                "total_objects": self.total_objects, "events": self.events,
                "excluded_test_clock": self.excluded_test_clock,
                "excluded_other_mode": self.excluded_other_mode,
                "subscriptions_derived": self.subscriptions_derived, "lines": self.lines,
                "requests": self.requests, "seconds": round(self.seconds, 3),
                "phases": {k: round(v, 3) for k, v in self.phases.items()},
                "warnings": list(self.warnings)}  # fmt: skip


def sync_stripe(workspace: Workspace, api_key: str, *, api_base: str | None = None,
                full: bool = False, progress: Progress | None = None, now: float | None = None,
                page_size: int = stripe_fetch.PAGE_SIZE) -> SyncReport:
    """Bring the workspace's Stripe data up to date; see docs/stripe.md."""
    started = time.perf_counter()
    source = StripeSource(api_key, api_base=api_base, page_size=page_size)
    store = RawStore.attach(workspace)
    try:
        run = _Run(source, store, stripe_fetch.key_mode(api_key), progress or _quiet)
        with run.phase("fetch"):
            run.go(full=full, now=time.time() if now is None else now)
        with run.phase("derive"):
            run.report.subscriptions_derived = stripe_derive.derive_pending(store)
        with run.phase("publish"):
            row = _import_row(workspace, run)
            run.report.lines = stripe_derive.publish(workspace, store, row)
        with run.phase("snapshot"):
            workspace.publish_snapshot()
    finally:
        store.detach()
    run.report.requests = source.requests
    run.report.seconds = time.perf_counter() - started
    return run.report


def _quiet(kind: str, count: int) -> None:
    return None


def _import_row(workspace: Workspace, run: _Run) -> dict[str, Any]:
    return {"import_id": workspace.next_import_id(), "source": stripe_lines.SOURCE,
            "kind": f"stripe-{run.report.mode}", "file_name": None, "content_hash": None,
            "row_count": run.report.total_objects,
            "imported_at": datetime.now(UTC).replace(tzinfo=None)}  # fmt: skip


class _Run:
    def __init__(self, source: StripeSource, store: RawStore, mode: str,
                 progress: Progress) -> None:
        self.source, self.store, self.key_mode, self.progress = source, store, mode, progress
        self.report = SyncReport(livemode=mode == "live")

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.report.phases[name] = time.perf_counter() - started

    def go(self, *, full: bool, now: float) -> None:
        state = self.store.state()
        self._check_mode(state)
        if "permissions_checked" not in state:
            self._check_permissions()
        cursor = state.get("events.cursor")
        stale = cursor is not None and now - int(cursor) > EVENT_RETENTION - RETENTION_MARGIN
        if full or cursor is None or stale or state.get("full.pending") == "1":
            if stale:
                self.report.warnings.append("the last sync is older than Stripe's 30-day event "
                                            "retention: everything was listed again")
            self.report.mode = "full"
            self._full(state, restart=full and state.get("full.pending") != "1")
        self._incremental()

    # -- guards --------------------------------------------------------------------------------
    def _check_mode(self, state: dict[str, str]) -> None:
        stored = state.get("mode")
        if stored is not None and stored != self.key_mode:
            raise ModeMismatch(
                f"this workspace holds Stripe {stored}-mode data and the key is a {self.key_mode}"
                "-mode key; live and test data never mix in one workspace: use another "
                "--workspace for it")
        if stored is None:
            self.store.set_state({"mode": self.key_mode})

    def _check_permissions(self) -> None:
        """Read one object of each type first: a missing permission fails loudly, by name."""
        for resource in (*RESOURCES, stripe_fetch.EVENTS):
            self.source.check_access(resource)
        self.store.set_state({"permissions_checked": "1"})

    def _keep(self, record: dict[str, Any]) -> bool:
        if record.get("test_clock"):
            self.report.excluded_test_clock += 1
            return False
        if "livemode" in record and bool(record["livemode"]) != (self.key_mode == "live"):
            self.report.excluded_other_mode += 1
            return False
        return True

    # -- full backfill -------------------------------------------------------------------------
    def _full(self, state: dict[str, str], *, restart: bool) -> None:
        if restart or state.get("full.pending") != "1":
            state = self._begin_full(state)
        generation = int(state["generation"])
        for resource in RESOURCES:
            if state.get(f"full.{resource.kind}.done") != "1":
                self._list_all(resource, state.get(f"full.{resource.kind}.cursor"), generation)
        self._finish_full(state, generation)

    def _begin_full(self, state: dict[str, str]) -> dict[str, str]:
        newest = self.source.newest_event_time()
        values: dict[str, str | None] = {
            "full.pending": "1", "full.events_from": str(newest or 0),
            "generation": str(int(state.get("generation", "0")) + 1)}  # fmt: skip
        for resource in RESOURCES:
            values[f"full.{resource.kind}.cursor"] = None
            values[f"full.{resource.kind}.done"] = None
        self.store.set_state(values, pending=[ALL])
        return self.store.state()

    def _list_all(self, resource: Resource, cursor: str | None, generation: int) -> None:
        kind, count = resource.kind, 0
        created: dict[str, int] | None = None
        while True:
            try:
                batch: list[stripe_fetch.Page] = []
                for page in self.source.pages(resource, starting_after=cursor, created=created):
                    batch.append(page)
                    if sum(len(p.records) for p in batch) >= COMMIT_EVERY or not page.has_more:
                        count += self._store_pages(batch, generation)
                        cursor, batch = page.cursor, []
                        self.progress(kind, count)
                return
            except stripe_fetch.CursorGone:
                # The cursor's object was deleted mid-walk: continue from its creation time.
                created = {"lte": self._created_of(kind, cursor)}
                cursor = None

    def _created_of(self, kind: str, object_id: str | None) -> int:
        row = self.store.con.execute(
            "SELECT created FROM stripe_raw.objects WHERE kind = ? AND id = ?",
            [kind, object_id]).fetchone()
        return int(row[0]) if row and row[0] is not None else 2**31

    def _store_pages(self, pages: list[stripe_fetch.Page], generation: int) -> int:
        """Store consecutive pages with the cursor after the last one, in one transaction."""
        kind, last = pages[-1].kind, pages[-1]
        kept = [r for page in pages for r in page.records if self._keep(r)]
        self.store.commit(kind, kept, generation, {
            f"full.{kind}.cursor": last.cursor,
            f"full.{kind}.done": None if last.has_more else "1"})
        self.report.objects[kind] = self.report.objects.get(kind, 0) + len(kept)
        return len(kept)

    def _finish_full(self, state: dict[str, str], generation: int) -> None:
        vanished = self.store.mark_vanished(SYNCED_KINDS, generation)
        for kind, object_id in vanished:
            stub = {"id": object_id, "object": kind, "deleted": True}
            self.store.commit(kind, [stub], generation, {})
        values: dict[str, str | None] = {"events.cursor": state["full.events_from"],
                                         "full.pending": None, "full.events_from": None}
        for resource in RESOURCES:
            values[f"full.{resource.kind}.cursor"] = None
            values[f"full.{resource.kind}.done"] = None
        self.store.set_state(values, pending=[ALL])

    # -- incremental via events ----------------------------------------------------------------
    def _incremental(self) -> None:
        since = int(self.store.state()["events.cursor"])
        changed: dict[tuple[str, str], None] = {}
        newest = since
        for page in self.source.pages(stripe_fetch.EVENTS, created={"gte": max(since - OVERLAP,
                                                                                0)}):
            for event in page.records:
                newest = max(newest, int(event.get("created") or 0))
                for key in _changed_objects(event):
                    changed[key] = None
                self.report.events += 1
            self.progress("event", self.report.events)
        self._refetch(list(changed))
        self.store.set_state({"events.cursor": str(newest)})

    def _refetch(self, keys: list[tuple[str, str]]) -> None:
        generation = int(self.store.state().get("generation", "0"))
        batch = 100
        with ThreadPoolExecutor(FETCH_THREADS) as pool:
            for start in range(0, len(keys), batch):
                chunk = keys[start:start + batch]
                fetched = list(pool.map(lambda k: (k[0], self.source.retrieve(*k)), chunk))
                self._store_fetched(fetched, generation)

    def _store_fetched(self, fetched: list[tuple[str, dict[str, Any]]], generation: int) -> None:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for kind, record in fetched:
            if self._keep(record):
                by_kind.setdefault(kind, []).append(self.store.with_known_payload(kind, record))
        for kind, records in by_kind.items():
            self.store.commit(kind, records, generation, {}, pending=_affected(kind, records))
            self.report.objects[kind] = self.report.objects.get(kind, 0) + len(records)
            self.progress(kind, self.report.objects[kind])


def _changed_objects(event: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """The synced objects an event says changed (re-fetched by id: payloads may be truncated)."""
    obj = (event.get("data") or {}).get("object") or {}
    kind, object_id = obj.get("object"), obj.get("id")
    if kind == "plan":
        kind = "price"
    if kind in SYNCED_KINDS and object_id:
        yield str(kind), str(object_id)
    elif kind == "discount":
        for field_name, target in (("subscription", "subscription"), ("customer", "customer"),
                                   ("invoice", "invoice")):
            ref = stripe_lines.ref_id(obj.get(field_name))
            if ref:
                yield target, ref


def _affected(kind: str, records: list[dict[str, Any]]) -> list[str]:
    """Subscriptions whose revenue lines depend on these changed objects."""
    if kind in CATALOG_KINDS:
        return [ALL]
    if kind == "subscription":
        return [str(r["id"]) for r in records]
    if kind == "invoice":
        return [s for r in records if (s := stripe_lines.invoice_subscription(r))]
    return []
