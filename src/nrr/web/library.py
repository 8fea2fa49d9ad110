"""The one door from the web layer into the library: every figure comes from ``nrr.reports``.

Route handlers call these functions and render what they return; nothing here computes a metric.
The same report functions produce the CLI's ``--json`` output, so the two always agree.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from nrr.reports import RISK_SLUGS
from nrr.schema import Settings
from nrr.store import Workspace
from nrr.web.errors import ApiError

Version = tuple[str | None, int]  # a store's identity and data version
RISK_REASONS = tuple(RISK_SLUGS)  # how a URL names each signal of an account at risk
RISK_SLUG_OF = {reason: slug for slug, reason in RISK_SLUGS.items()}


def open_reader(path: Path, previous: Workspace | None = None) -> Workspace:
    """The published snapshot, read-only: a running import or sync never blocks it.

    Given the reader opened before, the current snapshot replaces the old one on its connection,
    where results computed on the old one keep their tables (see :func:`update`).
    """
    from nrr import api

    return api.follow_snapshot(path, previous)


def version(ws: Workspace) -> Version:
    return ws.identity, ws.data_version


def changed_since(ws: Workspace, before: Version) -> frozenset[str] | None:
    """The customers changed between the ``before`` version of the store and the snapshot
    ``ws``; None when that is not known (another store, or changes not recorded)."""
    identity, number = before
    if identity is None or identity != ws.identity:
        return None
    return ws.changed_since(number)


def update(results: Any, changed: frozenset[str]) -> bool:
    """Bring ``results`` to the data of the snapshot now attached, recomputing the ``changed``
    customers only; False when the update could not be exact and recomputed everything."""
    exact = bool(results.update(results.as_of, changed))
    if not results.empty:
        results.prepare(("all", *results.dimensions()))  # as compute does: a new one too
    return exact


def dimensions(results: Any) -> frozenset[str]:
    return frozenset() if results.empty else frozenset(results.dimensions())


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


def only_reason(at_risk: dict[str, Any], reason: str) -> dict[str, Any]:
    """The at-risk report listing the accounts of one ``RISK_REASONS`` signal (totals kept)."""
    from nrr import reports

    return reports.only_reason(at_risk, reason)


def portfolio(companies: dict[str, Any]) -> dict[str, Any]:
    """Several companies' results side by side and as one (``nrr.reports.portfolio``)."""
    from nrr import reports

    try:
        return reports.portfolio(companies)
    except ValueError as exc:  # e.g. a peer's rates file lacks the view's currency
        raise ApiError(400, str(exc)) from None
