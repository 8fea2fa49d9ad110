"""Fixtures: a seeded synthetic account served by the project's loopback Stripe server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nrr.testing.stripe_account import Account, generate_account
from nrr.testing.stripe_server import StripeServer


@pytest.fixture
def account() -> Account:
    return generate_account(seed=5, n_subscriptions=60)


@pytest.fixture
def server(account: Account) -> Iterator[StripeServer]:
    with StripeServer(account) as srv:
        yield srv
