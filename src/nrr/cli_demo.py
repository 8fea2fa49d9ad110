"""`nrr demo`: the sample company end to end: data file, import, headline report, dashboard."""

from __future__ import annotations

import click

from nrr.cli import fail


@click.command("demo")
@click.option("--workspace", "-w", default=None, type=click.Path(file_okay=False),
              help="Where to build the demo workspace [default: demo-workspace, or "
                   "demo-stripe-workspace with --stripe].")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="Serve the dashboard after the report.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--stripe", "from_stripe", is_flag=True,
              help="Instead of a billing export, sync a synthetic Stripe account served on "
                   "loopback by nrr's Stripe test server.")
def demo_command(workspace: str | None, serve: bool, host: str, port: int,
                 from_stripe: bool) -> None:  # fmt: skip
    """Build a workspace from a seeded sample company (2,000 customers) and show it."""
    from nrr import demo

    folder = workspace or ("demo-stripe-workspace" if from_stripe else "demo-workspace")
    try:
        path = demo.build(folder, from_stripe=from_stripe, echo=click.echo)
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    from nrr.cli_report import at_risk_command, report_command

    as_of = demo.STRIPE_DEMO_AS_OF if from_stripe else demo.DEMO_AS_OF
    view = ["--workspace", str(path), "--as-of", as_of.isoformat()]
    report_command.main(view, standalone_mode=False)
    at_risk_command.main([*view, "--limit", "5"], standalone_mode=False)
    if serve:
        from nrr.cli_web import serve as serve_app

        serve_app(str(path), host=host, port=port, as_of=as_of)
