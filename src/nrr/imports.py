"""Import a billing export into a workspace: all or nothing, repeatable, every row traceable.

``import_file`` reads the file once, streaming: each row is converted to canonical revenue lines
(``nrr.normalise``) and written with its raw payload to a private staging database on disk, so
memory stays bounded however long the file is. The pre-flight checks then run on the staging
tables. Only when no check blocks does the workspace change, in one ``replace_source`` transaction
that swaps what this source brought before for the new rows. docs/importing.md has every rule.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nrr.money import KNOWN_CURRENCIES, format_money
from nrr.normalise import (
    CellProblem,
    ReadOptions,
    RowResult,
    add_months,
    invoice_row,
    parse_interval,
    subscription_row,
)
from nrr.sources.files import FileProblem, Row, content_hash, open_table
from nrr.sources.mapping import ColumnPlan, MappingProblem, MappingSpec, plan_columns

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from nrr.store import Workspace

MAX_SHOWN = 20  # problems listed in full; the rest are counted
# Part of every import's fingerprint: raise it when a conversion rule changes, so that importing
# an unchanged file again after an upgrade re-converts it instead of keeping the old lines.
RULES_VERSION = 1


@dataclass(frozen=True)
class Problem:
    """One error or warning, located as a spreadsheet user would look for it."""

    message: str
    file: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "column": self.column,
                "message": self.message}


@dataclass
class ProblemList:
    """Keeps the first MAX_SHOWN problems and counts all of them."""

    shown: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.shown) < MAX_SHOWN:
            self.shown.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.add(problem)

    def extend_counted(self, found: tuple[list[Problem], int]) -> None:
        """The first problems of a check and how many it found in all."""
        problems, total = found
        self.extend(problems)
        self.count += total - len(problems)


@dataclass
class ImportReport:
    """What an import did (or would have done): counts, warnings and blocking errors."""

    file: str
    source: str
    shape: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # role -> header used
    attributes: list[str] = field(default_factory=list)  # customer attribute keys
    rows: int = 0
    lines: int = 0
    discount_lines: int = 0
    skipped_rows: dict[str, int] = field(default_factory=dict)  # reason -> rows without MRR
    customers: int = 0
    import_id: int | None = None
    unchanged: bool = False  # the same file with the same mapping was the last import
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "source": self.source, "shape": self.shape, "ok": self.ok,
            "unchanged": self.unchanged, "import_id": self.import_id, "rows": self.rows,
            "lines": self.lines, "discount_lines": self.discount_lines,
            "customers": self.customers, "skipped_rows": self.skipped_rows,
            "columns": self.columns, "attributes": self.attributes,
            "error_count": self.error_count, "errors": [p.to_dict() for p in self.errors],
            "warning_count": self.warning_count,
            "warnings": [p.to_dict() for p in self.warnings],
        }


class ImportFailed(Exception):
    """A blocking problem: nothing was stored. ``report`` lists the errors (at most 20 shown)."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        lines = [str(p) for p in report.errors]
        more = report.error_count - len(report.errors)
        if more > 0:
            lines.append(f"... and {more} more error(s)")
        super().__init__("\n".join(lines))


def source_key(path: str | Path, source: str | None = None) -> str:
    """The source an import replaces: ``file:<file name>``, or ``file:<name>`` given --source."""
    name = source if source is not None else Path(path).name
    return name if name.startswith("file:") else f"file:{name}"


