"""Results of one computation, engine-agnostic: tables computed on demand and kept per dimension."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Protocol, cast

from nrr.core import pipeline
from nrr.core.periods import TTM_PERIODS, index_of, label
from nrr.core.risk import at_risk_sql
from nrr.core.segments import BUILTIN_DIMENSIONS, plan_name_sql
from nrr.engines.recent import Recent
from nrr.schema import Settings

if TYPE_CHECKING:
    import pyarrow as pa

MOVEMENTS = ("new", "reactivation", "expansion", "contraction", "churn", "fx")


Params = list[object] | dict[str, object] | None
# A customer's name (imports may give several rows per id): what the lists show beside it.
NAMES = "SELECT customer_id, max(name) AS name FROM customers GROUP BY customer_id"


class Executor(Protocol):
    name: str

    def run(self, stage: pipeline.Stage) -> None: ...

    def query(self, sql: str, params: Params = None) -> pa.Table: ...

    def scalar(self, sql: str) -> object: ...

    def register(self, name: str, table: pa.Table) -> None: ...


class Splicer(Protocol):
    """An executor that can also change stored stage tables (DuckDB; Spark's are files)."""

    def execute(self, sql: str) -> None: ...


RatesFor = Callable[[list[str], list[int], date], "pa.Table"]


CUSTOMER_SORTS = {
    "mrr": "mrr",
    "customer_id": "k.customer_id",
    "name": "n.name",
    "last_movement": "l.last_movement_p",
}


class UnknownDimension(ValueError):
    pass


class Results:
    """Bridge, retention, movements and cohorts for one workspace, settings and as-of day."""

    def __init__(self, executor: Executor, settings: Settings, as_of: date, rates_for: RatesFor):
        self.executor = executor
        self.settings = settings
        self.as_of = as_of
        self.rates_for = rates_for
        self._batches: list[pipeline.Batch] = []
        self._plans = False
        self._recent: Recent[pa.Table] = Recent(16)  # drill-downs ask per figure, per period
        first = executor.scalar(pipeline.first_period_sql(settings, as_of))
        self.frame = None if first is None else pipeline.Frame(settings, as_of, int(str(first)))
        if self.frame is None:
            return
        self._register_rates(self.frame)
        if not self._run_base(self.frame):
            self.frame = replace(self.frame, hashed_keys=False)
            self._run_base(self.frame)
        # The company's own tables wait until asked for, so that ``prepare`` can compute them in
        # the same pass as segment dimensions.

    def _run_base(self, frame: pipeline.Frame) -> bool:
        """The stages every report needs; False, having stopped, if two ids share a key."""
        for stage in pipeline.base_stages(frame):
            self.executor.run(stage)
            if stage.name == "customer_keys":  # runs after "rates"
                if frame.hashed_keys and self._collided("customer_keys"):
                    return False
                self._check_one_currency()
                self._check_rates()
        return True

    def _one_source(self) -> bool:
        """Customer attributes come from one source (then each customer has one value per key,
        or the segment table shows otherwise: ``_attribute_keys_shared``)."""
        return bool(
            self.executor.scalar("SELECT count(DISTINCT source) <= 1 FROM customer_attributes")
        )

    def _collided(self, keys: str) -> bool:
        return bool(self.executor.scalar(f"SELECT count(*) - count(DISTINCT ck) FROM {keys}"))

    def _register_rates(self, frame: pipeline.Frame) -> None:
        currencies = [
            str(r["currency"])
            for r in self.executor.query(
                "SELECT DISTINCT upper(currency) AS currency FROM revenue_lines"
            ).to_pylist()
        ]
        self.executor.register("fx_rates", self.rates_for(currencies, frame.periods(), frame.as_of))

    def _check_rates(self, keys: str = "customer_keys") -> None:
        missing = self.executor.scalar(
            f"SELECT min(currency) FROM {keys} WHERE currency NOT IN (SELECT currency FROM rates)"
        )
        if missing is not None:
            from nrr.fx import RatesError

            raise RatesError(
                f"no exchange rate for {missing}: supply a rates file "
                "(nrr settings --rates-file FILE) or fixed rates"
            )

        # Stage tables tell currencies apart by a 63-bit hash of the name (frame.currency_code):
        # two sharing one would merge their amounts, so stop instead (never seen: ~1e-15 odds).
        shared = self.executor.scalar(
            "SELECT min(currency) FROM rates WHERE cur IN "
            "(SELECT cur FROM rates GROUP BY cur HAVING count(DISTINCT currency) > 1)"
        )
        if shared is not None:
            raise ValueError(
                f"currency {shared} shares nrr's internal code with another currency, so their "
                "amounts cannot be told apart; please report this with the two currency codes"
            )

    def _check_one_currency(self, keys: str = "customer_keys") -> None:
        mixed = self.executor.scalar(f"SELECT min(customer_id) FROM {keys} WHERE mixed_currencies")
        if mixed is not None:
            raise ValueError(
                f"customer {mixed} is billed in more than one currency; nrr needs one currency "
                "per customer (split it into one customer id per currency)"
            )

    # -- shape ---------------------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return self.frame is None

    @property
    def periods(self) -> list[int]:
        """Reported periods, oldest first (the one before the first period is not reported)."""
        return [] if self.frame is None else self.frame.periods()[1:]

    @property
    def last_period(self) -> int:
        return index_of(self.as_of, self.settings.period)

    @property
    def ttm_window(self) -> int:
        return TTM_PERIODS[self.settings.period]

    def label(self, p: int) -> str:
        return label(p, self.settings.period)

    def dimensions(self) -> list[str]:
        """Built-in dimensions plus every customer attribute key."""
        keys = (
            self.executor.query("SELECT DISTINCT key FROM customer_attributes ORDER BY key")
            .column("key")
            .to_pylist()
        )
        return ["plan", "size", *[str(k) for k in keys if k not in BUILTIN_DIMENSIONS]]

    def _ensure_plans(self) -> None:
        if self.frame is not None and not self._plans:
            for stage in pipeline.plan_stages(self.frame):
                self.executor.run(stage)
            self._plans = True
            self._check_codes([])

    def batch_of(self, dimension: str) -> pipeline.Batch:
        return next(b for b in self._batches if dimension in b.dimensions)

    def prepare(self, dimensions: list[str] | tuple[str, ...]) -> None:
        """Compute several segment dimensions at once: one pass over the stretches serves all of
        them (see core/contributions.py), where one call per dimension would take one each."""
        if self.frame is None:
            raise ValueError("no data: import a file or sync Stripe first")
        done = {d for b in self._batches for d in b.dimensions}
        todo = tuple(dict.fromkeys(d for d in dimensions if d not in done))
        if not todo:
            return
        known = self.dimensions()
        for dimension in todo:
            if dimension != "all" and dimension not in known:
                raise UnknownDimension(
                    f"unknown segment dimension {dimension!r}; available: " + ", ".join(known)
                )
        if "plan" in todo:
            self._ensure_plans()
        batch = pipeline.Batch(len(self._batches), todo)
        attributes = any(d not in BUILTIN_DIMENSIONS for d in todo)
        if attributes and self.frame.hashed_keys:  # asked where it is used: attributes change
            self.frame = replace(self.frame, one_source_attributes=self._one_source())
        for stage in pipeline.batch_stages(self.frame, batch):
            self.executor.run(stage)
        self._batches.append(batch)
        if attributes and self.frame.hashed_keys and self._attribute_keys_shared(batch):
            self._renumber()
            return
        self._check_codes([batch])

    def _attribute_keys_shared(self, batch: pipeline.Batch) -> bool:
        """The whole base finds a customer's attributes by hashing its id (``segs_stage``). An id
        with attributes but no lines is not among the keys checked for sharing; if it shared a
        billed customer's key, its row would repeat that customer's stretches in the segment
        table, so the table would have more rows than the stretches. So would a customer with two
        values for one key where attributes are read ungrouped (``one_source_attributes``): the
        numbered path groups them."""
        return bool(
            self.executor.scalar(
                f"SELECT (SELECT count(*) FROM {batch.table('segs')}) "
                "- (SELECT count(*) FROM stretches)"
            )
        )

    def _renumber(self) -> None:
        """Everything again with the ids numbered instead of hashed (as for billed ids that share
        a key), with the dimensions and plans computed so far."""
        assert self.frame is not None
        dimensions = [d for b in self._batches for d in b.dimensions]
        plans = self._plans
        self.frame = replace(self.frame, hashed_keys=False)
        self._batches, self._plans = [], False
        self._run_base(self.frame)
        self._restore(plans, dimensions)

    def _restore(self, plans: bool, dimensions: list[str]) -> None:
        """After the base was computed again: the plans and dimensions computed before it."""
        if plans:
            self._ensure_plans()
        if dimensions:
            self.prepare(dimensions)

    def _ensure(self, dimension: str) -> str:
        self.prepare([dimension])
        return pipeline.ident(dimension)

    # -- updates ---------------------------------------------------------------------------------
    def update(self, as_of: date, changed: Iterable[str]) -> bool:
        """Bring every computed table to ``as_of`` after the lines of the ``changed`` customers
        were added, replaced or removed, recomputing only those customers (and any with a line
        that starts or stops counting between the two as-of days), then the finished tables.

        Returns False, having recomputed everything instead, when an update could not give the
        same figures: no data before, a different first period, different rates for periods
        already reported, or an engine whose stage tables cannot be changed in place.
        """
        self._recent.clear()
        splicer = cast(Splicer, self.executor) if hasattr(self.executor, "execute") else None
        old = self.frame
        first = self.executor.scalar(pipeline.first_period_sql(self.settings, as_of))
        if splicer is None or old is None or first is None or int(str(first)) != old.first_p:
            self._recompute(as_of)
            return False
        frame = replace(old, as_of=as_of)
        splicer.execute("CREATE OR REPLACE TEMP TABLE rates_before AS SELECT * FROM rates")
        self._register_rates(frame)
        for stage in pipeline.frame_stages(frame):
            self.executor.run(stage)
        if self._rates_moved():
            self._recompute(as_of)
            return False
        self._touch(splicer, changed, min(old.as_of, as_of), max(old.as_of, as_of))
        prepare, merges, finish = pipeline.update_stages(frame, self._batches, self._plans)
        for stage in prepare[len(pipeline.frame_stages(frame)) :]:
            self.executor.run(stage)
        if old.hashed_keys and self._keys_collide():
            self._recompute(as_of)
            return False
        self._check_one_currency("customer_keys_delta")
        self._check_rates("customer_keys_delta")
        self._splice(splicer)
        for stage in merges + finish:
            self.executor.run(stage)
        self._check_codes(self._batches)
        self.frame, self.as_of = frame, as_of
        return True

    def _check_codes(self, batches: list[pipeline.Batch]) -> None:
        """Segments are grouped by a hash of their names: two names sharing one (about one chance
        in 10^11 for ten thousand names) would merge their sums, so it stops instead."""
        tables = (["plan_labels"] if self._plans else []) + [
            b.table("labels") for b in batches if pipeline.labels_stage(b) is not None
        ]
        for table in tables:
            shared = self.executor.query(
                f"SELECT dim, min(label) AS a, max(label) AS b FROM {table} "
                "GROUP BY dim, code HAVING count(*) > 1"
            ).to_pylist()
            if shared:
                r = shared[0]
                raise ValueError(
                    f"the {r['dim']} segments {r['a']!r} and {r['b']!r} share an internal code; "
                    "rename one of them (for example with a trailing space) and compute again"
                )

    def _keys_collide(self) -> bool:
        """Two of the touched customers share a key, or one shares it with a stored customer."""
        if self._collided("customer_keys_delta"):
            return True
        return bool(
            self.executor.scalar(
                "SELECT count(*) FROM customer_keys_delta d JOIN customer_keys k ON k.ck = d.ck "
                "WHERE k.customer_id <> d.customer_id"
            )
        )

    def _rates_moved(self) -> bool:
        moved = self.executor.scalar(
            "SELECT count(*) FROM rates_before b LEFT JOIN rates r "
            "ON r.currency = b.currency AND r.p = b.p WHERE r.rate IS DISTINCT FROM b.rate"
        )
        return bool(moved)

    def _touch(self, splicer: Splicer, changed: Iterable[str], lo: date, hi: date) -> None:
        """The ``touched`` customers (changed, or crossing the as-of days) and their stored keys."""
        import pyarrow as pa

        # as given: the UNION below drops repeats (sorting 0.9M ids in Python took 0.5-1.4 s)
        ids = pa.table({"customer_id": pa.array(list(changed), pa.string())})
        self.executor.register("changed_customers", ids)
        crossing = pipeline.crossing_customers_sql(self.settings, lo, hi)
        splicer.execute(
            "CREATE OR REPLACE TEMP TABLE touched AS SELECT customer_id FROM changed_customers "
            f"UNION SELECT customer_id FROM ({crossing}) AS x"
        )
        splicer.execute(
            "CREATE OR REPLACE TEMP TABLE touched_keys AS SELECT ck FROM customer_keys "
            "WHERE customer_id IN (SELECT customer_id FROM touched)"
        )
        splicer.execute(
            f"CREATE OR REPLACE TEMP TABLE touched_lines AS {pipeline.touched_lines_sql()}"
        )

    def _splice(self, splicer: Splicer) -> None:
        """Replace the touched customers' rows in every stored per-customer table."""
        for table in pipeline.spliced_tables(self._batches, self._plans):
            key = "customer_id IN (SELECT customer_id FROM touched)" if table == "customer_keys" \
                else "ck IN (SELECT ck FROM touched_keys)"  # fmt: skip
            splicer.execute(f"DELETE FROM {table} WHERE {key}")
            splicer.execute(f"INSERT INTO {table} SELECT * FROM {table}_delta")

    def _recompute(self, as_of: date) -> None:
        dimensions = [d for b in self._batches for d in b.dimensions if d != "all"]
        plans = self._plans
        self.__init__(self.executor, self.settings, as_of, self.rates_for)  # type: ignore[misc]
        self._restore(plans, dimensions)

    # -- tables --------------------------------------------------------------------------------
    def bridge(self, by: str | None = None) -> pa.Table:
        d = self._ensure(by or "all")
        cols = "" if by is None else f"'{d}' AS dimension, segment, "
        rest = (
            "p, period_end, start_mrr, new, reactivation, expansion, contraction, churn, fx, "
            "end_mrr, customers_start, customers_end, new_customers, reactivated_customers, "
            "churned_customers, involuntary_churn"
        )
        return self.executor.query(f"SELECT {cols}{rest} FROM bridge_{d} ORDER BY segment, p")

    def retention(self, window: int = 1, by: str | None = None) -> pa.Table:
        d = self._ensure(by or "all")
        if self.frame is None or window not in self.frame.windows:
            raise ValueError(f"window must be one of {self.frame.windows if self.frame else ()}")
        cols = "" if by is None else f"'{d}' AS dimension, segment, "
        rest = (
            "p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, "
            "churn, customers_start, customers_retained"
        )
        return self.executor.query(
            f"SELECT {cols}{rest} FROM retention_{d}_{window} ORDER BY segment, p"
        )

    def movements(
        self, p: int | None = None, movement: str | None = None, customer_id: str | None = None
    ) -> pa.Table:
        if p is not None and customer_id is None:  # a drill-down: the period's, kept a while
            import pyarrow.compute as pc

            _filters(p, movement)  # the same error for an unknown movement, before any query
            found = self._recent.get(("movements", p), lambda: self._movements(p, None, None))
            return found if movement is None else found.filter(pc.field("movement") == movement)
        return self._movements(p, movement, customer_id)

    def _movements(self, p: int | None, movement: str | None, customer_id: str | None) -> pa.Table:
        where, params = _filters(p, movement, customer_id)
        return self.executor.query(
            "SELECT customer_id, p, movement, amount, mrr_before, mrr_after, churn_reason "
            f"FROM named_movements {where} ORDER BY p, movement, customer_id",
            params,
        )

    def cohorts(self) -> pa.Table:
        return self.executor.query(
            "SELECT cohort, age, customers_start, mrr_start, customers, mrr FROM cohorts "
            "ORDER BY cohort, age"
        )

    def customer_mrr(self, p: int) -> pa.Table:
        """Each paying customer's MRR in period ``p`` (reporting currency, that period's rate)."""
        self._ensure_plans()
        return self._recent.get(("mrr", p), lambda: self._customer_mrr(p))

    def _customer_mrr(self, p: int) -> pa.Table:
        return self.executor.query(
            "SELECT s.customer_id, s.currency, s.mrr_native, "
            "CAST(round(s.mrr_native * r.rate) AS BIGINT) AS mrr, s.plan "
            "FROM named_stretches s JOIN rates r ON r.currency = s.currency AND r.p = ? "
            "WHERE s.p_from <= ? AND ? < s.p_to AND s.mrr_native > 0 "
            "ORDER BY mrr DESC, customer_id",
            [p, p, p],
        )

    def customer_timeline(self, customer_id: str) -> pa.Table:
        """One customer's MRR in every period (reporting currency at each period's rate)."""
        self._ensure_plans()
        return self.executor.query(
            "SELECT ps.p, ps.period_end, s.currency, s.mrr_native, "
            "CAST(round(s.mrr_native * r.rate) AS BIGINT) AS mrr, s.plan "
            "FROM named_stretches s JOIN periods ps ON s.p_from <= ps.p AND ps.p < s.p_to "
            "JOIN rates r ON r.currency = s.currency AND r.p = ps.p "
            "WHERE s.customer_id = ? ORDER BY ps.p",
            [customer_id],
        )

    def customer_list(
        self,
        *,
        search: str | None = None,
        sort: str = "mrr",
        descending: bool = True,
        limit: int = 100,
        offset: int = 0,
        by: str | None = None,
        segment: str | None = None,
    ) -> pa.Table:
        """Every customer with its name, MRR in the last period, plan and last movement;
        ``search`` in id and name; ``by`` and ``segment``: only that segment's customers (the
        segment each is in at the last period)."""
        self._ensure_plans()
        order = CUSTOMER_SORTS.get(sort)
        if order is None:
            raise ValueError(f"sort must be one of {', '.join(CUSTOMER_SORTS)}")
        direction = "DESC" if descending else "ASC"
        params: dict[str, object] = {"p": self.last_period, "limit": int(limit),
                                     "offset": int(offset)}  # fmt: skip
        where, joined = ["s.p_from <= $p AND $p < s.p_to"], ""
        if search:
            where.append("(k.customer_id ILIKE $q OR n.name ILIKE $q)")
            params["q"] = "%" + search.replace("%", "").replace("_", "") + "%"
        if by is not None and segment is not None:
            joined = f"JOIN seg_{self._ensure(by)} g ON g.ck = s.ck AND g.p_from = s.p_from"
            where.append("g.seg = $segment")
            params["segment"] = segment
        plan, plan_join = plan_name_sql("s", joined_keys="k")
        return self.executor.query(
            f"""
WITH last AS (
  SELECT ck, arg_max(movement, p) AS last_movement, max(p) AS last_movement_p
  FROM movements GROUP BY ck
), names AS ({NAMES})
SELECT k.customer_id, n.name, k.currency,
       CASE WHEN s.mrr_native > 0 THEN CAST(round(s.mrr_native * r.rate) AS BIGINT) ELSE 0 END
         AS mrr,
       {plan} AS plan, l.last_movement, l.last_movement_p
FROM stretches s
JOIN customer_keys k ON k.ck = s.ck
JOIN rates r ON r.cur = s.cur AND r.p = $p
{plan_join}
LEFT JOIN last l ON l.ck = s.ck
LEFT JOIN names n ON n.customer_id = k.customer_id
{joined}
WHERE {" AND ".join(where)}
ORDER BY {order} {direction}, k.customer_id
LIMIT $limit OFFSET $offset""",
            params,
        )

    def at_risk(self, customer_id: str | None = None) -> pa.Table:
        """Paying customers with a pending cancellation, a payment past due or a recent downgrade
        (``nrr.core.risk``), with their names and plans; most MRR at risk first. ``customer_id``:
        that customer's row only (none when it is not at risk)."""
        assert self.frame is not None
        self._ensure_plans()
        only = "" if customer_id is None else "WHERE r.customer_id = ?"
        plan, plan_join = plan_name_sql("r")
        return self.executor.query(
            f"""
WITH risk AS ({at_risk_sql(self.frame)}
), names AS ({NAMES})
SELECT r.customer_id, n.name, {plan} AS plan, r.currency, r.mrr, r.mrr_at_risk, r.cancels_on,
       r.past_due_since, r.lapses_on, r.downgraded
FROM risk r LEFT JOIN names n ON n.customer_id = r.customer_id
{plan_join}
{only}
ORDER BY r.mrr_at_risk DESC, r.mrr DESC, r.customer_id""",
            None if customer_id is None else [customer_id],
        )

    def bridge_segment_of(self, by: str, p: int) -> pa.Table:
        """The segment whose bridge counts each customer in period ``p``: where it was at p - 1
        if it paid then, else where it is at p."""
        d = self._ensure(by)
        return self._recent.get(
            ("segment_of", d, p),
            lambda: self.executor.query(
                "SELECT k.customer_id, CASE WHEN s.p_from = ? AND s.prev_native > 0 "
                f"THEN s.prev_seg ELSE s.seg END AS segment FROM seg_{d} s "
                "JOIN customer_keys k ON k.ck = s.ck WHERE s.p_from <= ? AND ? < s.p_to",
                [p, p, p],
            ),
        )

    def window_customers(self, p: int, window: int, by: str | None = None) -> pa.Table:
        """The cohort of the window ending at ``p``: each customer's MRR at t0 and t1 (t0 rates)."""
        d = self._ensure(by or "all")
        t0 = p - window
        return self.executor.query(
            f"""
SELECT k.customer_id, s0.seg AS segment,
       CAST(round(s0.mrr_native * r.rate) AS BIGINT) AS mrr_start,
       CAST(round(coalesce(s1.mrr_native, 0) * r.rate) AS BIGINT) AS mrr_end
FROM seg_{d} s0
JOIN customer_keys k ON k.ck = s0.ck
JOIN rates r ON r.cur = s0.cur AND r.p = ?
LEFT JOIN seg_{d} s1 ON s1.ck = s0.ck AND s1.p_from <= ? AND ? < s1.p_to
WHERE s0.p_from <= ? AND ? < s0.p_to AND s0.mrr_native > 0
ORDER BY k.customer_id""",
            [t0, p, p, t0, t0],
        )


def _filters(
    p: int | None, movement: str | None, customer_id: str | None = None
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if customer_id is not None:
        clauses.append("customer_id = ?")
        params.append(customer_id)
    if p is not None:
        clauses.append("p = ?")
        params.append(p)
    if movement is not None:
        if movement not in MOVEMENTS:
            raise ValueError(f"movement must be one of {', '.join(MOVEMENTS)}")
        clauses.append("movement = ?")
        params.append(movement)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
