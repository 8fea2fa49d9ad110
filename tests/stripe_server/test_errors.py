"""Stripe's error bodies and statuses, as the SDK's exception classes and as raw HTTP."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import stripe  # noqa: TID253 (tests are never imported at CLI start-up)

from nrr.testing import Account
from nrr.testing.stripe_server import StripeServer

MakeClient = Callable[..., stripe.StripeClient]


def _http(
    server: StripeServer, path: str, key: str | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(server.url + path)
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def test_a_wrong_key_is_401_with_the_key_masked(
    server: StripeServer, make_client: MakeClient
) -> None:
    wrong = "sk_test_wrongKey1234567890abcd"
    with pytest.raises(stripe.AuthenticationError) as caught:
        make_client(server, key=wrong).v1.customers.list()
    assert caught.value.http_status == 401
    assert caught.value.json_body["error"]["code"] == "api_key_invalid"
    assert wrong not in str(caught.value)
    assert "sk_test_******************abcd" in str(caught.value)


def test_a_missing_key_is_401_with_stripe_body(server: StripeServer) -> None:
    status, body, headers = _http(server, "/v1/customers")
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("You did not provide an API key.")
    assert headers["Request-Id"].startswith("req_")


def test_a_denied_resource_is_403_naming_the_permission(
    account: Account, make_client: MakeClient
) -> None:
    with StripeServer(account, denied={"credit_notes"}) as server:
        client = make_client(server)
        assert client.v1.invoices.list().data  # other resources stay readable
        with pytest.raises(stripe.PermissionError) as caught:
            client.v1.credit_notes.list()
    assert caught.value.http_status == 403
    assert "'rak_credit_note_read' permission" in caught.value.user_message


def test_unknown_id_is_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.invoices.retrieve("in_doesNotExist")
    error = caught.value
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
    assert error.user_message == "No such invoice: 'in_doesNotExist'"
    assert error.request_id is not None and error.request_id.startswith("req_")


def test_unknown_cursor_is_404_on_starting_after(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list({"starting_after": "cus_gone"})
    assert (caught.value.http_status, caught.value.code, caught.value.param) == (
        404,
        "resource_missing",
        "starting_after",
    )


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (0, "This value must be greater than or equal to 1."),
        (101, "This value must be less than or equal to 100."),
        ("ten", "Invalid integer: ten"),
    ],
)
def test_limit_out_of_range_is_400_on_limit(
    client: stripe.StripeClient, limit: object, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.raw_request("get", "/v1/invoices", limit=limit)
    assert (caught.value.http_status, caught.value.param) == (400, "limit")
    assert caught.value.user_message == message


def test_unknown_parameter_and_both_cursors_are_400(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.raw_request("get", "/v1/customers", colour="blue")
    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "colour")
    with pytest.raises(stripe.InvalidRequestError) as both:
        client.raw_request("get", "/v1/customers", starting_after="a", ending_before="b")
    assert both.value.http_status == 400


def test_bad_expand_and_bad_status_are_400(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as expand:
        client.raw_request("get", "/v1/invoices", expand=["data.nonsense"])
    assert expand.value.param == "expand"
    with pytest.raises(stripe.InvalidRequestError) as status:
        client.raw_request("get", "/v1/subscriptions", status="sleeping")
    assert status.value.param == "status"


def test_subscription_items_need_a_subscription(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.raw_request("get", "/v1/subscription_items")
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "subscription")


def test_an_unknown_url_is_404_and_the_body_has_stripe_shape(server: StripeServer) -> None:
    status, body, headers = _http(server, "/v1/charges", key=server.api_key)
    assert status == 404
    assert set(body) == {"error"}
    assert body["error"] == {
        "message": "Unrecognized request URL (GET: /v1/charges). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        "type": "invalid_request_error",
    }
    status, body, _ = _http(server, "/v1/invoices/in_nope", key=server.api_key)
    assert body["error"] == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such invoice: 'in_nope'",
        "param": "id",
        "type": "invalid_request_error",
    }
    assert headers["Content-Type"] == "application/json"


def test_headers_are_read_whatever_their_case_and_a_broken_request_is_refused(
    server: StripeServer,
) -> None:
    import http.client

    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port))
    conn.request(
        "GET", "/v1/customers?limit=1", headers={"aUTHORIZATION": f"Bearer {server.api_key}"}
    )
    answer = conn.getresponse()
    assert answer.status == 200 and json.loads(answer.read())["object"] == "list"
    conn.close()
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"GET /v1/customers HTTP/1.1\r\nno colon here\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