def import_file(
    workspace: Workspace,
    path: str | Path,
    *,
    shape: str | None = None,
    mapping: MappingSpec | None = None,
    source: str | None = None,
    sheet: str | None = None,
    as_of: date | None = None,
    currencies: Iterable[str] = (),
    imported_at: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one billing export into ``workspace``, replacing what its source brought before.

    ``as_of`` (for the future-date warning) and ``currencies`` (extra codes a rates file defines)
    come from the caller; nothing here reads the clock except ``imported_at``'s default.
    ``on_progress`` is called with the number of rows read so far, every 50,000 rows.
    Raises :class:`ImportFailed` (nothing stored) when a pre-flight check blocks.
    """
    file = Path(path)
    key = source_key(file, source)
    spec = mapping or MappingSpec()
    if shape is not None:
        spec = replace(spec, shape=shape)
    report = ImportReport(file=file.name, source=key)
    table = None
    try:
        table = open_table(file, sheet=sheet)
        plan = plan_columns(table.headers, spec, file.name)
        options = _read_options(spec, currencies)
    except (FileProblem, MappingProblem) as exc:
        if table is not None:
            _close(table.rows)
        message = str(exc).removeprefix(f"{file.name}: ")
        report.errors, report.error_count = [Problem(message, file.name)], 1
        raise ImportFailed(report) from None
    report.shape, report.columns = plan.shape, plan.describe()
    report.attributes = [name for _, name in plan.attributes]
    fingerprint = _fingerprint(file, spec, plan, sheet)
    if _last_fingerprint(workspace, key) == fingerprint:
        _close(table.rows)
        return _unchanged(workspace, report)
    # DuckDB draws its progress bar on stdout, which would corrupt `nrr import --json`; the import
    # reports progress through on_progress instead.
    workspace.con.execute("SET enable_progress_bar = false").fetchall()
    with tempfile.TemporaryDirectory(prefix="nrr-import-") as tmp:
        staging = _Staging(Path(tmp), key, file.name if source is None else key[5:])
        try:
            try:
                _convert(table.rows, plan, options, staging, report, on_progress)
            except FileProblem as exc:  # the file broke off in the middle
                report.errors = [Problem(str(exc).removeprefix(f"{file.name}: "), file.name)]
                report.error_count = 1
                raise ImportFailed(report) from None
            _preflight(staging, plan, spec, as_of, report)
            if not report.ok:
                raise ImportFailed(report)
            _store(workspace, staging, report, fingerprint, file.name,
                   imported_at or datetime.now(UTC).replace(tzinfo=None))
        finally:
            staging.close()
    workspace.publish_snapshot()
    return report


# -- reading and converting -----------------------------------------------------------------------

def _read_options(spec: MappingSpec, currencies: Iterable[str]) -> ReadOptions:
    known = KNOWN_CURRENCIES | {c.strip().upper() for c in currencies}
    default_currency = spec.currency.strip().upper() if spec.currency else None
    if default_currency is not None and default_currency not in known:
        raise MappingProblem(f"--currency {spec.currency!r} is not a known ISO 4217 code")
    return ReadOptions(
        currencies=frozenset(known),
        day_first=spec.date_order == "DMY",
        decimal_comma=None if spec.decimal is None else spec.decimal == ",",
        amounts_in_minor=spec.amounts_in == "minor",
        default_currency=default_currency,
        default_interval=parse_interval(spec.interval) if spec.interval else ("month", 1),
        end_inclusive=spec.end_inclusive,
    )


def _convert(rows: Iterable[Row], plan: ColumnPlan, options: ReadOptions, staging: _Staging,
             report: ImportReport, on_progress: Callable[[int], None] | None) -> None:
    convert = subscription_row if plan.shape == "subscriptions" else invoice_row
    roles = list(plan.index.items())
    name_at = plan.index.get("customer_name")
    errors = ProblemList()
    for number, cells, payload in rows:
        report.rows += 1
        if on_progress is not None and report.rows % _FLUSH_ROWS == 0:
            on_progress(report.rows)
        fields = {role: cells[i] for role, i in roles}
        try:
            result = convert(fields, options)
        except CellProblem as exc:
            errors.add(Problem(exc.message, report.file, number, plan.header(exc.role)))
            staging.add_raw(number, None, fields.get("customer"), None, None, payload)
            continue
        staging.add(number, result, None if name_at is None else cells[name_at], cells,
                    payload, plan.attributes)
        if result.skipped is not None:
            report.skipped_rows[result.skipped] = report.skipped_rows.get(result.skipped, 0) + 1
    staging.flush()
    report.errors, report.error_count = errors.shown, errors.count


# -- staging --------------------------------------------------------------------------------------

_LINE_COLUMNS = (
    ("row", "INTEGER"), ("suffix", "VARCHAR"), ("customer_id", "VARCHAR"),
    ("start_date", "DATE"), ("end_date", "DATE"), ("mrr_minor", "BIGINT"), ("currency", "VARCHAR"),
    ("kind", "VARCHAR"), ("discount_duration", "VARCHAR"), ("plan", "VARCHAR"),
    ("quantity", "BIGINT"), ("cancel_requested_date", "DATE"), ("past_due_since", "DATE"),
    ("churn_reason", "VARCHAR"),
)
_RAW_COLUMNS = (("row", "INTEGER"), ("event_date", "DATE"), ("customer", "VARCHAR"),
                ("customer_name", "VARCHAR"), ("currency", "VARCHAR"), ("payload", "VARCHAR"))
_ATTR_COLUMNS = (("row", "INTEGER"), ("customer", "VARCHAR"), ("key", "VARCHAR"),
                 ("value", "VARCHAR"))
_FLUSH_ROWS = 50_000


class _Staging:
    """A private DuckDB file the converted rows land in before any check has passed."""

    def __init__(self, folder: Path, source: str, ref_name: str) -> None:
        import duckdb

        self.path = folder / "staging.duckdb"
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(str(self.path))
        self.con.execute("SET memory_limit = '256MB'").fetchall()
        self.con.execute("SET enable_progress_bar = false").fetchall()
        self.con.execute(f"SET temp_directory = '{_sql_text(str(folder / 'spill'))}'").fetchall()
        for name, columns in (("lines", _LINE_COLUMNS), ("raw", _RAW_COLUMNS),
                              ("attrs", _ATTR_COLUMNS)):
            cols = ", ".join(f"{c} {t}" for c, t in columns)
            self.con.execute(f"CREATE TABLE {name} ({cols})").fetchall()
        self.source, self.ref_name = source, ref_name
        self._lines: list[tuple[Any, ...]] = []
        self._raw: list[tuple[Any, ...]] = []
        self._attrs: list[tuple[Any, ...]] = []

    def close(self) -> None:
        self.con.close()

    def add(self, row: int, result: RowResult, name: str | None, cells: Sequence[str | None],
            payload: str, attributes: tuple[tuple[int, str], ...]) -> None:
        for line in result.lines:  # Line's fields are in _LINE_COLUMNS order after "row"
            self._lines.append((row, *line))
        for position, key in attributes:
            if cells[position] is not None:
                self._attrs.append((row, result.customer_id, key, cells[position]))
        self.add_raw(row, result.event_date, result.customer_id, name, result.currency, payload)

    def add_raw(self, row: int, event: date | None, customer: str | None, name: str | None,
                currency: str | None, payload: str) -> None:
        self._raw.append((row, event, customer, name, currency, payload))
        if len(self._raw) >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for name, rows, columns in (("lines", self._lines, _LINE_COLUMNS),
                                    ("raw", self._raw, _RAW_COLUMNS),
                                    ("attrs", self._attrs, _ATTR_COLUMNS)):
            if rows:
                self.con.register("_batch", _arrow(rows, columns))
                self.con.execute(f"INSERT INTO {name} SELECT * FROM _batch").fetchall()
                self.con.unregister("_batch")
                rows.clear()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def first(self, sql: str, order: str, params: list[Any] | None = None
              ) -> tuple[list[tuple[Any, ...]], int]:
        """The first MAX_SHOWN rows of a check's query in ``order``, and how many it has."""
        rows = self.query(f"SELECT *, count(*) OVER () FROM ({sql}) ORDER BY {order} "
                          f"LIMIT {MAX_SHOWN}", params)
        return [row[:-1] for row in rows], (int(rows[0][-1]) if rows else 0)

    def arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=params or []).to_arrow_table()


