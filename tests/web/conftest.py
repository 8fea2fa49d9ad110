from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nrr.web import create_app

from .workspace import build, build_peer

BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("web-ws"))


@pytest.fixture(scope="session")
def client(workspace: Path) -> Iterator[TestClient]:
    app = create_app(workspace)
    with TestClient(app, base_url=BASE) as c:
        yield c
    app.state.backend.close()


@pytest.fixture(scope="session")
def portfolio_client(workspace: Path, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[TestClient]:  # fmt: skip
    peer = build_peer(tmp_path_factory.mktemp("peer") / "beta-co")
    app = create_app(workspace, portfolio=[peer])
    with TestClient(app, base_url=BASE) as c:
        yield c
    app.state.backend.close()
