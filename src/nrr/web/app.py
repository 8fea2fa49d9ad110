"""The app factory: routes, the guard, static files, and error handling."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from nrr.web import pages
from nrr.web import params as p
from nrr.web.backend import Backend
from nrr.web.context import context
from nrr.web.endpoints import ENDPOINTS, Endpoint
from nrr.web.errors import ApiError
from nrr.web.openapi import spec
from nrr.web.render import to_csv, to_json
from nrr.web.security import LOOPBACK_HOSTS, Guard

STATIC_DIR = Path(__file__).parent / "static"


def plotly_js() -> Path:
    """The charting library, served from the installed ``plotly`` package (no copy, no CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(
    workspace_path: str | os.PathLike[str],
    *,
    token: str | None = None,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    as_of: date | None = None,
    warm: bool = False,
    portfolio: Iterable[str | os.PathLike[str]] = (),
) -> Starlette:
    """The dashboard and JSON API over the workspace's published snapshot.

    ``token``: when given, every request must carry it (see ``security``); ``serve`` always gives
    one when listening beyond loopback. ``allowed_hosts``: the names the Host header may carry.
    ``as_of``: the day figures are read when a URL names none (default: the library's choice).
    ``warm``: compute the default view in the background at start-up, so the first page is quick.
    ``portfolio``: other companies' workspaces, shown beside this one on the Portfolio page.
    """
    backend = Backend(workspace_path, as_of)
    for folder in portfolio:
        peer = Backend(folder, as_of)
        taken = peer.name in backend.peers or peer.name == backend.name
        backend.peers[str(peer.path) if taken else peer.name] = peer
    csrf = secrets.token_urlsafe(24)
    routes: list[BaseRoute] = [
        *(Route(e.path, _api(e, backend), methods=["GET"]) for e in ENDPOINTS),
        Route("/api/openapi.json", _openapi, methods=["GET"]),
        Route("/api/recompute", _recompute(backend), methods=["POST"]),
        Route("/static/plotly.min.js", _plotly, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        *pages.routes(backend, csrf),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token, csrf_token=csrf, allowed_hosts=allowed_hosts)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, 500: _server_error},
        lifespan=_lifespan(backend, warm),
    )
    app.state.backend = backend
    app.state.csrf_token = csrf
    return app


def _lifespan(backend: Backend, warm: bool) -> Callable[[Any], Any]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if warm:
            threading.Thread(target=warm_up, args=(backend,), daemon=True).start()
        yield
        backend.close()

    return lifespan


def warm_up(backend: Backend) -> None:
    """Compute the default view's results and the reports every page starts with."""
    try:
        ctx = context(backend, {})
        ttm = int(ctx.results().ttm_window)
        ctx.report("headline")
        ctx.report("bridge", None, None, None)
        ctx.report("retention", 1, None, None, None)
        ctx.report("retention", ttm, None, None, None)
        ctx.report("customers", search=None, sort="mrr", descending=True, limit=100, offset=0)
        ctx.report("at_risk")  # the Overview's line on the accounts at risk
        # Then every segment dimension, one at a time: a request can take the lock in between.
        for dimension in ctx.report("dimensions"):
            ctx.report("segments", dimension)
        if backend.peers:  # last: the other companies' results, for the Portfolio page
            ctx.portfolio()
    except Exception:  # a cold first request will say what is wrong, with a proper status
        logging.getLogger(__name__).warning("warming the default view failed", exc_info=True)


def _api(endpoint: Endpoint, backend: Backend) -> Callable[[Request], Response]:
    formats = ("json", "csv") if endpoint.table else ("json",)

    def handle(request: Request) -> Response:
        query = p.canonical(request.query_params.multi_items())
        fmt = p.choice(p.given(query, "format") or "json", formats, "format")
        p.check_known(query, endpoint.accepted)
        key = ("api", backend.stamps(), request.url.path, tuple(sorted(query.items())))
        body = backend.values.get(key)
        if body is None:
            ctx = context(backend, query)
            data = endpoint.handler(ctx, query, request.path_params)
            if fmt == "csv":
                body = to_csv(data[endpoint.csv_rows] if endpoint.csv_rows else data)
            else:
                body = to_json(data)
            body = backend.values.put(key, body)
        return _body(body, fmt, endpoint.name)

    return handle


def _body(body: bytes, fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="nrr-{name}.csv"'})
    return Response(body, media_type="application/json")


def _openapi(request: Request) -> Response:
    return JSONResponse(spec(_version()))


def _version() -> str:
    try:
        return metadata.version("nrr")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0"


def _recompute(backend: Backend) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        snap = backend.reload()
        return JSONResponse({"reloaded": True, "default_as_of": snap.default_as_of.isoformat()})

    return handle


def _plotly(request: Request) -> Response:
    return FileResponse(plotly_js(), media_type="text/javascript",
                        headers={"cache-control": "public, max-age=86400"})


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if _wants_html(request):
        return pages.error_page(exc.status, exc.message)
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "no such page" if exc.status_code == 404 else str(exc.detail)
    if _wants_html(request) and exc.status_code == 404:
        return pages.error_page(404, message)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


def _server_error(request: Request, exc: Exception) -> Response:
    # The details go to the server's log (uvicorn prints the traceback), never to the client.
    return JSONResponse({"error": "internal error; see the server's log"}, status_code=500)
