"""`nrr import FILE`: parse the options, call ``nrr.imports.import_file``, render its report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nrr.cli_options import json_option, workspace_option

if TYPE_CHECKING:
    from rich.console import Console

    from nrr.imports import ImportReport
    from nrr.sources.mapping import MappingSpec

# (role, flag): one --<flag>-col option per commonly mapped column; --col ROLE=HEADER for the rest.
COLUMN_FLAGS = (
    ("customer", "customer"), ("customer_name", "customer-name"), ("start", "start"),
    ("end", "end"), ("amount", "amount"), ("mrr", "mrr"), ("interval", "interval"),
    ("interval_count", "interval-count"), ("currency", "currency"), ("plan", "plan"),
    ("quantity", "quantity"), ("date", "date"), ("service_start", "period-start"),
    ("service_end", "period-end"),
)


def _column_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for role, flag in reversed(COLUMN_FLAGS):
        func = click.option(f"--{flag}-col", f"col_{role}", metavar="HEADER",
                            help=f"Column holding the {role.replace('_', ' ')}.")(func)
    return func


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--shape", type=click.Choice(["subscriptions", "invoices"]),
              help="What the rows are (default: recognised from the headers).")
@click.option("--map", "map_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Mapping file (TOML or JSON) naming the columns; see docs/importing.md.")
@_column_options
@click.option("--col", "extra_cols", multiple=True, metavar="ROLE=HEADER",
              help="Map any role to a column, e.g. --col discount_percent='Rabatt %'.")
@click.option("--currency", help="Currency of a file without a currency column (ISO code).")
@click.option("--interval", help="Billing interval of a file without an interval column.")
@click.option("--date-order", type=click.Choice(["MDY", "DMY"]),
              help="How to read 03/04/2024 (default MDY; 03.04.2024 is always day first).")
@click.option("--decimal", type=click.Choice([".", ","]), help="Decimal separator of amounts.")
@click.option("--amounts-in", type=click.Choice(["major", "minor"]),
              help="minor when amounts are already in cents.")
@click.option("--source", help="Source name to replace (default: the file name).")
@click.option("--sheet", help="Sheet of an .xlsx file (default: the first).")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]),
              help="Day to compare dates with for the future-date warning (default: today).")
@workspace_option
@json_option
def import_command(file: Path, shape: str | None, map_file: Path | None, extra_cols: tuple[str],
                   source: str | None, sheet: str | None, as_of: Any, workspace: str,
                   as_json: bool, **options: Any) -> None:
    """Import a billing export (CSV, TSV, XLSX or Parquet) into the workspace.

    Either subscription periods (customer, start, end, amount, interval, currency, ...) or
    invoice lines (customer, date, amount, currency, service period). Nothing is stored when a
    check fails (exit code 2); importing the same file again changes nothing.
    """
    from nrr.cli import fail, today
    from nrr.imports import ImportFailed, import_file
    from nrr.sources.mapping import MappingProblem
    from nrr.store import WorkspaceError, open_workspace

    try:
        spec = _mapping(map_file, extra_cols, options)
    except MappingProblem as exc:
        return fail(str(exc), 2)
    try:
        ws = open_workspace(workspace)
    except WorkspaceError as exc:
        return fail(str(exc))
    console = _console()
    try:
        with _progress(console, as_json) as advance:
            report = import_file(ws, file, shape=shape, mapping=spec, source=source, sheet=sheet,
                                 as_of=as_of.date() if as_of else today(), on_progress=advance)
    except ImportFailed as exc:
        _show(exc.report, console, as_json)
        raise SystemExit(2) from None
    finally:
        ws.close()
    _show(report, console, as_json)


def _mapping(map_file: Path | None, extra_cols: tuple[str, ...],
             options: dict[str, Any]) -> MappingSpec:
    from nrr.sources.mapping import MappingProblem, MappingSpec, load_mapping

    columns = {role: options.pop(f"col_{role}") for role, _ in COLUMN_FLAGS
               if options.get(f"col_{role}")}
    for item in extra_cols:
        role, sep, header = item.partition("=")
        if not sep or not header:
            raise MappingProblem(f"--col {item!r}: write ROLE=HEADER, e.g. --col plan=Tarif")
        columns[role.strip()] = header
    given = {k: v for k, v in options.items() if not k.startswith("col_") and v is not None}
    flags = MappingSpec(columns=columns, **given)
    return load_mapping(map_file).overridden_by(flags) if map_file else flags


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


class _progress:
    """A transient rows-read counter on a terminal; nothing when printing JSON or to a pipe."""

    def __init__(self, console: Console, quiet: bool) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(SpinnerColumn(), TextColumn("reading rows: {task.completed:,}"),
                            TimeElapsedColumn(), console=console, transient=True,
                            disable=quiet or not console.is_terminal)

    def __enter__(self) -> Callable[[int], None]:
        self.bar.start()
        task = self.bar.add_task("import", total=None)
        return lambda rows: self.bar.update(task, completed=rows)

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _show(report: ImportReport, console: Console, as_json: bool) -> None:
    from rich.markup import escape

    if as_json:
        from nrr.cli import json_out

        json_out(report.to_dict())
        return
    if report.ok:
        console.print(escape(_summary(report)))
    for warning in report.warnings:
        console.print(f"[yellow]warning[/]: {escape(str(warning))}")
    if report.warning_count > len(report.warnings):
        console.print(f"[yellow]... and {report.warning_count - len(report.warnings)} more "
                      "warning(s)[/]")
    if not report.ok:
        for error in report.errors:
            console.print(f"[red]error[/]: {escape(str(error))}")
        more = report.error_count - len(report.errors)
        if more > 0:
            console.print(f"[red]... and {more} more error(s)[/]")
        console.print(f"Nothing was imported from {report.file}: fix the error(s) above and "
                      "run the import again.")


def _summary(report: ImportReport) -> str:
    if report.unchanged:
        return (f"{report.file} is unchanged since import {report.import_id}: nothing to do "
                f"({report.rows:,} rows, {report.lines:,} revenue lines).")
    skipped = sum(report.skipped_rows.values())
    text = (f"Imported {report.file} as {report.shape}: {report.rows:,} rows -> "
            f"{report.lines:,} revenue lines ({report.discount_lines:,} discounts) for "
            f"{report.customers:,} customers; source {report.source}, import {report.import_id}.")
    if skipped:
        text += f" {skipped:,} row(s) are not MRR (one-time charges, trials, ...)."
    columns = ", ".join(f"{role}={header!r}" for role, header in report.columns.items())
    text += f"\nColumns: {columns}."
    if report.attributes:
        text += f"\nCustomer attributes: {', '.join(report.attributes)}."
    return text
