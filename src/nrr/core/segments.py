"""Segment dimensions: which segment a stretch belongs to, as SQL over the ``stretches`` stage."""

from __future__ import annotations

from nrr.money import exponent
from nrr.schema import Settings

BUILTIN_DIMENSIONS = ("all", "plan", "size")


def size_band_labels(settings: Settings) -> list[str]:
    """Readable labels for the size bands, in band order ('< 100', '100–500', ..., '≥ 2,000')."""
    scale = 10 ** exponent(settings.reporting_currency)
    edges = [
        f"{b / scale:,.0f}" if b % scale == 0 else f"{b / scale:,.2f}" for b in settings.size_bands
    ]
    labels = [f"< {edges[0]}"]
    labels += [f"{lo}–{hi}" for lo, hi in zip(edges, edges[1:], strict=False)]
    labels.append(f"≥ {edges[-1]}")
    return labels


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _band_case(column: str, settings: Settings) -> str:
    whens = " ".join(
        f"WHEN {column} = {i} THEN {quote(lab)}" for i, lab in enumerate(size_band_labels(settings))
    )
    return f"CASE {whens} END"


def segment_columns(
    dimension: str,
    settings: Settings,
    plans: str = "plans",
    keys: str = "customer_keys",
    alias: str = "a",
) -> tuple[str, str, str]:
    """(segment expr, previous-segment expr, join clause) for a dimension over ``stretches b``.

    ``all`` is the company as a single segment; ``plan`` the plan of the customer's largest line;
    ``size`` the size band; anything else a customer attribute key. ``plans`` and ``keys`` name
    the tables the joins read (the whole base, or the customers an update touches); ``alias``
    names an attribute's join, so several can be joined at once.
    """
    if dimension == "all":
        return "'all'", "'all'", ""
    if dimension == "plan":
        join = f"LEFT JOIN {plans} pl ON pl.ck = b.ck AND pl.p_from = b.p_from"
        return "coalesce(pl.plan, '(none)')", "coalesce(pl.prev_plan, '(none)')", join
    if dimension == "size":
        return _band_case("b.band", settings), _band_case("b.prev_band", settings), ""
    join = (
        "LEFT JOIN (SELECT k.ck, max(a.value) AS value FROM customer_attributes a "
        f"JOIN {keys} k ON k.customer_id = a.customer_id "
        f"WHERE a.key = {quote(dimension)} GROUP BY k.ck) AS {alias} "
        f"ON {alias}.ck = b.ck"
    )
    value = f"coalesce({alias}.value, '(unknown)')"
    return value, value, join
