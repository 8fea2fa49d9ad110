"""`nrr stripe login|sync` and `nrr sync stripe`: parse, call nrr.sync, render.

The key comes from STRIPE_API_KEY or the OS keyring (`nrr stripe login`), never from the
command line, where it would land in shell history and process lists.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

KEYRING_SERVICE = "nrr"
KEYRING_USER = "stripe_api_key"
KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH, EXIT_UNAVAILABLE = 0, 1, 2, 3, 4


@click.group("stripe")
def stripe_group() -> None:
    """Connect a Stripe account: store a key, sync subscriptions and invoices."""


@stripe_group.command("login")
def login_command() -> None:
    """Store a Stripe API key in the OS keyring (prompted, never echoed).

    A restricted key with read permissions is recommended; docs/stripe.md lists them.
    """
    import keyring

    key = click.prompt("Stripe API key (restricted, read-only)", hide_input=True).strip()
    if not key.startswith(KEY_PREFIXES):
        raise click.UsageError("that does not look like a Stripe secret or restricted key "
                               "(sk_… or rk_…)")
    _warn_live(key)
    try:
        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
    except keyring.errors.KeyringError as exc:
        name = type(exc).__name__
        raise click.ClickException(f"could not store the key in the OS keyring ({name}); "
                                   "set STRIPE_API_KEY instead") from None
    click.echo("Stored the Stripe key in the OS keyring.")


def _sync_options(command: Any) -> Any:
    options = [
        click.option("--workspace", "-w", default="nrr-workspace", envvar="NRR_WORKSPACE",
                     show_default=True, type=click.Path(file_okay=False),
                     help="Workspace folder."),
        click.option("--api-base", envvar="NRR_STRIPE_API_BASE", metavar="URL",
                     help="Another Stripe API base URL (e.g. a local test server)."),
        click.option("--full", is_flag=True, help="List everything again instead of events."),
        click.option("--json", "as_json", is_flag=True, help="Print a JSON summary."),
        click.option("--page-size", default=100, hidden=True, type=click.IntRange(1, 100)),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command("stripe")
@_sync_options
def sync_stripe_command(workspace: str, api_base: str | None, full: bool, as_json: bool,
                        page_size: int) -> None:
    """Sync the Stripe account (key from STRIPE_API_KEY or `nrr stripe login`).

    Exit codes: 0 done, 1 failed, 2 no key, 3 key rejected or a permission missing,
    4 Stripe unavailable after retries (the next run continues where this one stopped).
    """
    _run_sync(workspace, api_base, full, as_json, page_size)


@stripe_group.command("sync")
@_sync_options
def stripe_sync_command(workspace: str, api_base: str | None, full: bool, as_json: bool,
                       page_size: int) -> None:
    """Sync the Stripe account (key from STRIPE_API_KEY or `nrr stripe login`).

    Exit codes: 0 done, 1 failed, 2 no key, 3 key rejected or a permission missing,
    4 Stripe unavailable after retries (the next run continues where this one stopped).
    """
    _run_sync(workspace, api_base, full, as_json, page_size)


def _run_sync(workspace: str, api_base: str | None, full: bool, as_json: bool,
              page_size: int) -> None:
    from nrr.sources.stripe_fetch import (
        InvalidKey,
        MissingPermission,
        StripeSourceError,
        StripeUnavailable,
        redact,
    )
    from nrr.store import WorkspaceError, open_workspace
    from nrr.sync import sync_stripe

    key = _api_key()
    _warn_live(key)
    try:
        with open_workspace(workspace) as ws, _progress(quiet=as_json) as progress:
            report = sync_stripe(ws, key, api_base=api_base, full=full, progress=progress,
                                 page_size=page_size)
    except (InvalidKey, MissingPermission) as exc:
        _fail(str(exc), EXIT_AUTH)
    except StripeUnavailable as exc:
        _fail(str(exc), EXIT_UNAVAILABLE)
    except (StripeSourceError, WorkspaceError) as exc:
        _fail(redact(str(exc)), EXIT_FAILED)
    _render(report.to_json(), as_json)


def _api_key() -> str:
    key = os.environ.get("STRIPE_API_KEY", "").strip()
    if not key:
        key = _keyring_key()
    if not key:
        _fail("no Stripe key: set STRIPE_API_KEY or run `nrr stripe login`", EXIT_USAGE)
    return key


def _keyring_key() -> str:
    try:
        import keyring

        return (keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or "").strip()
    except Exception:  # no usable keyring backend on this machine: same as no key stored
        return ""


def _warn_live(key: str) -> None:
    if key.startswith("sk_live_"):
        click.echo("warning: this is a live secret key with full access to the account; a "
                   "restricted read-only key (rk_live_…) is enough and safer, see docs/stripe.md",
                   err=True)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _progress:  # noqa: N801 - used like a function in a with statement
    """A Rich progress bar per object type with its count and rate (stderr, off for --json)."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.tasks: dict[str, Any] = {}
        self.bar: Any = None

    def __enter__(self) -> Any:
        if self.quiet:
            return None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description:<14}"),
                            TextColumn("{task.completed:>9,.0f}"),
                            TextColumn("{task.fields[rate]}"),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=False)
        self.bar.start()
        return self.update

    def update(self, kind: str, count: int) -> None:
        if kind not in self.tasks:
            self.tasks[kind] = self.bar.add_task(kind, total=None, rate="")
        task = self.tasks[kind]
        self.bar.update(task, completed=count)
        speed = self.bar.tasks[task].speed
        self.bar.update(task, rate=f"{speed:>8,.0f}/s" if speed else "")

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _render(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    objects = ", ".join(f"{n:,} {k}" for k, n in sorted(summary["objects"].items())) or "none"
    click.echo(f"Stripe sync ({summary['mode']}): {objects}; {summary['events']:,} events; "
               f"{summary['lines']:,} revenue lines in {summary['seconds']:.1f} s")
    for warning in summary["warnings"]:
        click.echo(f"warning: {warning}", err=True)
