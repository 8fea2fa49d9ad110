"""The HTTP client nrr hands the Stripe SDK, and the page walk that runs ahead of the caller."""

from __future__ import annotations

import gzip
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nrr.sources import stripe_http
from nrr.sources.stripe_fetch import (
    BY_KIND,
    EVENTS,
    StripeSource,
    StripeUnavailable,
    _Prefetched,
)
from nrr.store import open_workspace
from nrr.sync import sync_stripe
from nrr.testing.stripe_server import StripeServer

KEY = "sk_test_" + "H" * 30


class _OneShotHandler(socketserver.StreamRequestHandler):
    """Answers one request per connection, then closes it without saying so (as an idle
    keep-alive connection a server dropped looks to the client); gzips when asked."""

    def handle(self) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self.rfile.read(1)
        body = b'{"object":"list","data":[],"has_more":false,"url":"/v1/events"}'
        extra = b""
        if b"accept-encoding: gzip" in head.lower():
            body, extra = gzip.compress(body), b"Content-Encoding: gzip\r\n"
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + extra
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        self.server.served += 1  # type: ignore[attr-defined]


@pytest.fixture
def one_shot() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _OneShotHandler)
    server.daemon_threads = True
    server.served = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_connection_the_server_dropped_is_replaced_and_gzip_is_decoded(one_shot: str) -> None:
    source = StripeSource(KEY, api_base=one_shot, max_network_retries=0)
    try:
        for _ in range(3):  # every request after the first finds its connection closed
            assert source.get(EVENTS.path, {"limit": 1}, EVENTS)["data"] == []
    finally:
        source.close()
    assert source.requests == 3


def test_keep_alive_one_connection_per_thread(server: StripeServer) -> None:
    source = StripeSource(server.api_key, api_base=server.url)
    try:
        for _ in range(5):
            source.get("/v1/customers", {"limit": 3}, BY_KIND["customer"])
        assert len(source._http._all) == 1
    finally:
        source.close()
    assert source._http._all == []


def test_an_unreachable_api_fails_after_retries_without_the_key(tmp_path: Path) -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]  # bound, then closed: nothing listens there
    with open_workspace(tmp_path) as ws, pytest.raises(StripeUnavailable) as failed:
        sync_stripe(ws, KEY, api_base=f"http://127.0.0.1:{port}")
    assert "run the sync again" in str(failed.value) and KEY not in str(failed.value)


def test_a_proxy_in_the_environment_goes_through_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    import stripe

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert isinstance(stripe_http.http_client("https://api.stripe.com", 80), stripe.RequestsClient)
    direct = stripe_http.http_client("http://127.0.0.1:12111", 80)
    assert direct.name == "nrr-http.client"


def _numbers(stop_after: int | None = None) -> Iterator[int]:
    for n in range(10):
        if stop_after is not None and n == stop_after:
            raise RuntimeError("the walk failed")
        yield n


def test_a_walk_ahead_yields_everything_in_order_and_raises_where_it_failed() -> None:
    assert list(_Prefetched(_numbers(), ahead=2)) == list(range(10))
    walk = _Prefetched(_numbers(stop_after=4), ahead=2)
    assert [next(walk) for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match="the walk failed"):
        next(walk)


def test_closing_a_walk_stops_its_thread() -> None:
    started = threading.active_count()
    walk = _Prefetched(_numbers(), ahead=1)
    assert next(walk) == 0
    walk.close()
    with pytest.raises(StopIteration):
        next(walk)
    for _ in range(100):
        if threading.active_count() <= started:
            break
        threading.Event().wait(0.01)
    assert threading.active_count() <= started
