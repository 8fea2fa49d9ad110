"""`nrr sync SOURCE`: today the only connected source is Stripe."""

from __future__ import annotations

import click


class _SyncGroup(click.Group):
    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name != "stripe":
            return None
        from nrr.cli_stripe import sync_stripe_command

        return sync_stripe_command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["stripe"]


@click.group("sync", cls=_SyncGroup)
def sync_group() -> None:
    """Sync a connected source: `nrr sync stripe`."""
