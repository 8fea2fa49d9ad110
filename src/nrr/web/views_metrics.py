"""The figure pages: Overview, Trends, Cohorts, Segments (each the twin of an /api/ route)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nrr.money import exponent
from nrr.web import charts
from nrr.web import endpoints as ep
from nrr.web import params as p
from nrr.web.context import Context
from nrr.web.html import Html, tag
from nrr.web.layout import (
    card,
    chart,
    drill_url,
    figure_link,
    frame,
    money,
    money_short,
    number,
    pct,
    table,
    url,
)
from nrr.web.render import to_json
from nrr.web.views_customers import risk_line

MOVEMENT_COLUMNS = ("new", "reactivation", "expansion", "contraction", "churn", "fx")


# -- Overview -------------------------------------------------------------------------------------


def overview(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    head = ctx.report("headline")
    cur = ctx.settings.reporting_currency
    bridge = head.get("bridge") or {}
    period = str(head.get("period") or "")
    ttm = head.get("ttm") or {}
    cards = tag(
        "section",
        card("MRR", money_short(head.get("mrr"), cur),
             _change(cur, head.get("mrr_growth"), period, percent=True),
             drill_url(query, "end", period)),
        card("ARR", money_short(head.get("arr"), cur), f"{cur} · 12 × MRR", None),
        card("Customers", number(head.get("customers")),
             _change("paying", head.get("customers_change"), period),
             drill_url(query, "end", period)),
        card("NRR (TTM)", pct(ttm.get("nrr")), _band_text(head), _window_link(query, ttm),
              tone="nrr"),
        card("GRR (TTM)", pct(ttm.get("grr")), _failed_share(head), _window_link(query, ttm),
              tone="grr"),
        card("Years to double", _years(head.get("years_to_double")), "at this TTM NRR", None),
        class_="cards", aria_label="Headline figures",
    )  # fmt: skip
    median = head.get("public_saas_median") or []
    median_text = "–".join(f"{float(m) * 100:.0f}" for m in median) + " %" if median else "–"
    context_line = tag(
        "p", "Benchmarks: below 80 % leaky bucket · 80–100 % acceptable · 100–120 % strong · "
        f"above 120 % exceptional. Median public SaaS about {median_text}; SMB-focused SaaS "
        "typically 90–100 %.", class_="context",
    )  # fmt: skip
    warnings = [tag("li", w) for w in head.get("warnings") or []]
    warn = tag("ul", *warnings, class_="warnings", role="status") if warnings else ""
    parts: list[Any] = [cards, context_line, warn, risk_line(ctx, query)]
    if bridge:
        figure = charts.waterfall(bridge, cur, period)
        parts.append(chart("bridge-chart", to_json(figure), f"MRR bridge of {period}"))
        parts.append(_drill_panel(ctx))
        parts.append(_bridge_table(ctx, query, [dict(bridge, period=period)],
                                   caption=f"Bridge of {period}"))
    return frame(ctx, query, "Overview", "/", Html("".join(parts)), csrf)


def _change(note: str, value: float | None, period: str, *, percent: bool = False) -> str:
    """A card's note with how its figure moved in the last period: 'EUR · +3.1 % in 2026-10'."""
    if value is None:
        return note
    shown = pct(abs(value)) if percent else f"{abs(value):,}"
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{note} · {sign}{shown} in {period}"


def _failed_share(head: Mapping[str, Any]) -> str:
    """What GRR loses to failed payments: their share of the last twelve months' churn."""
    share = head.get("involuntary_churn_share")
    if share is None:
        return "never above 100 %"
    return f"{pct(share)} of churn from failed payments"


def _band_text(head: Mapping[str, Any]) -> str:
    band = head.get("band")
    if isinstance(band, Mapping):
        return str(band.get("label") or band.get("key") or "")
    return "needs twelve months of history"


def _window_link(query: Mapping[str, str], row: Mapping[str, Any]) -> str | None:
    """The cohort behind a retention figure: the customers paying at the window's start."""
    if not row:
        return None
    return drill_url(query, f"window{row['window']}", str(row["period"]))


def _years(value: Any) -> str:
    if value is None:
        return "never"
    return f"{float(value):.1f} years"


