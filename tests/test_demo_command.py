"""`scripts/demo`'s command, end to end in a subprocess: report printed, dashboard served."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

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
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([str(NRR), "demo", "-w", str(tmp_path / "demo"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/overview",
                                            timeout=10) as response:
                    body = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(1)
        assert re.search(r'"mrr":\s*318378030\b', body)  # MRR as pinned in tests/test_demo.py
    finally:
        proc.terminate()
        proc.wait(timeout=30)
