"""What the test server answers: authentication, permissions, faults, then Stripe's endpoints.

Kept apart from the HTTP plumbing (`stripe_server`) so each step is a small function; everything
still runs through the real HTTP server in the tests.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nrr.testing.stripe_account import API_VERSION, OBJECT_NAMES, Account, encode
from nrr.testing.stripe_errors import (
    StripeError,
    forbidden,
    invalid,
    missing,
    rate_limited,
    server_error,
    unauthenticated,
    unrecognized,
)
from nrr.testing.stripe_faults import Fault, Faults
from nrr.testing.stripe_listing import (
    LIST_PARAMS,
    Params,
    expand_json,
    list_body,
    nested_page,
    page_of,
)

Obj = dict[str, Any]

# The restricted-key permission that reading each resource needs (Stripe's `rak_*` names).
PERMISSIONS = {
    "customers": "rak_customer_read",
    "products": "rak_product_read",
    "prices": "rak_plan_read",
    "coupons": "rak_coupon_read",
    "subscriptions": "rak_subscription_read",
    "subscription_items": "rak_subscription_read",
    "invoices": "rak_invoice_read",
    "credit_notes": "rak_credit_note_read",
    "events": "rak_event_read",
}
# Objects Stripe still answers for after deletion, with a `deleted: true` stub.
_STUBBED = frozenset({"customers", "products", "coupons"})
_DELETION_EVENTS = {"customers": "customer.deleted", "products": "product.deleted",
                    "coupons": "coupon.deleted", "invoices": "invoice.deleted"}


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    objects: int = 0


@dataclass
class Stats:
    """What the server did: requests by status, objects served, time spent answering."""

    requests: int = 0
    objects: int = 0
    bytes: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> Obj:
        return {"requests": self.requests, "objects": self.objects, "bytes": self.bytes,
                "seconds": round(self.seconds, 6),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "paths": dict(self.paths)}


class App:
    """The request handler of one server: one account, one API key, faults and statistics."""

    def __init__(self, account: Account, api_key: str, denied: Iterable[str] = (),
                 faults: Faults | None = None) -> None:
        self.account = account
        self.api_key = api_key
        self.denied: set[str] = set(denied)
        self.faults = faults or Faults()
        self.stats = Stats()
        self._stats_lock = threading.Lock()
        self._request_ids = itertools.count(1)

    # -- entry point ---------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        try:
            if request.path.startswith("/_test/"):
                return self._control(request)
            return self._api(request)
        except StripeError as error:
            return Response(error.status, error.body(), error.headers())

    def record(self, request: Request, response: Response, seconds: float) -> None:
        with self._stats_lock:
            stats = self.stats
            stats.requests += 1
            stats.objects += response.objects
            stats.bytes += len(response.body)
            stats.seconds += seconds
            stats.statuses[response.status] += 1
            stats.paths[request.path.split("/")[2] if request.path.count("/") > 1 else ""] += 1

    def reset_stats(self) -> None:
        with self._stats_lock:
            self.stats = Stats()

    def headers_for(self, request: Request) -> dict[str, str]:
        return {"Request-Id": f"req_nrr{next(self._request_ids):011d}",
                "Stripe-Version": request.headers.get("Stripe-Version") or API_VERSION}

    # -- the API -------------------------------------------------------------------------
    def _api(self, request: Request) -> Response:
        self._authenticate(request.headers.get("Authorization"))
        params = Params.parse(request.query)
        triggered = self.faults.take(request.path, "starting_after" in params.scalars)
        if triggered.delay_ms:
            time.sleep(triggered.delay_ms / 1000)
        if triggered.error is not None:
            raise _fault_error(triggered.error)
        if request.method != "GET":
            raise invalid("The nrr test server is read-only: only GET requests are served.")
        parts = request.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "v1" or parts[1] not in LIST_PARAMS:
            raise unrecognized(request.method, request.path)
        resource = parts[1]
        self._authorize(resource)
        with self.account.lock:
            if triggered.delete_cursor:
                self._delete(resource, params.scalars["starting_after"])
            return self._route(resource, parts[2:], params, request)

    def _authenticate(self, header: str | None) -> None:
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise unauthenticated(None)
        if key.strip() != self.api_key:
            raise unauthenticated(key.strip())

    def _authorize(self, resource: str) -> None:
        if resource in self.denied:
            raise forbidden(self.api_key, PERMISSIONS[resource])

    def _route(self, resource: str, rest: list[str], params: Params,
               request: Request) -> Response:
        if not rest:
            if resource == "subscription_items":
                return self._subscription_items(params)
            params.check(LIST_PARAMS[resource])
            return self._list(resource, params)
        if len(rest) == 1:
            params.check(frozenset())
            return self._retrieve(resource, rest[0], params)
        if len(rest) == 2 and rest[1] == "lines" and resource in ("invoices", "credit_notes"):
            params.check(frozenset())
            return self._lines(resource, rest[0], params)
        raise unrecognized(request.method, request.path)

    def _list(self, resource: str, params: Params) -> Response:
        page = page_of(self.account, resource, params)
        blobs = [self._render(resource, object_id, params.expand, True) for object_id in page.ids]
        return Response(200, list_body(blobs, page.has_more, f"/v1/{resource}"),
                        objects=len(blobs))

    def _render(self, resource: str, object_id: str, expand: list[str], in_list: bool) -> bytes:
        blob = self.account.full_json(resource, object_id)
        if not expand:
            return blob
        return expand_json(blob, expand, self._resolve, in_list)

    def _resolve(self, object_id: str) -> Obj | None:
        resource = self.account.resource_of(object_id)
        if resource is None:
            return None
        if self.account.has(resource, object_id):
            return self.account.full(resource, object_id)
        if object_id in self.account.deleted[resource] and resource in _STUBBED:
            return {"id": object_id, "object": OBJECT_NAMES[resource], "deleted": True}
        return None

    def _retrieve(self, resource: str, object_id: str, params: Params) -> Response:
        account = self.account
        if not account.has(resource, object_id):
            if object_id in account.deleted[resource] and resource in _STUBBED:
                stub = {"id": object_id, "object": OBJECT_NAMES[resource], "deleted": True}
                return Response(200, encode(stub), objects=1)
            raise missing(OBJECT_NAMES[resource], object_id)
        return Response(200, self._render(resource, object_id, params.expand, False), objects=1)

    def _lines(self, resource: str, parent_id: str, params: Params) -> Response:
        if not self.account.has(resource, parent_id):
            raise missing(OBJECT_NAMES[resource], parent_id, resource[:-1])
        label = "invoice line item" if resource == "invoices" else "credit note line item"
        return self._nested(parent_id, params, label, f"/v1/{resource}/{parent_id}/lines")

    def _subscription_items(self, params: Params) -> Response:
        params.check(LIST_PARAMS["subscription_items"])
        sub = params.scalars.get("subscription")
        if not sub:
            raise invalid("Missing required param: subscription.", "subscription",
                          "parameter_missing")
        if not self.account.has("subscriptions", sub):
            raise missing("subscription", sub, "subscription")
        return self._nested(sub, params, "subscription item", "/v1/subscription_items")

    def _nested(self, parent_id: str, params: Params, label: str, url: str) -> Response:
        children = self.account.children(parent_id)
        ids = children.ids if children else []
        blobs = children.blobs if children else []
        start, end, has_more = nested_page(ids, params, label)
        chosen = blobs[start:end]
        if params.expand:
            chosen = [expand_json(b, params.expand, self._resolve, True) for b in chosen]
        return Response(200, list_body(list(chosen), has_more, url), objects=len(chosen))

    def _delete(self, resource: str, object_id: str) -> None:
        if self.account.delete(resource, object_id) and resource in _DELETION_EVENTS:
            from nrr.testing.stripe_mutate import record_event

            record_event(self.account, _DELETION_EVENTS[resource], resource, object_id)

    # -- test controls -------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        name = request.path[len("/_test/"):].strip("/")
        body = json.loads(request.body or b"{}")
        if name == "faults" and request.method == "POST":
            fault = self.faults.add(Fault(**body))
            return _ok({"added": fault.kind})
        if name == "faults" and request.method == "DELETE":
            self.faults.clear()
            return _ok({"cleared": True})
        if name == "faults":
            return _ok({"faults": self.faults.pending()})
        if name == "stats":
            return _ok(self.stats.as_dict())
        if name == "mutate" and request.method == "POST":
            report = self.account.mutate(**body)
            return _ok(report.as_dict())
        if name == "denied" and request.method == "POST":
            self.denied = set(body.get("resources", []))
            return _ok({"denied": sorted(self.denied)})
        raise unrecognized(request.method, request.path)


def _ok(payload: Obj) -> Response:
    return Response(200, encode(payload))


def _fault_error(fault: Fault) -> StripeError:
    if fault.kind == "rate_limit":
        return rate_limited(fault.should_retry)
    return server_error()