def _drill_panel(ctx: Context) -> Html:
    """Where a click on a chart lists its customers (filled by app.js from /api/drill)."""
    return tag("section", tag("p", "Click a bar to list the customers behind it.", class_="hint"),
               id="drill-panel", class_="drill", aria_live="polite",
               data_keep=",".join(p.COMMON_PARAMS),
               data_exponent=exponent(ctx.settings.reporting_currency))  # fmt: skip


def _bridge_table(ctx: Context, query: Mapping[str, str], rows: list[Mapping[str, Any]],
                  caption: str, csv: str | None = None) -> Html:  # fmt: skip
    cur = ctx.settings.reporting_currency
    columns = [("period", "Period"), ("start_mrr", "Start"),
               *((m, m.capitalize() if m != "fx" else "FX") for m in MOVEMENT_COLUMNS),
               ("end_mrr", "End")]  # fmt: skip
    # The part of churn that failed payments caused, beside churn (it is not added again).
    at = columns.index(("churn", "Churn")) + 1
    columns.insert(at, ("involuntary_churn", "of which involuntary"))
    body = []
    for row in rows:
        period = str(row["period"])
        cells: list[Any] = [period]
        for key, heading in columns[1:]:
            metric = {"start_mrr": "start", "end_mrr": "end"}.get(key, key)
            text = money(row.get(key), cur)
            cells.append(figure_link(text, drill_url(query, metric, period),
                                     f"{heading} {period}: the customers behind it"))
        body.append(cells)
    numeric = [False] + [True] * (len(columns) - 1)
    return table(columns, body, caption=caption, csv=csv, numeric=numeric)


# -- Trends ---------------------------------------------------------------------------------------


def trends(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    data = ep.trends(ctx, query, path)
    cur = ctx.settings.reporting_currency
    grain = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}[ctx.grain]
    parts = [
        chart("mrr-chart", to_json(charts.mrr_and_customers(data["bridge"], cur)),
              "MRR and paying customers over time"),
        chart("retention-chart", to_json(charts.retention_lines(data["monthly"], data["ttm"],
                                                                grain)),
              "NRR and GRR over time"),
        chart("movements-chart", to_json(charts.movement_bars(data["bridge"], cur)),
              "MRR movements per period"),
        _drill_panel(ctx),
        chart("quick-ratio-chart", to_json(charts.quick_ratio_line(data["bridge"])), "Quick ratio"),
        _bridge_table(ctx, query, data["bridge"], "MRR bridge per period",
                      csv=url("/api/bridge", query, format="csv")),
        _folded(f"TTM retention per {ctx.grain}", _retention_table(
            query, data["ttm"], "TTM retention", url("/api/retention", query, window="ttm",
                                               format="csv"))),
        _folded(f"{grain.capitalize()} retention per {ctx.grain}", _retention_table(
            query, data["monthly"], f"{grain.capitalize()} retention",
            url("/api/retention", query, window="1", format="csv"))),
    ]  # fmt: skip
    return frame(ctx, query, "Trends", "/trends", Html("".join(parts)), csrf)


def _folded(summary: str, content: Html) -> Html:
    return tag("details", tag("summary", summary), content, class_="fold")


def _retention_table(query: Mapping[str, str], rows: list[Mapping[str, Any]], caption: str,
                     csv: str) -> Html:  # fmt: skip
    """Each figure links to its cohort: the customers paying at the window's start."""
    columns = [("period", "Period"), ("nrr", "NRR"), ("grr", "GRR"),
               ("logo_retention", "Logo retention"), ("customers_start", "Cohort customers")]
    body = []
    for r in rows:
        period = str(r["period"])
        href = drill_url(query, f"window{r['window']}", period)
        body.append([period, *(
            figure_link(text, href, f"{name} {period}: the cohort behind it")
            for text, name in ((pct(r.get("nrr")), "NRR"), (pct(r.get("grr")), "GRR"),
                               (pct(r.get("logo_retention")), "Logo retention"),
                               (number(r.get("customers_start")), "Cohort customers")))])
    return table(columns, body, caption=caption, csv=csv, numeric=[False, True, True, True, True])


# -- Cohorts --------------------------------------------------------------------------------------


# Ages shown in the cohort table (the heatmap and the CSV have them all).
MILESTONES = {"month": (1, 3, 6, 12, 24, 36), "quarter": (1, 2, 4, 8, 12), "year": (1, 2, 3, 4, 5)}