def _arrow(rows: list[tuple[Any, ...]], columns: tuple[tuple[str, str], ...]) -> pa.Table:
    import pyarrow as pa

    types = {"INTEGER": pa.int32(), "BIGINT": pa.int64(), "DATE": pa.date32(),
             "VARCHAR": pa.string()}
    schema = pa.schema([(name, types[typ]) for name, typ in columns])
    return pa.table([pa.array(col, type=schema.field(i).type) for i, col in
                     enumerate(zip(*rows, strict=True))], schema=schema)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _close(rows: Any) -> None:
    close = getattr(rows, "close", None)
    if close is not None:
        close()


# -- pre-flight checks on the staged rows ---------------------------------------------------------

def _preflight(staging: _Staging, plan: ColumnPlan, spec: MappingSpec, as_of: date | None,
               report: ImportReport) -> None:
    errors = ProblemList(list(report.errors), report.error_count)
    if report.rows == 0:
        errors.add(Problem("there are no rows below the header; export the data again (an empty "
                           "file would remove what this source brought before)", report.file))
    errors.extend_counted(_currency_conflicts(staging, plan, report.file))
    errors.shown.sort(key=lambda p: (p.row or 0))
    report.errors, report.error_count = errors.shown, errors.count
    warnings = ProblemList()
    warnings.extend(_notes(plan, spec, report))
    warnings.extend(_empty_months(staging, plan, report.file))
    warnings.extend_counted(_negative_months(staging, report.file))
    if as_of is not None:
        warnings.extend_counted(_future_dates(staging, plan, as_of, report.file))
    if plan.shape == "subscriptions" or "plan" in plan.index:
        warnings.extend_counted(_overlaps(staging, plan, report.file))
    report.warnings, report.warning_count = warnings.shown, warnings.count


