"""The app's view of a workspace: the published snapshot, opened read-only, and caches on it.

A writer (import, sync) works on ``nrr.duckdb`` and replaces ``snapshot.duckdb`` atomically when it
is done. Each request looks at the snapshot file (one ``stat``); when it has been replaced, the app
attaches the new one in place of the old and every cached figure keyed on the old one stops
matching. Reads therefore never wait for a writer and never see half a write.

Computed results outlive a snapshot: their stage tables live on the app's own in-memory DuckDB
connection, to which the snapshot file is only attached. When a newer snapshot records which
customers each write since changed (the store's ``changes``), the results are brought forward by
recomputing those customers only (``Results.update``); otherwise they are computed afresh.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from nrr.schema import Settings
from nrr.store import Workspace
from nrr.web import library
from nrr.web.cache import Lru
from nrr.web.errors import ApiError

T = TypeVar("T")
Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class Snapshot:
    """One opened snapshot: what every cached value is keyed on."""

    stamp: Stamp
    workspace: Workspace
    settings: Settings
    default_as_of: date
    version: library.Version  # the store's identity and data version in this snapshot


@dataclass(frozen=True)
class Computed:
    """Results of one as-of day and settings, and the snapshot whose data they reflect."""

    results: Any
    stamp: Stamp
    version: library.Version
    dimensions: frozenset[str]


_DISCARDED = Computed(None, (-1, -1, -1), (None, -1), frozenset())


class Backend:
    def __init__(self, workspace_path: str | os.PathLike[str], as_of: date | None = None) -> None:
        self.path = Path(workspace_path)
        self.as_of = as_of  # the default as-of day; None: the library's choice per snapshot
        # DuckDB connections are not for concurrent use: one lock serialises every library call.
        # Cache hits never take it.
        self._lock = threading.RLock()
        self._current: Snapshot | None = None
        # computed Results by (as-of day, settings) are large: keep a few
        self.results: Lru[Computed] = Lru(4)
        self.values: Lru[Any] = Lru(1024)  # report outputs and rendered responses
        # How results were obtained: "computed" afresh, "updated" exactly by the changed
        # customers, "update_recomputed" (the update found it could not be exact and recomputed
        # in place), "unchanged" (a republished snapshot of the same data version).
        self.counts: Counter[str] = Counter()
        # The other companies of a portfolio (``nrr serve --portfolio``), each its own workspace.
        self.peers: dict[str, Backend] = {}

    @property
    def name(self) -> str:
        return self.path.name

    def stamps(self) -> tuple[Stamp | None, ...]:
        """This snapshot's stamp and the portfolio's others: what rendered responses key on. A
        peer without published data is None here (only the Portfolio page needs it, and says so)."""
        peers = (peer._stamp_if_published() for peer in self.peers.values())
        return (self.snapshot().stamp, *peers)

    def _stamp_if_published(self) -> Stamp | None:
        try:
            return self.snapshot().stamp
        except ApiError:
            return None

    def snapshot(self) -> Snapshot:
        stamp = self._stamp()
        current = self._current
        if current is not None and current.stamp == stamp:
            return current
        with self._lock:
            if self._current is None or self._current.stamp != stamp:
                self._swap(stamp)
            assert self._current is not None
            return self._current

    def _stamp(self) -> Stamp:
        try:
            info = library.snapshot_file(self.path).stat()
        except FileNotFoundError:
            raise ApiError(
                503,
                f"no published data in {self.path}: import a file or run `nrr demo` first",
            ) from None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _swap(self, stamp: Stamp) -> None:
        """Attach the new snapshot in place of the old one, on the same connection: the
        computed results stay, to be brought forward when next asked for."""
        self.values.clear()
        previous, self._current = self._current, None
        try:
            ws = library.open_reader(self.path, previous.workspace if previous else None)
        except BaseException:
            if previous is not None:  # its connection may have lost the snapshot: start over
                self.results.clear()
                previous.workspace.close()
            raise
        self._current = Snapshot(stamp, ws, ws.settings,
                                 self.as_of or library.default_as_of(ws),
                                 library.version(ws))  # fmt: skip

    def reload(self) -> Snapshot:
        """Forget every cached value and reopen the snapshot (the "recompute" action)."""
        with self._lock:
            self._close()
            self._swap(self._stamp())
            assert self._current is not None
            return self._current

    def results_for(self, snap: Snapshot, as_of: date, settings: Settings) -> Any:
        """The results for the current snapshot: cached, brought forward from an older one, or
        computed."""
        key = (as_of, settings.to_json())
        # The connection reads the snapshot attached last, whichever ``snap`` the request holds:
        # results are of that one, or their lazily computed tables would mix two snapshots.
        found, current = self.results.get(key), self._current or snap
        if found is not None and found.stamp == current.stamp:
            return found.results
        with self._lock:
            current = self._current or snap
            found = self.results.get(key)
            if found is not None and found.stamp == current.stamp:
                return found.results
            computed = None if found is None else self._bring_forward(found, current)
            if computed is None:
                if found is not None:  # it may be half updated: never bring it forward again
                    self.results.put(key, _DISCARDED)
                results = library.compute(current.workspace, as_of, settings)
                self.counts["computed"] += 1
                computed = Computed(results, current.stamp, current.version,
                                    library.dimensions(results))  # fmt: skip
            return self.results.put(key, computed).results

    def _bring_forward(self, found: Computed, current: Snapshot) -> Computed | None:
        """``found`` updated to ``current`` by the customers changed since; None when the
        changes are not known (or the update failed): compute afresh."""
        if found.version == current.version:  # republished, same data
            self.counts["unchanged"] += 1
            return Computed(found.results, current.stamp, found.version, found.dimensions)
        changed = library.changed_since(current.workspace, found.version)
        if changed is None:
            return None
        try:
            if not found.dimensions <= library.dimensions(found.results):
                return None  # a dimension went away: its segments would linger
            exact = library.update(found.results, changed)
        except Exception:  # e.g. a new currency without a rate: computing says so properly
            return None
        self.counts["updated" if exact else "update_recomputed"] += 1
        return Computed(found.results, current.stamp, current.version,
                        library.dimensions(found.results))  # fmt: skip

    def cached(self, key: Hashable, make: Callable[[], T]) -> T:
        return self._once(self.values, key, make)  # type: ignore[no-any-return]

    def _once(self, cache: Lru[Any], key: Hashable, make: Callable[[], Any]) -> Any:
        """The cached value, or make it under the lock (once, even when requests race)."""
        found = cache.get(key)
        if found is not None:
            return found
        with self._lock:
            found = cache.get(key)
            return found if found is not None else cache.put(key, make())

    def _close(self) -> None:
        self.results.clear()  # their cursors go with them
        self.values.clear()
        if self._current is not None:
            self._current.workspace.close()
            self._current = None

    def close(self) -> None:
        with self._lock:
            self._close()
        for peer in self.peers.values():
            peer.close()
