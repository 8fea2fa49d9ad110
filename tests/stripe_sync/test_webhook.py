"""Webhook deliveries: genuine ones pass once, tampered, stale and repeated ones are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from nrr.sync.webhook import Rejection, handle

SECRET = "whsec_test_0123456789abcdef"


def _signed(body: str, secret: str = SECRET, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def _event(event_id: str = "evt_1") -> str:
    return json.dumps({"id": event_id, "object": "event", "type": "invoice.paid",
                       "data": {"object": {"id": "in_1", "object": "invoice"}}})


def test_genuine_delivery_returns_its_event_id_once() -> None:
    seen: set[str] = set()
    body = _event()
    assert handle(body, _signed(body), SECRET, seen) == "evt_1"
    again = handle(body, _signed(body), SECRET, seen)
    assert isinstance(again, Rejection) and again.status == 200
    assert seen == {"evt_1"}


def test_tampered_body_is_rejected() -> None:
    body = _event()
    forged = body.replace("invoice.paid", "invoice.voided")
    result = handle(forged, _signed(body), SECRET, set())
    assert isinstance(result, Rejection) and result.status == 400


def test_wrong_secret_and_stale_signature_are_rejected() -> None:
    body = _event("evt_2")
    assert isinstance(handle(body, _signed(body, "whsec_other"), SECRET, set()), Rejection)
    stale = _signed(body, at=int(time.time()) - 3_600)
    result = handle(body, stale, SECRET, set())
    assert isinstance(result, Rejection)
    assert SECRET not in result.reason


def test_missing_header_is_rejected() -> None:
    assert isinstance(handle(_event(), None, SECRET, set()), Rejection)
