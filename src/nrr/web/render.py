"""Serialising report output: JSON for the API, CSV for every table."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: an undefined ratio is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def to_json(value: Any) -> bytes:
    return json.dumps(_finite(value), default=_plain, separators=(",", ":")).encode()


# Links to the customers behind a figure: for the screen and the JSON, not for a spreadsheet.
CSV_SKIPPED = frozenset({"drill"})


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in CSV_SKIPPED:
                seen.setdefault(key, None)
    return list(seen)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=_plain)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def to_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    rows = list(rows)
    columns = columns_of(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().encode()
