"""The metric pipeline as named SQL statements over the canonical relations. Pure: strings out.

Inputs: ``revenue_lines``, ``customer_attributes`` and ``fx_rates`` (schema.py). Each Stage's SQL
may read the inputs and any earlier stage by name. The SQL is DuckDB's dialect; engines that speak
another dialect transpile it with sqlglot.

The formulation is change-point based: a customer's MRR is kept as *stretches* of constant value
(``[p_from, p_to)`` in period indexes) built from the line boundaries, never as a customer × period
grid. Movements exist only where a stretch starts; only customers billed in a foreign currency are
expanded per period (their value moves with the rates).

The work is in three layers, so that a change to some customers recomputes only theirs:

1. per-customer stages (``customers``): keys, lines, pieces, stretches, plans, segments, each a
   function of one customer's own lines;
2. contributions (``contributions``): sums over customers keyed by segment and period, additive
   and independent of the as-of day;
3. finishing stages (``finish``): the bridge, retention and cohort tables of one as-of day, read
   from the contributions, the periods and the rates only.

``update_stages`` lists what an update runs: the touched customers' stages under their new lines,
their old and new contributions, the merges, and the finishing stages.
"""

from __future__ import annotations

from nrr.core.contributions import (
    Batch,
    Contribution,
    batch_contributions,
    cohort_contribution,
    labels_stage,
    merge_stage,
    old_rows_stages,
    rollup_stage,
    rollup_stages,
    segs_stage,
    window_contribution,
)
from nrr.core.customers import (
    fx_movements_stage,
    keys_stage,
    lines_stage,
    movements_stage,
    named_movements_stage,
    named_stretches_stage,
    periods_stage,
    pieces_stage,
    plan_labels_stage,
    plans_stage,
    rates_stage,
    stretches_stage,
)
from nrr.core.finish import (
    bridge_stage,
    cohorts_stage,
    dimension_views,
    fx_stage,
    levels_stage,
    retention_stage,
    window_changes_stage,
)
from nrr.core.frame import (
    OLD,
    OPEN,
    TOUCHED,
    WHOLE,
    Frame,
    Scope,
    Stage,
    crossing_customers_sql,
    first_period_sql,
    ident,
    touched_lines_sql,
)

__all__ = [
    "OPEN", "Batch", "Contribution", "Frame", "Scope", "Stage", "crossing_customers_sql",
    "first_period_sql", "ident", "labels_stage", "retention_stage", "touched_lines_sql",
]  # fmt: skip

def spliced_tables(batches: list[Batch], plans: bool) -> list[str]:
    """The per-customer tables an update splices: the touched customers' rows are replaced by
    theirs under the new lines (``<name>_delta``). Not ``pieces``: only ``stretches`` reads it,
    and frees it. Nor ``lines`` once the plans are ranked: only ``pieces`` and ``plans`` read
    it, and ``plans`` frees it."""
    tables = ["customer_keys", "stretches"] + (["plans"] if plans else ["lines"])
    return tables + [b.table("segs") for b in batches if b.dimensions != ("all",)]


def frame_stages(frame: Frame) -> list[Stage]:
    """The reported periods and their rates."""
    return [periods_stage(frame), rates_stage(frame)]


def customer_stages(frame: Frame, scope: Scope = WHOLE) -> list[Stage]:
    """Keys, lines, pieces and stretches of the customers in ``scope``."""
    return [
        keys_stage(frame, scope),
        lines_stage(frame, scope),
        pieces_stage(scope),
        stretches_stage(frame, scope),
    ]


def base_stages(frame: Frame) -> list[Stage]:
    """Everything every report needs: lines, stretches, movements, cohorts."""
    return [
        *frame_stages(frame),
        *customer_stages(frame),
        movements_stage(),
        fx_movements_stage(frame),
        named_movements_stage(),
        cohort_contribution().stage,
        cohorts_stage(frame),
    ]


def plan_stages(frame: Frame, scope: Scope = WHOLE) -> list[Stage]:
    """Plans per stretch and (for the whole base) the customer-named stretches that show them."""
    if scope.partial:
        return [plans_stage(frame, scope)]
    return [plan_labels_stage(), plans_stage(frame), named_stretches_stage()]


def finish_stages(frame: Frame, batch: Batch) -> list[Stage]:
    """Roll-ups, finished tables and per-dimension views of a batch."""
    stages = [*rollup_stages(frame, batch), levels_stage(frame, batch), fx_stage(frame, batch),
              bridge_stage(frame, batch)]  # fmt: skip
    for window in frame.windows:
        if window > 1:
            stages.append(window_changes_stage(frame, batch, window))
        stages.append(retention_stage(frame, batch, window))
    return stages + dimension_views(frame, batch)


def batch_stages(frame: Frame, batch: Batch) -> list[Stage]:
    """Bridge and retention for the dimensions of a batch (``all``: the company as a whole)."""
    return [
        segs_stage(frame, batch),
        *(c.stage for c in batch_contributions(frame, batch)),
        *finish_stages(frame, batch),
    ]


def window_stages(frame: Frame, batch: Batch, window: int) -> list[Stage]:
    """A window's contribution, roll-up and finished table, for any window length (the one-period
    window is normally derived from the bridge; this is the general formulation)."""
    c = window_contribution(frame, batch, WHOLE, window)
    rollup = rollup_stage(frame, c, batch, batch.table(f"wcc_{window}"))
    return [c.stage, rollup, window_changes_stage(frame, batch, window)]


def contributions(frame: Frame, batches: list[Batch], scope: Scope) -> list[Contribution]:
    return [cohort_contribution(scope)] + [
        c for batch in batches for c in batch_contributions(frame, batch, scope)
    ]


def update_stages(
    frame: Frame, batches: list[Batch], plans: bool
) -> tuple[list[Stage], list[Stage], list[Stage]]:
    """An update's stages in three steps, for the customers listed in ``touched``.

    1. (before the splice) the new frame; the touched customers' old contributions (they need
       ``touched_keys``, their stored keys); their stages under the new lines (``_delta``);
       their new contributions;
    2. (the caller splices the per-customer tables, then) each contribution merged;
    3. the finishing stages of every batch and the cohorts.
    """
    prepare: list[Stage] = frame_stages(frame) + old_rows_stages(batches)
    prepare += [c.stage for c in contributions(frame, batches, OLD)]
    prepare += customer_stages(frame, TOUCHED)
    if plans:  # the touched customers' plans are ranked over the labels of the new lines
        prepare += [plan_labels_stage(), *plan_stages(frame, TOUCHED)]
    prepare += [segs_stage(frame, batch, TOUCHED) for batch in batches]
    prepare += [c.stage for c in contributions(frame, batches, TOUCHED)]
    merges = [merge_stage(c) for c in contributions(frame, batches, WHOLE)]
    finish = [cohorts_stage(frame)]
    for batch in batches:
        finish += finish_stages(frame, batch)
    return prepare, merges, finish


def build(frame: Frame, dimensions: tuple[str, ...] = ("all",)) -> list[Stage]:
    """Every stage for the company and, in one batch, the given segment dimensions."""
    stages = base_stages(frame) + plan_stages(frame) + batch_stages(frame, Batch(0, ("all",)))
    rest = tuple(d for d in dimensions if d != "all")
    if rest:
        stages += batch_stages(frame, Batch(1, rest))
    return stages
