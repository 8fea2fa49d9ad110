"""Terminal rendering of report rows with Rich. Display only: no numbers are computed here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from nrr.money import format_money

MOVEMENT_STYLE = {
    "new": "green",
    "reactivation": "cyan",
    "expansion": "bright_green",
    "contraction": "yellow",
    "churn": "red",
    "fx": "magenta",
}


def money(minor: int | None, currency: str) -> str:
    return "–" if minor is None else format_money(minor, currency).rsplit(" ", 1)[0]


def count(n: int | None) -> str:
    """A count of customers, grouped by thousands like the money beside it."""
    return "–" if n is None else f"{n:,}"


def pct(value: float | None, unit: str = " %") -> str:
    return "–" if value is None else f"{value * 100:.1f}{unit}"


def console(width: int | None = None) -> Console:
    """A console as wide as the terminal; 150 columns when output goes to a file or pipe."""
    import sys

    if width is None and not sys.stdout.isatty():
        width = 150
    return Console(width=width, soft_wrap=False)


def bridge_table(rows: Sequence[dict[str, Any]], currency: str, title: str) -> Table:
    """The bridge; ``involuntary`` is the part of churn from failed payments (not a movement of
    its own: start + new + reactivation + expansion - contraction - churn + fx = end)."""
    table = Table(title=title, title_justify="left")
    for name in (
        "period",
        "start",
        "new",
        "reactivation",
        "expansion",
        "contraction",
        "churn",
        "involuntary",
        "fx",
        "end",
        "customers",
    ):
        style = MOVEMENT_STYLE.get("churn" if name == "involuntary" else name)
        table.add_column(name, justify="left" if name == "period" else "right", style=style)
    for r in rows:
        table.add_row(
            r["period"] + (f" {r['segment']}" if "segment" in r else ""),
            money(r["start_mrr"], currency),
            money(r["new"], currency),
            money(r["reactivation"], currency),
            money(r["expansion"], currency),
            money(-r["contraction"], currency),
            money(-r["churn"], currency),
            money(-r["involuntary_churn"], currency),
            money(r["fx"], currency),
            money(r["end_mrr"], currency),
            count(r["customers_end"]),
        )
    return table


def retention_table(rows: Sequence[dict[str, Any]], currency: str, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("period", "segment", "start MRR", "NRR", "GRR", "logo", "band"):
        if name == "segment" and not any("segment" in r for r in rows):
            continue
        table.add_column(name, justify="left" if name in ("period", "segment", "band") else "right")
    for r in rows:
        cells = [r["period"]]
        if "segment" in r:
            cells.append(str(r["segment"]))
        cells += [
            money(r["start_mrr"], currency),
            pct(r["nrr"]),
            pct(r["grr"]),
            pct(r["logo_retention"]),
            r["band"] or "–",
        ]
        table.add_row(*cells)
    return table


def headline_table(h: dict[str, Any]) -> Table:
    cur = h["currency"]
    table = Table(
        title=f"nrr · as of {h['as_of']} · {cur}", title_justify="left", show_header=False
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    ttm, month = h.get("ttm") or {}, h.get("month") or {}
    rows = [
        ("MRR", money(h["mrr"], cur)),
        ("ARR", money(h["arr"], cur)),
        ("Customers", count(h["customers"])),
        ("ARPA", money(h["arpa"], cur)),
        (f"MRR growth ({h['period']})", pct(h["mrr_growth"])),
        ("NRR (TTM)", pct(ttm.get("nrr"))),
        ("GRR (TTM)", pct(ttm.get("grr"))),
        ("Logo retention (TTM)", pct(ttm.get("logo_retention"))),
        (f"NRR ({h['grain']})", pct(month.get("nrr"))),
        (f"GRR ({h['grain']})", pct(month.get("grr"))),
        ("Benchmark band", h["band"]["label"] if h.get("band") else "–"),
        ("Public SaaS median NRR", "110–115 %"),
        ("Quick ratio", "–" if h["quick_ratio"] is None else f"{h['quick_ratio']:.2f}"),
        ("Gross MRR churn", pct(h["gross_mrr_churn"])),
        ("Net MRR churn", pct(h["net_mrr_churn"])),
        ("Churn from failed payments (TTM)", pct(h["involuntary_churn_share"])),
        (
            "Years to double (at TTM NRR)",
            "–" if h["years_to_double"] is None else f"{h['years_to_double']:.1f}",
        ),
    ]
    rows += [
        (f"Today's base after {n} y", "–" if v is None else f"{v:.2f}×")
        for n, v in h["base_value_after_years"].items()
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


COHORT_TITLES = {"nrr": "NRR", "logo_retention": "logo retention"}


def cohort_table(rows: Sequence[dict[str, Any]], field: str, max_age: int = 12) -> Table:
    """Cohort × age in percent. The unit is in the title, not in each cell, so thirteen ages fit
    a 150-column terminal without wrapping."""
    cohorts = sorted({r["cohort"] for r in rows})
    title = f"Cohorts: {COHORT_TITLES.get(field, field)} (%) by age in periods"
    table = Table(title=title, title_justify="left")
    table.add_column("cohort")
    table.add_column("customers", justify="right")
    for age in range(max_age + 1):
        table.add_column(str(age), justify="right")
    by_key = {(r["cohort"], r["age"]): r for r in rows}
    for c in cohorts:
        first = by_key[(c, 0)]
        table.add_row(
            c,
            count(first["customers_start"]),
            *[pct(by_key[(c, a)][field], unit="") if (c, a) in by_key else ""
              for a in range(max_age + 1)],
        )
    return table


def segments_table(rows: Sequence[dict[str, Any]], currency: str, grain: str) -> Table:
    """One row per segment: MRR and customers now, NRR and GRR over the last period and the
    trailing twelve months. Where NRR hides weak GRR a short flag stands in for the warning
    (the whole sentence is in ``--json``: repeated per segment it would fill the screen)."""
    table = Table(title=f"Segments ({currency})", title_justify="left")
    headings = ("segment", "MRR", "customers", f"NRR ({grain})", f"GRR ({grain})", "NRR (TTM)",
                "GRR (TTM)", "TTM start MRR", "TTM end MRR", "")  # fmt: skip
    for name in headings:
        table.add_column(name, justify="left" if name in ("segment", "") else "right")
    for r in rows:
        table.add_row(
            str(r["segment"]), money(r["mrr"], currency), count(r["customers"]),
            pct(r["month_nrr"]), pct(r["month_grr"]), pct(r["ttm_nrr"]), pct(r["ttm_grr"]),
            money(r["ttm_start_mrr"], currency), money(r["ttm_end_mrr"], currency),
            "[yellow]NRR hides weak GRR[/]" if r.get("masking_warning") else "",
        )  # fmt: skip
    return table


def timeline_table(rows: Sequence[dict[str, Any]], currency: str, title: str) -> Table:
    """A customer's MRR per period: in the currency it is billed in, and in ``currency``."""
    table = Table(title=title, title_justify="left")
    for name in ("period", "plan", "billed in", "MRR billed", f"MRR ({currency})"):
        table.add_column(name, justify="right" if name.startswith("MRR") else "left")
    for r in rows:
        table.add_row(r["period"], r["plan"] or "–", r["currency"],
                      money(r["mrr_native"], r["currency"]), money(r["mrr"], currency))  # fmt: skip
    return table


