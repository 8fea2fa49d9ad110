"""Token, Host check (DNS rebinding), CSRF, and the headers every response carries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nrr.cli_web import allowed_hosts_for, dashboard_url, token_for
from nrr.web import create_app
from nrr.web.security import host_name, is_loopback

from .conftest import BASE

TOKEN = "s3cret-token-for-tests"


@pytest.fixture()
def guarded(workspace: Path) -> Iterator[TestClient]:
    app = create_app(workspace, token=TOKEN, allowed_hosts=["127.0.0.1", "dash.example"])
    with TestClient(app, base_url="http://dash.example:8000", follow_redirects=False) as c:
        yield c
    app.state.backend.close()


def test_beyond_loopback_a_token_is_always_set() -> None:
    assert token_for("127.0.0.1", None) is None and token_for("::1", None) is None
    assert token_for("localhost", None) is None
    generated = token_for("0.0.0.0", None)
    assert generated is not None and len(generated) >= 24
    assert token_for("0.0.0.0", None) != generated  # fresh each time
    assert token_for("192.0.2.7", "given") == "given"
    assert f"?token={generated}" in dashboard_url("192.0.2.7", 8000, generated)
    assert dashboard_url("127.0.0.1", 8000, None) == "http://127.0.0.1:8000/"


def test_allowed_hosts_follow_the_bind_address() -> None:
    assert "192.0.2.7" in allowed_hosts_for("192.0.2.7")
    assert set(allowed_hosts_for("127.0.0.1")) == {"127.0.0.1", "localhost", "::1"}
    assert "dash.example" in allowed_hosts_for("0.0.0.0", ("dash.example",))


def test_without_the_token_requests_are_refused(guarded: TestClient) -> None:
    for path in ("/", "/api/overview", "/api/openapi.json", "/static/app.js"):
        response = guarded.get(path)
        assert response.status_code == 401, path
        assert "token is required" in response.json()["error"]
    assert guarded.get("/api/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert guarded.get("/?token=wrong").status_code == 401


def test_the_token_opens_the_door(guarded: TestClient) -> None:
    ok = guarded.get("/api/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert guarded.get("/api/openapi.json", headers={"X-NRR-Token": TOKEN}).status_code == 200
    # A first visit with ?token= trades it for a cookie and drops it from the address.
    login = guarded.get(f"/trends?grain=quarter&token={TOKEN}")
    assert login.status_code == 303
    assert login.headers["location"] == "/trends?grain=quarter"
    cookie = login.headers["set-cookie"]
    assert "nrr_token=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert guarded.get("/api/openapi.json").status_code == 200  # the cookie now rides along


def test_a_forged_host_is_refused(client: TestClient, guarded: TestClient) -> None:
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost:80@evil", ""):
        response = client.get("/api/openapi.json", headers={"Host": host})
        assert response.status_code == 400, host
        assert "Host header" in response.json()["error"]
    with_token = {"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/api/openapi.json", headers=with_token).status_code == 400
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert client.get("/api/openapi.json", headers={"Host": host}).status_code == 200


def test_state_changes_need_the_csrf_token(client: TestClient) -> None:
    assert client.post("/api/recompute").status_code == 403
    assert client.post("/api/recompute", headers={"X-CSRF-Token": "guess"}).status_code == 403
    csrf = client.app.state.csrf_token  # type: ignore[attr-defined]
    page = client.get("/?as_of=2024-04-30").text
    assert f'name="csrf-token" content="{csrf}"' in page
    done = client.post("/api/recompute", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["reloaded"] is True


def test_every_response_carries_safe_headers(client: TestClient) -> None:
    for path in ("/api/openapi.json", "/api/nothing", "/static/app.css"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_host_parsing() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:9") == "::1"
    assert host_name("a:b") is None and host_name("") is None
    assert is_loopback("127.0.0.5") and is_loopback("::1") and not is_loopback("10.0.0.1")


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert len(response.content) > 1_000_000 and b"plotly" in response.content[:2000].lower()
    assert BASE.startswith("http://127.0.0.1")
