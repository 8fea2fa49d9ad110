"""`nrr report`, `nrr explain`, `nrr customers`: parse, call nrr.reports, render."""

from __future__ import annotations

import csv
import io
from typing import Any

import click

from nrr.cli import json_out
from nrr.cli_options import (
    json_option,
    parse_spark_conf,
    setting_options,
    with_workspace_results,
    workspace_option,
)
from nrr.reports import RISK_SLUGS

TABLE_PERIODS = 12


@click.command("report")
@workspace_option
@setting_options
@click.option("--from", "start", help="First period shown (2025-01, 2025-Q1, 2025 or a date).")
@click.option("--to", "end", help="Last period shown.")
@click.option("--by", "by", help="Segment dimension: plan, size, country or any attribute.")
@click.option("--cohorts", is_flag=True, help="Cohort × age table of NRR and logo retention.")
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Run the metrics on DuckDB (embedded) or Apache Spark.",
)
@click.option("--spark-master", help="Spark master URL (default: spark-submit's, else local[*]).")
@click.option(
    "--spark-work-dir",
    help="Where Spark writes stage results (required on a cluster: "
    "a shared path such as hdfs://, s3a://, dbfs:/).",
)
@click.option(
    "--spark-conf",
    multiple=True,
    metavar="KEY=VALUE",
    callback=lambda _ctx, _param, values: parse_spark_conf(values),
    help="A Spark setting for this run, as spark-submit's --conf (repeatable), "
    "e.g. spark.sql.shuffle.partitions=64.",
)
@click.option(
    "--parquet",
    type=click.Path(),
    help="With --engine spark: read the inputs from "
    "this Parquet layout (nrr export --parquet, or a data lake path).",
)
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print the bridge (or cohorts) as CSV.")
@with_workspace_results
def report_command(
    ws: Any,
    res: Any,
    start: str | None,
    end: str | None,
    by: str | None,
    cohorts: bool,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The MRR bridge, NRR/GRR for the period and the trailing twelve months, and warnings."""
    from nrr import reports

    lo = reports.period_index(res, start) if start else None
    hi = reports.period_index(res, end) if end else None
    if lo is None and not (as_json or as_csv) and not res.empty:
        lo = (hi or res.periods[-1]) - TABLE_PERIODS + 1  # tables show the last year by default
    data = {
        "headline": reports.headline(res),
        "bridge": reports.bridge(res, by, lo, hi),
        "retention": {
            "period": reports.retention(res, 1, by, lo, hi),
            "ttm": reports.retention(res, res.ttm_window, by, lo, hi),
        },
    }
    if by:
        data["segments"] = reports.segments(res, by)
    if cohorts:
        data["cohorts"] = reports.cohorts(res)
    if as_json:
        return json_out(data)
    if as_csv:
        return click.echo(to_csv(data["cohorts"] if cohorts else data["bridge"]), nl=False)
    _render(data, res.settings.reporting_currency)


def _render(data: dict[str, Any], currency: str) -> None:
    from nrr import render

    out = render.console()
    head = data["headline"]
    if head.get("empty"):
        out.print(head["warnings"][0])
        return
    out.print(render.headline_table(head))
    for warning in head["warnings"]:
        out.print(f"[bold yellow]⚠ {warning}[/]")
    out.print(render.bridge_table(data["bridge"], currency, f"MRR bridge ({currency})"))
    out.print(
        render.retention_table(
            data["retention"]["ttm"],
            currency,
            "Net and gross revenue retention, trailing twelve months",
        )
    )
    if "segments" in data:
        out.print(render.segments_table(data["segments"], currency, head["grain"]))
    if "cohorts" in data:
        out.print(render.cohort_table(data["cohorts"], "nrr"))
        out.print(render.cohort_table(data["cohorts"], "logo_retention"))


def to_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        keys = [k for k in rows[0] if k != "drill"]
        writer = csv.DictWriter(buffer, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


@click.command("explain")
@click.argument("customer_id")
@workspace_option
@setting_options
@json_option
@with_workspace_results
def explain_command(ws: Any, res: Any, customer_id: str, as_json: bool) -> None:
    """A customer's MRR per period, each movement, and the source rows behind them."""
    from nrr import render, reports

    data = reports.explain(res, ws, customer_id)
    if as_json:
        return json_out(data)
    cur = res.settings.reporting_currency
    out = render.console()
    out.print(render.timeline_table(data["timeline"], cur, f"{customer_id}: MRR by period"))
    out.print(render.movements_table(data["movements"], cur, "Movements"))
    if data["at_risk"]:
        out.print(f"At risk: {data['at_risk']['summary']}")
    out.print(render.revenue_lines_table(data["lines"], "Revenue lines"))
    out.print(render.rows_table(data["source_rows"], "Source rows"))


@click.command("customers")
@workspace_option
@setting_options
@click.option(
    "--metric",
    default="end",
    show_default=True,
    help="start, end, new, reactivation, expansion, contraction, churn (or its parts "
    "voluntary_churn, involuntary_churn), fx, window1, window12.",
)
@click.option(
    "--at", "period_label", help="Period of the figure, e.g. 2025-03 (default: the last)."
)
@click.option("--by", help="Segment dimension of --segment.")
@click.option("--segment", help="Only customers of this segment.")
@json_option
@with_workspace_results
def customers_command(
    ws: Any,
    res: Any,
    metric: str,
    period_label: str | None,
    by: str | None,
    segment: str | None,
    as_json: bool,
) -> None:
    """The customers behind one figure of the report (drill-down)."""
    from nrr import render, reports

    p = reports.period_index(res, period_label) if period_label else res.periods[-1]
    rows = reports.customers_behind(res, metric, p, by, segment)
    if as_json:
        return json_out(rows)
    render.console().print(
        render.rows_table(
            rows,
            f"{metric} · {res.label(p)}",
            res.settings.reporting_currency,
            ("amount", "mrr", "mrr_before", "mrr_after", "mrr_start", "mrr_end"),
        )
    )


@click.command("at-risk")
@workspace_option
@setting_options
@click.option(
    "--limit", default=25, show_default=True, type=click.IntRange(min=0),
    help="Rows in the table (JSON lists every account).",
)  # fmt: skip
@click.option(
    "--reason", type=click.Choice(list(RISK_SLUGS)),
    help="List only the accounts showing this signal (the totals stay the company's).",
)  # fmt: skip
@json_option
@with_workspace_results
def at_risk_command(ws: Any, res: Any, limit: int, reason: str | None, as_json: bool) -> None:
    """Accounts at risk: pending cancellations, payments past due, recent downgrades."""
    from nrr import render, reports

    data = reports.at_risk(res, reason)
    if as_json:
        return json_out(data)
    cur = data["currency"]
    out = render.console()
    if data["period"] is None:
        return out.print("No data yet: import a billing export or sync Stripe.")
    out.print(render.at_risk_summary(data))
    rows = [
        {**{k: r[k] for k in ("customer_id", "name", "plan", "mrr", "mrr_at_risk")},
         "reasons": ", ".join(r["reasons"]),
         **{k: r[k] for k in ("cancels_on", "past_due_since", "lapses_on", "downgraded")}}
        for r in data["customers"][:limit]
    ]  # fmt: skip
    title = f"Accounts at risk · {data['period']}"
    if reason:
        n, at_stake = data["listed"]["accounts"], data["listed"]["mrr_at_risk"]
        title += (f" · {data['reason']}: {n:,} account{'' if n == 1 else 's'}, "
                  f"{render.money(at_stake, cur)} {cur} MRR at risk")  # fmt: skip
    if len(data["customers"]) > limit:
        title += f" (the {limit} with most MRR at risk of {len(data['customers']):,})"
    out.print(render.rows_table(rows, title, cur, ("mrr", "mrr_at_risk", "downgraded")))
