"""`nrr settings`: show the workspace's metric settings, or change them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from nrr.cli import fail, json_out
from nrr.cli_options import json_option, setting_options, split_settings, workspace_option


@click.command("settings")
@workspace_option
@setting_options
@click.option("--size-bands", help="Size band thresholds in minor units, e.g. 10000,50000,200000.")
@click.option(
    "--rates-file",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of exchange rates (date, currency, rate per 1 EUR) used instead of the ECB's.",
)
@click.option(
    "--fixed-rate",
    "fixed_rates",
    multiple=True,
    metavar="CUR=RATE",
    help="With --fx-date fixed: units of CUR per 1 reporting currency (repeatable).",
)
@click.option(
    "--memory-limit", help="DuckDB memory limit, e.g. 4GB (work beyond it spills to disk)."
)
@click.option("--temp-directory", type=click.Path(file_okay=False), help="Where DuckDB spills.")
@click.option("--threads", type=click.IntRange(min=1), help="DuckDB worker threads.")
@json_option
def settings_command(
    workspace: str,
    size_bands: str | None,
    rates_file: str | None,
    fixed_rates: tuple[str, ...],
    as_json: bool,
    **kwargs: Any,
) -> None:
    """Show the settings; any option given changes that setting for the workspace."""
    from nrr.api import open_workspace
    from nrr.store import WorkspaceError

    overrides, _ = split_settings(kwargs)
    for key in ("memory_limit", "temp_directory", "threads"):
        if kwargs.get(key) is not None:
            overrides[key] = kwargs[key]
    if size_bands:
        try:
            overrides["size_bands"] = tuple(int(x) for x in size_bands.split(","))
        except ValueError:
            fail("--size-bands takes whole numbers separated by commas", 2)
    if rates_file:
        overrides["rates_file"] = str(Path(rates_file).resolve())
    if fixed_rates:
        try:
            overrides["fixed_rates"] = {
                k.strip().upper(): str(Decimal(v))
                for k, v in (item.split("=", 1) for item in fixed_rates)
            }
        except (ValueError, ArithmeticError):
            fail("--fixed-rate takes CUR=RATE, e.g. --fixed-rate CHF=0.94", 2)
    try:
        with open_workspace(workspace) as ws:
            settings = ws.settings.replace(**overrides)
            if overrides:
                ws.save_settings(settings)
    except (WorkspaceError, ValueError) as exc:
        return fail(str(exc), 2)
    import dataclasses

    data = dataclasses.asdict(settings)
    if as_json:
        return json_out(data)
    for key, value in data.items():
        click.echo(f"{key:22s} {value}")
