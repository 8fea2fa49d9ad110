"""Storing pages on a background thread while the next ones are fetched and prepared.

A sync spends its time in three places that can overlap: the test server or Stripe answering,
Python parsing pages and turning records into Arrow tables, and DuckDB storing them (which
releases the GIL). :class:`Writer` runs the store's transactions one at a time, in order, on
its own thread; :class:`Batch` collects the prepared rows of consecutive pages so that one
transaction stores several pages together with the cursor after the last of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from nrr.sync.stripe_rows import Rows
from nrr.sync.stripe_store import RawStore


class Batch:
    """Prepared rows of consecutive pages, merged into one set of rows per table."""

    def __init__(self) -> None:
        self.parts: list[Rows] = []
        self.objects = 0

    def add(self, rows: list[Rows], objects: int) -> None:
        self.parts += rows
        self.objects += objects

    def merged(self) -> list[Rows]:
        """One Rows per table and key, the latest row winning when a key comes twice."""
        groups: dict[tuple[Any, ...], list[Rows]] = {}
        for part in self.parts:
            column = part.replaces[0] if part.replaces else None
            groups.setdefault((part.table, part.key, part.kind, column), []).append(part)
        return [_merge(parts) for parts in groups.values()]


def _merge(parts: list[Rows]) -> Rows:
    import pyarrow as pa

    first = parts[0]
    data = pa.concat_tables([p.data for p in parts], promote_options="permissive")
    if first.key is not None:
        data = _last_per_key(data, first.key)
    replaces = None
    if first.replaces is not None:
        replaces = (first.replaces[0], [v for p in parts if p.replaces for v in p.replaces[1]])
    sinces = [p.since for p in parts]
    since = min(s for s in sinces if s is not None) if None not in sinces else None
    return Rows(first.table, data, key=first.key, kind=first.kind, replaces=replaces, since=since)


def _last_per_key(data: Any, key: str) -> Any:
    keys = data.column(key).to_pylist()
    if len(set(keys)) == len(keys):
        return data
    last = {k: i for i, k in enumerate(keys)}
    return data.take(sorted(last.values()))


class Writer:
    """The store's transactions on one background thread, in order, one at a time.

    ``submit`` waits for the previous transaction first, so at most one is in flight and an
    error surfaces at the next call (or at exit). Leaving the ``with`` block waits for the last
    one: a sync that fails still keeps every page stored before the failure.
    """

    def __init__(self, store: RawStore) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="stripe-store")
        self._busy: Future[None] | None = None

    def submit(
        self, rows: list[Rows], state: Mapping[str, str | None], pending: Iterable[str] = ()
    ) -> None:
        self.wait()
        self._busy = self._pool.submit(self.store.write, rows, state, list(pending))

    def wait(self) -> None:
        """Until the last transaction committed; the caller may then use the store itself."""
        busy, self._busy = self._busy, None
        if busy is not None:
            busy.result()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            self.wait()
        except Exception:
            if error is None:
                raise  # otherwise the error already on its way out is the one to report
        finally:
            self._pool.shutdown()
