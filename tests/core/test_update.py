"""An update (new month of data, changed customers) gives exactly the figures of a full recompute.

Each case computes a random company as of one day, changes the lines of some customers the way a
new month of billing does (new lines, ended lines, corrected history, a customer deleted, new
customers, a changed attribute), updates the results to the next period's end and compares every
table with a recompute from scratch.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, cast

import pyarrow as pa
import pytest

from factories import attributes_table, line, lines_table, rates_table
from nrr.api import compute_frames
from nrr.core.periods import index_of
from nrr.engines.results import Results
from nrr.schema import Settings

A, B = date(2025, 11, 30), date(2025, 12, 31)
DIMENSIONS = ("plan", "size", "country")
MONTHS = range(index_of(date(2023, 1, 1), "month"), index_of(B, "month") + 1)
RATES = [
    (c, p, r)
    for p in MONTHS
    for c, r in (("CHF", f"1.0{p % 7}"), ("USD", f"0.9{p % 5}"), ("JPY", "0.0061"))
]


def _company(seed: int) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    attrs = []
    for c in range(60):
        customer = f"c{c:02d}"
        currency = rng.choice(["EUR", "EUR", "CHF", "USD", "JPY"])
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(650))
        for _ in range(rng.randrange(1, 4)):
            end = start + timedelta(days=rng.randrange(20, 500)) if rng.random() < 0.5 else None
            mrr = rng.choice([900, 2900, 9900, 29900, 120000])
            rows.append(line(customer, start, end, mrr, currency=currency,
                             plan=rng.choice(["A", "B", "C"])))  # fmt: skip
            if rng.random() < 0.2:
                discount = line(customer, start, end, -mrr // 10, currency=currency,
                                kind="discount", discount_duration="forever", plan=None)
                rows.append(discount)
            if end is None:
                break
            start = end + timedelta(days=rng.choice([0, 0, 45]))
        attrs.append((customer, "country", rng.choice(["DE", "AT", "CH"])))
    _usage_and_arrears(rows, random.Random(seed + 7))
    return rows, attrs


def _usage_and_arrears(rows: list[dict[str, Any]], rng: random.Random) -> None:
    """Metered usage for some customers and payments overdue for others (only the settings that
    count them see them); some grace periods run out between the two as-of days."""
    for r in [r for r in rows if r["end_date"] is None and r["kind"] == "recurring"]:
        if rng.random() < 0.15:
            month = date(2025, rng.randrange(6, 12), 1)
            rows.append(line(r["customer_id"], month, month + timedelta(days=30), 4200,
                             currency=r["currency"], kind="metered", plan=None))  # fmt: skip
        elif rng.random() < 0.15:
            r["past_due_since"] = date(2025, 11, 1) + timedelta(days=rng.randrange(40))


def _next_month(rows: list[dict[str, Any]], attrs: list[tuple[str, str, str]], seed: int) -> tuple[
    list[dict[str, Any]], list[tuple[str, str, str]], set[str]
]:  # fmt: skip
    """December's changes: which customers the import would report as changed."""
    rng = random.Random(seed + 1000)
    rows = [dict(r) for r in rows]
    customers = sorted({r["customer_id"] for r in rows})
    changed: set[str] = set()
    for customer in rng.sample(customers, 12):
        mine = [r for r in rows if r["customer_id"] == customer]
        action = rng.choice(["end", "expand", "correct", "delete"])
        changed.add(customer)
        if action == "end":
            for r in mine:
                if r["end_date"] is None:
                    r["end_date"] = date(2025, 12, rng.randrange(1, 29))
        elif action == "expand":
            rows.append(line(customer, date(2025, 12, 1), None, 5000,
                             currency=mine[0]["currency"], plan="D"))  # fmt: skip
        elif action == "correct":  # an old line billed at another amount
            mine[0]["mrr_minor"] = mine[0]["mrr_minor"] + 700
            mine[0]["line_id"] += "-fixed"
        else:
            rows = [r for r in rows if r["customer_id"] != customer]
    for n in range(4):
        customer = f"new{n}"
        rows.append(line(customer, date(2025, 12, 1 + n), None, 1900 + n,
                         currency=rng.choice(["EUR", "CHF"]), plan="A"))  # fmt: skip
        changed.add(customer)
    moved = customers[seed % len(customers)]
    attrs = [(c, k, "FR" if c == moved else v) for c, k, v in attrs]
    changed.add(moved)
    return rows, attrs, changed


