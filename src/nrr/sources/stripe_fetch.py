"""The Stripe connector: pages of plain dict records from the Stripe API, nothing computed.

Requests go through the official SDK's ``StripeClient.raw_request`` and its response is kept as
the plain dicts parsed from the body (typed ``StripeObject``s are several times slower to build).
Nested lists that Stripe truncates (invoice lines, subscription items) are paged to the end here,
so every record yielded is complete. Errors become :class:`StripeSourceError` subclasses whose
text never contains the API key.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from nrr.sources import stripe_http
from nrr.sources.stripe_http import bodies

if TYPE_CHECKING:
    import stripe

Record = dict[str, Any]
T = TypeVar("T")
PAGE_SIZE = 100
PAGES_AHEAD = 4  # pages a list walk fetches before the caller has stored them
_SECRET = re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9*_]+|\bwhsec_[A-Za-z0-9*_]+")


@dataclass(frozen=True)
class Resource:
    """One synced object type: its list endpoint and the restricted-key permission it needs."""

    kind: str
    path: str
    permission: str
    params: dict[str, Any] = field(default_factory=dict)


# In sync order: the catalog first, then what refers to it.
RESOURCES: tuple[Resource, ...] = (
    Resource("customer", "/v1/customers", "Customers"),
    Resource("product", "/v1/products", "Products"),
    Resource("price", "/v1/prices", "Prices", {"expand": ["data.tiers"]}),
    Resource("coupon", "/v1/coupons", "Coupons"),
    Resource(
        "subscription",
        "/v1/subscriptions",
        "Subscriptions",
        {"status": "all", "expand": ["data.discounts", "data.items.data.discounts"]},
    ),
    Resource(
        "invoice",
        "/v1/invoices",
        "Invoices",
        {"expand": ["data.discounts", "data.lines.data.discounts"]},
    ),
    Resource("credit_note", "/v1/credit_notes", "Credit notes"),
)
EVENTS = Resource("event", "/v1/events", "Events")
BY_KIND: dict[str, Resource] = {r.kind: r for r in (*RESOURCES, EVENTS)}


def redact(text: str) -> str:
    """The text with every Stripe key or webhook secret replaced (for messages and logs)."""
    return _SECRET.sub("[redacted]", text)


class StripeSourceError(Exception):
    """A Stripe problem a user can act on; the message is safe to print."""


class InvalidKey(StripeSourceError):
    pass


class MissingPermission(StripeSourceError):
    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        super().__init__(
            f"the Stripe key lacks the '{resource.permission}: Read' permission needed to sync "
            f"{resource.kind} objects; add it to the restricted key in the Stripe dashboard "
            "(Developers > API keys) and run the sync again"
        )


class StripeUnavailable(StripeSourceError):
    """Stripe kept failing (rate limits, server errors, network) after the retries."""


class CursorGone(StripeSourceError):
    """The object a page cursor points at was deleted while the list was being walked."""


class NotFound(StripeSourceError):
    pass


@dataclass(frozen=True)
class Page:
    """One page of a list: the records and the cursor to continue after them."""

    kind: str
    records: list[Record]
    cursor: str | None
    has_more: bool


def key_mode(api_key: str) -> str:
    """'live' or 'test' from the key's prefix (the modes never mix in one workspace)."""
    return "live" if "_live_" in api_key[:9] else "test"


def _parse(body: bytes | str) -> Record:
    import orjson

    return dict(orjson.loads(body))


