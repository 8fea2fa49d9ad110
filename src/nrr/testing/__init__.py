"""Test doubles that are real: a Stripe-compatible HTTP server and a seeded synthetic account.

    account = generate_account(seed=1, n_subscriptions=500)
    with StripeServer(account) as server:      # server.url, server.api_key, server.faults
        ...

Only the standard library is imported here; nothing loads the `stripe` SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nrr.testing.stripe_account import DEFAULT_API_KEY, DEFAULT_NOW, Account, generate_account
from nrr.testing.stripe_faults import Faults
from nrr.testing.stripe_mutate import MutationReport

if TYPE_CHECKING:
    from nrr.testing.stripe_server import StripeServer, StripeServerProcess

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_NOW",
    "Account",
    "Faults",
    "MutationReport",
    "StripeServer",
    "StripeServerProcess",
    "generate_account",
]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `python -m nrr.testing.stripe_server` does not import it twice.
    if name in ("StripeServer", "StripeServerProcess"):
        from nrr.testing import stripe_server

        return getattr(stripe_server, name)
    raise AttributeError(name)
