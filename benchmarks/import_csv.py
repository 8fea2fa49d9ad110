"""Time `nrr import` of a large subscription CSV and report its peak memory.

    .venv/bin/python benchmarks/import_csv.py [--rows 1000000] [--keep DIR]

The CSV is generated first (seeded, streamed to disk), then imported into a fresh workspace in a
child process, so the peak RSS printed is the import's alone.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PLANS = (("Starter", 29), ("Growth", 79), ("Scale", 199))
INTERVALS = (("month", 1), ("quarter", 3), ("year", 10))
COUNTRIES = ("DE", "AT", "CH", "NL", "FR", "US")


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    first = date(2022, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["customer_id", "start_date", "end_date", "amount", "interval", "currency",
                      "plan", "quantity", "discount_percent", "discount_duration", "country",
                      "employees"])
        start = first
        for i in range(rows):
            if i % 4 == 0:  # four consecutive periods per customer, like plan or seat changes
                start = first + timedelta(days=rng.randrange(1000))
            plan, price = rng.choice(PLANS)
            interval, factor = rng.choice(INTERVALS)
            last = i % 4 == 3
            end = None if last and rng.random() < 0.6 else start + timedelta(
                days=rng.randrange(30, 300))
            discounted = rng.random() < 0.1
            out.writerow([f"cus_{i // 4:07d}", start.isoformat(), end.isoformat() if end else "",
                          f"{price * factor}.00", interval, "EUR", plan, rng.randint(1, 40),
                          "10" if discounted else "", "forever" if discounted else "",
                          rng.choice(COUNTRIES), rng.randint(2, 2000)])
            if end is not None:
                start = end


CHILD = """
import resource, sys, time
from nrr.store import open_workspace
from nrr.imports import import_file
started = time.perf_counter()
with open_workspace(sys.argv[2]) as ws:
    report = import_file(ws, sys.argv[1])
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
peak_mb = usage.ru_maxrss / 1024
print(f"imported {report.rows:,} rows -> {report.lines:,} revenue lines, "
      f"{report.customers:,} customers, {report.warning_count} warning(s)")
cpu = usage.ru_utime + usage.ru_stime
print(f"import wall time: {seconds:.1f} s ({report.rows / seconds:,.0f} rows/s), "
      f"CPU time {cpu:.1f} s" + (" (the machine was busy)" if seconds > 1.5 * cpu else ""))
print(f"import peak RSS: {peak_mb:,.0f} MB")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the CSV and workspace in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="nrr-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "subscriptions.csv"
    started = time.perf_counter()
    write_csv(path, args.rows)
    print(f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")
    subprocess.run([sys.executable, "-c", CHILD, str(path), str(folder / "workspace")],
                   check=True)
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"(peak RSS of the child process as seen by the parent: {child:,.0f} MB)")


if __name__ == "__main__":
    main()
