"""The HTTP client nrr hands the Stripe SDK: keep-alive connections, bodies left unparsed.

Passing ``http_client`` to ``StripeClient`` is the SDK's documented extension point. nrr uses it
for two costs that dominate a sync of a large account:

- ``raw_request`` wraps every body in a response object that parses it into OrderedDicts,
  several times a plain parse on pages of large invoices. A successful body is kept for the
  caller instead (in the thread-local ``bodies``) and the SDK gets an empty object; errors pass
  through untouched, so the SDK's retries and error types work as usual.
- The SDK's default client, ``requests``, spends about half a millisecond of CPU per request
  (environment proxies and netrc looked up again each time, cookies, hooks, urllib3's pool):
  more than the test server needs to answer, and an incremental sync is mostly single
  retrieves. One ``http.client`` connection per thread and host costs a third of that.

Behind a proxy (``HTTPS_PROXY`` and friends, as requests reads them) the SDK's own requests
client is used, with the same body handling.
"""

from __future__ import annotations

import gzip
import http.client
import ssl
import threading
import urllib.request
from typing import Any
from urllib.parse import urlsplit

bodies = threading.local()  # set ``keep`` before a request; a successful body lands in ``body``
# Errors of a keep-alive connection the server closed meanwhile: a GET is sent again once.
_STALE = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)


def http_client(api_base: str, timeout: float) -> Any:
    """A ``stripe.HTTPClient`` for requests to ``api_base``."""
    import stripe

    if _proxied(api_base):
        return _requests_client(timeout)
    return _DirectClient.make(stripe, timeout)


def _proxied(api_base: str) -> bool:
    parts = urlsplit(api_base)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return False
    return bool(urllib.request.getproxies().get(parts.scheme))


def _kept(content: bytes, status: int, headers: Any) -> tuple[bytes, int, Any]:
    if 200 <= status < 300 and getattr(bodies, "keep", False):
        bodies.body = content
        return b"{}", status, headers
    return content, status, headers


def _requests_client(timeout: float) -> Any:
    import stripe

    class BodyKeepingRequestsClient(stripe.RequestsClient):
        def request(
            self, method: str, url: str, headers: Any, post_data: Any = None, **options: Any
        ) -> Any:
            return _kept(*super().request(method, url, headers, post_data))

    return BodyKeepingRequestsClient(timeout=timeout)


class _DirectClient:
    """Built by ``make`` as a subclass of ``stripe.HTTPClient`` (stripe loads on first use)."""

    @staticmethod
    def make(stripe: Any, timeout: float) -> Any:
        class DirectClient(stripe.HTTPClient):  # type: ignore[misc]
            name = "nrr-http.client"

            def __init__(self) -> None:
                super().__init__()
                self._local = threading.local()
                self._all: list[http.client.HTTPConnection] = []
                self._lock = threading.Lock()
                self._tls: ssl.SSLContext | None = None  # loaded with the first https request

            def request(
                self, method: str, url: str, headers: Any, post_data: Any = None, **options: Any
            ) -> Any:
                parts = urlsplit(url)
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                sent = {**(headers or {}), "Accept-Encoding": "gzip"}
                body = post_data.encode() if isinstance(post_data, str) else post_data
                for attempt in (0, 1):
                    conn, reused = self._connection(parts.scheme, parts.netloc)
                    try:
                        conn.request(method.upper(), target, body=body, headers=sent)
                        response = conn.getresponse()
                        content = response.read()
                    except _STALE as exc:
                        self._drop(parts.scheme, parts.netloc)
                        if attempt == 0 and reused and method.lower() == "get":
                            continue
                        raise _connection_error(stripe, exc) from None
                    except (OSError, http.client.HTTPException) as exc:
                        self._drop(parts.scheme, parts.netloc)
                        raise _connection_error(stripe, exc) from None
                    break
                if response.will_close:
                    self._drop(parts.scheme, parts.netloc)
                if (response.getheader("Content-Encoding") or "").lower() == "gzip":
                    content = gzip.decompress(content)
                found = {k.lower(): v for k, v in response.getheaders()}
                return _kept(content, response.status, found)

            def request_stream(
                self, method: str, url: str, headers: Any, post_data: Any = None
            ) -> Any:
                raise NotImplementedError("nrr never streams responses")

            def close(self) -> None:
                with self._lock:
                    connections, self._all = self._all, []
                for conn in connections:
                    conn.close()

            def _connection(
                self, scheme: str, netloc: str
            ) -> tuple[http.client.HTTPConnection, bool]:
                """This thread's connection to the host; True when it served before."""
                mine: dict[tuple[str, str], http.client.HTTPConnection] = (
                    self._local.__dict__.setdefault("connections", {})
                )
                conn = mine.get((scheme, netloc))
                if conn is not None:
                    return conn, True
                if scheme == "https":
                    if self._tls is None:
                        self._tls = ssl.create_default_context(cafile=stripe.ca_bundle_path)
                    conn = http.client.HTTPSConnection(netloc, timeout=timeout, context=self._tls)
                else:
                    conn = http.client.HTTPConnection(netloc, timeout=timeout)
                mine[(scheme, netloc)] = conn
                with self._lock:
                    self._all.append(conn)
                return conn, False

            def _drop(self, scheme: str, netloc: str) -> None:
                conn = self._local.__dict__.get("connections", {}).pop((scheme, netloc), None)
                if conn is not None:
                    conn.close()
                    with self._lock:
                        if conn in self._all:
                            self._all.remove(conn)

        return DirectClient()


def _connection_error(stripe: Any, exc: BaseException) -> Any:
    """What the SDK's own clients raise: retried unless TLS verification failed."""
    return stripe.APIConnectionError(
        f"Unexpected error communicating with Stripe ({type(exc).__name__}: {exc})",
        should_retry=not isinstance(exc, ssl.SSLError),
    )
