"""The fast conversion (double product, decimal where it could round differently) is exact."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from nrr.core.frame import convert

RATES = st.decimals(min_value=Decimal("0.0000000001"), max_value=Decimal("99999"), places=10)
AMOUNTS = st.integers(min_value=-(10**13), max_value=10**13)


def exact(n: int, rate: Decimal) -> int:
    return int((Decimal(n) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# One connection for every example: opening one costs about 30 ms, seconds over the examples.
_CON = duckdb.connect()


def engine(pairs: list[tuple[int, Decimal]]) -> list[int]:
    con = _CON.cursor()
    con.register("r", pa.table({
        "i": pa.array(range(len(pairs)), pa.int32()),
        "n": pa.array([n for n, _ in pairs], pa.int64()),
        "rate": pa.array([rate for _, rate in pairs], pa.decimal128(18, 10)),
        "rate_f": pa.array([float(rate) for _, rate in pairs], pa.float64()),
    }))  # fmt: skip
    rows = con.execute(f"SELECT {convert('n', 'r')} FROM r ORDER BY i").fetchall()
    return [int(v) for (v,) in rows]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(AMOUNTS, RATES), min_size=1, max_size=50))
def test_conversion_equals_exact_decimal_rounding(pairs: list[tuple[int, Decimal]]) -> None:
    assert engine(pairs) == [exact(n, rate) for n, rate in pairs]


def test_ties_and_near_ties_round_half_away_from_zero() -> None:
    # 0.5 exactly, a hair either side of it, negative ties, and a product above the fast range
    pairs = [(1, Decimal("0.5")), (3, Decimal("0.5")), (-3, Decimal("0.5")), (-1, Decimal("0.5")),
             (1, Decimal("0.4999999999")), (1, Decimal("0.5000000001")),
             (333_333_333, Decimal("1.5000000000")), (10**13, Decimal("1.0000000001")),
             (7, Decimal("0.0714285715"))]  # fmt: skip
    assert engine(pairs) == [1, 2, -2, -1, 0, 1, 500_000_000, 10_000_000_001_000, 1]
