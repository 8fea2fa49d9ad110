from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nrr.web import create_app

from .workspace import build

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