def _currency_conflicts(staging: _Staging, plan: ColumnPlan,
                        file: str) -> tuple[list[Problem], int]:
    rows, total = staging.first("""
        WITH firsts AS (
            SELECT customer, currency, min(row) AS r FROM raw
            WHERE currency IS NOT NULL GROUP BY customer, currency),
        ranked AS (
            SELECT *, row_number() OVER w AS k, first_value(currency) OVER w AS c0,
                   first_value(r) OVER w AS r0
            FROM firsts WINDOW w AS (PARTITION BY customer ORDER BY r))
        SELECT customer, currency, r, c0, r0 FROM ranked WHERE k > 1""", "r")
    column = plan.header("currency") if "currency" in plan.index else None
    return [Problem(f"customer {c!r} is billed in {cur} here but in {c0} in row {r0}; a customer "
                    f"bills in one currency: give the {cur} rows their own customer id "
                    f"(e.g. {c}-{cur})", file, r, column)
            for c, cur, r, c0, r0 in rows], total


def _notes(plan: ColumnPlan, spec: MappingSpec, report: ImportReport) -> list[Problem]:
    notes: list[Problem] = []
    if (plan.shape == "subscriptions" and "interval" not in plan.index
            and "mrr" not in plan.index and spec.interval is None):
        notes.append(Problem("there is no interval column, so every amount is read as a monthly "
                             "price; map the interval column (--interval-col) or set interval "
                             "in a mapping file if that is wrong", report.file))
    for reason, count in sorted(report.skipped_rows.items()):
        if reason != "one_time":
            notes.append(Problem(f"{count} row(s) bring no MRR: {reason}", report.file))
    return notes


