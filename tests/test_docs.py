"""The worked examples in docs/ run as tests, so the documentation cannot drift from the code."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"
EXECUTED = ["definitions.md"]


@pytest.mark.parametrize("name", EXECUTED)
def test_doc_examples_run(name: str) -> None:
    result = doctest.testfile(
        str(DOCS / name),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 5
    assert result.failed == 0
