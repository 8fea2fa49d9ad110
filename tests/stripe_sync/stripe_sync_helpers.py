"""Helpers for the Stripe sync tests: complete objects, the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from nrr.testing.stripe_account import Account

SRC = str(Path(__file__).resolve().parents[2] / "src")


def complete(account: Account, resource: str, object_id: str) -> dict[str, Any]:
    """The object with every nested entry (the API cuts nested lists after 10)."""
    obj = account.full(resource, object_id)
    nested = account.children(object_id)
    for key in ("lines", "items"):
        if isinstance(obj.get(key), dict) and nested is not None:
            obj[key] = {**obj[key], "data": [json.loads(b) for b in nested.blobs],
                        "has_more": False}
    return obj


def run_cli(workspace: Path, api_key: str, api_base: str, *args: str,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`nrr sync stripe` in a real subprocess."""
    return subprocess.run(cli_command(workspace, *args), env=cli_env(api_key, api_base),
                          capture_output=True, text=True, timeout=timeout, check=False)


def cli_command(workspace: Path, *args: str) -> list[str]:
    code = "import sys; from nrr.cli_stripe import sync_stripe_command as c; c(sys.argv[1:])"
    return [sys.executable, "-c", code, "--workspace", str(workspace), *args]


def cli_env(api_key: str, api_base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "NRR_"))}
    env.update({"STRIPE_API_KEY": api_key, "NRR_STRIPE_API_BASE": api_base,
                "PYTHONPATH": SRC, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    return env