def movements_table(rows: Sequence[dict[str, Any]], currency: str, title: str) -> Table:
    """A customer's movements, each coloured as in the bridge, churn with its reason."""
    table = Table(title=title, title_justify="left")
    for name in ("period", "movement", "amount", "MRR before", "MRR after", "churn reason"):
        table.add_column(name, justify="right" if "MRR" in name or name == "amount" else "left")
    for r in rows:
        style = MOVEMENT_STYLE.get(r["movement"], "")
        table.add_row(r["period"], f"[{style}]{r['movement']}[/]" if style else r["movement"],
                      money(r["amount"], currency), money(r["mrr_before"], currency),
                      money(r["mrr_after"], currency), r.get("churn_reason") or "")  # fmt: skip
    return table


def revenue_lines_table(rows: Sequence[dict[str, Any]], title: str) -> Table:
    """The revenue lines behind a customer, each amount in its own currency."""
    table = Table(title=title, title_justify="left")
    for name in ("line", "source row", "start", "end", "MRR", "currency", "kind", "plan"):
        table.add_column(name, justify="right" if name == "MRR" else "left")
    for r in rows:
        table.add_row(str(r["line_id"]), str(r["source_ref"]), str(r["start_date"]),
                      "open" if r["end_date"] is None else str(r["end_date"]),
                      money(r["mrr_minor"], r["currency"]), r["currency"], r["kind"],
                      r["plan"] or "")  # fmt: skip
    return table


