"""The app's view of a workspace: the published snapshot, opened read-only, and caches on it.

A writer (import, sync) works on ``nrr.duckdb`` and replaces ``snapshot.duckdb`` atomically when it
is done. Each request looks at the snapshot file (one ``stat``); when it has been replaced, the app
opens the new one and every cached figure keyed on the old one stops matching. Reads therefore
never wait for a writer and never see half a write.
"""

from __future__ import annotations

import os
import threading
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


class Backend:
    def __init__(self, workspace_path: str | os.PathLike[str], as_of: date | None = None) -> None:
        self.path = Path(workspace_path)
        self.as_of = as_of  # the default as-of day; None: the library's choice per snapshot
        # DuckDB connections are not for concurrent use: one lock serialises every library call.
        # Cache hits never take it.
        self._lock = threading.RLock()
        self._current: Snapshot | None = None
        self.results: Lru[Any] = Lru(4)  # computed Results are large: keep a few
        self.values: Lru[Any] = Lru(1024)  # report outputs and rendered responses

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
        # Close the old file first: DuckDB shares one instance per path within a process, so a
        # connection opened while the old one lives would still see the replaced file.
        self.results.clear()
        self.values.clear()
        if self._current is not None:
            self._current.workspace.close()
            self._current = None
        ws = library.open_reader(self.path)
        self._current = Snapshot(stamp, ws, ws.settings, self.as_of or library.default_as_of(ws))

    def reload(self) -> Snapshot:
        """Forget every cached value and reopen the snapshot (the "recompute" action)."""
        with self._lock:
            self._swap(self._stamp())
            assert self._current is not None
            return self._current

    def results_for(self, snap: Snapshot, as_of: date, settings: Settings) -> Any:
        key = (snap.stamp, as_of, settings.to_json())
        return self._once(self.results, key, lambda: library.compute(snap.workspace, as_of,
                                                                      settings))

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

    def close(self) -> None:
        with self._lock:
            self.results.clear()  # their cursors go with them
            self.values.clear()
            if self._current is not None:
                self._current.workspace.close()
                self._current = None
