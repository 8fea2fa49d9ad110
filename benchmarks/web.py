"""Dashboard and API response times over a real loopback server.

First the start-up work `nrr serve` does in the background (computing the default view), then for
each page and API route: the first (cold) request, then ``--repeat`` warm requests (p50 / p95 /
max). Cold = that URL's answer is not cached yet (shared reports may be); warm = the same URL
again, served from the cache keyed on the snapshot, settings, as-of and query.

    .venv/bin/python -m benchmarks.web                       # the 2,000-customer demo
    .venv/bin/python -m benchmarks.web --customers 1m        # a benchmarks.generate company
    .venv/bin/python -m benchmarks.web --workspace DIR --as-of 2026-10-31
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

API = (
    "/api/overview", "/api/trends", "/api/bridge", "/api/bridge?by=plan",
    "/api/retention?window=ttm", "/api/retention?window=1&by=size", "/api/cohorts",
    "/api/segments?by=plan", "/api/customers", "/api/customers?q=1&sort=-mrr",
    "/api/drill?metric=churn&period={period}", "/api/drill?metric=new&period={period}&by=plan",
    "/api/status", "/api/bridge?format=csv", "/api/customers/{customer}", "/api/at-risk",
)  # fmt: skip
PAGES = (
    "/", "/trends", "/cohorts", "/segments", "/segments?by=size", "/customers",
    "/customers/{customer}", "/drill?metric=churn&period={period}", "/at-risk",
)  # fmt: skip


def demo_workspace(folder: Path) -> tuple[Path, dt.date]:
    from nrr import demo

    return demo.build(folder, echo=lambda _: None), demo.DEMO_AS_OF


def generated_workspace(folder: Path, customers: int) -> tuple[Path, dt.date]:
    """A benchmarks.generate company loaded into a workspace, snapshot published."""
    import duckdb

    from benchmarks.generate import generate
    from nrr.store import open_workspace

    company = generate(folder / "parquet", customers, months=36, seed=42, multi_currency=False)
    with open_workspace(folder / "ws") as ws:
        con = duckdb.connect()
        lines = con.sql(f"SELECT * FROM read_parquet('{company.lines}')").to_arrow_table()
        attrs = con.sql(f"SELECT * FROM read_parquet('{company.attributes}')").to_arrow_table()
        con.close()
        ws.replace_source("bench", lines=lines, attributes=attrs)
        ws.publish_snapshot()
    return folder / "ws", company.as_of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(folder: Path, as_of: dt.date) -> tuple[Any, threading.Thread, str, float]:
    """The app as `nrr serve` runs it; returns once the default view is warm (and how long)."""
    import uvicorn

    from nrr.web import create_app
    from nrr.web.app import warm_up

    app = create_app(folder, as_of=as_of)
    began = time.perf_counter()
    warm_up(app.state.backend)  # what serve's start-up thread does, timed here
    warmed = time.perf_counter() - began
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}", warmed


def timed(client: Any, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code} {response.text[:200]}")
    return elapsed


def measure(client: Any, base: str, paths: tuple[str, ...], repeat: int,
            fill: dict[str, str]) -> list[tuple[str, float, float, float, float]]:  # fmt: skip
    rows = []
    for path in paths:
        url = base + path.format(**fill)
        cold = timed(client, url)
        warm = sorted(timed(client, url) for _ in range(repeat))
        p95 = warm[min(len(warm) - 1, round(0.95 * (len(warm) - 1)))]
        rows.append((path, cold, statistics.median(warm), p95, warm[-1]))
    return rows


def report(title: str, rows: list[tuple[str, float, float, float, float]]) -> None:
    print(f"\n{title}")
    print(f"{'route':<48} {'cold ms':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for path, cold, p50, p95, worst in rows:
        print(f"{path:<48} {cold:>9.1f} {p50:>8.2f} {p95:>8.2f} {worst:>8.2f}")
    print(f"{'worst':<48} {max(r[1] for r in rows):>9.1f} {'':>8} "
          f"{max(r[3] for r in rows):>8.2f}")


def main(argv: list[str] | None = None) -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="an existing workspace (snapshot published)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat)
    parser.add_argument("--customers", help="generate a company of this size, e.g. 100k, 1m")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nrr-web-bench-") as tmp:
        began = time.perf_counter()
        if args.workspace:
            folder, as_of = args.workspace, args.as_of or dt.date.today()
        elif args.customers:
            from benchmarks.generate import parse_scale

            folder, as_of = generated_workspace(Path(tmp), parse_scale(args.customers))
        else:
            folder, as_of = demo_workspace(Path(tmp))
        print(f"workspace {folder} as of {as_of} (ready in {time.perf_counter() - began:.1f}s)")
        server, thread, base, warmed = start_server(folder, as_of)
        print(f"start-up warming (default view, every segment dimension): {warmed:.2f}s; "
              "`nrr serve` does it in the background")
        try:
            with httpx.Client(timeout=600) as client:
                head = client.get(base + "/api/overview").json()
                period = head["period"]
                print(f"{head['customers']:,} paying customers, MRR {head['mrr']:,} minor units")
                pages = measure(client, base, PAGES[:4], args.repeat, {})
                some = client.get(base + "/api/customers?limit=1").json()[0]["customer_id"]
                fill = {"period": period, "customer": some}
                pages += measure(client, base, PAGES[4:], args.repeat, fill)
                report("HTML pages (server time to the last byte; charts draw in the browser)",
                       pages)
                report("JSON API (loopback HTTP)", measure(client, base, API, args.repeat, fill))
        finally:
            server.should_exit = True
            thread.join(timeout=30)


if __name__ == "__main__":
    main()
