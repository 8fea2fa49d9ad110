"""`nrr portfolio`: several companies (one workspace each) side by side, and the portfolio."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from nrr.cli_options import json_option, setting_options, split_settings


@click.command("portfolio")
@click.argument("workspaces", nargs=-1, required=True, type=click.Path(file_okay=False))
@setting_options
@click.option(
    "--periods", default=12, show_default=True, type=click.IntRange(min=0),
    help="Period ends in the TTM NRR trend (0: none).",
)  # fmt: skip
@json_option
def portfolio_command(
    workspaces: tuple[str, ...], periods: int, as_json: bool, **kwargs: Any
) -> None:
    """Several companies side by side (one workspace each) and the portfolio as one company.

    All are read as of one day in one reporting currency and period grain (--currency and
    --period, else the first workspace's); each keeps its own other settings unless an option
    overrides them.
    """
    from nrr import render, reports
    from nrr.api import compute, open_workspace
    from nrr.cli import fail, json_out, today
    from nrr.store import WorkspaceError

    overrides, as_of = split_settings(kwargs)
    with ExitStack() as stack:
        companies = {}
        try:
            for folder in workspaces:
                ws = stack.enter_context(open_workspace(folder, create=False))
                # one currency and grain for all: the options', else the first workspace's
                for key in ("reporting_currency", "period"):
                    overrides[key] = overrides.get(key) or getattr(ws.settings, key)
                name = Path(folder).name if Path(folder).name not in companies else folder
                companies[name] = compute(ws, as_of=as_of or today(),
                                          settings=ws.settings.replace(**overrides))  # fmt: skip
            data = reports.portfolio(companies, periods)
        except WorkspaceError as exc:
            return fail(str(exc))
        except ValueError as exc:
            return fail(str(exc), 2)
    if as_json:
        return json_out(data)
    out = render.console()
    out.print(render.portfolio_table(data))
    if data["trend"]:
        out.print(render.portfolio_trend_table(data))
