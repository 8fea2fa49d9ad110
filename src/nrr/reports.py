"""Report tables as JSON-able rows. The CLI's --json and the web API both print exactly these.

Money stays in integer minor units (``*_mrr`` and movement fields); ratios are floats rounded to six
places for display only (exact values come from integer numerators and denominators that every row
also carries). Every aggregate row carries a ``drill`` with the arguments that list its customers.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from nrr.core import metrics
from nrr.core.periods import index_of
from nrr.engines.results import MOVEMENTS, Results
from nrr.money import format_money

if TYPE_CHECKING:
    from nrr.store import Workspace

Row = dict[str, Any]
BRIDGE_MOVEMENTS = MOVEMENTS  # new, reactivation, expansion, contraction, churn, fx
INVOLUNTARY = "involuntary_churn"  # the part of churn that failed payments caused
# Drill-down metrics for the two parts of churn, with the churn reason each lists.
CHURN_PARTS = {INVOLUNTARY: "involuntary", "voluntary_churn": "voluntary"}


def _f(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def _period_range(res: Results, start: int | None, end: int | None) -> tuple[int, int]:
    periods = res.periods
    lo = periods[0] if start is None else max(start, periods[0])
    hi = periods[-1] if end is None else min(end, periods[-1])
    return lo, hi


def _drill(res: Results, metric: str, p: int, by: str | None, segment: str | None) -> Row:
    drill: Row = {"metric": metric, "period": res.label(p)}
    if by is not None:
        drill.update(by=by, segment=segment)
    return drill


# -- bridge ---------------------------------------------------------------------------------------
def bridge(
    res: Results, by: str | None = None, start: int | None = None, end: int | None = None
) -> list[Row]:
    """The MRR bridge per period (and segment): start + movements = end, in minor units."""
    if res.empty:
        return []
    lo, hi = _period_range(res, start, end)
    rows = []
    for r in res.bridge(by).to_pylist():
        if not lo <= r["p"] <= hi:
            continue
        seg = r.get("segment")
        row: Row = {"period": res.label(r["p"]), "period_end": r["period_end"].isoformat()}
        if by is not None:
            row["segment"] = seg
        row.update(
            {
                k: r[k]
                for k in (
                    "start_mrr",
                    *BRIDGE_MOVEMENTS,
                    "end_mrr",
                    "customers_start",
                    "customers_end",
                    "new_customers",
                    "reactivated_customers",
                    "churned_customers",
                    "involuntary_churn",
                )
            }
        )
        row["quick_ratio"] = _f(
            metrics.quick_ratio(
                r["new"], r["reactivation"], r["expansion"], r["contraction"], r["churn"]
            )
        )
        row["gross_mrr_churn"] = _f(
            metrics.gross_mrr_churn(r["start_mrr"], r["contraction"], r["churn"])
        )
        row["net_mrr_churn"] = _f(
            metrics.net_mrr_churn(r["start_mrr"], r["expansion"], r["contraction"], r["churn"])
        )
        row["drill"] = {m: _drill(res, m, r["p"], by, seg)
                        for m in ("start", *BRIDGE_MOVEMENTS, INVOLUNTARY)}  # fmt: skip
        rows.append(row)
    return rows


# -- retention ------------------------------------------------------------------------------------
def retention(
    res: Results,
    window: int = 1,
    by: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> list[Row]:
    """NRR, GRR and logo retention per window end (and segment at the window's start)."""
    if res.empty or window not in (res.frame.windows if res.frame else ()):
        return []
    lo, hi = _period_range(res, start, end)
    rows = []
    for r in res.retention(window, by).to_pylist():
        if not lo <= r["p"] <= hi:
            continue
        row: Row = {
            "period": res.label(r["p"]),
            "period_end": r["period_end"].isoformat(),
            "window": window,
            "from_period": res.label(r["p"] - window),
        }
        if by is not None:
            row["segment"] = r["segment"]
        row.update(
            {
                k: r[k]
                for k in (
                    "start_mrr",
                    "end_mrr",
                    "gross_mrr",
                    "expansion",
                    "contraction",
                    "churn",
                    "customers_start",
                    "customers_retained",
                )
            }
        )
        nrr = metrics.ratio(r["end_mrr"], r["start_mrr"])
        row["nrr"] = _f(nrr)
        row["grr"] = _f(metrics.ratio(r["gross_mrr"], r["start_mrr"]))
        row["logo_retention"] = _f(metrics.ratio(r["customers_retained"], r["customers_start"]))
        found = metrics.band(nrr)
        row["band"] = found.key if found else None
        row["drill"] = {
            "cohort": {
                "metric": f"window{window}",
                "period": res.label(r["p"]),
                **({"by": by, "segment": r["segment"]} if by else {}),
            }
        }
        rows.append(row)
    return rows


# -- headline -------------------------------------------------------------------------------------
def headline(res: Results) -> Row:
    """The one-screen summary: MRR, ARR, customers, TTM and monthly NRR/GRR, band, warnings."""
    currency = res.settings.reporting_currency
    if res.empty:
        return {
            "as_of": res.as_of.isoformat(),
            "currency": currency,
            "empty": True,
            "warnings": ["No data yet: import a billing export or sync Stripe."],
        }
    periods = bridge(res)
    last, recent = periods[-1], periods[-res.ttm_window :]
    month = _last(retention(res, 1))
    ttm_rows = retention(res, res.ttm_window)
    ttm = _last(ttm_rows)
    ttm_nrr = _exact(ttm, "end_mrr")
    ttm_grr = _exact(ttm, "gross_mrr")
    warnings = [
        w
        for w in (
            metrics.masking_warning(ttm_nrr, ttm_grr),
            metrics.falling_warning(
                [metrics.ratio(r["end_mrr"], r["start_mrr"]) for r in ttm_rows]
            ),
        )
        if w
    ]
    if ttm is None:
        warnings.append("Less than twelve months of history: the TTM figures need a full year.")
    band = metrics.band(ttm_nrr)
    return {
        "as_of": res.as_of.isoformat(),
        "currency": currency,
        "period": last["period"],
        "grain": res.settings.period,
        "mrr": last["end_mrr"],
        "arr": 12 * last["end_mrr"],
        "customers": last["customers_end"],
        "arpa": (last["end_mrr"] // last["customers_end"]) if last["customers_end"] else None,
        # How MRR and the paying customers changed over the last period (new customers included).
        "mrr_growth": _f(metrics.ratio(last["end_mrr"] - last["start_mrr"], last["start_mrr"])),
        "customers_change": last["customers_end"] - last["customers_start"],
        "ttm": ttm,
        "month": month,
        "band": None
        if band is None
        else {"key": band.key, "label": band.label, "low": band.low, "high": band.high},
        "public_saas_median": list(metrics.PUBLIC_SAAS_MEDIAN),
        "years_to_double": _f(metrics.years_to_double(ttm_nrr)),
        "base_value_after_years": {str(n): _f(metrics.compounded(ttm_nrr, n)) for n in (1, 3, 5)},
        "quick_ratio": last["quick_ratio"],
        "gross_mrr_churn": last["gross_mrr_churn"],
        "net_mrr_churn": last["net_mrr_churn"],
        # Of the MRR churned over the last twelve months, the share failed payments caused.
        "involuntary_churn_share": _f(
            metrics.ratio(
                sum(r["involuntary_churn"] for r in recent), sum(r["churn"] for r in recent)
            )
        ),
        "bridge": last,
        "warnings": warnings,
    }


def _last(rows: list[Row]) -> Row | None:
    return rows[-1] if rows else None


def _exact(row: Row | None, numerator: str) -> Any:
    return None if row is None else metrics.ratio(row[numerator], row["start_mrr"])


# -- cohorts and segments -------------------------------------------------------------------------
def cohorts(res: Results) -> list[Row]:
    """Cohort (period of first payment) × age: NRR and logo retention at the cohort's rates."""
    if res.empty:
        return []
    return [
        {
            "cohort": res.label(r["cohort"]),
            "age": r["age"],
            "customers_start": r["customers_start"],
            "mrr_start": r["mrr_start"],
            "customers": r["customers"],
            "mrr": r["mrr"],
            "nrr": _f(metrics.ratio(r["mrr"], r["mrr_start"])),
            "logo_retention": _f(metrics.ratio(r["customers"], r["customers_start"])),
        }
        for r in res.cohorts().to_pylist()
    ]


def segments(res: Results, by: str) -> list[Row]:
    """One row per segment: current MRR and customers, monthly and TTM NRR/GRR, masking flag."""
    if res.empty:
        return []
    last = res.periods[-1]
    current = {r["segment"]: r for r in res.bridge(by).to_pylist() if r["p"] == last}
    month = {r["segment"]: r for r in retention(res, 1, by) if r["period"] == res.label(last)}
    ttm = {
        r["segment"]: r
        for r in retention(res, res.ttm_window, by)
        if r["period"] == res.label(last)
    }
    rows = []
    for seg in sorted(set(current) | set(ttm)):
        cur = current.get(seg, {})
        t = ttm.get(seg)
        warn = metrics.masking_warning(_exact(t, "end_mrr"), _exact(t, "gross_mrr"))
        rows.append(
            {
                "segment": seg,
                "mrr": cur.get("end_mrr", 0),
                "customers": cur.get("customers_end", 0),
                "month_nrr": month.get(seg, {}).get("nrr"),
                "month_grr": month.get(seg, {}).get("grr"),
                "ttm_nrr": None if t is None else t["nrr"],
                "ttm_grr": None if t is None else t["grr"],
                "ttm_start_mrr": None if t is None else t["start_mrr"],
                "ttm_end_mrr": None if t is None else t["end_mrr"],
                "masking_warning": warn,
                "drill": {"metric": "end", "period": res.label(last), "by": by, "segment": seg},
            }
        )
    return rows


# -- customers ------------------------------------------------------------------------------------
def customers_behind(
    res: Results, metric: str, period: int, by: str | None = None, segment: str | None = None
) -> list[Row]:
    """The customers behind one figure: a movement, the start or end MRR, or a window's cohort."""
    if res.empty:
        return []
    if metric in MOVEMENTS or metric in CHURN_PARTS:
        movement = "churn" if metric in CHURN_PARTS else metric
        reason = CHURN_PARTS.get(metric)
        rows = [
            {
                "customer_id": r["customer_id"],
                "amount": r["amount"],
                "mrr_before": r["mrr_before"],
                "mrr_after": r["mrr_after"],
                "churn_reason": r["churn_reason"],
            }
            for r in res.movements(period, movement).to_pylist()
            if reason is None or r["churn_reason"] == reason
        ]
        return _in_segment(res, rows, by, segment, period)
    if metric in ("start", "end"):
        p = period - 1 if metric == "start" else period
        rows = [
            {
                "customer_id": r["customer_id"],
                "mrr": r["mrr"],
                "currency": r["currency"],
                "mrr_native": r["mrr_native"],
                "plan": r["plan"],
            }
            for r in res.customer_mrr(p).to_pylist()
        ]
        return _in_segment(res, rows, by, segment, period)
    if metric.startswith("window"):
        window = int(metric.removeprefix("window"))
        rows = res.window_customers(period, window, by).to_pylist()
        return [r for r in rows if segment is None or r["segment"] == segment]
    raise ValueError(
        f"unknown metric {metric!r}: use start, end, new, reactivation, expansion, contraction, "
        "churn, voluntary_churn, involuntary_churn, fx or window1/window12"
    )


def _in_segment(
    res: Results, rows: list[Row], by: str | None, segment: str | None, p: int
) -> list[Row]:
    """Keep the customers the bridge of period ``p`` counts in ``segment`` (segment at p - 1 when
    they paid then, else at p)."""
    if by is None or segment is None:
        return rows
    members = {
        r["customer_id"]
        for r in res.bridge_segment_of(by, p).to_pylist()
        if r["segment"] == segment
    }
    return [r for r in rows if r["customer_id"] in members]


def customers(
    res: Results,
    *,
    search: str | None = None,
    sort: str = "mrr",
    descending: bool = True,
    limit: int = 100,
    offset: int = 0,
    by: str | None = None,
    segment: str | None = None,
) -> list[Row]:
    """The customer list at the last period: current MRR, plan and the last movement; ``by``
    and ``segment`` keep the customers in that segment at the last period."""
    if res.empty:
        return []
    return res.customer_list(
        search=search, sort=sort, descending=descending, limit=limit, offset=offset, by=by,
        segment=segment,
    ).to_pylist()


# -- portfolio ------------------------------------------------------------------------------------
def portfolio(companies: Mapping[str, Results], periods: int = 12) -> Row:
    """Several companies side by side, and the portfolio as if it were one company.

    Every company's results must share the reporting currency, the period grain and the as-of
    day. The portfolio's TTM NRR and GRR sum the companies' TTM numerators and denominators (an
    MRR-weighted average, exact); a company with less than a year of history adds its MRR but no
    retention. ``trend``: the same TTM figures at each of the last ``periods`` period ends.
    """
    currencies = {res.settings.reporting_currency for res in companies.values()}
    grains = {res.settings.period for res in companies.values()}
    days = {res.as_of for res in companies.values()}
    if len(currencies) > 1 or len(grains) > 1 or len(days) > 1:
        raise ValueError(
            "the companies of a portfolio need one reporting currency, period grain and as-of day"
        )
    rows = [_company_row(name, res) for name, res in companies.items()]
    rows.sort(key=lambda r: (r["ttm_nrr"] is None, -(r["ttm_nrr"] or 0), r["company"]))
    total: Row = {k: sum(r[k] or 0 for r in rows) for k in PORTFOLIO_SUMS}
    nrr = metrics.ratio(total["ttm_end_mrr"], total["ttm_start_mrr"])  # exact, for the band
    total.update(_ttm_ratios(total), **_band_of(nrr),
                 years_to_double=_f(metrics.years_to_double(nrr)))  # fmt: skip
    return {
        "as_of": next(iter(days)).isoformat() if days else None,
        "currency": next(iter(currencies)) if currencies else None,
        "companies": rows,
        "portfolio": total,
        "trend": _portfolio_trend(companies, periods),
    }


TTM_SUMS = ("ttm_start_mrr", "ttm_end_mrr", "ttm_gross_mrr")


def _ttm_ratios(sums: Row) -> Row:
    start = sums["ttm_start_mrr"]
    return {"ttm_nrr": _f(metrics.ratio(sums["ttm_end_mrr"], start)),
            "ttm_grr": _f(metrics.ratio(sums["ttm_gross_mrr"], start))}  # fmt: skip


def _band_of(nrr: Fraction | None) -> Row:
    band = metrics.band(nrr)
    return {"band": band.key if band else None, "band_label": band.label if band else None}


def _portfolio_trend(companies: Mapping[str, Results], periods: int) -> list[Row]:
    """Per period end (oldest first): each company's TTM NRR and the portfolio's from the
    summed TTM figures of the companies that have a year of history by then."""
    if not companies or periods < 1:
        return []
    first = next(iter(companies.values()))
    last = index_of(first.as_of, first.settings.period)
    ends = range(last - periods + 1, last + 1)
    ttm = {name: {r["period"]: r for r in retention(res, res.ttm_window, None, ends[0], last)
                  if r["start_mrr"]}
           for name, res in companies.items()}  # fmt: skip
    trend = []
    for p in ends:
        label = first.label(p)
        cells = {name: by_period.get(label) for name, by_period in ttm.items()}
        sums = {k: sum(c[k.removeprefix("ttm_")] for c in cells.values() if c) for k in TTM_SUMS}
        trend.append({"period": label,
                      "companies": {name: c["nrr"] if c else None for name, c in cells.items()},
                      **sums, **_ttm_ratios(sums)})  # fmt: skip
    return trend


PORTFOLIO_SUMS = ("mrr", "arr", "customers", "ttm_start_mrr", "ttm_end_mrr", "ttm_gross_mrr",
                  "mrr_at_risk")  # fmt: skip


def _company_row(name: str, res: Results) -> Row:
    head = headline(res)
    if head.get("empty"):
        return {"company": name, "period": None, **dict.fromkeys(PORTFOLIO_SUMS), "ttm_nrr": None,
                "ttm_grr": None, **_band_of(None), "years_to_double": None, "quick_ratio": None,
                "warnings": head["warnings"]}  # fmt: skip
    ttm = head["ttm"] or {}
    return {
        "company": name, "period": head["period"], "mrr": head["mrr"], "arr": head["arr"],
        "customers": head["customers"], "ttm_start_mrr": ttm.get("start_mrr"),
        "ttm_end_mrr": ttm.get("end_mrr"), "ttm_gross_mrr": ttm.get("gross_mrr"),
        "mrr_at_risk": at_risk(res)["mrr_at_risk"], "ttm_nrr": ttm.get("nrr"),
        "ttm_grr": ttm.get("grr"), "band": (head["band"] or {}).get("key"),
        "band_label": (head["band"] or {}).get("label"),
        "years_to_double": head["years_to_double"], "quick_ratio": head["quick_ratio"],
        "warnings": head["warnings"],
    }  # fmt: skip


# Why a customer is at risk, in the order the list shows them.
RISK_REASONS = ("cancellation pending", "payment past due", "downgraded")
# How the CLI and URLs name a reason: cancellation-pending, payment-past-due, downgraded.
RISK_SLUGS = {reason.replace(" ", "-"): reason for reason in RISK_REASONS}


def at_risk(res: Results, reason: str | None = None) -> Row:
    """The accounts at risk at the as-of period (``nrr.core.risk``) and what they add up to.

    ``share_of_mrr`` is the MRR at risk over the company's MRR (exact: ``mrr_at_risk`` and
    ``mrr`` are both given); ``reasons`` counts the accounts showing each signal. ``reason``
    (see ``only_reason``) lists only the accounts showing that signal.
    """
    currency = res.settings.reporting_currency
    rows = _risk_rows(res)
    mrr = bridge(res)[-1]["end_mrr"] if not res.empty else 0
    at_stake = sum(r["mrr_at_risk"] for r in rows)
    data = {
        "as_of": res.as_of.isoformat(),
        "period": None if res.empty else res.label(res.last_period),
        "currency": currency,
        "accounts": len(rows),
        "mrr_at_risk": at_stake,
        "mrr": mrr,
        "share_of_mrr": _f(metrics.ratio(at_stake, mrr)),
        "reasons": {
            reason: sum(1 for r in rows if reason in r["reasons"]) for reason in RISK_REASONS
        },
        "reason": None,
        "listed": {"accounts": len(rows), "mrr_at_risk": at_stake},
        "customers": rows,
    }
    return data if reason is None else only_reason(data, reason)


def only_reason(data: Row, reason: str) -> Row:
    """The at-risk report listing only the accounts that show ``reason`` (a RISK_REASONS entry
    or its slug). The totals and reason counts stay the company's; ``listed`` sums the list (an
    account with two signals is listed under both)."""
    chosen = RISK_SLUGS.get(reason, reason)
    if chosen not in RISK_REASONS:
        raise ValueError(f"reason must be one of {', '.join(RISK_SLUGS)}; got {reason!r}")
    rows = [r for r in data["customers"] if chosen in r["reasons"]]
    listed = {"accounts": len(rows), "mrr_at_risk": sum(r["mrr_at_risk"] for r in rows)}
    return {**data, "reason": chosen, "listed": listed, "customers": rows}


def _risk_text(row: Row, currency: str) -> str:
    """Why one customer is at risk, in words (``explain`` gives it to the CLI and the page)."""
    money = {k: format_money(row[k], currency) for k in ("downgraded", "mrr_at_risk")}
    lapses = f", stops counting on {row['lapses_on']}" if row["lapses_on"] else ""
    details = {"cancellation pending": f"cancels on {row['cancels_on']}",
               "payment past due": f"past due since {row['past_due_since']}{lapses}",
               "downgraded": f"downgraded by {money['downgraded']}"}  # fmt: skip
    reasons = "; ".join(details[reason] for reason in row["reasons"])
    return f"{reasons} · {money['mrr_at_risk']} MRR at risk"


def _risk_rows(res: Results, customer_id: str | None = None) -> list[Row]:
    """The accounts at risk (or one customer's row) with their reasons and ISO days."""
    rows: list[Row] = [] if res.empty else res.at_risk(customer_id).to_pylist()
    for r in rows:
        r["reasons"] = [reason for reason, on in zip(RISK_REASONS, _signals(r), strict=True) if on]
        for key in ("cancels_on", "past_due_since", "lapses_on"):
            r[key] = None if r[key] is None else r[key].isoformat()
    return rows


def _signals(row: Row) -> tuple[bool, bool, bool]:
    return (row["cancels_on"] is not None, row["past_due_since"] is not None, row["downgraded"] > 0)


def explain(res: Results, workspace: Workspace, customer_id: str) -> Row:
    """A customer's MRR timeline, movements, revenue lines and the raw rows behind them."""
    lines = workspace.customer_lines(customer_id)
    if not lines:
        raise KeyError(f"unknown customer {customer_id!r}")
    risk = _risk_rows(res, customer_id)
    if res.empty:
        timeline, moves = [], []
    else:
        timeline = res.customer_timeline(customer_id).to_pylist()
        moves = [
            {**r, "period": res.label(r["p"])}
            for r in res.movements(customer_id=customer_id).to_pylist()
        ]
    refs = sorted({str(line["source_ref"]) for line in lines})
    return {
        "customer_id": customer_id,
        "name": workspace.customer_name(customer_id),
        "currency": lines[0]["currency"],
        "timeline": [{**t, "period": res.label(t["p"])} for t in timeline],
        "movements": moves,
        # why its revenue is in danger (see ``at_risk``), with that in words
        "at_risk": {**risk[0], "summary": _risk_text(risk[0], res.settings.reporting_currency)}
        if risk else None,
        "lines": lines,
        "source_rows": [
            {"source": s, "source_ref": ref, "payload": payload}
            for s, ref, payload in workspace.source_rows(refs)
        ],
    }


def dimensions(res: Results) -> list[str]:
    """The segment dimensions this data offers: plan, size and every customer attribute."""
    return [] if res.empty else res.dimensions()


def period_index(res: Results, text: str) -> int:
    """A period label ('2025-03') or ISO date to its index, at the results' grain."""
    from datetime import date

    from nrr.core.periods import parse_label

    if len(text) == 10:
        return index_of(date.fromisoformat(text), res.settings.period)
    return parse_label(text, res.settings.period)
