"""Injected faults as the SDK meets them: retried 429 and 500, slow pages, vanished cursors."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable

import pytest
import stripe  # noqa: TID253 (tests are never imported at CLI start-up)

from nrr.testing import generate_account
from nrr.testing.stripe_server import StripeServer

MakeClient = Callable[..., stripe.StripeClient]


def test_429_with_should_retry_is_retried_by_the_sdk(server: StripeServer,
                                                     make_client: MakeClient) -> None:
    server.faults.rate_limit(times=2, should_retry=True)
    customers = make_client(server, retries=3).v1.customers.list({"limit": 5})
    assert len(customers.data) == 5
    assert server.stats.statuses == {429: 2, 200: 1}


def test_429_without_the_header_is_not_retried(server: StripeServer,
                                               make_client: MakeClient) -> None:
    server.faults.rate_limit(times=1, should_retry=None)
    with pytest.raises(stripe.RateLimitError) as caught:
        make_client(server, retries=3).v1.customers.list()
    assert caught.value.http_status == 429
    assert caught.value.json_body["error"]["code"] == "rate_limit"
    assert server.stats.requests == 1


def test_500_with_should_retry_is_retried(server: StripeServer, make_client: MakeClient) -> None:
    server.faults.server_error(times=1)
    assert make_client(server, retries=1).v1.invoices.list({"limit": 1}).data
    assert server.stats.statuses == {500: 1, 200: 1}


def test_a_persistent_500_surfaces_as_api_error(server: StripeServer,
                                                make_client: MakeClient) -> None:
    server.faults.server_error(times=5, path="/v1/invoices")
    client = make_client(server, retries=0)
    assert client.v1.customers.list().data  # the fault only matches its path
    with pytest.raises(stripe.APIError) as caught:
        client.v1.invoices.list()
    assert caught.value.http_status == 500


def test_slow_responses_are_delayed(server: StripeServer, client: stripe.StripeClient) -> None:
    server.faults.slow(delay_ms=300, times=1)
    started = time.perf_counter()
    client.v1.customers.list({"limit": 1})
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    client.v1.customers.list({"limit": 1})
    assert time.perf_counter() - started < 0.3


def test_cursor_deleted_mid_walk_answers_404_and_records_the_deletion(
        make_client: MakeClient) -> None:
    account = generate_account(seed=11, n_subscriptions=60)
    with StripeServer(account) as server:
        client = make_client(server, retries=2)
        first = client.v1.customers.list({"limit": 10})
        cursor = first.data[-1].id
        server.faults.delete_cursor_object(times=1)
        with pytest.raises(stripe.InvalidRequestError) as caught:
            client.v1.customers.list({"limit": 10, "starting_after": cursor})
        assert (caught.value.code, caught.value.param) == ("resource_missing", "starting_after")
        assert client.v1.customers.retrieve(cursor).deleted is True
        deleted = client.v1.events.list({"type": "customer.deleted", "limit": 1}).data[0]
        assert deleted.data.object.id == cursor
        # a walk restarted from a created bound carries on past the hole
        rest = client.v1.customers.list({"limit": 10, "created": {"lte": first.data[-1].created}})
        assert cursor not in [c.id for c in rest.data]


def test_faults_can_be_set_over_http(server: StripeServer, make_client: MakeClient) -> None:
    request = urllib.request.Request(
        server.url + "/_test/faults", method="POST",
        data=json.dumps({"kind": "rate_limit", "times": 1, "should_retry": False}).encode())
    with urllib.request.urlopen(request) as response:
        assert json.loads(response.read()) == {"added": "rate_limit"}
    with pytest.raises(stripe.RateLimitError):
        make_client(server, retries=2).v1.customers.list()
    with urllib.request.urlopen(server.url + "/_test/stats") as response:
        stats = json.loads(response.read())
    assert stats["statuses"] == {"429": 1}
