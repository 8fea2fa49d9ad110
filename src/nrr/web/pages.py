"""The HTML pages: routes, the shared handler (parse, cache, render) and the error page.

Each page renders the same report output as its JSON twin under /api/ (views_metrics.py,
views_customers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from nrr.web import params as p
from nrr.web.backend import Backend
from nrr.web.context import Context, context
from nrr.web.html import Html, tag
from nrr.web.layout import page
from nrr.web.views_customers import at_risk, customer, customers, drill
from nrr.web.views_metrics import cohorts, overview, segments, trends
from nrr.web.views_portfolio import portfolio

Renderer = Callable[[Context, Mapping[str, str], Mapping[str, str], str], Html]


# -- wiring ---------------------------------------------------------------------------------------

PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "/": (), "/trends": (), "/cohorts": ("view",), "/segments": ("by",),
    "/customers": ("q", "sort", "limit", "offset", "by", "segment"), "/customers/{customer_id}": (),
    "/drill": ("metric", "period", "by", "segment"), "/at-risk": ("limit", "offset", "reason"),
    "/portfolio": (),
}  # fmt: skip
RENDERERS: dict[str, Renderer] = {
    "/": overview, "/trends": trends, "/cohorts": cohorts, "/segments": segments,
    "/customers": customers, "/customers/{customer_id}": customer, "/drill": drill,
    "/at-risk": at_risk, "/portfolio": portfolio,
}  # fmt: skip


def routes(backend: Backend, csrf: str) -> list[Route]:
    return [Route(path, _handler(path, render, backend, csrf), methods=["GET"])
            for path, render in RENDERERS.items()]  # fmt: skip


def _handler(path: str, render: Renderer, backend: Backend, csrf: str) -> Callable[[Request],
                                                                                    Response]:
    allowed = (*p.COMMON_PARAMS, *PAGE_PARAMS[path])

    def handle(request: Request) -> Response:
        query = p.canonical(request.query_params.multi_items())
        p.check_known(query, allowed)
        key = ("page", backend.stamps(), request.url.path, tuple(sorted(query.items())))
        body = backend.values.get(key)
        if body is None:
            ctx = context(backend, query)
            html = render(ctx, query, request.path_params, csrf)
            body = backend.values.put(key, html.encode())
        return HTMLResponse(body)

    return handle


def error_page(status: int, message: str) -> Response:
    body = tag("p", message, class_="error", role="alert")
    html = page("Something is not right" if status < 500 else "Error", "", body,
                csrf="", query={}, form=tag("p", tag("a", "Back to the overview", href="/")))
    return HTMLResponse(html, status_code=status)

