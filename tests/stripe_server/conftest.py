"""Fixtures: one seeded synthetic account per session, a fresh loopback server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe  # noqa: TID253 (tests are never imported at CLI start-up)

from nrr.testing import Account, generate_account
from nrr.testing.stripe_server import StripeServer

stripe.enable_telemetry = False

SEED = 7
SUBSCRIPTIONS = 300


@pytest.fixture(scope="session")
def account() -> Account:
    """Shared and read-only: tests that change an account make their own."""
    return generate_account(seed=SEED, n_subscriptions=SUBSCRIPTIONS)


@pytest.fixture
def server(account: Account) -> Iterator[StripeServer]:
    with StripeServer(account) as running:
        yield running


def client_for(server: StripeServer, retries: int = 0, key: str | None = None
               ) -> stripe.StripeClient:
    return stripe.StripeClient(key or server.api_key, base_addresses={"api": server.url},
                               max_network_retries=retries)


@pytest.fixture
def client(server: StripeServer) -> stripe.StripeClient:
    return client_for(server)


@pytest.fixture
def make_client() -> object:
    """`make_client(server, retries=0, key=None)`: a client with its own retry setting or key."""
    return client_for
