"""Sync one Stripe account into a workspace: a full backfill, then incremental runs via events.

Crash safety: every page of objects is stored together with the cursor that follows it, so a sync
killed at any moment resumes where it stopped; upserts by id make replays harmless. The events
cursor advances only after every object the events name has been fetched again and stored.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nrr.sources import stripe_fetch, stripe_lines
from nrr.sources.stripe_fetch import RESOURCES, Resource, StripeSource, StripeSourceError
from nrr.sync import stripe_derive
from nrr.sync.stripe_handover import Handover
from nrr.sync.stripe_rows import is_stub
from nrr.sync.stripe_store import ALL, RawStore
from nrr.sync.stripe_writer import Batch, Writer

if TYPE_CHECKING:
    from nrr.store import Workspace

Progress = Callable[[str, int], None]
EVENT_RETENTION = 30 * 86_400  # Stripe keeps events for 30 days
RETENTION_MARGIN = 3_600
OVERLAP = 300  # seconds of events read again: events can land a little out of order
FETCH_THREADS = 8
# Pages are stored together with the cursor after them; grouping pages into one transaction
# keeps that guarantee and saves most of the per-commit cost (a commit writes and syncs the WAL).
COMMIT_EVERY = 2_000
STORE_EVERY = 500  # re-fetched objects per transaction: small groups keep storing in step
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


def sync_stripe(
    workspace: Workspace,
    api_key: str,
    *,
    api_base: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    now: float | None = None,
    page_size: int = stripe_fetch.PAGE_SIZE,
) -> SyncReport:
    """Bring the workspace's Stripe data up to date; see docs/stripe.md."""
    started = time.perf_counter()
    source = StripeSource(api_key, api_base=api_base, page_size=page_size)
    store = RawStore.attach(workspace)
    try:
        run = _Run(source, store, stripe_fetch.key_mode(api_key), progress or _quiet)
        with _collector_paused():
            with run.phase("fetch"):
                run.go(full=full, now=time.time() if now is None else now)
            with run.phase("derive"):
                run.report.subscriptions_derived = stripe_derive.derive_pending(store, run.fresh)
            with run.phase("publish"):
                row = _import_row(workspace, run)
                run.report.lines = stripe_derive.publish(workspace, store, row)
            with run.phase("snapshot"):
                workspace.publish_snapshot()
    finally:
        store.detach()
        source.close()
    run.report.requests = source.requests
    run.report.seconds = time.perf_counter() - started
    return run.report


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the sync, then on again.

    Pages and derived rows hold no reference cycles, yet every few thousand allocations the
    collector walks all of them again (about a quarter of the derivation's time), and one full
    collection over what a process has loaded (DuckDB, Arrow, the SDK) can cost a tenth of a
    second in the middle of an incremental sync. Nothing is lost by waiting: the collector
    collects whatever cycles there are once it runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _quiet(kind: str, count: int) -> None:
    return None


def _import_row(workspace: Workspace, run: _Run) -> dict[str, Any]:
    return {"import_id": workspace.next_import_id(), "source": stripe_lines.SOURCE,
            "kind": f"stripe-{run.report.mode}", "file_name": None, "content_hash": None,
            "row_count": run.report.total_objects,
            "imported_at": datetime.now(UTC).replace(tzinfo=None)}  # fmt: skip


class _Run:
    def __init__(
        self, source: StripeSource, store: RawStore, mode: str, progress: Progress
    ) -> None:
        self.source, self.store, self.key_mode, self.progress = source, store, mode, progress
        self.report = SyncReport(livemode=mode == "live")
        self.fresh: dict[str, dict[str, Any]] = {}  # subscriptions re-fetched by this run

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
                self.report.warnings.append(
                    "the last sync is older than Stripe's 30-day event "
                    "retention: everything was listed again"
                )
            self.report.mode = "full"
            self._full(state, restart=full and state.get("full.pending") != "1")
        elif self.store.published_everything():
            # Remember what is stored from here on: the hand-over need not read it back.
            self.store.handover = Handover()
        self._incremental()

    # -- guards --------------------------------------------------------------------------------
    def _check_mode(self, state: dict[str, str]) -> None:
        stored = state.get("mode")
        if stored is not None and stored != self.key_mode:
            raise ModeMismatch(
                f"this workspace holds Stripe {stored}-mode data and the key is a {self.key_mode}"
                "-mode key; live and test data never mix in one workspace: use another "
                "--workspace for it"
            )
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
        with Writer(self.store) as writer:
            for resource in RESOURCES:
                if state.get(f"full.{resource.kind}.done") != "1":
                    self._list_all(
                        resource, state.get(f"full.{resource.kind}.cursor"), generation, writer
                    )
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

    def _list_all(
        self, resource: Resource, cursor: str | None, generation: int, writer: Writer
    ) -> None:
        """Store every page, consecutive pages grouped with the cursor after the last one.

        Pages are prepared here while the writer stores the previous group, and fetched ahead
        by the source meanwhile.
        """
        kind, created = resource.kind, None
        while True:
            batch = Batch()
            try:
                for page in self.source.pages(resource, starting_after=cursor, created=created):
                    kept = [r for r in page.records if self._keep(r)]
                    if any(is_stub(r) for r in kept):
                        writer.wait()
                        kept = [self.store.with_known_payload(kind, r) for r in kept]
                    batch.add(self.store.prepare(kind, kept, generation), len(kept))
                    if batch.objects >= COMMIT_EVERY or not page.has_more:
                        writer.submit(
                            batch.merged(),
                            {
                                f"full.{kind}.cursor": page.cursor,
                                f"full.{kind}.done": None if page.has_more else "1",
                            },
                        )
                        self._count(kind, batch.objects)
                        cursor, batch = page.cursor, Batch()
                return
            except stripe_fetch.CursorGone:
                # The cursor's object was deleted mid-walk: continue from its creation time.
                writer.wait()
                created = {"lte": self._created_of(kind, cursor)}
                cursor = None

    def _count(self, kind: str, stored: int) -> None:
        self.report.objects[kind] = self.report.objects.get(kind, 0) + stored
        self.progress(kind, self.report.objects[kind])

    def _created_of(self, kind: str, object_id: str | None) -> int:
        rows = self.store.con.execute(
            "SELECT created FROM stripe_raw.objects WHERE kind = ? AND id = ?", [kind, object_id]
        ).fetchall()
        return int(rows[0][0]) if rows and rows[0][0] is not None else 2**31

    def _finish_full(self, state: dict[str, str], generation: int) -> None:
        vanished = self.store.mark_vanished(SYNCED_KINDS, generation)
        for kind, object_id in vanished:
            stub = {"id": object_id, "object": kind, "deleted": True}
            self.store.commit(kind, [stub], generation, {})
        values: dict[str, str | None] = {
            "events.cursor": state["full.events_from"],
            "full.pending": None,
            "full.events_from": None,
        }
        for resource in RESOURCES:
            values[f"full.{resource.kind}.cursor"] = None
            values[f"full.{resource.kind}.done"] = None
        self.store.set_state(values, pending=[ALL])

    # -- incremental via events ----------------------------------------------------------------
    def _incremental(self) -> None:
        """Read the events since the cursor and fetch every object they name again.

        Events only say which objects changed: each is fetched again (event payloads may be
        truncated or out of date). Those created inside the events' window (most of what a day
        brings: new invoices, credit notes, subscriptions) are listed with ``created[gte]``,
        100 to a request, the same current and complete objects a retrieve gives. Every other
        object is retrieved by id, FETCH_THREADS at a time, meanwhile; so is a new one no list
        returned (deleted since). Fetching starts once the events are read (starting it while
        they were read only slowed the reading). Objects are stored in groups of STORE_EVERY
        meanwhile; the events cursor moves with the last group, in its transaction.
        """
        state = self.store.state()
        since, generation = int(state["events.cursor"]), int(state.get("generation", "0"))
        window = {"gte": max(since - OVERLAP, 0)}
        listings: dict[str, Any] = {}
        pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="stripe-retrieve")
        try:
            with Writer(self.store) as writer:
                group = _Group(
                    lambda items, state: self._store_fetched(items, generation, writer, state)
                )
                newest, new, retrieving = self._read_events(since, window, pool)
                listings = {
                    r.kind: self.source.pages(r, created=window)
                    for r in RESOURCES
                    if any(k == r.kind for k, _ in new)
                }
                for kind, pages in listings.items():
                    self._list_new(kind, pages, new, group)
                for future in retrieving:
                    group.add(future.result())
                for item in pool.map(self._retrieve, sorted(new)):
                    group.add(item)
                group.flush({"events.cursor": str(newest)})  # with the last objects
        finally:
            for pages in listings.values():
                pages.close()
            pool.shutdown(cancel_futures=True)

    def _read_events(
        self, since: int, window: dict[str, int], pool: ThreadPoolExecutor
    ) -> tuple[int, set[tuple[str, str]], list[Future[tuple[str, Any]]]]:
        """The newest event time, the objects to list, and the retrieves of the others."""
        newest, new = since, set()
        seen: set[tuple[str, str]] = set()
        old: list[tuple[str, str]] = []
        for page in self.source.pages(stripe_fetch.EVENTS, created=window):
            for event in page.records:
                newest = max(newest, int(event.get("created") or 0))
                for key, created in _changed_objects(event):
                    if key in seen:
                        continue
                    seen.add(key)
                    if created >= window["gte"]:
                        new.add(key)
                    else:
                        old.append(key)
                self.report.events += 1
            self.progress("event", self.report.events)
        return newest, new, [pool.submit(self._retrieve, key) for key in old]

    def _retrieve(self, key: tuple[str, str]) -> tuple[str, dict[str, Any]]:
        return key[0], self.source.retrieve(*key)

    def _list_new(
        self,
        kind: str,
        pages: Iterator[stripe_fetch.Page],
        new: set[tuple[str, str]],
        group: _Group,
    ) -> None:
        """Hand on the listed objects that are in ``new``, removing them from it."""
        try:
            for page in pages:
                for record in page.records:
                    key = (kind, str(record["id"]))
                    if key in new:
                        new.discard(key)
                        group.add((kind, record))
        except stripe_fetch.CursorGone:
            pass  # deleted mid-walk: whatever the list did not reach is retrieved by id

    def _store_fetched(
        self,
        fetched: list[tuple[str, dict[str, Any]]],
        generation: int,
        writer: Writer,
        state: dict[str, str | None],
    ) -> None:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for kind, record in fetched:
            if self._keep(record):
                by_kind.setdefault(kind, []).append(record)
        if any(is_stub(r) for records in by_kind.values() for r in records):
            writer.wait()
            by_kind = {
                k: [self.store.with_known_payload(k, r) for r in records]
                for k, records in by_kind.items()
            }
        batch, pending = Batch(), []
        for kind, records in by_kind.items():
            batch.add(self.store.prepare(kind, records, generation), len(records))
            pending += _affected(kind, records)
        if batch.parts or pending or state:
            writer.submit(batch.merged(), state, pending)
        for kind, records in by_kind.items():
            self._count(kind, len(records))
        self.fresh.update((str(r["id"]), r) for r in by_kind.get("subscription", ()))


