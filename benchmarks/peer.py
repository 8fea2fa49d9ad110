"""The closest open-source peer, PyPI's ``saas-metrics``, on the same company.

It lives in its own virtualenv (``benchmarks/.venv-peer``, made on first use) so it never touches
nrr's environment. It reads a billing export of invoice lines (customer, date, amount) and has no
exchange rates, so it gets the one-currency (EUR) variant of the generated company: one invoice
line per customer and month with that month's MRR, which is exactly the month-end MRR its
definitions then see. Its trailing-twelve-month NRR (revenue now ÷ revenue a year ago over the
customers billed a year ago) is the same definition as ours, so the two must agree.

    python -m benchmarks.peer invoices COMPANY_DIR   # write the invoice export (not timed)
    python -m benchmarks.peer COMPANY_DIR            # ours: time and NRR
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import month_grid
from benchmarks.generate import month_end

if TYPE_CHECKING:
    import duckdb

VENV = Path(__file__).resolve().parent / ".venv-peer"
PACKAGE = "saas-metrics"
INVOICES = "invoices.csv"

# Run inside the peer's virtualenv: time its whole analysis of the export, print its NRR.
_THEIRS = """
import json, sys, time, datetime as dt
import saas_metrics as sm
began = time.perf_counter()
columns = {"customer_id": "Customer", "period": "Invoice Date", "revenue": "Amount"}
today = dt.date.fromisoformat(sys.argv[2])
report = sm.analyze(sys.argv[1], mapping=columns, allow_warnings=True, today=today)
wall = time.perf_counter() - began
if not report.ok:
    raise SystemExit("saas-metrics refused: " + "; ".join(c.detail for c in report.blocking))
m = report.metrics
nrr = {str(d)[:10]: float(v) for d, v in zip(m["period_end"], m["nrr_12m"]) if v == v}
lines = sum(1 for _ in open(sys.argv[1])) - 1
print("BENCH " + json.dumps({"wall": round(wall, 3), "nrr_12m": nrr, "lines": lines,
                             "version": sm.__version__}))
"""


def python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> None:
    """Create the peer's virtualenv and install the package into it (once)."""
    if python().exists():
        return
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python()), "-m", "pip", "install", "-q", PACKAGE], check=True)


def command(company: Path) -> list[str]:
    today = json.loads((company / "company.json").read_text())["next_as_of"]
    return [str(python()), "-c", _THEIRS, str(company / INVOICES), today]


def compare(ours: dict[str, float], theirs: dict[str, float]) -> str:
    common = sorted(set(ours) & set(theirs))
    if not common:
        return "not comparable (no common months)"
    worst = max(abs(ours[d] - theirs[d]) for d in common)
    if worst < 1e-9:
        return f"equal to ours in all {len(common)} months"
    return f"differs from ours by up to {worst * 100:.4f} points over {len(common)} months"


def ours(company: Path) -> dict[str, Any]:
    """Our company-level recompute on the imported workspace; then the peer's invoice export."""
    import duckdb

    from benchmarks.stage import _results, workspace_dir
    from nrr.store import DB_FILE

    about = json.loads((company / "company.json").read_text())
    as_of = month_end(about["months"] - 1)
    con = duckdb.connect(str(workspace_dir(company) / DB_FILE), read_only=True)
    began = time.perf_counter()
    results = _results(con, company, as_of)
    wall = time.perf_counter() - began
    nrr = {
        str(row["period_end"]): row["end_mrr"] / row["start_mrr"]
        for row in results.retention(12).to_pylist()
        if row["start_mrr"]
    }
    return {"wall": round(wall, 3), "nrr_12m": nrr}


def write_invoices(company: Path) -> dict[str, Any]:
    """The peer's input: one invoice line per customer and month with that month's MRR (EUR)."""
    import duckdb

    from benchmarks.stage import _results, workspace_dir
    from nrr.store import DB_FILE

    about = json.loads((company / "company.json").read_text())
    as_of = month_end(about["months"] - 1)
    con = duckdb.connect(str(workspace_dir(company) / DB_FILE), read_only=True)
    _results(con, company, as_of)  # registers the rates the month grid reads
    _write_invoices(con, company, as_of)
    return {"wall": 0.0}


def _write_invoices(con: duckdb.DuckDBPyConnection, company: Path, as_of: Any) -> None:
    month_grid.run(con, as_of)
    target = str(company / INVOICES).replace("'", "''")
    query = (
        'SELECT customer_id AS "Customer", '
        "last_day(make_date(CAST(p // 12 AS INTEGER), CAST(p % 12 + 1 AS INTEGER), 1)) "
        """AS "Invoice Date", printf('%.2f', native / 100) AS "Amount" """
        "FROM mg_grid WHERE native > 0 ORDER BY customer_id, p"
    )
    con.execute(f"COPY ({query}) TO '{target}' (HEADER)"    ).fetchall()


if __name__ == "__main__":
    from benchmarks.stage import preload

    preload()
    folder = Path(sys.argv[-1]).resolve()
    result = write_invoices(folder) if sys.argv[1] == "invoices" else ours(folder)
    sys.stdout.write("BENCH " + json.dumps(result) + "\n")
