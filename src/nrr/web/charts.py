"""Plotly figure specs, built by pure functions from report rows (tested without a browser).

Each figure is a plain dict ``{"data": [...], "layout": {...}}`` the page hands to
``Plotly.newPlot``. Points that stand for customers carry ``customdata`` ``{"metric", "period"}``
(and ``by``/``segment`` where it applies): the page's script turns a click into a drill-down.
Money arrives in integer minor units; it becomes major units here, for display only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nrr.money import exponent

Row = Mapping[str, Any]
Figure = dict[str, Any]

# One colour per movement type, used on every page (and in the stylesheet: keep them in step).
COLOURS: dict[str, str] = {
    "start": "#475569",
    "new": "#2563eb",
    "reactivation": "#7c3aed",
    "expansion": "#16a34a",
    "contraction": "#d97706",
    "churn": "#dc2626",
    "fx": "#64748b",
    "end": "#1e293b",
    "nrr": "#2563eb",
    "grr": "#0d9488",
}
MOVEMENT_LABELS: dict[str, str] = {
    "start": "Start", "new": "New", "reactivation": "Reactivation", "expansion": "Expansion",
    "contraction": "Contraction", "churn": "Churn", "fx": "FX", "end": "End",
}  # fmt: skip
# Benchmark bands for NRR (SPEC section 2), drawn behind the retention lines.
BANDS: tuple[tuple[float, float, str, str], ...] = (
    (0, 80, "leaky bucket", "rgba(220, 38, 38, 0.07)"),
    (80, 100, "acceptable", "rgba(217, 119, 6, 0.07)"),
    (100, 120, "strong", "rgba(22, 163, 74, 0.07)"),
    (120, 1000, "exceptional", "rgba(22, 163, 74, 0.14)"),
)
FONT = {"family": "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13,
        "color": "#1e293b"}  # fmt: skip


def major(minor: int | None, currency: str) -> float | None:
    return None if minor is None else minor / 10 ** exponent(currency)


def percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(float(ratio) * 100, 2)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "font": FONT,
        "margin": {"l": 64, "r": 24, "t": 48, "b": 48},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT["family"]}},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02,
                   "yanchor": "bottom"},
    }
    layout.update(extra)
    return layout


# Period labels sort as text (2024-03, 2024-Q1, 2024), so the axis orders them by itself; Plotly
# would otherwise order categories by first appearance across traces.
PERIOD_AXIS = {"type": "category", "categoryorder": "category ascending", "tickangle": -45,
               "nticks": 24, "automargin": True}


def _drill(metric: str, period: str, **extra: str | None) -> dict[str, str]:
    point = {"metric": metric, "period": period}
    point.update({k: v for k, v in extra.items() if v is not None})
    return point


# -- the MRR bridge of one period, as a waterfall -------------------------------------------------

WATERFALL_STEPS = ("new", "reactivation", "expansion", "contraction", "churn", "fx")


def waterfall(row: Row, currency: str, period: str) -> Figure:
    """start -> new -> reactivation -> expansion -> contraction -> churn -> fx -> end.

    Drawn as bars with a ``base`` so each movement keeps its own colour (Plotly's waterfall
    trace only colours rises, falls and totals).
    """
    level = int(row["start_mrr"])
    names, bases, heights, signed = ["start"], [0], [level], [level]
    for step in WATERFALL_STEPS:
        change = -int(row[step]) if step in ("contraction", "churn") else int(row[step])
        bases.append(level + min(change, 0))
        heights.append(abs(change))
        signed.append(change)
        level += change
        names.append(step)
    names.append("end")
    bases.append(0)
    heights.append(int(row["end_mrr"]))
    signed.append(int(row["end_mrr"]))
    colours = [COLOURS[n] for n in names]
    points = [_drill(n, period) for n in names]
    trace = {
        "type": "bar",
        "x": [MOVEMENT_LABELS[n] for n in names],
        "y": [major(h, currency) for h in heights],
        "base": [major(b, currency) for b in bases],
        "marker": {"color": colours},
        "customdata": points,
        "text": [_money_text(s, currency, n) for s, n in zip(signed, names, strict=True)],
        "textposition": "outside",
        "cliponaxis": False,
        "hovertemplate": "%{x}: %{text}<extra>click for the customers</extra>",
    }
    return {"data": [trace], "layout": _layout(
        f"MRR bridge, {period} ({currency})", showlegend=False, bargap=0.25,
        yaxis={"title": {"text": currency}, "range": _zoomed(bases, heights, currency),
               "gridcolor": "#e2e8f0"},
    )}  # fmt: skip


def _zoomed(bases: list[int], heights: list[int], currency: str) -> list[float | None]:
    """A y range around the movements: from zero they would be slivers under two tall bars.

    The start and end bars then rise from below the visible range, as in any bridge chart.
    """
    levels = list(bases[1:-1]) + [b + h for b, h in zip(bases, heights, strict=True)]
    low, high = min(levels), max(levels)
    pad = max((high - low) * 0.35, high * 0.01, 1)
    return [major(max(int(low - pad), 0), currency), major(int(high + pad * 0.6), currency)]


def _money_text(minor: int, currency: str, name: str) -> str:
    value = f"{abs(minor) / 10 ** exponent(currency):,.0f}"
    if name in ("start", "end"):
        return value
    return ("−" if minor < 0 else "+") + value


# -- trends ---------------------------------------------------------------------------------------


def _band_shapes(top: float) -> list[dict[str, Any]]:
    return [
        {"type": "rect", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": low,
         "y1": min(high, top), "fillcolor": colour, "line": {"width": 0}, "layer": "below"}
        for low, high, _, colour in BANDS if low < top
    ]  # fmt: skip


def retention_lines(monthly: Sequence[Row], ttm: Sequence[Row], grain_label: str) -> Figure:
    """NRR and GRR per period end, one period and TTM, over the benchmark bands."""
    traces = []
    for rows, window, dash in ((ttm, "TTM", "solid"), (monthly, grain_label, "dot")):
        for metric in ("nrr", "grr"):
            traces.append({
                "type": "scatter", "mode": "lines+markers",
                "name": f"{metric.upper()} {window}",
                "x": [r["period"] for r in rows],
                "y": [percent(r.get(metric)) for r in rows],
                "line": {"color": COLOURS[metric], "dash": dash, "width": 2.5 if dash == "solid"
                         else 1.5},
                "marker": {"size": 5},
                "hovertemplate": "%{x}: %{y:.1f} %<extra>%{fullData.name}</extra>",
            })  # fmt: skip
    return {"data": traces, "layout": _percent_layout("Net and gross revenue retention (%)",
                                                      traces)}


def _percent_layout(title: str, traces: Sequence[Figure]) -> dict[str, Any]:
    """Percent lines over the NRR benchmark bands, the axis fitted to the values."""
    values = [y for t in traces for y in t["y"] if y is not None]
    top = max([*values, 130.0]) + 10
    low = min([*values, 60.0]) - 10
    return _layout(
        title,
        shapes=_band_shapes(top),
        yaxis={"range": [max(low, 0), top], "ticksuffix": " %", "gridcolor": "#e2e8f0"},
        xaxis=PERIOD_AXIS,
    )


def nrr_lines(title: str, periods: Sequence[str], series: Mapping[str, Sequence[Any]],
              total: tuple[str, Sequence[Any]]) -> Figure:  # fmt: skip
    """Ratios per period end over the NRR bands: a thin line per series, the total's thick."""
    lines = [(name, values, {"width": 1.5}) for name, values in series.items()]
    lines.append((total[0], total[1], {"width": 3, "color": COLOURS["end"]}))
    traces = [{
        "type": "scatter", "mode": "lines+markers", "name": name, "x": list(periods),
        "y": [percent(v) for v in values], "line": line, "marker": {"size": 5},
        "hovertemplate": "%{x}: %{y:.1f} %<extra>%{fullData.name}</extra>",
    } for name, values, line in lines]  # fmt: skip
    return {"data": traces, "layout": _percent_layout(title, traces)}


