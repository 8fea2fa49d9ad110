"""The customer pages: the list, one customer's story, and the customers behind a figure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from nrr.core import periods
from nrr.web import charts, library
from nrr.web import endpoints as ep
from nrr.web import params as p
from nrr.web.context import Context
from nrr.web.html import Html, tag
from nrr.web.layout import card, chart, counted, frame, money, money_short, number, pct, table, url
from nrr.web.render import to_json

# -- Customers ------------------------------------------------------------------------------------


def customers(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    rows = ep.customers(ctx, query, path)
    cur = ctx.settings.reporting_currency
    # a segment's customers (from the Segments page): kept by every link and form here
    only = {k: query[k] for k in ("by", "segment") if query.get("segment") and query.get(k)}
    search = tag("form", tag("label", tag("span", "Search id or name"), tag(
        "input", type="search", name="q", value=query.get("q", ""),
        placeholder="e.g. cus_12 or GmbH", id="customer-search")), *_hidden(query),
        *(tag("input", type="hidden", name=k, value=v) for k, v in only.items()),
        tag("button", "Search", type="submit"),
        method="get", class_="picker", role="search")  # fmt: skip
    sort = query.get("sort", "-mrr")

    def heading(key: str, label: str) -> Html:
        target = key if sort == f"-{key}" else f"-{key}"
        arrow = " ↓" if sort == f"-{key}" else " ↑" if sort == key else ""
        return tag("a", label + arrow, href=url("/customers", query, q=query.get("q"),
                                                sort=target, **only))  # fmt: skip

    columns = [("customer_id", heading("customer_id", "Customer")),
               ("name", heading("name", "Name")), ("plan", "Plan"),
               ("mrr", heading("mrr", f"MRR ({cur})")),
               ("last_movement", heading("last_movement", "Last movement"))]  # fmt: skip
    body = [[
        tag("a", r["customer_id"], href=url(f"/customers/{quote(str(r['customer_id']))}", query)),
        r.get("name") or "", r.get("plan") or "", money(r.get("mrr"), cur),
        _movement(r.get("last_movement"), _label(ctx, r.get("last_movement_p"))),
    ] for r in rows]  # fmt: skip
    limit, offset = p.page(query)
    pager = _pager("/customers", query, limit, offset, len(rows) == limit)
    csv = url("/api/customers", query, q=query.get("q"), sort=query.get("sort"), format="csv",
              **only)  # fmt: skip
    caption = f"Customers {offset + 1}–{offset + len(rows)}" if rows else "No customers match"
    if only:
        caption = f"{only['by']} {only['segment']}: {caption[0].lower()}{caption[1:]}"
    everyone = tag("p", tag("a", "All customers", href=url("/customers", query, q=query.get("q"),
                                                          sort=query.get("sort"))),
                   class_="context") if only else ""  # fmt: skip
    numeric = [False, False, False, True, False]
    parts = [search, everyone, table(columns, body, caption=caption, csv=csv, numeric=numeric),
             pager]  # fmt: skip
    keep = {k: query.get(k, "") for k in ("q", "sort", "by", "segment")}
    return frame(ctx, query, "Customers", "/customers", Html("".join(parts)), csrf, keep)


def _hidden(query: Mapping[str, str]) -> list[Html]:
    return [tag("input", type="hidden", name=k, value=v) for k, v in query.items()
            if k in p.COMMON_PARAMS and v]  # fmt: skip


def _pager(path: str, query: Mapping[str, str], limit: int, offset: int, more: bool) -> Html:
    links = []
    extra = {k: query.get(k) for k in ("q", "sort", "limit", "reason", "by", "segment")}
    if offset > 0:
        links.append(tag("a", "← previous", href=url(path, query, **extra,
                                                     offset=max(offset - limit, 0))))
    if more:
        links.append(tag("a", "next →", href=url(path, query, **extra, offset=offset + limit)))
    return tag("nav", *links, class_="pager", aria_label="Pages of customers")


def _label(ctx: Context, period: Any) -> str:
    return "" if period is None else periods.label(int(period), ctx.settings.period)


def _movement(kind: Any, period: Any) -> Html:
    if not kind:
        return Html("")
    return tag("span", tag("span", kind, class_=f"mv mv-{kind}"), f" {period or ''}")


def customer(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    info = ep.customer(ctx, query, path)
    cur = ctx.settings.reporting_currency
    timeline = info.get("timeline") or []
    last = timeline[-1] if timeline else {}
    current = last.get("mrr", 0) if last.get("p") == ctx.results().last_period else 0
    mv_rows = [[str(m.get("period")), _movement(m.get("movement"), ""),
                money(m.get("amount"), cur), money(m.get("mrr_before"), cur),
                money(m.get("mrr_after"), cur), m.get("churn_reason") or ""]
               for m in info.get("movements") or []]  # fmt: skip
    line_rows = [[str(x.get("source_ref")), x.get("plan") or "", number(x.get("quantity")),
                  str(x.get("start_date") or ""), str(x.get("end_date") or "open"),
                  money(x.get("mrr_minor"), str(x.get("currency"))) + f" {x.get('currency')}",
                  x.get("kind") or ""] for x in info.get("lines") or []]  # fmt: skip
    src_rows = [[str(s.get("source_ref")), str(s.get("source")), tag("code", s.get("payload"))]
                for s in info.get("source_rows") or []]  # fmt: skip
    parts = [
        tag("p", tag("a", "← all customers", href=url("/customers", query))),
        tag("p", f"Current MRR {money(current, cur)} {cur} · billed in {info.get('currency')}",
            class_="lead"),
        _risk_note(info.get("at_risk"), query),
        chart("timeline-chart", to_json(charts.customer_timeline(timeline, cur)), "MRR timeline"),
        table([("period", "Period"), ("movement", "Movement"), ("amount", "Amount"),
               ("before", "MRR before"), ("after", "MRR after"), ("reason", "Churn reason")],
              mv_rows, caption=f"Movements ({cur})",
              numeric=[False, False, True, True, True, False]),
        table([("ref", "Source row"), ("plan", "Plan"), ("qty", "Quantity"), ("start", "From"),
               ("end", "Until (exclusive)"), ("mrr", "MRR"), ("kind", "Kind")], line_rows,
              caption="Revenue lines", numeric=[False, False, True, False, False, True, False]),
        table([("ref", "Source row"), ("source", "Source"), ("payload", "As imported")],
              src_rows, caption="Source rows behind these figures"),
    ]  # fmt: skip
    title = f"Customer {path['customer_id']}"
    return frame(ctx, query, title, "/customers", Html("".join(parts)), csrf)


# -- At risk --------------------------------------------------------------------------------------

# Each reason drawn in the colour of the movement it leads to.
REASON_TONES = {"cancellation pending": "churn", "payment past due": "churn",
                "downgraded": "contraction"}  # fmt: skip
RISK_DAYS = ("cancels_on", "past_due_since", "lapses_on")
REASON_PHRASES = {"cancellation pending": "with a cancellation pending",
                  "payment past due": "with a payment past due",
                  "downgraded": "recently downgraded"}  # fmt: skip


def at_risk(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    data = ep.at_risk(ctx, query, path)
    cur, chosen = data["currency"], data["reason"]
    limit, offset = p.page(query)  # a large company has thousands: the CSV holds them all
    shown = data["customers"][offset : offset + limit]
    slug = {"reason": library.RISK_SLUG_OF[chosen]} if chosen else {}
    cards = tag(
        "section",
        card("Accounts at risk", number(data["accounts"]), f"paying in {data['period'] or '–'}",
             url("/at-risk", query) if chosen else None),
        card("MRR at risk", money_short(data["mrr_at_risk"], cur),
             f"{cur} · {pct(data['share_of_mrr'])} of MRR", None, tone="churn"),
        # each signal's card lists its accounts
        *(card(reason.capitalize(), number(n), "accounts",
               url("/at-risk", query, reason=library.RISK_SLUG_OF[reason]),
               tone="chosen" if reason == chosen else "")
          for reason, n in data["reasons"].items()),
        class_="cards", aria_label="Accounts at risk in figures",
    )  # fmt: skip
    explain = tag("p", "A cancellation requested that has not taken effect, a payment past due "
                  "or a recent downgrade (the last three months; at a quarter or year grain, the "
                  "last period). MRR at risk counts the first two; see docs/definitions.md.",
                  class_="context")  # fmt: skip
    body = [[
        tag("a", r["customer_id"], href=url(f"/customers/{quote(str(r['customer_id']))}", query)),
        r.get("name") or "", r.get("plan") or "", money(r["mrr"], cur),
        money(r["mrr_at_risk"], cur),
        Html(" ".join(tag("span", reason, class_=f"mv mv-{REASON_TONES[reason]}")
                      for reason in r["reasons"])),
        *(tag("span", r[k], class_="day") if r[k] else "" for k in RISK_DAYS),
        money(r["downgraded"], cur) if r["downgraded"] else "",
    ] for r in shown]  # fmt: skip
    columns = [("customer_id", "Customer"), ("name", "Name"), ("plan", "Plan"),
               ("mrr", f"MRR ({cur})"),
               ("mrr_at_risk", f"At risk ({cur})"), ("reasons", "Why"),
               ("cancels_on", "Cancels on"), ("past_due_since", "Past due since"),
               ("lapses_on", "Stops counting"), ("downgraded", f"Downgraded by ({cur})")]
    n = data["listed"]["accounts"]
    which = REASON_PHRASES[chosen] if chosen else "at risk"
    if not n:
        caption = f"No account {which}"
    else:
        caption = counted(n, "account", "accounts")
        if chosen:
            caption += f" {which} ({money(data['listed']['mrr_at_risk'], cur)} {cur} at risk)"
        caption += ", most MRR at risk first"
    if n > len(body):
        caption += f" (shown: {offset + 1:,}–{offset + len(body):,})"
    numeric = [False, False, False, True, True, False, False, False, False, True]
    parts = [cards, explain, table(columns, body, caption=caption,
                                   csv=url("/api/at-risk", query, format="csv", **slug),
                                   numeric=numeric),
             _pager("/at-risk", query, limit, offset, offset + limit < n)]
    return frame(ctx, query, "Accounts at risk", "/at-risk", Html("".join(parts)), csrf)


def risk_line(ctx: Context, query: Mapping[str, str]) -> Html | str:
    """The Overview's line on the accounts at risk, each figure opening its list."""
    data = ep.at_risk(ctx, query, {})
    if data["period"] is None:
        return ""
    cur, n = data["currency"], data["accounts"]
    if not n:
        return tag("p", f"No account at risk in {data['period']}.", class_="risk")
    reasons = [
        tag("a", f"{count:,} {REASON_PHRASES[reason]}",
            href=url("/at-risk", query, reason=library.RISK_SLUG_OF[reason]))
        for reason, count in data["reasons"].items() if count
    ]  # fmt: skip
    return tag(
        "p", tag("a", "At risk", href=url("/at-risk", query), class_="flag"),
        f" {counted(n, 'account', 'accounts')} in {data['period']} · "
        f"{money(data['mrr_at_risk'], cur)} {cur} MRR at risk ({pct(data['share_of_mrr'])} "
        "of MRR): ", Html(", ".join(reasons)), class_="risk",
    )  # fmt: skip


