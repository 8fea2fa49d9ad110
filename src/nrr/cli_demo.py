"""`nrr demo`: the sample company end to end: data file, import, headline report, dashboard."""

from __future__ import annotations

from datetime import date

import click

from nrr.cli import fail

DEMO_AS_OF = date(2026, 10, 31)


@click.command("demo")
@click.option(
    "--workspace",
    "-w",
    default="demo-workspace",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to build the demo workspace.",
)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="Serve the dashboard after the report.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--stripe",
    "from_stripe",
    is_flag=True,
    help="Instead of a billing export, sync a synthetic Stripe account served on "
    "loopback by nrr's Stripe test server.",
)
def demo_command(workspace: str, serve: bool, host: str, port: int, from_stripe: bool) -> None:
    """Build a workspace from a seeded sample company (2,000 customers, 36 months) and show it."""
    from nrr import demo

    try:
        path = demo.build(workspace, from_stripe=from_stripe, echo=click.echo)
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    from nrr.cli_report import report_command

    report_command.main(
        ["--workspace", str(path), "--as-of", DEMO_AS_OF.isoformat()], standalone_mode=False
    )
    if serve:
        from nrr.cli_web import serve as serve_app

        serve_app(str(path), host=host, port=port, as_of=DEMO_AS_OF)
