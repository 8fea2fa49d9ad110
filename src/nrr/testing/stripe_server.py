"""A Stripe-compatible HTTP server on loopback, serving one synthetic account.

    with StripeServer(generate_account(seed=1, n_subscriptions=500)) as server:
        client = stripe.StripeClient(server.api_key, base_addresses={"api": server.url})

Or from a shell, serving until killed: `python -m nrr.testing.stripe_server --seed 1
--subscriptions 500` prints the URL on its first line (the key is `--api-key`, default
`DEFAULT_API_KEY`).
"""

from __future__ import annotations

import argparse
import gc
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from nrr.testing.stripe_account import DEFAULT_API_KEY, DEFAULT_NOW, Account, generate_account
from nrr.testing.stripe_app import App, Request, Stats
from nrr.testing.stripe_faults import Faults


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    app: App


class _Headers(dict[str, str]):
    """Request headers by lower-cased name; ``get`` ignores case, as HTTP does."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Each response goes out in one write; no need to wait for the client's ACK first.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self) -> bool:
        """The request line and headers, as the standard handler reads them, minus its use of
        the email parser for the headers: two thirds of the server's time per request."""
        self.command, self.request_version = "", "HTTP/1.1"
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request ({self.requestline!r})")
            return False
        self.command, self.path, self.request_version = words
        headers = _Headers()
        while (line := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, colon, value = str(line, "iso-8859-1").partition(":")
            if len(line) > 65536 or len(headers) > 100 or not colon:
                self.send_error(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE if colon else HTTPStatus.BAD_REQUEST
                )
                return False
            headers[name.strip().lower()] = value.strip()
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("Connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        return True

    def do_GET(self) -> None:  # noqa: N802 (the name http.server dispatches to)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        started = time.perf_counter()
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(method, path, query, self.headers, body)
        app = self.server.app
        response = app.handle(request)
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(response.body)),
            "Cache-Control": "no-cache, no-store",
            **app.headers_for(request),
            **response.headers,
        }
        reason = HTTPStatus(response.status).phrase
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        payload = f"HTTP/1.1 {response.status} {reason}\r\n{head}\r\n".encode() + response.body
        if not path.startswith("/_test/"):
            # counted before the write, so a client that has its answer also sees it counted
            app.record(request, response, time.perf_counter() - started)
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the tests and the benchmark read `stats`, not a log."""


class StripeServer:
    """A real HTTP server on 127.0.0.1 in a background thread; use it as a context manager.

    `denied` names resources the key may not read (answered 403 like a restricted key);
    `faults` injects errors and delays; `stats` counts requests, objects and time spent.
    """

    def __init__(
        self,
        account: Account,
        *,
        api_key: str = DEFAULT_API_KEY,
        port: int = 0,
        host: str = "127.0.0.1",
        denied: Iterable[str] = (),
    ) -> None:
        self.account = account
        self.api_key = api_key
        self.app = App(account, api_key, denied)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.app = self.app
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @property
    def stats(self) -> Stats:
        return self.app.stats

    @property
    def denied(self) -> set[str]:
        return self.app.denied

    def reset_stats(self) -> None:
        self.app.reset_stats()

    def start(self) -> StripeServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="nrr-stripe-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nrr.testing.stripe_server",
        description="Serve a synthetic Stripe account on loopback.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--now",
        type=int,
        default=DEFAULT_NOW,
        help="the account's clock, epoch seconds (default 2026-11-01)",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument(
        "--deny",
        action="append",
        default=[],
        help="a resource the key may not read, e.g. credit_notes (repeatable)",
    )
    args = parser.parse_args(argv)
    account = generate_account(args.seed, args.subscriptions, args.months, args.now)
    # The account is built once and kept: out of the cycle collector's sight, or every full
    # collection walks its ~400,000 objects again and stalls all requests for a third of a
    # second (which showed as outliers in the sync benchmark).
    gc.collect()
    gc.freeze()
    server = StripeServer(account, api_key=args.api_key, port=args.port, denied=args.deny)
    print(server.url, flush=True)
    try:
        server._httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()
    return 0


class StripeServerProcess:
    """The same server in a child process, so it does not share the caller's GIL (benchmarks).

    Controlled over HTTP: `stats()`, `mutate(...)`, `add_fault(...)`, `clear_faults()`.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        subscriptions: int = 1_000,
        months: int = 12,
        now: int = DEFAULT_NOW,
        api_key: str = DEFAULT_API_KEY,
        deny: Iterable[str] = (),
    ) -> None:
        self.api_key = api_key
        self._argv = [
            sys.executable,
            "-m",
            "nrr.testing.stripe_server",
            "--seed",
            str(seed),
            "--subscriptions",
            str(subscriptions),
            "--months",
            str(months),
            "--now",
            str(now),
            "--api-key",
            api_key,
        ]
        for resource in deny:
            self._argv += ["--deny", resource]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> StripeServerProcess:
        self._process = subprocess.Popen(self._argv, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        self.url = self._process.stdout.readline().strip()
        if not self.url:
            raise RuntimeError("the Stripe test server did not start")
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None

    def _call(self, method: str, name: str, payload: object = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}/_test/{name}", data=data, method=method)
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        """Requests, objects, bytes and `seconds` spent answering, since the start."""
        return dict(self._call("GET", "stats"))

    def mutate(
        self, fraction: float = 0.01, seed: int = 0, at: int | None = None
    ) -> dict[str, Any]:
        return dict(self._call("POST", "mutate", {"fraction": fraction, "seed": seed, "at": at}))

    def add_fault(self, kind: str, **options: Any) -> None:
        self._call("POST", "faults", {"kind": kind, **options})

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def __enter__(self) -> StripeServerProcess:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    sys.exit(main())
