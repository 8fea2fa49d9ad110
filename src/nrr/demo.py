"""The demo: a seeded sample company brought in through the real import (or Stripe sync) path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

DEMO_AS_OF = date(2026, 10, 31)
DEMO_FILE = "demo-billing-export.csv"


def build(
    workspace: str | Path, *, from_stripe: bool = False, echo: Callable[[str], object] = print
) -> Path:
    """Create (or refresh) the demo workspace and return its folder.

    The company is written as a subscription-periods CSV and imported like any user's export, so
    the demo exercises the same checks and conversions. Importing it again changes nothing.
    """
    folder = Path(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    if from_stripe:
        sync_demo_account(folder, echo=echo)
        return folder
    from nrr.api import open_workspace
    from nrr.demo_data import write_demo_csv
    from nrr.imports import import_file

    export = write_demo_csv(folder / DEMO_FILE, end=DEMO_AS_OF)
    echo(
        f"Sample company written to {export} (2,000 customers: 36 months of sign-ups "
        "plus an installed base from the two years before)."
    )
    with open_workspace(folder) as ws:
        report = import_file(ws, export, as_of=DEMO_AS_OF)
    if report.unchanged:
        echo(f"{folder} already holds this sample company.")
    else:
        echo(
            f"Imported {report.rows:,} rows ({report.lines:,} revenue lines, "
            f"{report.customers:,} customers) into {folder}."
        )
    return folder


STRIPE_DEMO_SUBSCRIPTIONS = 2000
STRIPE_DEMO_AS_OF = date(2026, 10, 31)  # the synthetic account's "now" is 1 November 2026


def sync_demo_account(folder: Path, *, echo: Callable[[str], object] = print) -> None:
    """Serve a seeded synthetic Stripe account on loopback and sync it like a real one."""
    from nrr.api import open_workspace
    from nrr.sync import sync_stripe
    from nrr.testing import DEFAULT_API_KEY, generate_account
    from nrr.testing.stripe_server import StripeServer

    echo(
        f"Generating a synthetic Stripe account ({STRIPE_DEMO_SUBSCRIPTIONS:,} subscriptions, "
        "two years of invoices) ..."
    )
    account = generate_account(seed=7, n_subscriptions=STRIPE_DEMO_SUBSCRIPTIONS, months=24)
    with StripeServer(account, api_key=DEFAULT_API_KEY) as server, open_workspace(folder) as ws:
        echo(f"Syncing it from nrr's Stripe test server at {server.url} ...")
        report = sync_stripe(ws, DEFAULT_API_KEY, api_base=server.url, now=float(account.now))
    echo(
        f"Synced {report.total_objects:,} Stripe objects into {folder} "
        f"({report.lines:,} revenue lines)."
    )