def portfolio_lines(trend: Sequence[Row], companies: Sequence[str]) -> Figure:
    """TTM NRR per period end: a line per company and the portfolio's."""
    return nrr_lines("TTM NRR by company (%)", [t["period"] for t in trend],
                     {name: [t["companies"][name] for t in trend] for name in companies},
                     ("Portfolio", [t["ttm_nrr"] for t in trend]))  # fmt: skip


def segment_lines(rows: Sequence[Row], company: Sequence[Row], dimension: str) -> Figure:
    """TTM NRR per period end: a line per segment (at the window's start) and the company's."""
    periods = [str(r["period"]) for r in company]
    by_segment: dict[str, dict[str, Any]] = {}
    for r in rows:
        by_segment.setdefault(str(r["segment"]), {})[str(r["period"])] = r["nrr"]
    return nrr_lines(f"TTM NRR by {dimension} (%)", periods,
                     {seg: [values.get(p) for p in periods] for seg, values in by_segment.items()},
                     ("All customers", [r["nrr"] for r in company]))  # fmt: skip


# Per period, churn is drawn in two parts, each drilling to its own customers.
BAR_STEPS = ("new", "reactivation", "expansion", "contraction", "voluntary_churn",
             "involuntary_churn", "fx")  # fmt: skip
BAR_LABELS = {**MOVEMENT_LABELS, "voluntary_churn": "Churn, cancelled",
              "involuntary_churn": "Churn, failed payment"}  # fmt: skip
