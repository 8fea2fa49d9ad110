"""Stripe's list protocol over the account's sorted keys: parameters, filters, cursors, pages.

Lists are newest first (`created` descending, ties by id descending). A page is found with two
bisections on the ascending `(created, id)` keys: `starting_after` bounds the page from above,
`ending_before` from below, the `created[...]` filters narrow the range first.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from nrr.testing.stripe_account import OBJECT_NAMES, Account, Filters, Key
from nrr.testing.stripe_errors import StripeError, invalid, missing, unknown_parameter

Obj = dict[str, Any]

_SUBSCRIPTION_STATUSES = (
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
)
_INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
_COMMON = frozenset({"limit", "starting_after", "ending_before", "expand"})
# Filter parameters each list accepts besides the common ones and `created`.
LIST_PARAMS: dict[str, frozenset[str]] = {
    "customers": frozenset({"email", "test_clock", "created"}),
    "products": frozenset({"active", "type", "created"}),
    "prices": frozenset({"active", "product", "type", "currency", "created"}),
    "coupons": frozenset({"created"}),
    "subscriptions": frozenset(
        {"customer", "status", "test_clock", "collection_method", "created"}
    ),
    "subscription_items": frozenset({"subscription"}),
    "invoices": frozenset({"customer", "subscription", "status", "collection_method", "created"}),
    "credit_notes": frozenset({"customer", "invoice", "created"}),
    "events": frozenset({"type", "types", "created"}),
}


@dataclass
class Params:
    """Query parameters the way Stripe reads them: `a[b]=` nests, `a[]=` / `a[0]=` append."""

    scalars: dict[str, str] = field(default_factory=dict)
    ranges: dict[str, dict[str, str]] = field(default_factory=dict)
    arrays: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, query: str) -> Params:
        params = cls()
        for name, value in parse_qsl(query, keep_blank_values=True):
            base, _, rest = name.partition("[")
            inner = rest[:-1] if rest.endswith("]") else rest
            if not rest:
                params.scalars[base] = value
            elif inner == "" or inner.isdigit():
                params.arrays.setdefault(base, []).append(value)
            else:
                params.ranges.setdefault(base, {})[inner] = value
        return params

    def names(self) -> set[str]:
        return set(self.scalars) | set(self.ranges) | set(self.arrays)

    def check(self, allowed: frozenset[str]) -> None:
        for name in sorted(self.names()):
            if name not in allowed and name not in _COMMON:
                raise unknown_parameter(name)

    @property
    def expand(self) -> list[str]:
        return self.arrays.get("expand", [])


def parse_limit(params: Params) -> int:
    raw = params.scalars.get("limit")
    if raw is None:
        return 10
    if not raw.lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {raw}", "limit", "parameter_invalid_integer")
    limit = int(raw)
    if limit < 1:
        raise invalid(
            "This value must be greater than or equal to 1.", "limit", "parameter_invalid_integer"
        )
    if limit > 100:
        raise invalid(
            "This value must be less than or equal to 100.", "limit", "parameter_invalid_integer"
        )
    return limit


def _created_bounds(params: Params) -> tuple[int, int]:
    """[low, high) bounds on `created` from `created=` or `created[gt|gte|lt|lte]=`."""
    low, high = -(2**62), 2**62
    if "created" in params.scalars:
        exact = _integer(params.scalars["created"], "created")
        return exact, exact + 1
    for op, raw in params.ranges.get("created", {}).items():
        value = _integer(raw, f"created[{op}]")
        if op == "gt":
            low = max(low, value + 1)
        elif op == "gte":
            low = max(low, value)
        elif op == "lt":
            high = min(high, value)
        elif op == "lte":
            high = min(high, value + 1)
        else:
            raise unknown_parameter(f"created[{op}]")
    return low, high


def _integer(raw: str, param: str) -> int:
    if not raw.lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {raw}", param, "parameter_invalid_integer")
    return int(raw)


def _boolean(raw: str, param: str) -> bool:
    if raw not in ("true", "false"):
        raise invalid(f"Invalid boolean: {raw}", param, "parameter_invalid_boolean")
    return raw == "true"


def _one_of(raw: str, allowed: tuple[str, ...], param: str) -> str:
    if raw not in allowed:
        raise invalid(f"Invalid {param}: must be one of {', '.join(allowed)}", param)
    return raw


def filters_for(resource: str, params: Params, account: Account) -> Filters:
    """The equality filters a list request asks for, in the account's filter vocabulary."""
    scalars = params.scalars
    found: list[tuple[str, frozenset[Any]]] = []
    for name in (
        "customer",
        "subscription",
        "invoice",
        "product",
        "currency",
        "email",
        "type",
        "collection_method",
    ):
        if (
            name in scalars
            and name in LIST_PARAMS[resource]
            and not (resource == "events" and name == "type")
        ):
            found.append((name, frozenset({scalars[name]})))
    if "active" in scalars:
        found.append(("active", frozenset({_boolean(scalars["active"], "active")})))
    if resource in ("customers", "subscriptions"):
        # Stripe leaves test-clock objects out unless asked for them (or, for subscriptions,
        # unless the customer is named).
        if "test_clock" in scalars:
            found.append(("test_clock", frozenset({scalars["test_clock"]})))
        elif "customer" not in scalars:
            found.append(("test_clock", frozenset({None})))
    if resource == "subscriptions":
        status = _subscription_statuses(scalars.get("status"))
        if status is not None:
            found.append(("status", status))
    if resource == "invoices" and "status" in scalars:
        found.append(
            ("status", frozenset({_one_of(scalars["status"], _INVOICE_STATUSES, "status")}))
        )
    if resource == "events":
        kinds = _event_types(params, account)
        if kinds is not None:
            found.append(("type", kinds))
    return tuple(sorted(found, key=lambda f: _selectivity(f[0])))


