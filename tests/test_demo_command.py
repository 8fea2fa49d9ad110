"""`scripts/demo`'s command, end to end in a subprocess: report printed, dashboard served."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from served import free_port, get_when_up

ROOT = Path(__file__).parent.parent
NRR = ROOT / ".venv" / "bin" / "nrr"


def test_demo_prints_the_headline_without_serving(tmp_path: Path) -> None:
    out = subprocess.run([str(NRR), "demo", "-w", str(tmp_path / "demo"), "--no-serve"],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert "NRR (TTM)" in out and "107.2 %" in out and "MRR bridge" in out
    assert "3,183,780.30" in out  # MRR on 31 October 2026, as pinned in tests/test_demo.py
    # the accounts at risk after the report, as pinned in tests/test_demo.py
    assert "120 accounts at risk in 2026-10: 62,783.23 EUR MRR at risk" in " ".join(out.split())


@pytest.mark.browser
def test_demo_serves_the_dashboard(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([str(NRR), "demo", "-w", str(tmp_path / "demo"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = get_when_up(f"http://127.0.0.1:{port}/api/overview", proc, 240)
        assert re.search(r'"mrr":\s*318378030\b', body)  # MRR as pinned in tests/test_demo.py
    finally:
        proc.terminate()
        proc.wait(timeout=30)