BAR_COLOURS = {**COLOURS, "voluntary_churn": COLOURS["churn"], "involuntary_churn": "#991b1b"}


def _signed(row: Row, step: str) -> int:
    """A bar's height in minor units: losses below zero; cancelled churn is what failed
    payments leave of churn."""
    if step == "voluntary_churn":
        return int(row["involuntary_churn"]) - int(row["churn"])
    value = int(row[step])
    return -value if step in ("contraction", "involuntary_churn") else value


def movement_bars(bridge: Sequence[Row], currency: str) -> Figure:
    """MRR movements per period as stacked bars: gains up, losses down; churn in its two parts."""
    traces = []
    for step in BAR_STEPS:
        label = BAR_LABELS[step]
        traces.append({
            "type": "bar", "name": label,
            "x": [r["period"] for r in bridge],
            "y": [major(_signed(r, step), currency) for r in bridge],
            "marker": {"color": BAR_COLOURS[step]},
            "customdata": [_drill(step, str(r["period"])) for r in bridge],
            "hovertemplate": "%{x} " + label + ": %{y:,.0f}<extra></extra>",
        })  # fmt: skip
    return {"data": traces, "layout": _layout(
        f"MRR movements per period ({currency})", barmode="relative",
        xaxis=PERIOD_AXIS, yaxis={"gridcolor": "#e2e8f0", "zerolinecolor": "#94a3b8"},
    )}  # fmt: skip


def mrr_and_customers(bridge: Sequence[Row], currency: str) -> Figure:
    """MRR at each period end, with the paying customers on a second axis; a point opens the
    customers paying at that period's end."""
    periods = [str(r["period"]) for r in bridge]
    points = [_drill("end", p) for p in periods]
    mrr = {
        "type": "scatter", "mode": "lines+markers", "name": f"MRR ({currency})", "x": periods,
        "y": [major(int(r["end_mrr"]), currency) for r in bridge], "fill": "tozeroy",
        "line": {"color": COLOURS["new"]}, "fillcolor": "rgba(37, 99, 235, 0.08)",
        "customdata": points, "hovertemplate": "%{x} MRR: %{y:,.0f}<extra></extra>",
    }
    customers = {
        "type": "scatter", "mode": "lines", "name": "Paying customers", "x": periods,
        "y": [int(r["customers_end"]) for r in bridge], "yaxis": "y2",
        "line": {"color": COLOURS["start"], "dash": "dot"},
        "customdata": points, "hovertemplate": "%{x} customers: %{y:,}<extra></extra>",
    }
    return {"data": [mrr, customers], "layout": _layout(
        f"MRR and paying customers at each period end ({currency})", xaxis=PERIOD_AXIS,
        yaxis={"gridcolor": "#e2e8f0", "rangemode": "tozero", "title": {"text": currency}},
        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False,
                "tickmode": "auto", "tickformat": ",d", "automargin": True,
                "title": {"text": "customers"}},
        margin={"l": 64, "r": 64, "t": 48, "b": 48},
    )}  # fmt: skip


