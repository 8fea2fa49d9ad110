"""The benchmark suite: one command, one table.

    .venv/bin/python -m benchmarks.run [--scales 10k,100k,1m,10m] [--engines duckdb,spark]

For each scale it generates a seeded company (cached in ``--data``), then runs every stage of
every engine in a fresh process (``benchmarks.stage``) and records the stage's wall seconds, the
peak resident memory of its whole process tree (Python plus, for Spark, the JVM) and customer-months
per second. Beside the DuckDB recompute it runs the month-grid formulation on the same connection
(after checking its bridge equals the core's), and, where ``--peer-scales`` asks, the PyPI package
``saas-metrics`` in its own virtualenv on an invoice export of the same company (one currency,
since it has no exchange rates), checking its 12-month NRR against ours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generate import generate, parse_scale

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("import", "recompute", "report", "incremental")


@dataclass
class Row:
    engine: str
    scale: str
    stage: str
    wall: float | None
    rss_mb: float | None
    customer_months: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> str:
        if not self.wall:
            return "-"
        return f"{self.customer_months / self.wall:,.0f}"


# -- measuring a child process -------------------------------------------------------------------


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as fh:
                pages = int(fh.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


SAMPLE_SECONDS = 0.5


def measure(command: list[str], timeout: float) -> tuple[dict[str, Any], float]:
    """Run ``command``; return its BENCH json and the peak RSS (MB) of its process tree."""
    import resource

    began = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        # Every half second: the child's own peak comes exact from the kernel (below); the
        # sampler is for the JVM a Spark stage starts, whose stages run for seconds or more.
        # Reading /proc every 0.05 s took about 3 % of a 2-core machine from the measured
        # stage (1M recompute 1.73-1.78 s against 1.67-1.71 s, same peak RSS).
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        done.set()
        return {"error": f"timed out after {timeout:.0f}s"}, peak[0] / 1024
    done.set()
    sampler.join()
    # The kernel's peak over all reaped children: when it rose, it is this child's own exact
    # peak (the sampler may miss a short spike); the sampler also sees the JVM grandchild.
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after > before:
        peak[0] = max(peak[0], after)
    lines = [line for line in out.splitlines() if line.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        tail = (err or out).strip().splitlines()[-3:]
        return {"error": " | ".join(tail)[-300:]}, peak[0] / 1024
    result: dict[str, Any] = json.loads(lines[-1][len("BENCH ") :])
    result.setdefault("elapsed", round(time.perf_counter() - began, 3))
    # A stage reports its own process's peak (the kernel's, exact however short the stage):
    # the kernel's peak over all children above rises only past the largest child so far.
    peak[0] = max(peak[0], int(result.get("self_rss_mb", 0) * 1024))
    return result, peak[0] / 1024


# -- the suite -----------------------------------------------------------------------------------


def company_dir(args: argparse.Namespace, scale: str, multi: bool = True) -> Path:
    suffix = "" if multi else "-eur"
    return args.data / f"{scale}-m{args.months}-s{args.seed}{suffix}"


def ensure_company(args: argparse.Namespace, scale: str, multi: bool = True) -> Path:
    folder = company_dir(args, scale, multi)
    if not (folder / "company.json").exists():
        began = time.perf_counter()
        generate(folder, parse_scale(scale), months=args.months, seed=args.seed,
                 multi_currency=multi)  # fmt: skip
        print(f"generated {scale} ({'3 currencies' if multi else 'EUR'}) in "
              f"{time.perf_counter() - began:.1f}s -> {folder}", file=sys.stderr)  # fmt: skip
    return folder


def stage_command(args: argparse.Namespace, engine: str, stage: str, folder: Path,
                  scale: str) -> list[str]:  # fmt: skip
    cmd = [sys.executable, "-m", "benchmarks.stage", engine, stage, str(folder)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    if args.temp_dir:
        cmd += ["--temp-dir", str(args.temp_dir)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if engine == "duckdb" and stage == "recompute":
        if parse_scale(scale) <= parse_scale(args.grid_max):
            cmd.append("--grid")
        if args.profile:
            cmd.append("--profile")
    if engine == "spark":
        cmd += ["--spark-master", args.spark_master,
                "--shuffle-partitions", str(args.shuffle_partitions),
                "--spark-memory", args.spark_memory]  # fmt: skip
    return cmd


def _note(engine: str, stage: str, result: dict[str, Any]) -> str:
    if "error" in result:
        return "FAILED: " + result["error"]
    notes = []
    if "grid" in result:
        same = "bridge equal" if result.get("grid_equal") else "BRIDGE DIFFERS"
        core = result["core_company"]
        notes.append(f"month-grid {result['grid']:.2f}s = {result['grid'] / core:.1f}x the core's "
                     f"company-level {core:.2f}s ({same}; grid peak "
                     f"{result.get('rss_with_grid_mb', '?')} MB)")  # fmt: skip
    if "session_start" in result:
        notes.append(f"+ {result['session_start']:.1f}s Spark start-up")
    if stage == "incremental" and "update" in result:
        full = result["full_recompute"]
        path = "update" if result["exact_path"] else "update fell back to a full recompute"
        same = "equal to a full recompute" if result["equal_to_full"] else "DIFFERS FROM FULL"
        notes.append(f"{path} {result['update']:.2f}s = {100 * result['update'] / full:.1f} % "
                     f"of a full recompute {full:.2f}s (after applying the month's rows, "
                     f"{result['apply_delta']:.2f}s); {result['changed_customers']:,} customers "
                     f"changed; {same}")  # fmt: skip
        if "changed_alone" in result:
            notes.append(f"the changed customers as a company of their own "
                         f"{result['changed_alone']:.2f}s = "
                         f"{100 * result['changed_alone'] / full:.1f} %, ten of them "
                         f"{result['ten_alone']:.2f}s")  # fmt: skip
    elif stage == "incremental":
        notes.append(f"full recompute (no incremental path on Spark); applying the month took "
                     f"{result['apply_delta']:.2f}s")  # fmt: skip
    if stage == "import":
        notes.append("Parquet -> workspace" if engine == "duckdb" else "workspace -> layout")
    return "; ".join(notes)


def run_engine(args: argparse.Namespace, engine: str, scale: str, folder: Path) -> list[Row]:
    rows = []
    customer_months = parse_scale(scale) * args.months
    for stage in STAGES:
        cmd = stage_command(args, engine, stage, folder, scale)
        result, rss = measure(cmd, args.timeout)
        if "rss_mb" in result:  # measured inside, before the month grid ran in the same process
            result["rss_with_grid_mb"] = round(rss)
            rss = result["rss_mb"]
        row = Row(engine, scale, stage, result.get("wall"), rss, customer_months,
                  _note(engine, stage, result), result)  # fmt: skip
        rows.append(row)
        print(f"  {engine:6} {scale:>5} {stage:11} {row.wall or 0:8.2f}s {rss:8.0f} MB  {row.note}",
              file=sys.stderr, flush=True)  # fmt: skip
        if "error" in result and stage == "import":
            break
    return rows


def run_peer(args: argparse.Namespace, scale: str) -> list[Row]:
    from benchmarks import peer

    peer.ensure_venv()
    folder = ensure_company(args, scale, multi=False)
    customer_months = parse_scale(scale) * args.months
    measure(stage_command(args, "duckdb", "import", folder, scale), args.timeout)
    export, _ = measure([sys.executable, "-m", "benchmarks.peer", "invoices", str(folder)],
                        args.timeout)  # fmt: skip
    ours, rss_ours = measure([sys.executable, "-m", "benchmarks.peer", str(folder)], args.timeout)
    theirs, rss_theirs = measure(peer.command(folder), args.timeout)
    rows = []
    if any("error" in r for r in (export, ours, theirs)):
        error = next(r["error"] for r in (export, ours, theirs) if "error" in r)
        rows.append(Row("saas-metrics", scale, "recompute", None, rss_theirs, customer_months,
                        "FAILED: " + str(error)))  # fmt: skip
        return rows
    agree = peer.compare(ours["nrr_12m"], theirs["nrr_12m"])
    rows.append(Row("nrr (EUR)", scale, "recompute", ours["wall"], rss_ours, customer_months,
                    "same company in one currency, for the peer"))  # fmt: skip
    rows.append(Row(f"saas-metrics {theirs.get('version', '')}", scale, "recompute",
                    theirs["wall"], rss_theirs, customer_months,
                    f"{theirs['wall'] / ours['wall']:.1f}x ours; {theirs['lines']:,} invoice "
                    f"lines; 12-month NRR {agree}"))  # fmt: skip
    return rows


def table(rows: list[Row]) -> str:
    header = ("engine", "customers", "stage", "wall s", "peak RSS MB", "customer-months/s", "notes")
    body = [
        (r.engine, r.scale, r.stage, "-" if r.wall is None else f"{r.wall:.2f}",
         "-" if r.rss_mb is None else f"{r.rss_mb:,.0f}", r.rate, r.note)
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header) - 1)]
    lines = []
    for record in [header, *body]:
        cells = [str(c).ljust(w) if i < 3 else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(record, widths, strict=False))]  # fmt: skip
        lines.append(" | ".join(cells) + " | " + str(record[-1]))
    lines.insert(1, "-" * len(lines[0][:120]))
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="nrr benchmark suite: engine x scale x stage")
    p.add_argument("--scales", default="10k,100k,1m,10m")
    p.add_argument("--engines", default="duckdb,spark")
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", type=Path, default=Path("/tmp/nrr-bench"))
    p.add_argument("--memory-limit", default="8GB", help="DuckDB memory limit (workspace setting)")
    p.add_argument("--temp-dir", type=Path, help="DuckDB spill folder (workspace setting)")
    p.add_argument("--threads", type=int)
    p.add_argument("--grid-max", default="1m", help="largest scale to run the month grid at")
    p.add_argument("--spark-max", default="100k", help="largest scale to run Spark at")
    p.add_argument("--spark-master", default="local[*]")
    p.add_argument("--shuffle-partitions", type=int, default=4)
    p.add_argument("--spark-memory", default="6g")
    p.add_argument("--peer-scales", default="10k,100k", help="scales to run saas-metrics at")
    p.add_argument("--profile", action="store_true", help="seconds per core stage (DuckDB)")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--json", type=Path, help="also write every measurement here")
    p.add_argument("--render", type=Path, nargs="+", help="only print the table of saved runs")
    return p


def render(files: list[Path]) -> str:
    """One table from the --json files of earlier runs (e.g. the 10m run kept apart)."""
    rows = []
    for path in files:
        for item in json.loads(path.read_text()):
            row = Row(**item)
            if row.engine == "duckdb" and row.stage == "recompute" and "rss_mb" in row.extra:
                row.rss_mb = row.extra["rss_mb"]  # the core's own peak, before the month grid
            rows.append(row)
    return table(rows)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.render:
        print(render(args.render))
        return
    args.data = args.data.resolve()
    if args.temp_dir is None:
        args.temp_dir = args.data / "spill"
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    rows: list[Row] = []
    for scale in [s.strip() for s in args.scales.split(",") if s.strip()]:
        folder = ensure_company(args, scale)
        for engine in engines:
            if engine == "spark" and parse_scale(scale) > parse_scale(args.spark_max):
                continue
            if engine == "spark" and "duckdb" not in engines:
                measure(stage_command(args, "duckdb", "import", folder, scale), args.timeout)
            rows += run_engine(args, engine, scale, folder)
        if scale in args.peer_scales.split(","):
            rows += run_peer(args, scale)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2, default=str))


if __name__ == "__main__":
    main()