def _empty_months(staging: _Staging, plan: ColumnPlan, file: str) -> list[Problem]:
    if plan.shape == "invoices":
        months = staging.query("SELECT DISTINCT date_trunc('month', event_date)::DATE FROM raw "
                               "WHERE event_date IS NOT NULL ORDER BY 1")
        present = [m for (m,) in months]
        gaps = _missing_months(present)
        what = "no invoice dated in"
    else:
        gaps = _uncovered_months(staging)
        what = "no active subscription at all in"
    return [Problem(f"{what} {_month_range(first, last)}; check that the export is complete "
                    "(a month without any billing is unusual)", file) for first, last in gaps]


def _missing_months(present: list[date]) -> list[tuple[date, date]]:
    gaps: list[tuple[date, date]] = []
    for before, after in zip(present, present[1:], strict=False):
        if add_months(before, 1) < after:
            gaps.append((add_months(before, 1), add_months(after, -1)))
    return gaps


def _uncovered_months(staging: _Staging) -> list[tuple[date, date]]:
    """Whole calendar months inside the data's range when no recurring line was active."""
    gaps = staging.query("""
        WITH l AS (
            SELECT start_date AS s, coalesce(end_date, DATE '9999-12-31') AS e FROM lines
            WHERE kind = 'recurring' AND mrr_minor > 0),
        o AS (SELECT s, max(e) OVER (ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING
                                      AND 1 PRECEDING) AS prev_e FROM l)
        SELECT prev_e, s FROM o WHERE prev_e < s ORDER BY s""")
    months: list[tuple[date, date]] = []
    for gap_start, gap_end in gaps:
        first = gap_start if gap_start.day == 1 else add_months(gap_start.replace(day=1), 1)
        last = add_months(gap_end.replace(day=1), -1)
        if first <= last:
            months.append((first, last))
    return months


def _month_range(first: date, last: date) -> str:
    a, b = first.strftime("%Y-%m"), last.strftime("%Y-%m")
    return a if a == b else f"{a} to {b}"


def _negative_months(staging: _Staging, file: str) -> tuple[list[Problem], int]:
    rows, total = staging.first("""
        WITH l AS (SELECT * FROM lines WHERE kind <> 'metered'),
        pts AS (SELECT DISTINCT customer_id, start_date AS d FROM l)
        SELECT p.customer_id, p.d, sum(l.mrr_minor) AS net, any_value(l.currency) AS cur,
               min(l.row) AS r
        FROM pts p JOIN l ON l.customer_id = p.customer_id AND l.start_date <= p.d
             AND (l.end_date IS NULL OR l.end_date > p.d)
        GROUP BY p.customer_id, p.d HAVING sum(l.mrr_minor) < 0""", "r, d")
    return [Problem(f"customer {c!r} has negative net revenue ({format_money(net, cur)} a month) "
                    f"from {d.isoformat()}: credits or discounts exceed its charges; check their "
                    "amounts and service periods", file, row)
            for c, d, net, cur, row in rows], total


def _future_dates(staging: _Staging, plan: ColumnPlan, as_of: date,
                  file: str) -> tuple[list[Problem], int]:
    role = "start" if plan.shape == "subscriptions" else "date"
    rows, total = staging.first("SELECT row, event_date FROM raw WHERE event_date > ?", "row",
                                [as_of])
    return [Problem(f"{d.isoformat()} is after the as-of date {as_of.isoformat()}; it counts "
                    "from that date on (check the year if that is a typo)", file, row,
                    plan.header(role))
            for row, d in rows], total


def _overlaps(staging: _Staging, plan: ColumnPlan, file: str) -> tuple[list[Problem], int]:
    rows, total = staging.first("""
        WITH o AS (
            SELECT row, customer_id, plan, start_date,
                   max(coalesce(end_date, DATE '9999-12-31')) OVER w AS prev_end,
                   arg_max(row, coalesce(end_date, DATE '9999-12-31')) OVER w AS prev_row
            FROM lines WHERE kind = 'recurring' AND mrr_minor > 0
            WINDOW w AS (PARTITION BY customer_id, plan ORDER BY start_date, row
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING))
        SELECT row, customer_id, plan, prev_row FROM o WHERE start_date < prev_end""", "row")
    column = plan.header("start") if plan.shape == "subscriptions" else None
    return [Problem(f"this period of customer {c!r}{_on_plan(p)} overlaps the one in row {prev}; "
                    "both count, so their MRR adds up. If one replaces the other, end the first "
                    "where the second starts", file, row, column)
            for row, c, p, prev in rows], total