def _risk_note(risk: dict[str, Any] | None, query: Mapping[str, str]) -> Html | str:
    if not risk:
        return ""
    return tag("p", tag("a", "At risk", href=url("/at-risk", query), class_="flag"), " ",
               risk["summary"], class_="risk")  # fmt: skip


# -- Drill-down -----------------------------------------------------------------------------------

MONEY_KEYS = ("amount", "mrr", "mrr_before", "mrr_after", "mrr_start", "mrr_end")
HEADINGS = {"customer_id": "Customer", "amount": "Amount", "mrr": "MRR",
            "mrr_before": "MRR before", "mrr_after": "MRR after", "mrr_start": "MRR at start",
            "mrr_end": "MRR at end", "churn_reason": "Churn reason", "plan": "Plan",
            "segment": "Segment", "currency": "Billed in", "mrr_native": "MRR (billed currency)"}


def figure_name(metric: str) -> str:
    """How a drill-down's heading names its figure (app.js figureName says the same)."""
    names = {"start": "Paying at the start of", "end": "Paying at the end of",
             "fx": "FX changes in", "voluntary_churn": "Churn cancelled in",
             "involuntary_churn": "Churn from failed payments in"}  # fmt: skip
    if metric in names:
        return names[metric]
    if metric.startswith("window"):
        return "Retention cohort ending"
    return f"{metric.capitalize()} in"