def cohorts(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    view = p.choice(p.given(query, "view") or "nrr", p.COHORT_VIEWS, "view")
    rows = ctx.report("cohorts")
    switch = tag("div", *(
        tag("a", label, href=url("/cohorts", query, view=v), class_="tab",
            aria_current="page" if v == view else None)
        for v, label in (("nrr", "NRR"), ("logo_retention", "Logo retention"))
    ), class_="tabs", role="group", aria_label="Cohort measure")  # fmt: skip
    cur = ctx.settings.reporting_currency
    ages = MILESTONES[ctx.grain]
    cell = {(str(r["cohort"]), int(r["age"])): r for r in rows}
    starts = [r for r in rows if int(r["age"]) == 0]
    unit = {"month": "M", "quarter": "Q", "year": "Y"}[ctx.grain]
    columns = [("cohort", "Cohort"), ("customers", "Customers"), ("mrr", "Starting MRR"),
               *((f"age{a}", f"{unit}{a}") for a in ages)]  # fmt: skip
    body = [[str(r["cohort"]), number(r.get("customers_start")), money(r.get("mrr_start"), cur),
             *(pct(cell[(str(r["cohort"]), a)].get(view)) if (str(r["cohort"]), a) in cell
               else "" for a in ages)] for r in starts]  # fmt: skip
    label = "NRR" if view == "nrr" else "logo retention"
    parts = [
        switch,
        chart("cohort-chart", to_json(charts.cohort_heatmap(rows, view)), "Cohort heatmap"),
        table(columns, body, caption=f"Cohort {label} at milestone ages (every age in the CSV)",
              csv=url("/api/cohorts", query, format="csv"),
              numeric=[False, True, True, *(True for _ in ages)]),
    ]  # fmt: skip
    return frame(ctx, query, "Cohorts", "/cohorts", Html("".join(parts)), csrf, {"view": view})


# -- Segments -------------------------------------------------------------------------------------


def segments(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    by = ep.dimension(ctx, query) or "plan"
    rows = ctx.report("segments", by)
    cur = ctx.settings.reporting_currency
    picker = tag("form", tag("label", tag("span", "Segment by"), tag("select", *(
        tag("option", d, value=d, selected=d == by) for d in ctx.report("dimensions")
    ), name="by", id="segment-by", data_autosubmit=True)), *(
        tag("input", type="hidden", name=k, value=v) for k, v in query.items()
        if k in p.COMMON_PARAMS and v
    ), tag("button", "Show", type="submit"), method="get", class_="picker")  # fmt: skip
    body = []
    for r in rows:
        seg = str(r["segment"])
        warning = r.get("masking_warning")
        flag = tag("span", "NRR hides weak GRR", class_="flag", title=warning) if warning else ""
        target = r.get("drill") or {}
        href = drill_url(query, str(target.get("metric", "end")), str(target.get("period", "")),
                         by, seg)  # fmt: skip
        body.append([
            tag("a", seg, href=url("/customers", query, by=by, segment=seg),
                title=f"The customers in {seg}"),
            figure_link(money(r.get("mrr"), cur), href, f"MRR of {seg}: the customers behind it"),
            figure_link(number(r.get("customers")), href, f"Customers of {seg}"),
            pct(r.get("month_nrr")), pct(r.get("ttm_nrr")), pct(r.get("ttm_grr")), flag,
        ])  # fmt: skip
    columns = [("segment", by), ("mrr", "MRR"), ("customers", "Customers"),
               ("month_nrr", "NRR (month)"), ("ttm_nrr", "NRR (TTM)"), ("ttm_grr", "GRR (TTM)"),
               ("flag", "")]
    ttm = int(ctx.results().ttm_window)
    over_time = charts.segment_lines(ctx.report("retention", ttm, by, *ctx.range),
                                     ctx.report("retention", ttm, None, *ctx.range), by)
    parts = [
        picker,
        chart("segments-chart", to_json(charts.segment_bars(rows, by)), f"NRR and GRR by {by}"),
        table(columns, body, caption=f"Segments by {by}",
              csv=url("/api/segments", query, by=by, format="csv"),
              numeric=[False, True, True, True, True, True, False]),
        chart("segment-trend-chart", to_json(over_time), f"TTM NRR by {by} over time"),
    ]  # fmt: skip
    return frame(ctx, query, "Segments", "/segments", Html("".join(parts)), csrf, {"by": by})


