"""Talking to an `nrr` server started in a subprocess by a test."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_when_up(url: str, proc: subprocess.Popen[str] | subprocess.Popen[bytes],
                seconds: float) -> str:  # fmt: skip
    """The body of ``url`` once the server answers; fails when ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.3)
