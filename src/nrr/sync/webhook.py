"""Verify a Stripe webhook delivery; the caller then runs an incremental sync.

The event's payload is never trusted for data (the sync re-fetches every object by id): a
webhook is only a nudge to sync sooner. Verification uses the SDK (``Stripe-Signature``, an HMAC
with the endpoint secret over the timestamp and the body; stale timestamps are refused).
"""

from __future__ import annotations

from collections.abc import MutableSet
from dataclasses import dataclass

TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Rejection:
    """Why a delivery was refused (safe to log: it never contains the secret)."""

    reason: str
    status: int = 400


def handle(payload: bytes | str, sig_header: str | None, secret: str,
           seen_ids: MutableSet[str]) -> str | Rejection:
    """The event id of a genuine, first-seen delivery, or the reason it was rejected."""
    import stripe

    try:
        event = stripe.Webhook.construct_event(payload, sig_header, secret, TOLERANCE_SECONDS)
    except ValueError:
        return Rejection("the body is not a JSON event")
    except stripe.SignatureVerificationError:
        return Rejection("the Stripe-Signature header does not match the body, or is too old")
    event_id = str(event["id"])
    if event_id in seen_ids:
        return Rejection("this event was already received", status=200)
    seen_ids.add(event_id)
    return event_id
