"""The one door from the web layer into the library: every figure comes from ``nrr.reports``.

Route handlers call these functions and render what they return; nothing here computes a metric.
The same report functions produce the CLI's ``--json`` output, so the two always agree.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from nrr.schema import Settings
from nrr.store import Workspace
from nrr.web.errors import ApiError


def open_reader(path: Path) -> Workspace:
    """The published snapshot, read-only: a running import or sync never blocks it."""
    from nrr import api

    return api.open_snapshot(path)


def snapshot_file(path: Path) -> Path:
    from nrr.store import SNAPSHOT_FILE

    return path / SNAPSHOT_FILE


def compute(ws: Workspace, as_of: date, settings: Settings) -> Any:
    from nrr import api
    from nrr.fx import RatesError

    try:
        results = api.compute(ws, as_of=as_of, settings=settings)
        if not results.empty:
            # the pages show every dimension: one pass over the stretches computes them all
            results.prepare(("all", *results.dimensions()))
        return results
    except RatesError as exc:  # e.g. fx_date=fixed without a rate: the view's settings are at fault
        raise ApiError(400, str(exc)) from None


def default_as_of(ws: Workspace) -> date:
    """The day the figures are read when the URL names none: today, as for the CLI (the clock is
    read here, at the interface, never inside the library)."""
    return date.today()


def report(name: str, results: Any, *args: Any, **kwargs: Any) -> Any:
    """``nrr.reports.<name>(results, ...)``; a dimension the data lacks is the client's mistake."""
    from nrr import reports
    from nrr.engines.results import UnknownDimension

    if getattr(results, "empty", False) and name == "explain":
        raise ApiError(404, "no billing data on or before the as-of date")
    function = getattr(reports, name)
    try:
        return function(results, *args, **kwargs)
    except UnknownDimension as exc:
        raise ApiError(400, str(exc)) from None
