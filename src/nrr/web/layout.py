"""The frame around every page: head, navigation, the controls form, and formatting helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from nrr.money import exponent, format_money
from nrr.web import params as p
from nrr.web.context import Context
from nrr.web.html import Html, join, tag

NAV: tuple[tuple[str, str], ...] = (
    ("/", "Overview"),
    ("/trends", "Trends"),
    ("/cohorts", "Cohorts"),
    ("/segments", "Segments"),
    ("/customers", "Customers"),
    ("/at-risk", "At risk"),
)
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "SEK", "DKK", "NOK", "PLN", "JPY")


# -- formatting -----------------------------------------------------------------------------------


def money(minor: Any, currency: str) -> str:
    if minor is None:
        return "–"
    return format_money(int(minor), currency).removesuffix(f" {currency}")


def money_short(minor: Any, currency: str) -> str:
    """Whole major units for headline cards: 4,084,377 rather than 4,084,376.99."""
    if minor is None:
        return "–"
    return f"{round(int(minor) / 10 ** exponent(currency)):,}"


def pct(ratio: Any) -> str:
    return "–" if ratio is None else f"{float(ratio) * 100:.1f} %"


def counted(n: int, one: str, many: str) -> str:
    """``1 account``, ``1,234 accounts``."""
    return f"{n:,} {one if n == 1 else many}"


def number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{int(value):,}"


# -- URLs -----------------------------------------------------------------------------------------


def settings_query(query: Mapping[str, str]) -> dict[str, str]:
    """The view parameters (settings, as-of, range) of the current URL, to carry across pages."""
    return {k: v for k, v in query.items() if k in p.COMMON_PARAMS and v}


def url(path: str, query: Mapping[str, str], **extra: Any) -> str:
    merged = {**settings_query(query), **{k: str(v) for k, v in extra.items() if v is not None}}
    return path + (f"?{urlencode(merged)}" if merged else "")


def drill_url(query: Mapping[str, str], metric: str, period: str, by: str | None = None,
              segment: str | None = None) -> str:  # fmt: skip
    return url("/drill", query, metric=metric, period=period, by=by, segment=segment)


def figure_link(text: str, href: str, label: str) -> Html:
    return tag("a", text, href=href, class_="figure", title=label, aria_label=label)


# -- the page frame -------------------------------------------------------------------------------


def _nav(active: str, query: Mapping[str, str], portfolio: bool) -> Html:
    pages = NAV + ((("/portfolio", "Portfolio"),) if portfolio else ())
    items = [
        tag("a", label, href=url(path, query), aria_current="page" if path == active else None)
        for path, label in pages
    ]
    return tag("nav", *items, class_="nav", aria_label="Pages")


def _select(name: str, label: str, options: Sequence[str], current: str) -> Html:
    choices = [tag("option", o, value=o, selected=o == current) for o in options]
    select = tag("select", *choices, name=name, data_autosubmit=True)
    return tag("label", tag("span", label), select)


def controls(query: Mapping[str, str], settings: Any, as_of: str, keep: Mapping[str, str]) -> Html:
    """The view form: submitting it puts every choice in the URL (bookmarkable, shareable)."""
    currencies = list(dict.fromkeys([settings.reporting_currency, *CURRENCIES]))
    grace = "" if settings.past_due_grace_days is None else str(settings.past_due_grace_days)
    main = [
        tag("label", tag("span", "As of"), tag("input", type="date", name="as_of", value=as_of)),
        _select("grain", "Period", p.GRAINS, settings.period),
        _select("currency", "Currency", currencies, settings.reporting_currency),
        _select("discounts", "Discounts", ("recurring", "forever", "all", "none"),
                settings.discounts),
        _select("churn_timing", "Churn at", ("ended", "requested"), settings.churn_timing),
    ]  # fmt: skip
    more = [
        tag("label", tag("span", "Past-due grace (days)"), tag(
            "input", type="number", name="past_due_grace_days", min="0", max="3650", value=grace,
            placeholder="always counts")),
        _select("metered", "Usage prices", ("exclude", "trailing_average"), settings.metered),
        _select("fx_date", "FX rate of", ("period_end", "service_start", "fixed"),
                settings.fx_date),
        tag("label", tag("span", "Size bands (minor units)"), tag(
            "input", type="text", name="size_bands", value=",".join(map(str, settings.size_bands)),
            pattern=r"\d+(,\d+)*")),
        tag("label", tag("span", "From"), tag("input", type="text", name="from",
                                               value=query.get("from", ""), placeholder="2024-01")),
        tag("label", tag("span", "To"), tag("input", type="text", name="to",
                                             value=query.get("to", ""), placeholder="2024-12")),
    ]  # fmt: skip
    hidden = [tag("input", type="hidden", name=k, value=v) for k, v in keep.items() if v]
    return tag(
        "form",
        tag("div", *main, tag("button", "Apply", type="submit"), class_="row"),
        tag("details", tag("summary", "More settings"), tag("div", *more, class_="row")),
        *hidden,
        method="get", class_="controls", aria_label="View settings",
    )  # fmt: skip


def page(title: str, active: str, body: Html, *, csrf: str, query: Mapping[str, str],
         form: Html | None = None, portfolio: bool = False) -> Html:  # fmt: skip
    head = join([
        Html('<meta charset="utf-8">'),
        Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        tag("meta", name="csrf-token", content=csrf),
        tag("title", f"{title} · nrr"),
        tag("link", rel="icon", href="/static/favicon.svg", type="image/svg+xml"),
        tag("link", rel="stylesheet", href="/static/app.css"),
        Html('<script src="/static/plotly.min.js" defer></script>'),
        Html('<script src="/static/app.js" defer></script>'),
    ])  # fmt: skip
    header = tag(
        "header",
        tag("a", tag("strong", "nrr"), " retention", href=url("/", query), class_="brand"),
        _nav(active, query, portfolio),
        tag("button", "Recompute", type="button", id="recompute", class_="ghost",
            title="Reopen the latest published data and recompute"),
        class_="top",
    )  # fmt: skip
    main = tag("main", tag("h1", title), form or "", body, id="main")
    skip = tag("a", "Skip to content", href="#main", class_="skip")
    return Html(
        "<!doctype html>"
        + tag("html", tag("head", head), tag("body", skip, header, main), lang="en")
    )


def frame(ctx: Context, query: Mapping[str, str], title: str, active: str, body: Html, csrf: str,
          keep: Mapping[str, str] | None = None) -> Html:  # fmt: skip
    """A page with the view controls above its body (``keep``: the page's own parameters)."""
    form = controls(query, ctx.settings, ctx.as_of.isoformat(), keep or {})
    return page(title, active, body, csrf=csrf, query=query, form=form,
                portfolio=bool(ctx.backend.peers))  # fmt: skip


def table(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], *,
          caption: str | None = None, csv: str | None = None,
          numeric: Sequence[bool] | None = None) -> Html:  # fmt: skip
    """A table; ``rows`` hold cell contents (text or Html), ``columns`` (key, heading)."""
    numeric = numeric or [False] * len(columns)
    head = tag("tr", *(tag("th", h, scope="col", class_="num" if n else None)
                       for (_, h), n in zip(columns, numeric, strict=True)))  # fmt: skip
    body = [
        tag("tr", *(tag("td", c, class_="num" if n else None)
                    for c, n in zip(row, numeric, strict=True)))
        for row in rows
    ]  # fmt: skip
    tools = tag("a", "Download CSV", href=csv, class_="csv", download=True) if csv else ""
    cap = tag("caption", caption or "", tools) if caption or csv else ""
    return tag("div", tag("table", cap, tag("thead", head), tag("tbody", *body)), class_="table")


def card(label: str, value: str, note: str | None, href: str | None, tone: str = "") -> Html:
    """A headline figure: label, value (linked to the customers behind it), a note."""
    shown = figure_link(value, href, f"{label}: the customers behind it") if href else value
    return tag("div", tag("div", label, class_="label"), tag("div", shown, class_="value"),
               tag("div", note or "", class_="note"), class_=f"card {tone}".strip())  # fmt: skip


def chart(element_id: str, figure_json: bytes, label: str) -> Html:
    from nrr.web.html import json_block

    return join([
        tag("div", class_="chart", id=element_id, data_figure=f"{element_id}-data",
            role="img", aria_label=label),
        json_block(f"{element_id}-data", figure_json),
    ])  # fmt: skip