class StripeSource:
    """Read-only access to one Stripe account through the official SDK."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        max_network_retries: int = 4,
        rate_limit_retries: int = 6,
        page_size: int = PAGE_SIZE,
    ) -> None:
        import stripe

        stripe.enable_telemetry = False
        bases: Any = {"api": api_base.rstrip("/")} if api_base else None
        self._http = stripe_http.http_client(api_base or stripe.DEFAULT_API_BASE, timeout=80)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=bases,
            max_network_retries=max_network_retries,
            http_client=self._http,
        )
        self._rate_limit_retries = rate_limit_retries
        self.page_size = page_size
        self.requests = 0  # requests sent, retries included
        self._counting = threading.Lock()

    def close(self) -> None:
        """Close the connections kept open between requests."""
        self._http.close()

    # -- requests ------------------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any], resource: Resource) -> Record:
        """GET one API path as a plain dict, retrying rate limits; errors made safe to print."""
        import stripe

        for attempt in range(self._rate_limit_retries + 1):
            try:
                with self._counting:
                    self.requests += 1
                bodies.keep, bodies.body = True, None
                try:
                    response = self._client.raw_request("get", path, **params)
                finally:
                    bodies.keep = False
                body, bodies.body = bodies.body, None
                return _parse(body) if body is not None else dict(response.data)
            except stripe.RateLimitError as exc:
                if attempt >= self._rate_limit_retries or _told_not_to_retry(exc):
                    raise StripeUnavailable(_failure(resource, exc)) from None
                time.sleep(_backoff(attempt))
            except stripe.StripeError as exc:
                raise _translate(exc, resource) from None
        raise StripeUnavailable(f"Stripe kept rate limiting the {resource.kind} requests")

    # -- lists ---------------------------------------------------------------------------------
    def pages(
        self,
        resource: Resource,
        *,
        starting_after: str | None = None,
        created: dict[str, int] | None = None,
    ) -> _Prefetched[Page]:
        """Every page of a list, newest first, each record complete with its nested lists.

        A background thread walks the list (nested lists included) up to ``PAGES_AHEAD`` pages
        in front of the caller, from the call on, so waiting on Stripe overlaps with the
        caller's storing. ``close()`` the iterator to stop the walk early.
        """
        return _Prefetched(self._walk(resource, starting_after, created), PAGES_AHEAD)

    def _walk(
        self, resource: Resource, cursor: str | None, created: dict[str, int] | None
    ) -> Generator[Page, None, None]:
        while True:
            body = self._list(resource, self._params(resource, cursor, created))
            data = list(body.get("data") or [])
            has_more = bool(body.get("has_more")) and bool(data)
            cursor = str(data[-1]["id"]) if data else cursor
            records = [self.complete(resource.kind, r) for r in data]
            yield Page(resource.kind, records, cursor, has_more)
            if not has_more:
                return

    def _params(
        self, resource: Resource, cursor: str | None, created: dict[str, int] | None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {**resource.params, "limit": self.page_size}
        if cursor:
            params["starting_after"] = cursor
        if created:
            params["created"] = created
        return params

    def _list(self, resource: Resource, params: dict[str, Any]) -> Record:
        try:
            return self.get(resource.path, params, resource)
        except NotFound:
            if "starting_after" in params:
                raise CursorGone(f"{resource.kind} {params['starting_after']} is gone") from None
            raise

    def check_access(self, resource: Resource) -> None:
        """One smallest list request: raises MissingPermission if the key may not read it."""
        self.get(resource.path, {"limit": 1}, resource)

    def newest_event_time(self) -> int | None:
        body = self.get(EVENTS.path, {"limit": 1}, EVENTS)
        data = body.get("data") or []
        return int(data[0]["created"]) if data else None

    # -- single objects ------------------------------------------------------------------------
    def retrieve(self, kind: str, object_id: str) -> Record:
        """The current object by id; a deleted stub when Stripe no longer has it."""
        resource = BY_KIND[kind]
        params = {k: [e.removeprefix("data.") for e in v] if k == "expand" else v
                  for k, v in resource.params.items() if k != "status"}  # fmt: skip
        try:
            record = self.get(f"{resource.path}/{object_id}", params, resource)
        except NotFound:
            return {"id": object_id, "object": kind, "deleted": True}
        return self.complete(kind, record)

    def complete(self, kind: str, record: Record) -> Record:
        """Page nested lists that Stripe cut after their first entries."""
        if kind == "invoice" and record.get("id") and not record.get("deleted"):
            self._fill(record, "lines", f"/v1/invoices/{record['id']}/lines", {}, "invoice")
        elif kind == "subscription" and not record.get("deleted"):
            self._fill(
                record,
                "items",
                "/v1/subscription_items",
                {"subscription": record["id"]},
                "subscription",
            )
        return record

    def _fill(self, record: Record, key: str, path: str, params: dict[str, Any], kind: str) -> None:
        nested = record.get(key)
        if not isinstance(nested, dict) or not nested.get("has_more"):
            return
        data = list(nested.get("data") or [])
        resource = BY_KIND[kind]
        while True:
            query = {**params, "limit": self.page_size}
            if data:
                query["starting_after"] = data[-1]["id"]
            body = self.get(path, query, resource)
            data.extend(body.get("data") or [])
            if not body.get("has_more") or not body.get("data"):
                break
        record[key] = {**nested, "data": data, "has_more": False}


@dataclass(frozen=True)
class _Failure:
    error: Exception


class _Prefetched(Iterator[T]):
    """``items``, produced by a background thread up to ``ahead`` items before they are asked for.

    The thread starts at once (a walk can begin while the caller still does something else). An
    error in it is raised where its item would have come; a caller that closes the iterator, or
    drops it, stops the thread after its current item.
    """

    def __init__(self, items: Generator[T, None, None], ahead: int) -> None:
        self._slots: queue.Queue[Any] = queue.Queue(ahead)
        self._stop = threading.Event()
        threading.Thread(
            target=_produce, args=(items, self._slots, self._stop), name="stripe-pages", daemon=True
        ).start()

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        item = self._slots.get()
        if item is _DONE or isinstance(item, _Failure):
            self._stop.set()
            if isinstance(item, _Failure):
                raise item.error
            raise StopIteration
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        self._stop.set()

    def __del__(self) -> None:
        self._stop.set()


_DONE = object()


def _produce(
    items: Generator[Any, None, None], slots: queue.Queue[Any], stop: threading.Event
) -> None:
    try:
        for item in items:
            if not _offer(slots, item, stop):
                return
        _offer(slots, _DONE, stop)
    except Exception as exc:  # handed over: raised in the caller's thread
        _offer(slots, _Failure(exc), stop)
    finally:
        items.close()


def _offer(slots: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    """Put ``item`` once there is room; False if the consumer stopped first."""
    while not stop.is_set():
        try:
            slots.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _told_not_to_retry(exc: stripe.StripeError) -> bool:
    headers = exc.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "stripe-should-retry"), None)
    return value == "false"


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter: 0.25 s, 0.5 s, 1 s ... capped at 8 s."""
    ceiling = min(0.25 * (2**attempt), 8.0)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _failure(resource: Resource, exc: Any) -> str:
    status = getattr(exc, "http_status", None) or "no response"
    detail = redact(str(getattr(exc, "user_message", None) or type(exc).__name__))
    return (f"Stripe did not answer the {resource.kind} requests after retries "
            f"(HTTP {status}: {detail}); nothing after the last saved page was lost, "
            "run the sync again later")  # fmt: skip


def _translate(exc: stripe.StripeError, resource: Resource) -> StripeSourceError:
    import stripe

    if isinstance(exc, stripe.AuthenticationError):
        return InvalidKey(
            "Stripe rejected the API key (HTTP 401): check STRIPE_API_KEY or run "
            "`nrr stripe login` again"
        )
    if isinstance(exc, stripe.PermissionError) or "permission" in str(exc).lower():
        return MissingPermission(resource)
    if isinstance(exc, stripe.InvalidRequestError) and exc.code == "resource_missing":
        return NotFound(redact(str(exc.user_message or "")))
    if isinstance(exc, stripe.InvalidRequestError):
        return StripeSourceError(
            f"Stripe refused a {resource.kind} request: {redact(str(exc.user_message or ''))}"
        )
    return StripeUnavailable(_failure(resource, exc))