def quick_ratio_line(bridge: Sequence[Row]) -> Figure:
    """The quick ratio per period on a log axis: ratios compare by factor (2 lies as far above
    the break-even 1 as 0.5 below it), and a young company's first periods, with almost nothing
    lost to divide by, reach the thousands and would flatten every later period to the floor
    of a linear axis. A period that gained nothing has a ratio of 0, which a log axis cannot
    draw: it is a gap in the line."""
    return {"data": [{
        "type": "scatter", "mode": "lines+markers", "name": "Quick ratio",
        "x": [r["period"] for r in bridge],
        "y": [round(float(r["quick_ratio"]), 2) if r.get("quick_ratio") else None
              for r in bridge],
        "line": {"color": COLOURS["expansion"]},
        "hovertemplate": "%{x}: %{y:.2f}<extra></extra>",
    }], "layout": _layout(
        "Quick ratio (new + reactivation + expansion) ÷ (contraction + churn)",
        xaxis=PERIOD_AXIS, showlegend=False,
        yaxis={"gridcolor": "#e2e8f0", "type": "log", "dtick": "D2",
               "title": {"text": "log scale"}},
        shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 1, "y1": 1,
                 "line": {"color": "#94a3b8", "dash": "dash", "width": 1}}],
    )}  # fmt: skip


# -- cohorts --------------------------------------------------------------------------------------


def cohort_heatmap(rows: Sequence[Row], metric: str) -> Figure:
    """Cohort (rows, oldest on top) x age (columns) -> NRR or logo retention in %.

    NRR is centred on 100 % (red below, green above, saturating at 50 and 150 %); logo retention
    runs from 0 to 100 %.
    """
    cohorts = sorted({str(r["cohort"]) for r in rows})
    ages = sorted({int(r["age"]) for r in rows})
    cell = {(str(r["cohort"]), int(r["age"])): percent(r.get(metric)) for r in rows}
    z = [[cell.get((c, a)) for a in ages] for c in cohorts]
    title = "NRR" if metric == "nrr" else "Logo retention"
    low, high = (50, 150) if metric == "nrr" else (0, 100)
    return {"data": [{
        "type": "heatmap", "x": ages, "y": cohorts, "z": z,
        "colorscale": [[0, "#ef4444"], [0.5, "#fef9c3"], [1, "#15803d"]],
        "zmin": low, "zmax": high,
        "hoverongaps": False, "xgap": 1, "ygap": 1,
        "colorbar": {"ticksuffix": " %", "thickness": 14},
        "hovertemplate": "cohort %{y}, age %{x}: %{z:.1f} %<extra></extra>",
    }], "layout": _layout(
        f"{title} by cohort and age (%)",
        height=max(380, 120 + 16 * len(cohorts)),
        xaxis={"title": {"text": "age (periods since the cohort's first period)"},
               "nticks": 30, "automargin": True},
        yaxis={"type": "category", "autorange": "reversed", "automargin": True, "nticks": 40},
    )}  # fmt: skip


# -- segments -------------------------------------------------------------------------------------


def segment_bars(rows: Sequence[Row], dimension: str) -> Figure:
    names = [str(r["segment"]) for r in rows]
    traces = [{
        "type": "bar", "name": metric.upper(), "x": names,
        "y": [percent(r.get(f"ttm_{metric}")) for r in rows],
        "marker": {"color": COLOURS[metric]},
        "customdata": [r.get("drill") for r in rows],
        "hovertemplate": "%{x}: %{y:.1f} %<extra>" + metric.upper() + "</extra>",
    } for metric in ("nrr", "grr")]  # fmt: skip
    return {"data": traces, "layout": _layout(
        f"TTM NRR and GRR by {dimension} (%)", barmode="group",
        xaxis={"type": "category"}, yaxis={"ticksuffix": " %", "gridcolor": "#e2e8f0"},
        shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 100, "y1": 100,
                 "line": {"color": "#94a3b8", "dash": "dash", "width": 1}}],
    )}  # fmt: skip


# -- one customer ---------------------------------------------------------------------------------


def customer_timeline(timeline: Sequence[Row], currency: str) -> Figure:
    return {"data": [{
        "type": "scatter", "mode": "lines+markers", "name": "MRR",
        "x": [r["period"] for r in timeline],
        "y": [major(int(r["mrr"]), currency) for r in timeline],
        "line": {"shape": "hv", "color": COLOURS["new"], "width": 2.5},
        "fill": "tozeroy", "fillcolor": "rgba(37, 99, 235, 0.08)",
        "hovertemplate": "%{x}: %{y:,.2f} " + currency + "<extra></extra>",
    }], "layout": _layout(
        f"MRR per period ({currency})", showlegend=False,
        xaxis=PERIOD_AXIS, yaxis={"rangemode": "tozero", "gridcolor": "#e2e8f0"},
    )}  # fmt: skip
