"""The engine under test, driven through ``nrr.api.compute_frames`` and reduced to ``Metrics``."""

from __future__ import annotations

import re
from bisect import bisect_right
from decimal import Decimal
from typing import Any

import pyarrow as pa

from nrr.money import exponent
from nrr.schema import CUSTOMER_ATTRIBUTES, REVENUE_LINES, Settings
from reference.companies import Company

from .metrics import (
    BRIDGE,
    RETENTION,
    Metrics,
    dimensions,
    exact_ratio,
    keep_bridge,
    keep_retention,
    windows,
)

COHORT = ("customers", "mrr", "customers_start", "mrr_start")
_ARROW = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BIGINT": pa.int64()}
UNKNOWN = "(unknown)"  # the engine's segment for a customer without the attribute


def arrow_schema(columns: tuple[tuple[str, str], ...]) -> pa.Schema:
    return pa.schema([(name, _ARROW[typ]) for name, typ in columns])


def lines_table(company: Company) -> pa.Table:
    return pa.Table.from_pylist(company.lines, schema=arrow_schema(REVENUE_LINES))


def attributes_table(company: Company) -> pa.Table:
    return pa.Table.from_pylist(company.attributes, schema=arrow_schema(CUSTOMER_ATTRIBUTES))


def rates_table(company: Company, settings: Settings) -> pa.Table | None:
    rates = company.rates(settings.period, settings.reporting_currency)
    needed = company.currencies - {settings.reporting_currency}
    rows = [(c, p, r) for (c, p), r in sorted(rates.items()) if c in needed]
    if not needed:
        return None
    return pa.table({
        "currency": pa.array([r[0] for r in rows], pa.string()),
        "p": pa.array([r[1] for r in rows], pa.int32()),
        "rate": pa.array([r[2] for r in rows], pa.decimal128(18, 10)),
    })  # fmt: skip


def compute(company: Company, settings: Settings) -> Any:
    from nrr.api import compute_frames

    return compute_frames(lines_table(company), as_of=company.as_of, settings=settings,
                          attributes=attributes_table(company),
                          rates=rates_table(company, settings))  # fmt: skip


def size_index(label: str, settings: Settings) -> int:
    """The band index behind a label like '< 100', '100–500' or '≥ 2,000' (major units)."""
    if label.lstrip().startswith("<"):
        return 0
    lower = Decimal(re.findall(r"[\d,.]+", label)[0].replace(",", ""))
    minor = int(lower.scaleb(exponent(settings.reporting_currency)))
    return bisect_right(settings.size_bands, minor)


def segment_key(dim: str | None, segment: Any, settings: Settings) -> Any:
    if dim is None:
        return None
    if dim == "size":
        return size_index(str(segment), settings)
    if dim not in ("plan",) and segment == UNKNOWN:
        return None
    return segment


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()  # type: ignore[no-any-return]


def engine_metrics(company: Company, settings: Settings) -> Metrics:
    try:
        return _collect(compute(company, settings), settings, dimensions(company))
    except ValueError as exc:  # nothing starts on or before the as-of date: no periods at all
        assert "no data" in str(exc)
        return Metrics()


def _collect(res: Any, settings: Settings, dims: tuple[str | None, ...]) -> Metrics:
    out = Metrics()
    for dim in dims:
        for row in _rows(res.bridge(by=dim)):
            values = tuple(int(row[k]) for k in BRIDGE)
            if keep_bridge(values):
                key = (dim, segment_key(dim, row.get("segment"), settings), row["p"])
                assert key not in out.bridge, f"duplicate bridge row {key}"
                out.bridge[key] = values
        for window in windows(settings):
            _add_retention(out, _rows(res.retention(window, by=dim)), window, dim, settings)
    out.movements = {(m["customer_id"], m["p"], m["movement"]): int(m["amount"])
                     for m in _rows(res.movements())}  # fmt: skip
    out.cohorts = {(c["cohort"], c["age"]): tuple(int(c[k]) for k in COHORT)
                   for c in _rows(res.cohorts())}  # fmt: skip
    return out


def _add_retention(out: Metrics, rows: list[dict[str, Any]], window: int, dim: str | None,
                   settings: Settings) -> None:  # fmt: skip
    for row in rows:
        values = tuple(int(row[k]) for k in RETENTION)
        if not keep_retention(values):
            continue
        key = (window, dim, segment_key(dim, row.get("segment"), settings), row["p"])
        assert key not in out.retention, f"duplicate retention row {key}"
        out.retention[key] = values
        out.ratios[key] = (exact_ratio(values[1], values[0]), exact_ratio(values[2], values[0]),
                           exact_ratio(values[4], values[3]))  # fmt: skip
