"""The guard in front of every request: Host check, access token, CSRF, and safe response headers.

- ``Host`` must name an allowed host, so a page on another site that rebinds its DNS name to
  127.0.0.1 cannot read the dashboard (DNS rebinding).
- When the app has a token (always when it listens beyond loopback), each request carries it: as
  ``Authorization: Bearer T``, the ``X-NRR-Token`` header, or the ``nrr_token`` cookie that a first
  visit to ``/?token=T`` sets (the app then redirects to the same URL without the token, so it does
  not linger in the address bar or in history).
- A request that changes state (anything but GET/HEAD/OPTIONS) must echo the app's CSRF token in the
  ``X-CSRF-Token`` header; pages carry it in ``<meta name="csrf-token">``. Other sites cannot
  read it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
TOKEN_COOKIE = "nrr_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Plotly inserts <style> elements at run time, hence 'unsafe-inline' for styles only; scripts come
# from the app alone, and chart data sits in JSON blocks that are never executed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str | None:
    """The host part of a Host header, lower case, without port or IPv6 brackets."""
    header = header.strip().lower()
    if not header:
        return None
    if header.startswith("["):
        end = header.find("]")
        return header[1:end] if end > 0 else None
    name, _, port = header.partition(":")
    if port and not port.isdigit():
        return None
    return name or None


class Guard:
    """ASGI middleware; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        csrf_token: str,
        allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    ) -> None:
        self.app = app
        self.token = token
        self.csrf_token = csrf_token
        self.allowed_hosts = frozenset(h.lower().strip("[]") for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _json(send, *refusal)
            return
        if self.token is not None and _query_token(scope) is not None:
            await self._login(scope, send)
            return
        await self.app(scope, receive, _with_headers(send))

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = host_name(headers.get("host", ""))
        if host is None or host not in self.allowed_hosts:
            return 400, (
                "this address is not one the dashboard answers to (Host header "
                f"{headers.get('host', '')!r}); open it by the address `nrr serve` printed"
            )
        if self.token is not None and not self._authorised(scope, headers):
            return 401, (
                "a token is required: open the URL with ?token=... that `nrr serve` printed, "
                "or send the header Authorization: Bearer <token>"
            )
        if scope["method"] not in SAFE_METHODS and not self._csrf_ok(headers):
            return 403, "missing or wrong X-CSRF-Token header (the page's csrf-token meta has it)"
        return None

    def _authorised(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        offered = [
            headers.get("authorization", "").removeprefix("Bearer ").strip(),
            headers.get("x-nrr-token", ""),
            _cookie(headers.get("cookie", ""), TOKEN_COOKIE),
            _query_token(scope) or "",
        ]
        return any(o and hmac.compare_digest(o.encode(), self.token.encode()) for o in offered)

    def _csrf_ok(self, headers: dict[str, str]) -> bool:
        offered = headers.get("x-csrf-token", "")
        return bool(offered) and hmac.compare_digest(offered.encode(), self.csrf_token.encode())

    async def _login(self, scope: Scope, send: Send) -> None:
        """Trade ``?token=`` for a cookie and send the browser to the same URL without it."""
        pairs = parse_qsl(scope.get("query_string", b"").decode())
        query = [(k, v) for k, v in pairs if k != "token"]
        path = quote(scope.get("path", "/"), safe="/")
        location = path + (f"?{urlencode(query)}" if query else "")
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        await send({
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                        (b"content-length", b"0"), *_HEADERS],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": b""})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _query_token(scope: Scope) -> str | None:
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if key == "token":
            return value
    return None


def _cookie(header: str, name: str) -> str:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed cookie header is just no cookie
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def _with_headers(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
        await send(message)

    return sender


async def _json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), *_HEADERS],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
