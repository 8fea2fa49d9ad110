"""The JSON API: one declaration per route, from which the handlers and the OpenAPI spec are built.

Each handler parses its own parameters (allow-listed in ``params``), calls one report function and
returns what it gives; tables also download as CSV with ``?format=csv``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nrr.web import library
from nrr.web import params as p
from nrr.web.context import Context
from nrr.web.errors import bad_request, not_found


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str
    where: str = "query"
    required: bool = False


@dataclass(frozen=True)
class Endpoint:
    path: str
    name: str
    summary: str
    handler: Callable[[Context, Mapping[str, str], Mapping[str, str]], Any]
    params: tuple[Param, ...] = ()
    table: bool = False  # a list of rows: also served as CSV
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    csv_rows: str | None = None  # for an object: the key of the list of rows its CSV holds

    @property
    def accepted(self) -> tuple[str, ...]:
        return (*p.COMMON_PARAMS, *(q.name for q in self.params if q.where == "query"))


_PERIOD_PATTERN = r"^\d{4}(-\d{2}|-[Qq][1-4])?$"
_DIMENSION_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"

COMMON: tuple[Param, ...] = (
    Param("as_of", {"type": "string", "format": "date"},
          "Read the figures as of this day (YYYY-MM-DD); default: the day of the latest data."),
    Param("grain", {"type": "string", "enum": list(p.GRAINS)}, "Period grain."),
    Param("currency", {"type": "string", "pattern": "^[A-Za-z]{3}$"}, "Reporting currency."),
    Param("discounts", {"type": "string", "enum": ["recurring", "forever", "all", "none"]},
          "Which discounts reduce MRR (SPEC section 2)."),
    Param("churn_timing", {"type": "string", "enum": ["ended", "requested"]},
          "Churn when the subscription ends, or when the cancellation is requested."),
    Param("past_due_grace_days", {"type": "integer", "minimum": 0, "maximum": 3650},
          "Days a past-due subscription still counts as MRR."),
    Param("metered", {"type": "string", "enum": ["exclude", "trailing_average"]},
          "Whether usage-based prices count."),
    Param("fx_date", {"type": "string", "enum": ["period_end", "service_start", "fixed"]},
          "Which day's exchange rate converts a period."),
    Param("size_bands", {"type": "string", "pattern": r"^\d{1,15}(,\d{1,15}){0,9}$"},
          "Size-band thresholds in minor units of the reporting currency, comma separated."),
    Param("from", {"type": "string", "pattern": _PERIOD_PATTERN},
          "First period shown (2024-03, 2024-Q1 or 2024)."),
    Param("to", {"type": "string", "pattern": _PERIOD_PATTERN}, "Last period shown."),
)  # fmt: skip

BY = Param("by", {"type": "string", "pattern": _DIMENSION_PATTERN},
           "Segment dimension: plan, size_band or any customer attribute (see /api/dimensions).")
SEGMENT = Param("segment", {"type": "string", "maxLength": 200},
                "Only this segment of the dimension given by `by`.")
FORMAT = Param("format", {"type": "string", "enum": ["json", "csv"]}, "json (default) or csv.")


# -- shared parameter readers ---------------------------------------------------------------------


def dimension(ctx: Context, query: Mapping[str, str], required: bool = False) -> str | None:
    by = p.given(query, "by")
    if by is None:
        if required:
            raise bad_request("by is required: the segment dimension, e.g. by=plan")
        return None
    known = ctx.report("dimensions")
    if by not in known:
        raise bad_request(f"unknown segment dimension {by!r}; known: {', '.join(known)}")
    return by


def segment_filter(ctx: Context, query: Mapping[str, str]) -> tuple[str | None, str | None]:
    by = dimension(ctx, query)
    segment = p.text(p.given(query, "segment"), "segment")
    if segment is not None and by is None:
        raise bad_request("segment needs by=<dimension> to say which dimension it belongs to")
    return by, segment


def only_segment(rows: list[dict[str, Any]], segment: str | None) -> list[dict[str, Any]]:
    if segment is None:
        return rows
    return [r for r in rows if r.get("segment") == segment]


def window(ctx: Context, query: Mapping[str, str]) -> int:
    """``1`` (one period) or ``ttm`` (twelve months: 12 months, 4 quarters or 1 year)."""
    chosen = p.choice(p.given(query, "window") or "ttm", p.WINDOWS, "window")
    return 1 if chosen == "1" else int(ctx.results().ttm_window)


# -- handlers -------------------------------------------------------------------------------------


def overview(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    return ctx.report("headline")


def bridge(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    by, segment = segment_filter(ctx, query)
    return only_segment(ctx.report("bridge", by, *ctx.range), segment)


def retention(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    by, segment = segment_filter(ctx, query)
    return only_segment(ctx.report("retention", window(ctx, query), by, *ctx.range), segment)


def trends(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    ttm = int(ctx.results().ttm_window)
    return {
        "bridge": ctx.report("bridge", None, *ctx.range),
        "monthly": ctx.report("retention", 1, None, *ctx.range),
        "ttm": ctx.report("retention", ttm, None, *ctx.range) if ttm != 1 else [],
    }


def cohorts(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    return ctx.report("cohorts")


def segments(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    return ctx.report("segments", dimension(ctx, query) or "plan")


def dimensions(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    return [{"dimension": d} for d in ctx.report("dimensions")]


CUSTOMER_SORTS = ("mrr", "customer_id", "name", "last_movement")


def customers(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    search = p.text(p.given(query, "q"), "q")
    sort, descending = p.sort_key(p.given(query, "sort"), CUSTOMER_SORTS, "-mrr")
    limit, offset = p.page(query)
    by, segment = segment_filter(ctx, query)
    return ctx.report(
        "customers", search=search, sort=sort, descending=descending, limit=limit, offset=offset,
        by=by if segment is not None else None, segment=segment,
    )  # fmt: skip


def at_risk(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    reason = p.given(query, "reason")
    if reason is not None:
        reason = p.choice(reason, library.RISK_REASONS, "reason")
    data = ctx.report("at_risk")  # one cached report; a reason only filters its list
    return data if reason is None else library.only_reason(data, reason)


def portfolio(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    return ctx.portfolio()


def customer(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    customer_id = path["customer_id"]
    if len(customer_id) > 200:
        raise bad_request("customer id is longer than 200 characters")
    found = ctx.explain(customer_id)
    if found is None:
        raise not_found(f"no customer {customer_id!r} in this workspace")
    return found


def drill(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    metric = p.choice(p.given(query, "metric") or "", p.DRILL_METRICS, "metric")
    if metric.startswith("window") and int(metric[6:]) not in (1, ctx.results().ttm_window):
        raise bad_request(f"metric {metric} does not fit the {ctx.grain} grain: use window1 or "
                          f"window{ctx.results().ttm_window}")
    label = p.given(query, "period")
    if label is None:
        raise bad_request("period is required, e.g. period=2024-03")
    period = p.parse_period(label, ctx.grain, "period")
    by, segment = segment_filter(ctx, query)
    return ctx.report("customers_behind", metric, period, by, segment)


def status(ctx: Context, query: Mapping[str, str], path: Mapping[str, str]) -> Any:
    return {
        "workspace": str(ctx.backend.path),
        "as_of": ctx.as_of.isoformat(),
        "default_as_of": ctx.snap.default_as_of.isoformat(),
        "settings": _settings_json(ctx),
    }


def _settings_json(ctx: Context) -> dict[str, Any]:
    import json

    return dict(json.loads(ctx.settings.to_json()))


_ROWS = {"type": "array", "items": {"type": "object"}}

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("/api/overview", "overview", "Headline: MRR, ARR, customers, TTM NRR and GRR, band, "
             "years to double, warnings and the bridge of the latest period.", overview),
    Endpoint("/api/trends", "trends", "Bridge per period with monthly and TTM retention "
             "(the Trends page).", trends),
    Endpoint("/api/bridge", "bridge", "MRR bridge per period (and segment): start, new, "
             "reactivation, expansion, contraction, churn, fx, end; involuntary_churn is the "
             "part of churn failed payments caused.", bridge, (BY, SEGMENT), True, _ROWS),
    Endpoint("/api/retention", "retention", "NRR, GRR and logo retention per period end.",
             retention, (Param("window", {"type": "string", "enum": list(p.WINDOWS)},
                               "1 (one period) or ttm (trailing twelve months; default)."),
                         BY, SEGMENT), True, _ROWS),
    Endpoint("/api/cohorts", "cohorts", "Cohort x age: customers, MRR, NRR and logo retention.",
             cohorts, (), True, _ROWS),
    Endpoint("/api/segments", "segments", "NRR, GRR, MRR and customers per segment of a dimension.",
             segments, (BY,), True, _ROWS),
    Endpoint("/api/dimensions", "dimensions", "The segment dimensions this workspace has.",
             dimensions, (), True, _ROWS),
    Endpoint("/api/customers", "customers", "Customers with current MRR, last movement and "
             "plan; searchable, sortable, and filtered to one segment with by and segment.",
             customers,
             (Param("q", {"type": "string", "maxLength": 200}, "Search in id and name."),
              Param("sort", {"type": "string", "enum": [
                  s for c in CUSTOMER_SORTS for s in (c, f"-{c}")]},
                    "Sort column; prefix - for descending (default -mrr)."),
              Param("limit", {"type": "integer", "minimum": 1, "maximum": p.MAX_LIMIT},
                    "Rows per page (default 100)."),
              Param("offset", {"type": "integer", "minimum": 0, "maximum": 10**9}, "Rows to skip."),
              BY, SEGMENT), True, _ROWS),
    Endpoint("/api/at-risk", "at_risk", "Accounts at risk at the as-of period (a cancellation "
             "pending, a payment past due, a recent downgrade), their MRR at risk and the "
             "totals; as CSV, the accounts.", at_risk,
             (Param("reason", {"type": "string", "enum": list(library.RISK_REASONS)},
                    "List only the accounts showing this signal (the totals stay whole)."),),
             True, csv_rows="customers"),
    Endpoint("/api/portfolio", "portfolio", "This workspace and those served beside it "
             "(nrr serve --portfolio) side by side, best TTM NRR first, the portfolio as one "
             "company, and the TTM NRR of the last twelve period ends (trend); as CSV, the "
             "companies.", portfolio, (), True, csv_rows="companies"),
    Endpoint("/api/customers/{customer_id}", "customer", "One customer: MRR timeline, movements "
             "and the source rows behind each.", customer,
             (Param("customer_id", {"type": "string", "maxLength": 200}, "Customer id.", "path",
                    True),)),
    Endpoint("/api/drill", "drill", "The customers behind one figure: a movement (or the start/end "
             "customers) of one period, optionally of one segment.", drill,
             (Param("metric", {"type": "string", "enum": list(p.DRILL_METRICS)}, "The figure.",
                    required=True),
              Param("period", {"type": "string", "pattern": _PERIOD_PATTERN}, "The period.",
                    required=True),
              BY, SEGMENT), True, _ROWS),
    Endpoint("/api/status", "status", "The workspace, the as-of date and the settings in force.",
             status),
)  # fmt: skip