def _changed_objects(event: dict[str, Any]) -> Iterable[tuple[tuple[str, str], int]]:
    """The synced objects an event says changed, with their creation time (0: unknown).

    Only which objects changed is read from an event: they are fetched again (event payloads
    may be truncated or out of date); their creation time only decides how.
    """
    obj = (event.get("data") or {}).get("object") or {}
    kind, object_id = obj.get("object"), obj.get("id")
    if kind == "plan":
        kind = "price"
    if kind in SYNCED_KINDS and object_id:
        created = obj.get("created")
        yield (str(kind), str(object_id)), created if isinstance(created, int) else 0
    elif kind == "discount":
        for field_name, target in (
            ("subscription", "subscription"),
            ("customer", "customer"),
            ("invoice", "invoice"),
        ):
            ref = stripe_lines.ref_id(obj.get(field_name))
            if ref:
                yield (target, ref), 0


class _Group:
    """Fetched objects handed on in groups of STORE_EVERY; the rest, with the state that
    follows them (the events cursor), at ``flush``."""

    def __init__(
        self, store: Callable[[list[tuple[str, dict[str, Any]]], dict[str, str | None]], None]
    ) -> None:
        self.store = store
        self.items: list[tuple[str, dict[str, Any]]] = []

    def add(self, item: tuple[str, dict[str, Any]]) -> None:
        self.items.append(item)
        if len(self.items) >= STORE_EVERY:
            self.flush({})

    def flush(self, state: dict[str, str | None]) -> None:
        items, self.items = self.items, []
        self.store(items, state)


def _affected(kind: str, records: list[dict[str, Any]]) -> list[str]:
    """Subscriptions whose revenue lines depend on these changed objects."""
    if kind in CATALOG_KINDS:
        return [ALL]
    if kind == "subscription":
        return [str(r["id"]) for r in records]
    if kind == "invoice":
        return [s for r in records if (s := stripe_lines.invoice_subscription(r))]
    return []
