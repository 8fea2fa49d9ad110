"""A real server (uvicorn on a free loopback port) over the demo workspace, and real Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nrr.web import create_app
from served import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from nrr import demo

    folder = demo.build(tmp_path_factory.mktemp("demo"), echo=lambda _: None)
    return folder, demo.DEMO_AS_OF


@pytest.fixture(scope="session")
def server(demo_workspace: tuple[Path, Any]) -> Iterator[str]:
    import uvicorn

    from web.workspace import build  # the web tests' tiny company, as a second one

    folder, as_of = demo_workspace
    peer = build(folder.parent / "tiny-co")
    app = create_app(folder, as_of=as_of, portfolio=[peer])
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    app.state.backend.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors, page errors and failed requests are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))


@pytest.fixture(scope="session")
def context(browser: Any) -> Iterator[Any]:
    # One context for the session: the charting library is fetched once, then cached.
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture()
def watched(context: Any) -> Iterator[Watched]:
    page = context.new_page()
    yield Watched(page)
    page.close()
