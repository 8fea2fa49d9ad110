"""Property-based requests generated from the OpenAPI spec: whatever they send, never a 5xx.

Runs in-process through ASGI with a bounded number of examples per operation. (The schema is
loaded at import: schemathesis's fixture-based loader does not run under this pytest.)
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from nrr.web import create_app

from .workspace import build

_FOLDER = tempfile.TemporaryDirectory(prefix="nrr-schemathesis-")  # removed at exit
# schemathesis's in-process client sends Host: testserver
APP = create_app(build(Path(_FOLDER.name)), allowed_hosts=["testserver"])
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _close_app() -> Iterator[None]:
    yield
    APP.state.backend.close()


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    case.call_and_validate(checks=[
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance,
    ])  # fmt: skip
