"""Read billing exports (CSV, TSV, XLSX, Parquet) as streamed text rows, numbered like a sheet.

Every cell arrives as text (or ``None`` when empty), exactly as a spreadsheet user would see it, so
the import's rules (not the reader's guesses) decide what a date or an amount is. Row numbers are
counted the way a spreadsheet shows them: the header is row 1, the first record row 2.
CSV, TSV and Parquet are read by DuckDB in batches (bounded memory on files of millions of rows);
XLSX by openpyxl in read-only mode.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

BATCH_ROWS = 50_000
FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".xlsx": "xlsx",
           ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}

# (spreadsheet row number, cells in header order, the row as it came as a JSON object)
Row = tuple[int, Sequence[str | None], str]


class FileProblem(ValueError):
    """The file cannot be read at all; the message names it and says what to do."""


@dataclass
class TableFile:
    """An opened export: its headers and a one-shot stream of its rows."""

    path: Path
    headers: list[str]
    rows: Iterator[Row]


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise FileProblem(
            f"{path.name}: unknown file type {path.suffix or '(none)'!r}; nrr reads "
            ".csv, .tsv, .xlsx and .parquet files (save or rename the export accordingly)"
        )
    return fmt


def open_table(path: str | Path, *, sheet: str | None = None) -> TableFile:
    """Open an export for streaming; raises FileProblem for missing or unreadable files."""
    file = Path(path)
    if not file.is_file():
        raise FileProblem(f"{file.name}: no such file ({file}); check the path")
    fmt = file_format(file)
    if fmt == "xlsx":
        return _open_xlsx(file, sheet)
    if sheet is not None:
        raise FileProblem(f"{file.name}: --sheet only applies to .xlsx files")
    return _open_duckdb(file, fmt)


def content_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# -- CSV, TSV, Parquet through DuckDB ------------------------------------------------------------

def _open_duckdb(file: Path, fmt: str) -> TableFile:
    import duckdb

    con = duckdb.connect(config={"memory_limit": "128MB"})
    # Keep the file's row order, so the n-th record is spreadsheet row n + 1.
    con.execute("SET preserve_insertion_order = true").fetchall()
    con.execute("SET enable_progress_bar = false").fetchall()
    for encoding in ("utf-8", "latin-1"):
        try:
            scan, headers = _scan(con, file, fmt, encoding)
            if fmt != "parquet":
                # Prove the whole file decodes and every row has the header's fields, before
                # a single row is used.
                con.execute(f"SELECT count(*) FROM {scan}").fetchall()
            break
        except FileProblem:
            con.close()
            raise
        except duckdb.Error as exc:
            if encoding == "utf-8" and fmt != "parquet" and _is_encoding_error(exc):
                continue
            con.close()
            raise FileProblem(f"{file.name}: cannot read it as {fmt.upper()}: "
                              f"{_csv_reason(exc)}") from None
    # Cells are trimmed text, empty = NULL; the payload keeps the row as it came.
    cells = ", ".join(f"NULLIF(trim(CAST(t.{_quote(h)} AS VARCHAR)), '')" for h in headers)
    query = f"SELECT {cells}, CAST(to_json(t) AS VARCHAR) FROM {scan} AS t"
    reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
    return TableFile(file, headers, _stream_batches(con, reader, file))


def _scan(con: Any, file: Path, fmt: str, encoding: str) -> tuple[str, list[str]]:
    """The table function reading the file, and its headers.

    CSV dialect detection is not left to DuckDB's sniffer: on a file with one malformed row it
    may choose another header row or a one-column dialect and silently drop data. The header
    line decides the delimiter; quoting is standard CSV; every row must have the header's
    number of fields (rows cut short after their last non-empty field are padded).
    """
    path = str(file).replace("'", "''")
    if fmt == "parquet":
        scan = f"read_parquet('{path}')"
        return scan, [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    delimiter, headers = _header_line(file, fmt, encoding)
    columns = "{" + ", ".join(f"'{_sql_text(h)}': 'VARCHAR'" for h in headers) + "}"
    scan = (f"read_csv('{path}', auto_detect = false, header = true, columns = {columns}, "
            f"delim = '{_sql_text(delimiter)}', quote = '\"', escape = '\"', "
            f"encoding = '{encoding}', strict_mode = true, null_padding = true, parallel = false)")
    return scan, headers


def _header_line(file: Path, fmt: str, encoding: str) -> tuple[str, list[str]]:
    with open(file, encoding="utf-8-sig" if encoding == "utf-8" else encoding,
              errors="replace", newline="") as handle:
        line = handle.readline().rstrip("\r\n")
    if not line.strip():
        raise FileProblem(f"{file.name}: the first line is empty; put the column headers there")
    delimiter = "\t" if fmt == "tsv" else max((",", ";", "\t", "|"), key=line.count)
    names = next(csv.reader([line], delimiter=delimiter))
    return delimiter, _unique_names(names)


def _unique_names(names: list[str]) -> list[str]:
    """Headers as DuckDB columns: empty ones get a name, repeated ones a suffix."""
    seen: dict[str, int] = {}
    unique = []
    for i, raw in enumerate(names):
        name = raw.strip() or f"column{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return unique


def _csv_reason(exc: Exception) -> str:
    """DuckDB's CSV error in one sentence a spreadsheet user can act on."""
    text = str(exc)
    found = re.search(r"CSV Error on Line: (\d+).*?Expected Number of Columns: (\d+) "
                      r"Found: (\d+)", text, re.S)
    if found:
        line, expected, _ = found.groups()
        return (f"line {line} has more fields than the header's {expected}; check for an "
                "unquoted delimiter or a stray quote in that line")
    return _first_line(exc)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _stream_batches(con: Any, reader: Any, file: Path) -> Iterator[Row]:
    import duckdb

    row_number = 1
    try:
        for batch in reader:
            columns = [column.to_pylist() for column in batch.columns]
            payloads = columns.pop()
            for cells, payload in zip(zip(*columns, strict=True), payloads, strict=True):
                row_number += 1
                yield row_number, cells, payload
    except duckdb.Error as exc:
        raise FileProblem(f"{file.name}: stopped reading near row {row_number + 1}: "
                          f"{_first_line(exc)}") from None
    finally:
        con.close()


