"""What one request needs: the snapshot, its settings and as-of date, and cached report calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from nrr.schema import Settings
from nrr.web import library
from nrr.web.backend import Backend, Snapshot
from nrr.web.errors import ApiError, bad_request
from nrr.web.params import View, parse_view


@dataclass(frozen=True)
class Context:
    backend: Backend
    snap: Snapshot
    view: View
    settings: Settings
    as_of: date

    @property
    def grain(self) -> str:
        return self.settings.period

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.snap.stamp, self.as_of, self.settings.to_json())

    @property
    def range(self) -> tuple[int | None, int | None]:
        """The view's first and last period (None: from the first, to the last)."""
        return self.view.start, self.view.end

    def results(self) -> Any:
        return self.backend.results_for(self.snap, self.as_of, self.settings)

    def report(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """``nrr.reports.<name>(results, *args, **kwargs)``, cached per snapshot and settings."""
        key = (*self.key, name, args, tuple(sorted(kwargs.items())))
        return self.backend.cached(
            key, lambda: library.report(name, self.results(), *args, **kwargs)
        )

    def portfolio(self) -> Any:
        """This workspace and its portfolio peers side by side (``nrr.reports.portfolio``): each
        company read with its own settings and the view's overrides, in the view's currency and
        grain, as of the view's day."""
        companies = {self.backend.name: self.backend, **self.backend.peers}
        snaps = {name: b.snapshot() for name, b in companies.items()}
        key = (*self.key, "portfolio", tuple((n, s.stamp) for n, s in snaps.items()))

        def make() -> Any:
            results = {}
            for name, b in companies.items():
                settings = self.settings
                if b is not self.backend:
                    settings = self.view.settings(snaps[name].settings).replace(
                        reporting_currency=settings.reporting_currency, period=settings.period
                    )
                results[name] = b.results_for(snaps[name], self.as_of, settings)
            return library.portfolio(results)

        return self.backend.cached(key, make)

    def explain(self, customer_id: str) -> Any:
        """One customer's timeline, movements and source rows; None when there is no such one."""
        key = (*self.key, "explain", customer_id)

        def make() -> Any:
            try:
                return library.report("explain", self.results(), self.snap.workspace, customer_id)
            except KeyError:
                return _MISSING

        found = self.backend.cached(key, make)
        return None if found is _MISSING else found


_MISSING = object()  # cached answer for "no such customer" (the cache treats None as a miss)


def context(backend: Backend, query: Mapping[str, str]) -> Context:
    snap = backend.snapshot()
    view = parse_view(query, snap.settings.period)
    try:
        settings = view.settings(snap.settings)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    as_of = view.as_of or snap.default_as_of
    if as_of < date(1990, 1, 1):
        raise ApiError(400, "as_of is before any plausible billing data")
    return Context(backend, snap, view, settings, as_of)
