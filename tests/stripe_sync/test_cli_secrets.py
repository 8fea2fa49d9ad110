"""The command line: JSON summary, exit codes, live-key warning, and no secret ever leaking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from stripe_sync_helpers import cli_env, run_cli

from nrr.sync.webhook import Rejection, handle
from nrr.testing.stripe_account import Account
from nrr.testing.stripe_server import StripeServer

SECRET_KEY = "sk_test_51SecretNrrKeyDoNotLeak0123456789abcdefXYZ"
WRONG_KEY = "rk_test_51WrongNrrKeyDoNotLeakEither9876543210zyx"
# Built at run time so no secret-shaped literal sits in the repository.
WEBHOOK_SECRET = "whsec" + "_" + "NrrWebhookSecretDoNotLeak0123456789"


def test_json_summary_and_exit_code(tmp_path: Path, server: StripeServer) -> None:
    done = run_cli(tmp_path, server.api_key, server.url, "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["mode"] == "full" and summary["lines"] > 0
    assert summary["total_objects"] == sum(summary["objects"].values())
    again = json.loads(run_cli(tmp_path, server.api_key, server.url, "--json").stdout)
    assert again["mode"] == "incremental" and again["lines"] == summary["lines"]


def test_progress_bars_name_each_object_type(tmp_path: Path, server: StripeServer) -> None:
    done = run_cli(tmp_path, server.api_key, server.url)
    assert done.returncode == 0, done.stderr
    for kind in ("customer", "price", "subscription", "invoice"):
        assert kind in done.stderr
    assert "/s" in done.stderr and "Stripe sync (full)" in done.stdout


def test_live_secret_key_gets_a_warning(tmp_path: Path, account: Account) -> None:
    live = "sk_live_" + "L" * 30
    with StripeServer(account, api_key=live) as srv:
        done = run_cli(tmp_path, live, srv.url, "--json")
    assert done.returncode == 0, done.stderr
    assert "restricted read-only key" in done.stderr
    assert live not in done.stderr + done.stdout
    # The synthetic account is test-mode data: none of it enters a live workspace.
    assert json.loads(done.stdout)["excluded_other_mode"] > 0


def test_no_key_is_a_usage_error(tmp_path: Path) -> None:
    env = cli_env("", "http://127.0.0.1:9")
    env.pop("STRIPE_API_KEY")
    code = "import sys; from nrr.cli_stripe import sync_stripe_command as c; c(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, "--workspace", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "nrr stripe login" in done.stderr


def test_login_without_a_keyring_says_what_to_do(tmp_path: Path) -> None:
    env = cli_env("", "")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    code = "import sys; from nrr.cli_stripe import stripe_group as g; g(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, "login"], input=SECRET_KEY + "\n",
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "STRIPE_API_KEY" in done.stderr
    assert SECRET_KEY not in done.stdout + done.stderr


def test_secrets_never_leak_after_failed_syncs(tmp_path: Path, account: Account) -> None:
    outputs: list[str] = []
    with StripeServer(account, api_key=SECRET_KEY) as srv:
        first = run_cli(tmp_path, SECRET_KEY, srv.url)
        assert first.returncode == 0, first.stderr
        srv.faults.server_error(times=None, path="/v1/events")
        failed = run_cli(tmp_path, SECRET_KEY, srv.url, "--full")
        assert failed.returncode == 4 and "run the sync again" in failed.stderr
        srv.faults.clear()
        srv.denied.add("invoices")
        denied = run_cli(tmp_path, SECRET_KEY, srv.url, "--full")
        assert denied.returncode == 3 and "'Invoices: Read'" in denied.stderr
        wrong = run_cli(tmp_path, WRONG_KEY, srv.url)
        assert wrong.returncode == 3 and "rejected the API key" in wrong.stderr
        env_logged = cli_env(SECRET_KEY, srv.url) | {"STRIPE_LOG": "debug"}
        code = "import sys; from nrr.cli_stripe import sync_stripe_command as c; c(sys.argv[1:])"
        logged = subprocess.run([sys.executable, "-c", code, "--workspace", str(tmp_path)],
                                env=env_logged, capture_output=True, text=True, timeout=120,
                                check=False)
        outputs += [p.stdout + p.stderr for p in (first, failed, denied, wrong, logged)]
    rejection = handle(b'{"id": "evt_1"}', "t=1,v1=00", WEBHOOK_SECRET, set())
    assert isinstance(rejection, Rejection)
    outputs.append(rejection.reason)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "stripe.duckdb" for p in files) and any(p.name == "nrr.duckdb"
                                                                 for p in files)
    for secret in (SECRET_KEY, WRONG_KEY, WEBHOOK_SECRET, SECRET_KEY[8:], WRONG_KEY[8:]):
        for text in outputs:
            assert secret not in text
        for path in files:
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("text", [SECRET_KEY, WEBHOOK_SECRET, f"key {WRONG_KEY}."])
def test_redaction_covers_every_secret_shape(text: str) -> None:
    from nrr.sources.stripe_fetch import redact

    assert "DoNotLeak" not in redact(text)


def test_login_stores_the_key_and_sync_reads_it(tmp_path: Path, account: Account) -> None:
    env = cli_env("", "")
    env.pop("STRIPE_API_KEY")
    env["PYTHONPATH"] += os.pathsep + str(Path(__file__).parent)
    env["PYTHON_KEYRING_BACKEND"] = "stripe_sync_keyring.FileKeyring"
    env["NRR_TEST_KEYRING_FILE"] = str(tmp_path / "keyring.json")
    code = "import sys; from nrr.cli_stripe import stripe_group as g; g(sys.argv[1:])"
    login = subprocess.run([sys.executable, "-c", code, "login"], input=SECRET_KEY + "\n",
                           env=env, capture_output=True, text=True, timeout=60, check=False)
    assert login.returncode == 0, login.stderr
    assert SECRET_KEY not in login.stdout + login.stderr
    with StripeServer(account, api_key=SECRET_KEY) as srv:
        env["NRR_STRIPE_API_BASE"] = srv.url
        done = subprocess.run([sys.executable, "-c", code, "sync", "--workspace",
                               str(tmp_path / "ws"), "--json"], env=env, capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["lines"] > 0