def _tables(res: Results) -> dict[str, Any]:
    out: dict[str, Any] = {"cohorts": res.cohorts().to_pylist(),
                           "movements": res.movements().to_pylist(),
                           "customers": res.customer_list(limit=1000).to_pylist(),
                           "mrr": res.customer_mrr(res.last_period).to_pylist(),
                           "new": res.movements(res.last_period, "new").to_pylist()}  # fmt: skip
    segment_of = res.bridge_segment_of("country", res.last_period).to_pylist()
    out["segment of"] = sorted(segment_of, key=lambda r: str(r["customer_id"]))
    for by in (None, *DIMENSIONS):
        out[f"bridge {by}"] = res.bridge(by).to_pylist()
        for window in res.frame.windows if res.frame else ():
            out[f"retention {window} {by}"] = res.retention(window, by).to_pylist()
    return out


def _frames(rows: list[dict[str, Any]], attrs: list[tuple[str, str, str]]) -> tuple[pa.Table, ...]:
    return lines_table([dict(r) for r in rows]), attributes_table(attrs)


SETTINGS = {
    "defaults": Settings(),
    "requested": Settings(churn_timing="requested", discounts="all"),
    "service_start": Settings(fx_date="service_start"),
    "quarter": Settings(period="quarter"),
    "grace_metered": Settings(past_due_grace_days=14, metered="trailing_average"),
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
@pytest.mark.parametrize("seed", range(4))
def test_update_equals_a_full_recompute(seed: int, name: str) -> None:
    settings = SETTINGS[name]
    a, b = (A, B) if settings.period == "month" else (date(2025, 9, 30), B)
    rows, attrs = _company(seed)
    rates = rates_table(RATES)
    lines, attributes = _frames(rows, attrs)
    res = compute_frames(lines, as_of=a, settings=settings, attributes=attributes, rates=rates)
    res.prepare(("all", *DIMENSIONS))
    res.customer_list()  # plans too
    pb = index_of(b, settings.period)  # drill-downs asked before: the update must forget them
    res.bridge_segment_of("country", pb), res.movements(pb), res.customer_mrr(pb)

    rows2, attrs2, changed = _next_month(rows, attrs, seed)
    lines2, attributes2 = _frames(rows2, attrs2)
    res.executor.register("revenue_lines", lines2)
    res.executor.register("customer_attributes", attributes2)
    assert res.update(b, changed) is True

    fresh = compute_frames(lines2, as_of=b, settings=settings, attributes=attributes2, rates=rates)
    assert _tables(res) == _tables(fresh)


@pytest.mark.parametrize("seed", range(3))
def test_plans_ranked_after_an_update_read_the_spliced_lines(seed: int) -> None:
    """Before the plans are ranked an update splices the stored lines (ranking frees them), so
    plans asked for afterwards see the touched customers' new lines."""
    res, fresh, updated = _updated_and_fresh(seed, before=("all", "size"))
    assert updated is True
    assert _tables(res) == _tables(fresh)


def test_an_earlier_first_period_recomputes_everything() -> None:
    rows, attrs = _company(1)
    rates = rates_table(RATES)
    lines, attributes = _frames(rows, attrs)
    res = compute_frames(lines, as_of=A, attributes=attributes, rates=rates)
    res.prepare(("all", "plan"))
    rows.append(line("old", date(2023, 6, 1), None, 1000))
    lines2, attributes2 = _frames(rows, attrs)
    res.executor.register("revenue_lines", lines2)
    assert res.update(B, {"old"}) is False
    fresh = compute_frames(lines2, as_of=B, attributes=attributes2, rates=rates)
    assert res.bridge("plan").to_pylist() == fresh.bridge("plan").to_pylist()
    assert res.bridge().to_pylist() == fresh.bridge().to_pylist()


def test_unchanged_data_and_day_change_nothing() -> None:
    rows, attrs = _company(2)
    lines, attributes = _frames(rows, attrs)
    res = compute_frames(lines, as_of=B, attributes=attributes, rates=rates_table(RATES))
    res.prepare(("all", *DIMENSIONS))
    before = _tables(res)
    assert res.update(B, set()) is True
    assert _tables(res) == before


def test_a_second_computation_on_one_connection_replaces_the_first() -> None:
    """Stage tables are temporary and named the same each time: a later computation on the same
    connection (as a fallback to a full recompute does) must replace them whatever their kind."""
    rows, attrs = _company(3)
    lines, attributes = _frames(rows, attrs)
    res = compute_frames(lines, as_of=B, attributes=attributes, rates=rates_table(RATES))
    res.prepare(("all", *DIMENSIONS))  # one batch: its segment rows are a table
    again = Results(res.executor, res.settings, B, res.rates_for)
    assert again.bridge().to_pylist() == res.bridge().to_pylist()  # the company alone: a view


def _length_keys(column: str) -> str:
    return f"CAST(length({column}) AS BIGINT)"  # every id of one length shares a key


def _new_like_old_keys(column: str) -> str:
    return f"CAST(hash(replace({column}, 'new', 'c0')) >> 1 AS BIGINT)"  # new0 takes c00's key


def _updated_and_fresh(
    seed: int, before: tuple[str, ...] = ("all", *DIMENSIONS)
) -> tuple[Results, Results, bool]:
    """Results computed as of A for the dimensions ``before`` (and the plans, if "plan" is among
    them), updated to B after the next month's rows, beside a fresh computation as of B."""
    rows, attrs = _company(seed)
    rates = rates_table(RATES)
    lines, attributes = _frames(rows, attrs)
    res = compute_frames(lines, as_of=A, attributes=attributes, rates=rates)
    res.prepare(before)
    if "plan" in before:
        res.customer_list()
    rows2, attrs2, changed = _next_month(rows, attrs, seed)
    lines2, attributes2 = _frames(rows2, attrs2)
    res.executor.register("revenue_lines", lines2)
    res.executor.register("customer_attributes", attributes2)
    updated = res.update(B, changed)
    fresh = compute_frames(lines2, as_of=B, attributes=attributes2, rates=rates)
    return res, fresh, updated


def test_ids_sharing_a_key_are_numbered_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are hashes of the ids; where two ids share one, the ids are numbered in order, with
    the same figures, and updates keep working on the numbered keys."""
    rows, attrs = _company(0)
    lines, attributes = _frames(rows, attrs)
    rates = rates_table(RATES)
    hashed = compute_frames(lines, as_of=A, attributes=attributes, rates=rates)
    expected = _tables(hashed)
    assert hashed.frame is not None and hashed.frame.hashed_keys
    monkeypatch.setattr("nrr.core.customers.key_sql", _length_keys)
    numbered = compute_frames(lines, as_of=A, attributes=attributes, rates=rates)
    assert numbered.frame is not None and not numbered.frame.hashed_keys
    assert _tables(numbered) == expected
    res, fresh, updated = _updated_and_fresh(0)
    assert updated is True and res.frame is not None and not res.frame.hashed_keys
    assert _tables(res) == _tables(fresh)


def test_a_new_id_sharing_a_stored_key_recomputes_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("nrr.core.customers.key_sql", _new_like_old_keys)
    res, fresh, updated = _updated_and_fresh(1)
    assert updated is False
    assert res.frame is not None and not res.frame.hashed_keys
    assert _tables(res) == _tables(fresh)


def test_an_update_reads_the_rates_on_its_own_as_of_day() -> None:
    """With the bundled ECB rates, the new current period's rate is read on the new as-of day,
    as a full recompute on that day reads it."""
    rows = [line("ch", date(2024, 1, 1), None, 10000, currency="CHF"),
            line("us", date(2024, 2, 1), None, 20000, currency="USD"),
            line("eu", date(2024, 3, 1), None, 30000)]  # fmt: skip
    a, b = date(2024, 5, 31), date(2024, 6, 20)
    res = compute_frames(lines_table(rows), as_of=a)
    res.prepare(("all",))
    assert res.update(b, set()) is True
    fresh = compute_frames(lines_table(rows), as_of=b)
    assert res.bridge().to_pylist() == fresh.bridge().to_pylist()


def test_two_segment_names_sharing_a_code_stop_the_computation() -> None:
    rows, attrs = _company(0)
    lines, attributes = _frames(rows, attrs)
    res = compute_frames(lines, as_of=A, attributes=attributes, rates=rates_table(RATES))
    res.prepare(("plan", "country"))
    con = cast(Any, res.executor).con
    labels = res.batch_of("country").table("labels")
    for table, dim in (("plan_labels", "plan"), (labels, "country")):
        code = con.execute(f"SELECT code FROM {table} WHERE dim = '{dim}' LIMIT 1").fetchone()[0]
        con.execute(f"INSERT INTO {table} VALUES ('{dim}', {code}, 'zz-impostor')")
        with pytest.raises(ValueError, match=f"the {dim} segments .* share an internal code"):
            res._check_codes(res._batches)
        con.execute(f"DELETE FROM {table} WHERE label = 'zz-impostor'")
    res._check_codes(res._batches)


def _ghost_takes_c00s_key(column: str) -> str:
    return f"CAST(hash(CASE WHEN {column} = 'ghost' THEN 'c00' ELSE {column} END) >> 1 AS BIGINT)"


def test_an_attribute_only_id_sharing_a_key_is_numbered_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An id with attributes but no lines ('ghost') whose hash is a billed customer's would
    repeat that customer's stretches under its own country: the ids are numbered instead."""
    rows, attrs = _company(0)
    attrs.append(("ghost", "country", "FR"))
    lines, attributes = _frames(rows, attrs)
    rates = rates_table(RATES)
    hashed = compute_frames(lines, as_of=A, attributes=attributes, rates=rates)
    hashed.prepare(("all", *DIMENSIONS))
    expected = _tables(hashed)
    monkeypatch.setattr("nrr.core.contributions.key_sql", _ghost_takes_c00s_key)
    shared = compute_frames(lines, as_of=A, attributes=attributes, rates=rates)
    shared.customer_list()
    shared.prepare(("all", *DIMENSIONS))
    assert shared.frame is not None and not shared.frame.hashed_keys
    assert _tables(shared) == expected
    assert "FR" not in {r["segment"] for r in shared.bridge("country").to_pylist()}


def test_two_values_of_one_attribute_count_the_customer_once() -> None:
    """A customer's country from two sources (or twice from one): the larger value counts, the
    customer's stretches once, as when each customer has one value."""
    rows, attrs = _company(0)
    lines, attributes = _frames(rows, attrs)
    rates = rates_table(RATES)
    expected = _tables(compute_frames(lines, as_of=A, attributes=attributes, rates=rates))
    # c00's country again, under a value that sorts first (so the larger one still wins)
    c00 = next(v for c, k, v in attrs if c == "c00")
    again = attributes_table([("c00", "country", "AA")])
    for source in ("stripe", "test"):  # two sources; one source giving it twice
        extra = again.set_column(3, "source", pa.array([source]))
        both = pa.concat_tables([attributes, extra])
        res = compute_frames(lines, as_of=A, attributes=both, rates=rates)
        assert _tables(res) == expected, source
        assert res.frame is not None and res.frame.one_source_attributes == (source == "test")
        assert c00 in {r["segment"] for r in res.bridge("country").to_pylist()}
