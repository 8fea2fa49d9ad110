"""The Portfolio page: the served company beside the others of ``nrr serve --portfolio``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nrr.web import charts
from nrr.web import endpoints as ep
from nrr.web.context import Context
from nrr.web.html import Html, tag
from nrr.web.layout import card, chart, counted, frame, money, money_short, number, pct, table, url
from nrr.web.render import to_json


def portfolio(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    data = ep.portfolio(ctx, query, path)
    cur, total, rows = data["currency"], data["portfolio"], data["companies"]
    cards = tag(
        "section",
        card("Portfolio MRR", money_short(total["mrr"], cur),
             f"{cur} · {counted(len(rows), 'company', 'companies')}", None),
        card("Customers", number(total["customers"]), "paying", None),
        card("NRR (TTM)", pct(total["ttm_nrr"]), total["band_label"] or "–", None, tone="nrr"),
        card("GRR (TTM)", pct(total["ttm_grr"]), "never above 100 %", None, tone="grr"),
        card("MRR at risk", money_short(total["mrr_at_risk"], cur), cur, None, tone="churn"),
        class_="cards", aria_label="The portfolio in figures",
    )  # fmt: skip
    explain = tag("p", f"Every company is read in {cur} at the {ctx.grain} grain as of "
                  f"{data['as_of']}, each with its own other settings. The portfolio's NRR and "
                  "GRR sum the companies' trailing-twelve-month figures, so each company weighs "
                  "by its size.", class_="context")  # fmt: skip
    parts: list[Any] = [cards, explain, _companies(ctx, query, data)]
    names = [str(r["company"]) for r in rows]
    if data["trend"]:
        figure = charts.portfolio_lines(data["trend"], names)
        parts.append(chart("portfolio-chart", to_json(figure), "TTM NRR by company"))
        parts.append(_trend(data["trend"], names))
    return frame(ctx, query, "Portfolio", "/portfolio", Html("".join(parts)), csrf)


def _companies(ctx: Context, query: Mapping[str, str], data: Mapping[str, Any]) -> Html:
    cur = data["currency"]
    columns = [("company", "Company"), ("mrr", f"MRR ({cur})"), ("customers", "Customers"),
               ("ttm_nrr", "NRR (TTM)"), ("ttm_grr", "GRR (TTM)"), ("band", "Band"),
               ("mrr_at_risk", f"MRR at risk ({cur})"), ("years", "Years to double")]  # fmt: skip

    def cells(r: Mapping[str, Any], name: Any) -> list[Any]:
        years = r["years_to_double"]
        return [name, money(r["mrr"], cur), number(r["customers"]), pct(r["ttm_nrr"]),
                pct(r["ttm_grr"]), r["band_label"] or "–", money(r["mrr_at_risk"], cur),
                "–" if years is None else f"{float(years):.1f}"]  # fmt: skip

    served = ctx.backend.name  # the company this dashboard serves opens its Overview
    body = [cells(r, tag("a", r["company"], href=url("/", query)) if r["company"] == served
                  else r["company"]) for r in data["companies"]]  # fmt: skip
    body.append(cells(data["portfolio"], tag("strong", "Portfolio")))
    numeric = [False, True, True, True, True, False, True, True]
    return table(columns, body, caption="Companies, best TTM NRR first",
                 csv=url("/api/portfolio", query, format="csv"), numeric=numeric)  # fmt: skip


def _trend(trend: list[Mapping[str, Any]], names: list[str]) -> Html:
    columns = [("period", "Period end"), *((n, n) for n in names), ("ttm_nrr", "Portfolio"),
               ("ttm_grr", "Portfolio GRR")]  # fmt: skip
    body = [[t["period"], *(pct(t["companies"][n]) for n in names), pct(t["ttm_nrr"]),
             pct(t["ttm_grr"])] for t in trend]  # fmt: skip
    return table(columns, body, caption="TTM NRR by period end",
                 numeric=[False, *[True] * (len(columns) - 1)])
