"""Benchmark: full and incremental Stripe sync against the loopback test server.

    .venv/bin/python benchmarks/stripe_sync.py [--subscriptions 20000] [--changed 0.01]

The server runs in its own process (so its CPU time is measured apart from the sync's); the sync
runs in this process (so its peak RSS is this process's). Prints a small table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

KEY = "sk_test_nrrSyntheticAccount000000000000"
TICKS = os.sysconf("SC_CLK_TCK")


def start_server(subscriptions: int, seed: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nrr.testing.stripe_server", "--seed", str(seed),
         "--subscriptions", str(subscriptions), "--api-key", KEY],
        stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"the test server did not start: {url!r}")
    return proc, url


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def control(url: str, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_test/{name}", data=data,
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return dict(json.loads(response.read()))


def timed_sync(workspace: Path, url: str, server_pid: int, full: bool) -> dict[str, Any]:
    from nrr.store import open_workspace
    from nrr.sync import sync_stripe

    before = cpu_seconds(server_pid)
    served_before = control(url, "stats")["objects"]
    started, cpu_started = time.perf_counter(), time.process_time()
    with open_workspace(workspace) as ws:
        report = sync_stripe(ws, KEY, api_base=url, full=full)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    served = control(url, "stats")["objects"] - served_before
    return {"report": report, "wall": wall, "cpu": cpu,
            "server_cpu": cpu_seconds(server_pid) - before,
            "served": served}


def _changed(mutation: dict[str, Any]) -> int:
    return sum(len(set(ids)) for ids in (mutation.get("changed") or {}).values())


# A changed subscription changes about this many objects (itself, an invoice, ...): used to aim
# the mutation at the requested share of all objects; the table shows the share reached.
OBJECTS_PER_CHANGE = 2.2


def _phases(report: Any) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in report.phases.items())


def row(label: str, value: str, target: str = "") -> str:
    return f"| {label:<44} | {value:>16} | {target:<10} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscriptions", type=int, default=20_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generating = time.perf_counter()
    proc, url = start_server(args.subscriptions, args.seed)
    generated = time.perf_counter() - generating
    try:
        with tempfile.TemporaryDirectory() as tmp:
            full = timed_sync(Path(tmp), url, proc.pid, full=False)
            rss_full = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            fraction = args.changed * full["report"].total_objects / args.subscriptions
            mutation = control(url, "mutate", {"fraction": min(fraction / OBJECTS_PER_CHANGE, 1),
                                               "seed": args.seed})
            incremental = timed_sync(Path(tmp), url, proc.pid, full=False)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    finally:
        proc.terminate()
        proc.wait()
    report, inc = full["report"], incremental["report"]
    objects = report.total_objects
    lines = [
        f"Stripe sync benchmark: {args.subscriptions:,} subscriptions, seed {args.seed} "
        f"(account generated and served in {generated:.1f} s by a separate process)",
        row("measure", "value", "target"),
        row("-" * 44, "-" * 16, "-" * 10),
        row("top-level objects synced (full)", f"{objects:,}"),
        row("objects served incl. nested lines/items", f"{full['served']:,}"),
        row("requests", f"{report.requests:,}"),
        row("full sync wall time", f"{full['wall']:.1f} s"),
        row("full sync objects/s (top-level)", f"{objects / full['wall']:,.0f}", ">= 5,000"),
        row("full sync objects/s (incl. nested)", f"{full['served'] / full['wall']:,.0f}"),
        row("server CPU during full sync", f"{full['server_cpu']:.1f} s"),
        row("server share of full sync time", f"{full['server_cpu'] / full['wall']:.0%}"),
        row("objects/s excluding server time",
            f"{objects / max(full['wall'] - full['server_cpu'], 1e-9):,.0f}"),
        row("sync process CPU (all threads, incl. DuckDB)", f"{full['cpu']:.1f} s"),
        row("objects per CPU-second of the sync process", f"{objects / full['cpu']:,.0f}"),
        row("revenue lines derived", f"{report.lines:,}"),
        row("peak RSS after full sync", f"{rss_full:,.0f} MB", "<= 1,024 MB"),
        row("objects changed by the mutation", f"{_changed(mutation):,}"),
        row("share of all objects changed", f"{_changed(mutation) / objects:.2%}"),
        row("incremental: events read", f"{inc.events:,}"),
        row("incremental: objects re-fetched", f"{inc.total_objects:,}"),
        row("incremental sync wall time", f"{incremental['wall']:.2f} s"),
        row("incremental / full time", f"{incremental['wall'] / full['wall']:.1%}", "<= 5 %"),
        row("incremental / full CPU of the sync process",
            f"{incremental['cpu'] / full['cpu']:.1%}"),
        row("peak RSS overall", f"{rss:,.0f} MB", "<= 1,024 MB"),
        row("workspace size on disk", f"{size / 2**20:,.0f} MB"),
        f"full sync phases (s):        {_phases(report)}",
        f"incremental sync phases (s): {_phases(inc)}",
        f"host load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
