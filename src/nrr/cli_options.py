"""Options shared by the commands that compute: workspace, as-of, period, currency, settings."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import click

DEFAULT_WORKSPACE = "nrr-workspace"

workspace_option = click.option(
    "--workspace",
    "-w",
    "workspace",
    type=click.Path(file_okay=False),
    default=lambda: os.environ.get("NRR_WORKSPACE", DEFAULT_WORKSPACE),
    show_default=DEFAULT_WORKSPACE,
    help="Workspace folder (or set NRR_WORKSPACE).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


SETTING_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--as-of",
        "as_of",
        callback=_date,
        help="Read the data as of this day (YYYY-MM-DD; default: today).",
    ),
    click.option("--period", type=click.Choice(["month", "quarter", "year"]), help="Period grain."),
    click.option("--currency", "reporting_currency", help="Reporting currency (ISO code)."),
    click.option(
        "--discounts",
        type=click.Choice(["recurring", "forever", "all", "none"]),
        help="Which discounts reduce MRR.",
    ),
    click.option(
        "--churn-timing",
        type=click.Choice(["ended", "requested"]),
        help="Churn when the subscription ends, or when cancellation is requested.",
    ),
    click.option(
        "--grace-days",
        "past_due_grace_days",
        type=click.IntRange(min=0),
        help="Past-due days after which a subscription counts as churned.",
    ),
    click.option(
        "--metered",
        type=click.Choice(["exclude", "trailing_average"]),
        help="Usage-based prices: excluded, or their trailing 3-period average.",
    ),
    click.option(
        "--fx-date",
        type=click.Choice(["period_end", "service_start", "fixed"]),
        help="Which day's exchange rate converts revenue.",
    ),
]


def setting_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(SETTING_OPTIONS):
        func = option(func)
    return func


SETTING_KEYS = (
    "period",
    "reporting_currency",
    "discounts",
    "churn_timing",
    "past_due_grace_days",
    "metered",
    "fx_date",
)


def split_settings(kwargs: dict[str, Any]) -> tuple[dict[str, Any], date | None]:
    """Pop the setting overrides and the as-of day out of a command's keyword arguments."""
    overrides = {k: kwargs.pop(k) for k in SETTING_KEYS if k in kwargs}
    return overrides, kwargs.pop("as_of", None)


def parse_spark_conf(values: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs, as spark-submit's ``--conf`` takes them."""
    conf: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().startswith("spark."):
            raise click.BadParameter(
                f"{item!r}: give a Spark setting as KEY=VALUE, e.g. spark.sql.shuffle.partitions=64"
            )
        conf[key.strip()] = value.strip()
    return conf


def with_workspace_results(func: Callable[..., Any]) -> Callable[..., Any]:
    """Open the workspace, apply overrides, compute, and pass (workspace, results) on."""

    @functools.wraps(func)
    def wrapper(workspace: str, **kwargs: Any) -> Any:
        from nrr.api import compute, open_workspace
        from nrr.cli import fail, today
        from nrr.store import WorkspaceError

        overrides, as_of = split_settings(kwargs)
        engine = kwargs.pop("engine", "duckdb")
        spark_master, parquet = kwargs.pop("spark_master", None), kwargs.pop("parquet", None)
        work_dir = kwargs.pop("spark_work_dir", None)
        spark_conf = kwargs.pop("spark_conf", None)
        try:
            ws = open_workspace(workspace, create=False)
        except WorkspaceError as exc:
            return fail(str(exc))
        try:
            settings = ws.settings.replace(**overrides)
            if engine == "spark":
                from nrr.api import compute_on_spark

                res = compute_on_spark(
                    ws,
                    as_of=as_of or today(),
                    settings=settings,
                    parquet=parquet,
                    master=spark_master,
                    work_dir=work_dir,
                    conf=spark_conf,
                )
            else:
                res = compute(ws, as_of=as_of or today(), settings=settings)
        except ValueError as exc:
            ws.close()
            return fail(str(exc), 2)
        try:
            return func(ws, res, **kwargs)
        except (ValueError, KeyError) as exc:
            return fail(str(exc).strip("'\""), 2)
        finally:
            ws.close()

    return wrapper
