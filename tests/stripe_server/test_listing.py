"""Stripe's list protocol through the official SDK: order, limits, cursors, filters, nesting."""

from __future__ import annotations

import json
from typing import Any

import stripe  # noqa: TID253 (tests are never imported at CLI start-up)

from nrr.testing import Account
from nrr.testing.stripe_server import StripeServer


def _raw(client: stripe.StripeClient, path: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(client.raw_request("get", path, **params).body)
    return body


def _newest_first(account: Account, resource: str, keep: Any = None) -> list[str]:
    objects = [o for o in account.iter_objects(resource) if keep is None or keep(o)]
    objects.sort(key=lambda o: (o["created"], o["id"]), reverse=True)
    return [o["id"] for o in objects]


def test_auto_paging_with_the_default_limit_walks_every_customer_newest_first(
        account: Account, server: StripeServer, client: stripe.StripeClient) -> None:
    walked = [c.id for c in client.v1.customers.list().auto_paging_iter()]
    expected = _newest_first(account, "customers", lambda c: c["test_clock"] is None)
    assert len(expected) > 10
    assert walked == expected
    pages = server.stats.paths["customers"]
    assert pages == -(-len(expected) // 10)  # ten per page by default


def test_invoices_page_by_a_hundred_beyond_the_first_hundred(
        account: Account, server: StripeServer, client: stripe.StripeClient) -> None:
    first = _raw(client, "/v1/invoices", limit=100)
    assert first["object"] == "list" and first["url"] == "/v1/invoices"
    assert len(first["data"]) == 100 and first["has_more"] is True
    walked = [i.id for i in client.v1.invoices.list({"limit": 100}).auto_paging_iter()]
    assert walked == _newest_first(account, "invoices")
    assert len(walked) == account.count("invoices") > 1_000
    assert server.stats.paths["invoices"] == 1 + -(-len(walked) // 100)


def test_ending_before_returns_the_previous_page(client: stripe.StripeClient) -> None:
    first = _raw(client, "/v1/invoices", limit=25)
    second = _raw(client, "/v1/invoices", limit=25, starting_after=first["data"][-1]["id"])
    back = _raw(client, "/v1/invoices", limit=25, ending_before=second["data"][0]["id"])
    assert [i["id"] for i in back["data"]] == [i["id"] for i in first["data"]]
    assert back["has_more"] is False  # nothing newer than the first page
    middle = _raw(client, "/v1/invoices", limit=5, ending_before=second["data"][0]["id"])
    assert [i["id"] for i in middle["data"]] == [i["id"] for i in first["data"][-5:]]
    assert middle["has_more"] is True


def test_auto_paging_backwards_from_ending_before(
        account: Account, client: stripe.StripeClient) -> None:
    expected = _newest_first(account, "invoices")
    pivot = expected[250]
    walked = [i.id for i in client.v1.invoices.list(
        {"limit": 100, "ending_before": pivot}).auto_paging_iter()]
    # The SDK walks towards newer objects, yielding each page in turn.
    assert sorted(walked) == sorted(expected[:250])


def test_created_filters_bound_the_range(account: Account, client: stripe.StripeClient) -> None:
    stamps = sorted(i["created"] for i in account.iter_objects("invoices"))
    low, high = stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3]
    walked = [i for i in client.v1.invoices.list(
        {"limit": 100, "created": {"gte": low, "lt": high}}).auto_paging_iter()]
    assert len(walked) == sum(1 for s in stamps if low <= s < high)
    assert all(low <= i.created < high for i in walked)
    exact = _raw(client, "/v1/invoices", created=stamps[0], limit=100)
    assert len(exact["data"]) == stamps.count(stamps[0])
    after = _raw(client, "/v1/invoices", **{"created[gt]": stamps[-2], "limit": 100})
    assert [i["created"] for i in after["data"]] == [s for s in stamps if s > stamps[-2]][::-1]
    upto = _raw(client, "/v1/invoices", **{"created[lte]": stamps[0], "limit": 100})
    assert len(upto["data"]) == stamps.count(stamps[0])


def test_subscriptions_leave_out_canceled_unless_status_all(
        account: Account, client: stripe.StripeClient) -> None:
    subs = [s for s in account.iter_objects("subscriptions") if s["test_clock"] is None]
    default = [s.id for s in client.v1.subscriptions.list({"limit": 100}).auto_paging_iter()]
    everything = [s.id for s in client.v1.subscriptions.list(
        {"limit": 100, "status": "all"}).auto_paging_iter()]
    canceled = [s.id for s in client.v1.subscriptions.list(
        {"limit": 100, "status": "canceled"}).auto_paging_iter()]
    assert len(default) == sum(1 for s in subs if s["status"] != "canceled")
    assert len(everything) == len(subs)
    assert set(canceled) == {s["id"] for s in subs if s["status"] == "canceled"}
    assert set(default) | set(canceled) == set(everything)


def test_test_clock_objects_only_when_asked_for(
        account: Account, client: stripe.StripeClient) -> None:
    clocked = [s for s in account.iter_objects("subscriptions") if s["test_clock"]]
    assert clocked, "the seed should give at least one test-clock subscription"
    sub = clocked[0]
    listed = {s.id for s in client.v1.subscriptions.list(
        {"limit": 100, "status": "all"}).auto_paging_iter()}
    assert sub["id"] not in listed
    by_customer = _raw(client, "/v1/subscriptions", customer=sub["customer"], status="all")
    assert sub["id"] in {s["id"] for s in by_customer["data"]}
    by_clock = _raw(client, "/v1/subscriptions", test_clock=sub["test_clock"], status="all")
    assert {s["test_clock"] for s in by_clock["data"]} == {sub["test_clock"]}
    # invoices of test-clock subscriptions are listed, marked by their test_clock
    invoices = _raw(client, "/v1/invoices", subscription=sub["id"], limit=100)
    assert invoices["data"] and all(i["test_clock"] == sub["test_clock"]
                                    for i in invoices["data"])


def test_customer_filter_on_invoices(account: Account, client: stripe.StripeClient) -> None:
    customer = next(iter(account.iter_objects("customers")))["id"]
    walked = [i.id for i in client.v1.invoices.list(
        {"customer": customer, "limit": 3}).auto_paging_iter()]
    assert walked == _newest_first(account, "invoices", lambda i: i["customer"] == customer)


def test_invoice_lines_are_a_nested_list_with_their_own_url(
        account: Account, client: stripe.StripeClient) -> None:
    invoice = client.v1.invoices.list({"limit": 1}).data[0]
    lines = invoice.lines
    assert lines.object == "list"
    assert lines.url == f"/v1/invoices/{invoice.id}/lines"
    assert lines.total_count == len(lines.data) and lines.has_more is False
    line = lines.data[0]
    assert line.object == "line_item" and line.invoice == invoice.id
    assert line.pricing.type == "price_details"
    assert line.parent.type in ("subscription_item_details", "invoice_item_details")
    assert set(line.period.to_dict()) == {"start", "end"}


def test_subscription_items_nested_and_listed(account: Account, client: stripe.StripeClient
                                              ) -> None:
    sub = client.v1.subscriptions.list({"limit": 1}).data[0]
    assert sub.items.url == f"/v1/subscription_items?subscription={sub.id}"
    listed = _raw(client, "/v1/subscription_items", subscription=sub.id)
    assert listed["url"] == "/v1/subscription_items"
    assert [i["id"] for i in listed["data"]] == [i.id for i in sub.items.data]
    item = client.v1.subscription_items.retrieve(sub.items.data[0].id)
    assert item.subscription == sub.id and item.price.object == "price"
    walked = [i.id for i in sub.items.auto_paging_iter()]
    assert walked == [i.id for i in sub.items.data]


def test_expand_discounts_customer_and_a_no_op_on_lines(
        account: Account, client: stripe.StripeClient) -> None:
    discounted = next(i for i in account.iter_objects("invoices") if i["discounts"])
    plain = _raw(client, "/v1/invoices", customer=discounted["customer"], limit=100)
    expanded = _raw(client, "/v1/invoices", customer=discounted["customer"], limit=100,
                    expand=["data.discounts", "data.customer", "data.lines"])
    by_id = {i["id"]: i for i in expanded["data"]}
    one = by_id[discounted["id"]]
    assert one["discounts"][0]["object"] == "discount"
    assert one["discounts"][0]["id"] == discounted["discounts"][0]
    assert one["customer"]["id"] == discounted["customer"]
    assert one["lines"] == next(i for i in plain["data"] if i["id"] == one["id"])["lines"]
    retrieved = client.v1.subscriptions.retrieve(
        one["parent"]["subscription_details"]["subscription"], {"expand": ["discounts"]})
    assert all(d.object == "discount" for d in retrieved.discounts)


def test_retrieve_each_resource_by_id(account: Account, client: stripe.StripeClient) -> None:
    for resource in ("customers", "products", "prices", "coupons", "subscriptions", "invoices",
                     "credit_notes", "events", "subscription_items"):
        object_id = account.ids(resource)[-1]
        body = _raw(client, f"/v1/{resource}/{object_id}")
        assert body["id"] == object_id and body.get("livemode", False) is False
    deleted = sorted(account.deleted["customers"])[0]
    stub = client.v1.customers.retrieve(deleted)
    assert stub.deleted is True and stub.id == deleted


def test_event_types_filter_with_a_wildcard(client: stripe.StripeClient) -> None:
    invoice_events = _raw(client, "/v1/events", type="invoice.*", limit=100)
    assert invoice_events["data"] and all(
        e["type"].startswith("invoice.") for e in invoice_events["data"])
    paid = _raw(client, "/v1/events", types=["invoice.paid", "customer.created"], limit=100)
    assert {e["type"] for e in paid["data"]} <= {"invoice.paid", "customer.created"}


def test_invoice_lines_beyond_the_first_ten_are_paged(
        account: Account, client: stripe.StripeClient) -> None:
    big = next(i for i in account.iter_objects("invoices") if i["lines"]["total_count"] > 10)
    invoice = client.v1.invoices.retrieve(big["id"])
    assert len(invoice.lines.data) == 10 and invoice.lines.has_more is True
    count = big["lines"]["total_count"]
    walked = [line.id for line in invoice.lines.auto_paging_iter()]
    assert len(walked) == count == len(set(walked))
    assert walked[:10] == [line.id for line in invoice.lines.data]
    second = _raw(client, f"/v1/invoices/{big['id']}/lines", limit=10,
                  starting_after=walked[9])
    assert [line["id"] for line in second["data"]] == walked[10:]
    assert second["has_more"] is False and second["url"] == f"/v1/invoices/{big['id']}/lines"
    back = _raw(client, f"/v1/invoices/{big['id']}/lines", limit=5, ending_before=walked[10])
    assert [line["id"] for line in back["data"]] == walked[5:10] and back["has_more"] is True
    listed = [line.id for line in client.v1.invoices.line_items.list(
        big["id"], {"limit": 100}).auto_paging_iter()]
    assert listed == walked


def test_subscription_items_beyond_the_first_ten_are_paged(
        account: Account, client: stripe.StripeClient) -> None:
    big = next(s for s in account.iter_objects("subscriptions")
               if s["items"]["total_count"] > 10)
    sub = client.v1.subscriptions.retrieve(big["id"])
    assert len(sub.items.data) == 10 and sub.items.has_more is True
    walked = [item.id for item in sub.items.auto_paging_iter()]
    assert len(walked) == big["items"]["total_count"] == len(set(walked))
    rest = _raw(client, "/v1/subscription_items", subscription=big["id"],
                starting_after=walked[9])
    assert [item["id"] for item in rest["data"]] == walked[10:]