def _selectivity(name: str) -> int:
    # The most selective filter goes first: it picks the group the others then scan.
    order = ("customer", "subscription", "invoice", "email", "product", "type", "status")
    return order.index(name) if name in order else len(order)


def _subscription_statuses(raw: str | None) -> frozenset[str] | None:
    if raw == "all":
        return None
    if raw is None:
        return frozenset(
            s for s in _SUBSCRIPTION_STATUSES if s not in ("canceled", "incomplete_expired")
        )
    if raw == "ended":
        return frozenset({"canceled", "incomplete_expired"})
    return frozenset({_one_of(raw, (*_SUBSCRIPTION_STATUSES, "all", "ended"), "status")})


def _event_types(params: Params, account: Account) -> frozenset[str] | None:
    patterns = list(params.arrays.get("types", []))
    if "type" in params.scalars:
        patterns.append(params.scalars["type"])
    if not patterns:
        return None
    known = {meta[0] for meta in account.collections["events"].meta.values()}
    chosen = set()
    for pattern in patterns:
        if pattern.endswith("*"):
            chosen.update(k for k in known if k.startswith(pattern[:-1]))
        else:
            chosen.add(pattern)
    return frozenset(chosen)


@dataclass
class Page:
    ids: list[str]
    has_more: bool


def page_of(account: Account, resource: str, params: Params) -> Page:
    """The ids of one page, newest first, and whether more follow in the walking direction."""
    limit = parse_limit(params)
    after = params.scalars.get("starting_after")
    before = params.scalars.get("ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        )
    keys = account.view(resource, filters_for(resource, params, account))
    low, high = _created_bounds(params)
    if resource == "events":
        low = max(low, account.event_horizon())
    lo = bisect.bisect_left(keys, (low, ""))
    hi = bisect.bisect_left(keys, (high, ""))
    if before:
        lo = max(lo, bisect.bisect_right(keys, _cursor(account, resource, before, "ending_before")))
        chosen = keys[lo : min(hi, lo + limit)]
        return Page(_ids_newest_first(chosen), lo + limit < hi)
    if after:
        hi = min(hi, bisect.bisect_left(keys, _cursor(account, resource, after, "starting_after")))
    chosen = keys[max(lo, hi - limit) : hi]
    return Page(_ids_newest_first(chosen), hi - limit > lo)


def _ids_newest_first(keys: list[Key]) -> list[str]:
    return [object_id for _, object_id in reversed(keys)]


def _cursor(account: Account, resource: str, object_id: str, param: str) -> Key:
    key = account.key_of(resource, object_id)
    if key is None:
        raise missing(OBJECT_NAMES[resource], object_id, param)
    return key


def nested_page(ids: list[str], params: Params, object_name: str) -> tuple[int, int, bool]:
    """Slice bounds of a nested list (kept in its own order, not by date) and has_more."""
    limit = parse_limit(params)
    after = params.scalars.get("starting_after")
    before = params.scalars.get("ending_before")
    if after and before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        )
    if before:
        end = _position(ids, before, object_name, "ending_before")
        start = max(0, end - limit)
        return start, end, start > 0
    start = _position(ids, after, object_name, "starting_after") + 1 if after else 0
    end = min(len(ids), start + limit)
    return start, end, end < len(ids)


def _position(ids: list[str], object_id: str, object_name: str, param: str) -> int:
    try:
        return ids.index(object_id)
    except ValueError:
        raise missing(object_name, object_id, param) from None


def list_body(parts: list[bytes], has_more: bool, url: str) -> bytes:
    more = b"true" if has_more else b"false"
    return b"".join(
        (
            b'{"object":"list","data":[',
            b",".join(parts),
            b'],"has_more":',
            more,
            b',"url":"',
            url.encode(),
            b'"}',
        )
    )


Resolver = Callable[[str], Obj | None]


def expand_json(blob: bytes, paths: list[str], resolve: Resolver, in_list: bool) -> bytes:
    """The object with the requested `expand[]` paths replaced by the objects they name.

    orjson, not json: every invoice of a page is parsed and written again here, which made
    this the test server's main cost (the JSON differs from ``encode``'s only in leaving
    non-ASCII characters unescaped, as Stripe does).
    """
    obj = orjson.loads(blob)
    for path in paths:
        parts = path.split(".")
        if in_list:
            if parts[0] != "data" or len(parts) < 2:
                raise invalid(f"This property cannot be expanded ({path}).", "expand")
            parts = parts[1:]
        _expand(obj, parts, path, resolve)
    return orjson.dumps(obj)


def _expand(obj: Obj, parts: list[str], path: str, resolve: Resolver) -> None:
    name = parts[0]
    if not isinstance(obj, dict) or name not in obj:
        raise invalid(f"This property cannot be expanded ({path}).", "expand")
    value = obj[name]
    if len(parts) == 1:
        obj[name] = _resolved(value, path, resolve)
        return
    if isinstance(value, dict) and value.get("object") == "list" and parts[1] == "data":
        for item in value["data"]:
            if len(parts) > 2:
                _expand(item, parts[2:], path, resolve)
        return
    value = obj[name] = _resolved(value, path, resolve)
    for item in value if isinstance(value, list) else [value]:
        if item is not None:
            _expand(item, parts[1:], path, resolve)


def _resolved(value: Any, path: str, resolve: Resolver) -> Any:
    if value is None or isinstance(value, dict):
        return value  # nothing to expand, or already an object (e.g. `lines`)
    if isinstance(value, list):
        return [_resolved(v, path, resolve) for v in value]
    if isinstance(value, str):
        found = resolve(value)
        if found is not None:
            return found
    raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