def _on_plan(plan: str | None) -> str:
    return f" on plan {plan!r}" if plan else ""


# -- storing --------------------------------------------------------------------------------------

def _fingerprint(file: Path, spec: MappingSpec, plan: ColumnPlan, sheet: str | None) -> str:
    """The file's content plus everything that decides how it is read."""
    how = json.dumps({"mapping": spec.to_dict(), "shape": plan.shape, "sheet": sheet,
                      "rules": RULES_VERSION}, sort_keys=True)
    return hashlib.sha256(f"{content_hash(file)}\n{how}".encode()).hexdigest()


def _last_fingerprint(workspace: Workspace, source: str) -> str | None:
    row = workspace.con.execute(
        "SELECT content_hash FROM imports WHERE source = ? ORDER BY import_id DESC LIMIT 1",
        [source]).fetchone()
    return None if row is None else str(row[0])


def _unchanged(workspace: Workspace, report: ImportReport) -> ImportReport:
    row = workspace.con.execute(
        "SELECT import_id, row_count, line_count FROM imports WHERE source = ? "
        "ORDER BY import_id DESC LIMIT 1", [report.source]).fetchone()
    if row is not None:
        report.import_id, report.rows, report.lines = int(row[0]), int(row[1]), int(row[2])
    report.unchanged = True
    return report


def _store(workspace: Workspace, staging: _Staging, report: ImportReport, fingerprint: str,
           file_name: str, imported_at: datetime) -> None:
    import_id = workspace.next_import_id()
    source, ref = staging.source, _sql_text(staging.ref_name)
    src = _sql_text(source)
    # Canonical columns in canonical order; the store streams them from the staging file.
    queries = {
        "revenue_lines": f"""
        SELECT '{ref}:' || row || suffix AS line_id, '{src}' AS source,
               '{ref}:' || row AS source_ref, customer_id, start_date, end_date, mrr_minor,
               currency, kind, discount_duration, plan, quantity, cancel_requested_date,
               past_due_since, churn_reason
        FROM staged.lines""",
        "customers": f"""
        SELECT customer AS customer_id,
               arg_max(customer_name, row) FILTER (WHERE customer_name IS NOT NULL) AS name,
               '{src}' AS source
        FROM staged.raw WHERE customer IS NOT NULL GROUP BY customer ORDER BY customer""",
        "customer_attributes": f"""
        SELECT customer AS customer_id, key, arg_max(value, row) AS value, '{src}' AS source
        FROM staged.attrs GROUP BY customer, key ORDER BY customer, key""",
        "raw_records": f"""
        SELECT '{src}' AS source, '{ref}:' || row AS source_ref, {import_id} AS import_id,
               payload FROM staged.raw""",
    }
    report.lines = int(staging.query("SELECT count(*) FROM lines")[0][0])
    report.discount_lines = int(staging.query(
        "SELECT count(*) FROM lines WHERE kind = 'discount'")[0][0])
    report.customers = int(staging.query(
        "SELECT count(DISTINCT customer) FROM raw WHERE customer IS NOT NULL")[0][0])
    report.import_id = import_id
    database = staging.path
    staging.close()  # the workspace attaches the file read-only next
    workspace.replace_source_from(source, database, queries=queries, import_row={
        "import_id": import_id, "source": source, "kind": "file",
        "file_name": file_name, "content_hash": fingerprint,
        "row_count": report.rows, "line_count": report.lines,
        "imported_at": imported_at})
