"""Runtime changes recorded as events, for incremental sync; event retention; the CLI entry."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable

import stripe  # noqa: TID253 (tests are never imported at CLI start-up)

from nrr.testing import generate_account
from nrr.testing.stripe_account import EVENT_RETENTION
from nrr.testing.stripe_server import StripeServer

MakeClient = Callable[..., stripe.StripeClient]


def test_mutations_append_events_after_the_cursor(make_client: MakeClient) -> None:
    account = generate_account(seed=3, n_subscriptions=200)
    with StripeServer(account) as server:
        client = make_client(server)
        newest = client.v1.events.list({"limit": 1}).data[0]
        before = account.now
        report = account.mutate(fraction=0.05, seed=9)
        assert report.at == before + 3_600
        fresh = list(client.v1.events.list(
            {"limit": 100, "ending_before": newest.id}).auto_paging_iter())
        assert sorted(e.id for e in fresh) == sorted(report.events)
        assert {e.id for e in client.v1.events.list(
            {"limit": 100, "created": {"gt": newest.created}}).auto_paging_iter()} == set(
                report.events)
        assert len(report.chosen) == 10  # 5 % of 200
        assert len(report.events) >= 10
        for event in fresh:
            assert event.created >= report.at
            current = client.raw_request("get", f"/v1/{_resource(event.type)}/"
                                         f"{event.data.object.id}")
            assert json.loads(current.body)["id"] == event.data.object.id


def _resource(kind: str) -> str:
    return "invoices" if kind.startswith("invoice.") else "subscriptions"


def test_a_quantity_change_is_invoiced_as_prorations_from_the_change(
        make_client: MakeClient) -> None:
    account = generate_account(seed=4, n_subscriptions=150)
    report = account.mutate(fraction=0.2, seed=2)
    with StripeServer(account) as server:
        client = make_client(server)
        updates = [e for e in client.v1.events.list(
            {"limit": 100, "type": "invoice.created"}).auto_paging_iter()
            if e.data.object.billing_reason == "subscription_update"]
        assert updates
        for event in updates:
            invoice = client.v1.invoices.retrieve(event.data.object.id)
            lines = invoice.lines.data
            assert [line.parent.subscription_item_details.proration for line in lines] == [
                True, True]
            assert {line.period.start for line in lines} == {event.created}
            assert lines[0].amount < 0 < lines[1].amount
            assert invoice.id in report.changed["invoices"]


def test_mutations_are_deterministic() -> None:
    one, two = (generate_account(seed=8, n_subscriptions=100) for _ in range(2))
    one.mutate(fraction=0.1, seed=4)
    two.mutate(fraction=0.1, seed=4)
    assert one.fingerprint() == two.fingerprint()


def test_events_older_than_thirty_days_are_gone(make_client: MakeClient) -> None:
    account = generate_account(seed=12, n_subscriptions=80)
    with StripeServer(account) as server:
        client = make_client(server)
        events = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
        oldest = events[-1]
        assert oldest.created >= account.now - EVENT_RETENTION
        account.mutate(fraction=0.01, seed=1, at=oldest.created + EVENT_RETENTION + 10)
        remaining = {e.id for e in client.v1.events.list({"limit": 100}).auto_paging_iter()}
        assert oldest.id not in remaining
        try:
            client.v1.events.retrieve(oldest.id)
            raise AssertionError("an expired event must be gone")
        except stripe.InvalidRequestError as error:
            assert error.http_status == 404


def test_mutation_over_http(make_client: MakeClient) -> None:
    account = generate_account(seed=13, n_subscriptions=50)
    with StripeServer(account) as server:
        request = urllib.request.Request(server.url + "/_test/mutate", method="POST",
                                          data=json.dumps({"fraction": 0.1, "seed": 1}).encode())
        with urllib.request.urlopen(request) as response:
            report = json.loads(response.read())
        assert report["events"]
        event = make_client(server).v1.events.retrieve(report["events"][0])
        assert event.created == report["at"]


def test_the_module_entry_point_serves_until_killed() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "nrr.testing.stripe_server", "--seed", "1",
         "--subscriptions", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        from nrr.testing import DEFAULT_API_KEY

        client = stripe.StripeClient(DEFAULT_API_KEY, base_addresses={"api": url})
        assert len(client.v1.subscriptions.list({"status": "all", "limit": 100}).data) >= 19
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert errors == ""  # no warning, no traceback, no key


def test_a_server_in_a_child_process_is_controlled_over_http() -> None:
    from nrr.testing.stripe_server import StripeServerProcess

    with StripeServerProcess(seed=2, subscriptions=20, deny=["coupons"]) as server:
        client = stripe.StripeClient(server.api_key, base_addresses={"api": server.url},
                                     max_network_retries=2)
        server.add_fault("rate_limit", times=1, should_retry=True)
        assert client.v1.customers.list({"limit": 3}).data
        try:
            client.v1.coupons.list()
            raise AssertionError("coupons are denied")
        except stripe.PermissionError:
            pass
        report = server.mutate(fraction=0.1, seed=3)
        assert client.v1.events.retrieve(report["events"][-1]).id == report["events"][-1]
        stats = server.stats()
        assert stats["statuses"] == {"200": 2, "403": 1, "429": 1}
        assert stats["objects"] == 4 and stats["seconds"] > 0
