"""`nrr export`: every table as CSV, Parquet or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nrr.cli_options import setting_options, with_workspace_results, workspace_option


@click.command("export")
@workspace_option
@setting_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "xlsx"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default="nrr-export",
    show_default=True,
    help="Folder to write into.",
)
@click.option(
    "--parquet",
    "parquet_dir",
    type=click.Path(file_okay=False),
    help="Instead: write the canonical input tables as a partitioned Parquet layout "
    "for Spark (`nrr report --engine spark`).",
)
@with_workspace_results
def export_command(ws: Any, res: Any, fmt: str, out: str, parquet_dir: str | None) -> None:
    """Write the report tables (and the revenue lines) to files."""
    from nrr import exports

    if parquet_dir:
        written = exports.write_input_layout(ws, Path(parquet_dir))
    else:
        written = exports.write_tables(exports.all_tables(ws, res), Path(out), fmt)
    for path in written:
        click.echo(str(path))
