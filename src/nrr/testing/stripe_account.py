"""The synthetic Stripe account: every object kept as its JSON, indexed for Stripe's list protocol.

Objects are stored serialised (a dict of an invoice costs three times its JSON in memory, and a page
is then a join of ready bytes), together with the few fields the list filters need. Each resource
keeps `(created, id)` keys in ascending order, so a page is two bisections and a slice. Reading an
object returns a fresh dict, so callers can change it and `put` it back; the snapshots inside
events stay as they were when the event happened.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from nrr.testing import stripe_objects as so
from nrr.testing.stripe_calendar import DAY, epoch

if TYPE_CHECKING:
    from nrr.testing.stripe_generate import GenerationSpec
    from nrr.testing.stripe_mutate import MutationReport

Obj = dict[str, Any]
Key = tuple[int, str]
Filters = tuple[tuple[str, frozenset[Any]], ...]

DEFAULT_NOW = epoch(2026, 11, 1)
DEFAULT_API_KEY = "sk_test_nrrSyntheticAccount000000000000"
EVENT_RETENTION = 30 * DAY
API_VERSION = "2026-10-28.endive"

OBJECT_NAMES = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "coupons": "coupon",
    "subscriptions": "subscription",
    "subscription_items": "subscription_item",
    "invoices": "invoice",
    "credit_notes": "credit_note",
    "events": "event",
    "discounts": "discount",
}
# The fields list filters select on, by resource, as paths into the object.
FILTER_FIELDS: dict[str, dict[str, str]] = {
    "customers": {"email": "email", "test_clock": "test_clock"},
    "products": {"active": "active", "type": "type"},
    "prices": {"active": "active", "product": "product", "type": "type", "currency": "currency"},
    "coupons": {},
    "subscriptions": {
        "customer": "customer",
        "status": "status",
        "test_clock": "test_clock",
        "collection_method": "collection_method",
    },
    "subscription_items": {"subscription": "subscription"},
    "invoices": {
        "customer": "customer",
        "status": "status",
        "subscription": "parent.subscription_details.subscription",
        "collection_method": "collection_method",
    },
    "credit_notes": {"customer": "customer", "invoice": "invoice"},
    "events": {"type": "type"},
    "discounts": {},
}
_PREFIXES = {
    "cus": "customers",
    "prod": "products",
    "price": "prices",
    "sub": "subscriptions",
    "si": "subscription_items",
    "in": "invoices",
    "cn": "credit_notes",
    "evt": "events",
    "di": "discounts",
}
# Nested lists embedded in a parent: (key, URL of the nested list)
_NESTED = {
    "invoices": ("lines", "/v1/invoices/{}/lines"),
    "credit_notes": ("lines", "/v1/credit_notes/{}/lines"),
    "subscriptions": ("items", "/v1/subscription_items?subscription={}"),
}
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def encode(obj: Any) -> bytes:
    return _ENCODE(obj).encode()


def _loads(blob: bytes) -> Any:
    """Parse stored JSON (orjson: expanding a page's discounts parses objects on every request)."""
    return orjson.loads(blob)


# Fields every object of a resource shares: stored once and spliced in when serving, which saves a
# third of an invoice's bytes and of the time to encode it.
_SHARED = {"invoices": so.INVOICE_DEFAULTS, "subscriptions": so.SUBSCRIPTION_DEFAULTS}
_SHARED_JSON = {resource: encode(fields)[1:-1] + b"," for resource, fields in _SHARED.items()}


def _dig(obj: Obj, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _created(obj: Obj) -> int:
    # Discounts have no `created`; they are only reached by id, so their start orders them.
    return int(obj["created"] if "created" in obj else obj["start"])


@dataclass
class Collection:
    # JSON by id; an event's JSON is kept in pieces shared with the objects it snapshots
    blobs: dict[str, bytes | tuple[bytes, ...]] = field(default_factory=dict)
    meta: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)


@dataclass
class Nested:
    """A nested list (invoice lines, subscription items): ids in order and their JSON."""

    ids: list[str]
    blobs: list[bytes]


class Account:
    """All objects of one synthetic account, plus the account's own clock (`now`)."""

    def __init__(self, now: int = DEFAULT_NOW) -> None:
        self.now = now
        self.collections = {name: Collection() for name in OBJECT_NAMES}
        self.nested: dict[str, Nested] = {}  # parent id -> lines or items
        self.deleted: dict[str, set[str]] = {name: set() for name in OBJECT_NAMES}
        self.tax_rates: dict[str, Obj] = {}
        self.spec: GenerationSpec | None = None
        self.lock = threading.RLock()
        self.version = 0
        self._views: dict[tuple[str, Filters], list[Key]] = {}
        self._groups: dict[tuple[str, str], dict[Any, list[Key]]] = {}

    # -- reading ---------------------------------------------------------------------------
    def has(self, resource: str, object_id: str) -> bool:
        created = self.collections[resource].created.get(object_id)
        if created is None:
            return False
        return resource != "events" or created >= self.event_horizon()

    def key_of(self, resource: str, object_id: str) -> Key | None:
        if not self.has(resource, object_id):
            return None
        return (self.collections[resource].created[object_id], object_id)

    def get(self, resource: str, object_id: str) -> Obj | None:
        """A fresh dict of the object without its nested lists, or None when absent."""
        if not self.has(resource, object_id):
            return None
        return dict(_loads(self._whole(resource, object_id)))

    def _whole(self, resource: str, object_id: str) -> bytes:
        blob = self.collections[resource].blobs[object_id]
        if resource not in _NESTED:
            return blob if isinstance(blob, bytes) else b"".join(blob)
        return b"".join((b"{", _SHARED_JSON.get(resource, b""), blob, b"}"))

    def full(self, resource: str, object_id: str) -> Obj:
        """The object as the API shows it, nested lists included, as a fresh dict."""
        return dict(_loads(self.full_json(resource, object_id)))

    def full_json(self, resource: str, object_id: str) -> bytes:
        return b"".join(self.full_parts(resource, object_id))

    def full_parts(self, resource: str, object_id: str) -> tuple[bytes, ...]:
        """The served JSON in pieces that share memory with the stored ones (events keep these)."""
        blob = self.collections[resource].blobs[object_id]
        nested = _NESTED.get(resource)
        if nested is None:
            return (blob,) if isinstance(blob, bytes) else blob
        assert isinstance(blob, bytes)
        name, url = nested
        children = self.nested.get(object_id) or Nested([], [])
        count = len(children.ids)
        more = "true" if count > 10 else "false"
        head = f',"{name}":{{"object":"list","data":['.encode()
        tail = f'],"has_more":{more},"total_count":{count},"url":"{url.format(object_id)}"}}}}'
        parts = [b"{", _SHARED_JSON.get(resource, b""), blob, head]
        for index, child in enumerate(children.blobs[:10]):
            if index:
                parts.append(b",")
            parts.append(child)
        parts.append(tail.encode())
        return tuple(parts)

    def children(self, parent_id: str) -> Nested | None:
        return self.nested.get(parent_id)

    def resource_of(self, object_id: str) -> str | None:
        return _PREFIXES.get(object_id.split("_", 1)[0])

    def event_horizon(self) -> int:
        """Events older than this are gone, as Stripe keeps events for 30 days."""
        return self.now - EVENT_RETENTION

    def count(self, resource: str) -> int:
        return len(self.collections[resource].blobs)

    def ids(self, resource: str) -> list[str]:
        """Ids oldest first."""
        return [object_id for _, object_id in self.collections[resource].keys]

    def iter_objects(self, resource: str) -> Iterator[Obj]:
        """Fresh dicts oldest first, nested lists included."""
        for object_id in self.ids(resource):
            yield self.full(resource, object_id)

    # -- indexes ---------------------------------------------------------------------------
    def view(self, resource: str, filters: Filters) -> list[Key]:
        """Ascending keys of the objects whose fields take one of the allowed values."""
        if not filters:
            return self.collections[resource].keys
        cache_key = (resource, filters)
        found = self._views.get(cache_key)
        if found is None:
            found = self._build_view(resource, filters)
            self._views[cache_key] = found
        return found

    def _build_view(self, resource: str, filters: Filters) -> list[Key]:
        first_field, first_values = filters[0]
        groups = self._group(resource, first_field)
        keys: list[Key] = []
        for value in first_values:
            keys.extend(groups.get(value, ()))
        keys.sort()
        if len(filters) == 1:
            return keys
        names = list(FILTER_FIELDS[resource])
        meta = self.collections[resource].meta
        checks = [(names.index(name), values) for name, values in filters[1:]]
        return [k for k in keys if all(meta[k[1]][i] in v for i, v in checks)]

    def _group(self, resource: str, name: str) -> dict[Any, list[Key]]:
        found = self._groups.get((resource, name))
        if found is None:
            index = list(FILTER_FIELDS[resource]).index(name)
            found = {}
            collection = self.collections[resource]
            for key in collection.keys:
                found.setdefault(collection.meta[key[1]][index], []).append(key)
            self._groups[(resource, name)] = found
        return found

    # -- writing ---------------------------------------------------------------------------
    def load(self, resource: str, obj: Obj, compact: bool = False) -> bytes:
        """Store an object while building the account (keys are sorted by `finish_loading`).

        `compact`: the object holds neither the resource's shared fields nor its nested list, so
        there is nothing to strip. Returns the stored JSON.
        """
        collection = self.collections[resource]
        object_id = obj["id"]
        nested = _NESTED.get(resource)
        shared = _SHARED.get(resource)
        if not compact and (shared is not None or (nested is not None and nested[0] in obj)):
            skip = nested[0] if nested else ""
            obj = {
                k: v
                for k, v in obj.items()
                if k != skip and (shared is None or k not in shared or shared[k] != v)
            }
        if object_id not in collection.created:
            collection.keys.append((_created(obj), object_id))
        # parents of nested lists are kept without their braces, to be wrapped when served
        blob = collection.blobs[object_id] = encode(obj)[1:-1] if nested else encode(obj)
        collection.created[object_id] = _created(obj)
        paths = FILTER_FIELDS[resource].values()
        collection.meta[object_id] = tuple(
            obj.get(path) if "." not in path else _dig(obj, path) for path in paths
        )
        return blob

    def load_event(
        self,
        event_id: str,
        created: int,
        kind: str,
        snapshot: tuple[bytes, ...],
        previous: Obj | None,
    ) -> None:
        """Store an event whose `data.object` is the JSON of the object at that moment."""
        prior = b"" if previous is None else b',"previous_attributes":' + encode(previous)
        blob = (
            f'{{"id":"{event_id}","object":"event","api_version":"{API_VERSION}",'
            f'"context":null,"created":{created},"data":{{"object":'.encode(),
            *snapshot,
            prior,
            f'}},"livemode":false,"pending_webhooks":0,'
            f'"request":{{"id":null,"idempotency_key":null}},"type":"{kind}"}}'.encode(),
        )
        events = self.collections["events"]
        events.blobs[event_id] = blob
        events.created[event_id] = created
        events.meta[event_id] = (kind,)
        events.keys.append((created, event_id))

    def set_children(
        self, parent_id: str, children: list[Obj], blobs: list[bytes] | None = None
    ) -> None:
        """Set a nested list; `blobs`, when given, is the children's JSON already written."""
        self.nested[parent_id] = Nested(
            [c["id"] for c in children],
            blobs if blobs is not None else [encode(c) for c in children],
        )

    def load_written(
        self, resource: str, object_id: str, created: int, meta: tuple[Any, ...], body: bytes
    ) -> None:
        """Store an object already written as JSON (for a nested resource: without braces)."""
        collection = self.collections[resource]
        if object_id not in collection.created:
            collection.keys.append((created, object_id))
        collection.blobs[object_id] = body
        collection.created[object_id] = created
        collection.meta[object_id] = meta

    def put_written(
        self, resource: str, object_id: str, created: int, meta: tuple[Any, ...], body: bytes
    ) -> None:
        """`load_written` at run time."""
        with self.lock:
            known = object_id in self.collections[resource].created
            self.load_written(resource, object_id, created, meta, body)
            if not known:
                keys = self.collections[resource].keys
                keys.pop()
                bisect.insort(keys, (created, object_id))
            self.changed()

    def forget(self, resource: str, object_id: str) -> None:
        """Drop an object while building (its key goes at `finish_loading`)."""
        collection = self.collections[resource]
        collection.blobs.pop(object_id)
        collection.meta.pop(object_id)
        collection.created.pop(object_id)
        self.deleted[resource].add(object_id)

    def finish_loading(self) -> None:
        for collection in self.collections.values():
            present = collection.created
            collection.keys = sorted(k for k in collection.keys if k[1] in present)
        self.changed()

    def put(self, resource: str, obj: Obj) -> None:
        """Store a new or changed object at run time."""
        with self.lock:
            known = obj["id"] in self.collections[resource].created
            self.load(resource, obj)
            if not known:
                keys = self.collections[resource].keys
                keys.pop()
                bisect.insort(keys, (_created(obj), obj["id"]))
            self.changed()

    def add_event(
        self,
        event_id: str,
        created: int,
        kind: str,
        resource: str,
        object_id: str,
        previous: Obj | None = None,
    ) -> None:
        """Record an event at run time, its snapshot taken from the object as it is now."""
        with self.lock:
            snapshot = self.snapshot(resource, object_id)
            self.load_event(event_id, created, kind, snapshot, previous)
            keys = self.collections["events"].keys
            keys.pop()
            bisect.insort(keys, (created, event_id))
            self.changed()

    def snapshot(self, resource: str, object_id: str) -> tuple[bytes, ...]:
        if object_id in self.collections[resource].blobs:
            return self.full_parts(resource, object_id)
        return (encode({"id": object_id, "object": OBJECT_NAMES[resource], "deleted": True}),)

    def delete(self, resource: str, object_id: str) -> bool:
        with self.lock:
            created = self.collections[resource].created.get(object_id)
            if created is None:
                return False
            self.forget(resource, object_id)
            keys = self.collections[resource].keys
            del keys[bisect.bisect_left(keys, (created, object_id))]
            self.changed()
            return True

    def changed(self) -> None:
        self.version += 1
        self._views.clear()
        self._groups.clear()

    def fingerprint(self) -> str:
        """A digest of every served object: equal fingerprints mean identical accounts."""
        digest = hashlib.sha256()
        for resource, collection in self.collections.items():
            for _, object_id in collection.keys:
                digest.update(self.full_json(resource, object_id))
        for resource in sorted(self.deleted):
            digest.update(",".join(sorted(self.deleted[resource])).encode())
        return digest.hexdigest()

    def mutate(
        self, fraction: float = 0.01, seed: int = 0, at: int | None = None
    ) -> MutationReport:
        """Change a share of the subscriptions as customers would; see `stripe_mutate`."""
        from nrr.testing.stripe_mutate import mutate

        return mutate(self, fraction=fraction, seed=seed, at=at)


def generate_account(
    seed: int = 0, n_subscriptions: int = 1_000, months: int = 12, now: int = DEFAULT_NOW
) -> Account:
    """A seeded synthetic account; see `nrr.testing.stripe_generate` for what it holds."""
    from nrr.testing.stripe_generate import generate_account as generate

    return generate(seed=seed, n_subscriptions=n_subscriptions, months=months, now=now)