def drill(ctx: Context, query: Mapping[str, str], path: Mapping[str, str], csrf: str) -> Html:
    rows = ep.drill(ctx, query, path)
    cur = ctx.settings.reporting_currency
    metric, period = query["metric"], query["period"]
    keys = [k for k in (rows[0] if rows else {"customer_id": ""}) if k != "drill"]
    body = []
    for r in rows:
        cells: list[Any] = []
        for k in keys:
            if k == "customer_id":
                cid = str(r[k])
                cells.append(tag("a", cid, href=url(f"/customers/{quote(cid)}", query)))
            elif k in MONEY_KEYS:
                cells.append(money(r.get(k), cur))
            elif k == "mrr_native":
                cells.append(money(r.get(k), str(r.get("currency") or cur)))
            else:
                cells.append(r.get(k) if r.get(k) is not None else "")
        body.append(cells)
    extra = {k: query.get(k) for k in ("metric", "period", "by", "segment")}
    csv = url("/api/drill", query, format="csv", **extra)
    seg = f" · {query['by']} = {query['segment']}" if query.get("segment") else ""
    numeric = [k in MONEY_KEYS or k == "mrr_native" for k in keys]
    parts = [table([(k, HEADINGS.get(k, k)) for k in keys], body,
                   caption=f"{len(rows)} customers ({cur})", csv=csv, numeric=numeric)]
    title = f"{figure_name(metric)} {period}{seg}"
    keep = {k: v or "" for k, v in extra.items()}
    return frame(ctx, query, title, "", Html("".join(parts)), csrf, keep)