def _is_encoding_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unicode" in text or "utf-8" in text or "utf8" in text or "encoding" in text


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _blank_to_none(cell: str | None) -> str | None:
    if cell is None:
        return None
    text = cell.strip()
    return text or None


# -- XLSX through openpyxl -----------------------------------------------------------------------

def _open_xlsx(file: Path, sheet: str | None) -> TableFile:
    import openpyxl

    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException, ...
        raise FileProblem(f"{file.name}: cannot open it as an Excel workbook: {exc}") from None
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise FileProblem(f"{file.name}: no sheet named {sheet!r}; sheets: "
                          f"{', '.join(book.sheetnames)}")
    rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
    for number, values in enumerate(rows, start=1):
        cells = [_cell_text(v) for v in values]
        if any(c is not None for c in cells):
            headers = _header_names(cells)
            return TableFile(file, headers, _xlsx_rows(book, rows, number, headers))
    book.close()
    raise FileProblem(f"{file.name}: the sheet is empty; put the column headers in the first row")


def _header_names(cells: list[str | None]) -> list[str]:
    while cells and cells[-1] is None:
        cells.pop()
    return [c if c is not None else f"column{i + 1}" for i, c in enumerate(cells)]


def _xlsx_rows(book: Any, rows: Iterator[tuple[Any, ...]], header_row: int,
               headers: list[str]) -> Iterator[Row]:
    width = len(headers)
    try:
        for number, values in enumerate(rows, start=header_row + 1):
            cells = [_cell_text(v) for v in values[:width]]
            cells += [None] * (width - len(cells))
            if any(c is not None for c in cells):
                yield number, cells, _payload(headers, values)
    finally:
        book.close()


def _cell_text(value: Any) -> str | None:
    """A cell as the text a user sees: dates ISO, whole-number floats without ``.0``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return _blank_to_none(str(value))


def _payload(headers: list[str], values: tuple[Any, ...]) -> str:
    """The row as JSON: numbers and booleans stay JSON values, dates become ISO text."""
    cells = list(values[: len(headers)]) + [None] * (len(headers) - len(values))
    return json.dumps(dict(zip(headers, (_json_value(v) for v in cells), strict=True)),
                      ensure_ascii=False)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    return _cell_text(value)