HEADINGS = {"customer_id": "customer", "source_ref": "source row"}


def heading(field: str) -> str:
    """A field's column heading: ``mrr_at_risk`` -> ``MRR at risk`` (the JSON keeps the field)."""
    if field in HEADINGS:
        return HEADINGS[field]
    words = field.split("_")
    return " ".join(w.upper() if w in ("mrr", "arr", "nrr", "grr", "id") else w for w in words)


def rows_table(
    rows: Sequence[dict[str, Any]],
    title: str,
    currency: str | None = None,
    money_fields: Sequence[str] = (),
) -> Table:
    table = Table(title=title, title_justify="left")
    if not rows:
        table.add_column("(none)")
        return table
    keys = [k for k in rows[0] if k != "drill"]
    for k in keys:
        table.add_column(heading(k), justify="right" if k in money_fields else "left")
    for r in rows:
        table.add_row(
            *[
                money(r[k], currency)
                if (k in money_fields and currency)
                else ("" if r[k] is None else str(r[k]))
                for k in keys
            ]
        )
    return table


def at_risk_summary(data: dict[str, Any]) -> str:
    """One line: how many accounts, how much MRR and which share of it is at risk, and why."""
    cur = data["currency"]
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in data["reasons"].items())
    return (
        f"{count(data['accounts'])} accounts at risk in {data['period']}: "
        f"{money(data['mrr_at_risk'], cur)} {cur} MRR at risk "
        f"({pct(data['share_of_mrr'])} of {money(data['mrr'], cur)} {cur}); {reasons}"
    )


def portfolio_table(data: dict[str, Any]) -> Table:
    """One row per company, best TTM NRR first, and the portfolio as one company below."""
    cur = data["currency"]
    table = Table(title=f"Portfolio · as of {data['as_of']} · {cur}", title_justify="left")
    headings = ("company", "MRR", "customers", "NRR (TTM)", "GRR (TTM)", "band",
                "MRR at risk", "years to double")  # fmt: skip
    for n, heading in enumerate(headings):
        table.add_column(heading, justify="left" if n in (0, 5) else "right")

    def cells(r: dict[str, Any]) -> list[str]:
        years = r.get("years_to_double")
        return [str(r["company"]), money(r["mrr"], cur), count(r["customers"]),
                pct(r["ttm_nrr"]), pct(r["ttm_grr"]), r["band"] or "–",
                money(r["mrr_at_risk"], cur), "–" if years is None else f"{years:.1f}"]  # fmt: skip

    for row in data["companies"]:
        table.add_row(*cells(row))
    table.add_section()
    table.add_row(*cells({"company": "Portfolio", **data["portfolio"]}))
    return table


def portfolio_trend_table(data: dict[str, Any]) -> Table:
    """TTM NRR at each period end: a column per company (best first), then the portfolio's."""
    table = Table(title="TTM NRR by period end", title_justify="left")
    names = [str(r["company"]) for r in data["companies"]]
    for heading in ("period", *names, "Portfolio", "GRR (TTM)"):
        table.add_column(heading, justify="left" if heading == "period" else "right")
    for t in data["trend"]:
        table.add_row(t["period"], *(pct(t["companies"][n]) for n in names), pct(t["ttm_nrr"]),
                      pct(t["ttm_grr"]))  # fmt: skip
    return table
