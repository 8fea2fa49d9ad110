"""The `nrr` command: parse, call the library, render. Heavy imports happen inside commands."""

from __future__ import annotations

import importlib
import sys
from datetime import date
from typing import Any

import click

# Subcommands that live in their own modules, loaded only when used (keeps `nrr --help` instant).
LAZY = {
    "import": ("nrr.cli_import", "import_command"),
    "serve": ("nrr.cli_web", "serve_command"),
    "stripe": ("nrr.cli_stripe", "stripe_group"),
    "sync": ("nrr.cli_sync", "sync_group"),
    "report": ("nrr.cli_report", "report_command"),
    "explain": ("nrr.cli_report", "explain_command"),
    "customers": ("nrr.cli_report", "customers_command"),
    "at-risk": ("nrr.cli_report", "at_risk_command"),
    "portfolio": ("nrr.cli_portfolio", "portfolio_command"),
    "export": ("nrr.cli_export", "export_command"),
    "settings": ("nrr.cli_settings", "settings_command"),
    "demo": ("nrr.cli_demo", "demo_command"),
}
HELP = {
    "import": "Import a billing export (CSV, TSV, XLSX, Parquet).",
    "serve": "Serve the dashboard on 127.0.0.1.",
    "stripe": "Stripe account: login (store the key in the OS keyring), sync.",
    "sync": "Sync a connected source (stripe).",
    "report": "MRR bridge, NRR/GRR, segments and cohorts.",
    "explain": "A customer's MRR timeline, movements and source rows.",
    "customers": "The customers behind a figure (drill-down).",
    "at-risk": "Accounts at risk: pending cancellations, payments past due, downgrades.",
    "portfolio": "Several companies side by side, and the portfolio as one.",
    "export": "Write every table as CSV, Parquet or XLSX.",
    "settings": "Show or change the workspace's metric settings.",
    "demo": "Build a workspace from the bundled sample company, report, and serve it.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in LAZY:
            return None
        module, attr = LAZY[name]
        try:
            command: click.Command = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise click.ClickException(f"`nrr {name}` is not available: {exc}") from None
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing help without importing every command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, HELP[name]) for name in sorted(LAZY)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nrr")
def main() -> None:
    """nrr: revenue retention from your billing data, on your own machine.

    Exit codes: 0 success, 1 error, 2 bad input (nothing was stored).
    """


def today() -> date:
    """The clock is read here, at the edge, and passed into the library as the as-of day."""
    return date.today()


def fail(message: str, code: int = 1) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def json_out(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


if __name__ == "__main__":  # pragma: no cover
    main()
