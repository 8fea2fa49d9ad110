"""docs/importing.md runs and stays complete: examples execute, every name and flag is listed."""

from __future__ import annotations

import doctest
from pathlib import Path

from nrr.cli_import import import_command
from nrr.sources.mapping import ROLES

DOC = Path(__file__).parents[2] / "docs" / "importing.md"


def test_examples_run() -> None:
    result = doctest.testfile(str(DOC), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0


def test_every_recognised_name_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for roles in ROLES.values():
        for role in roles:
            assert f"`{role.name}`" in text, role.name
            for alias in role.aliases:
                assert alias in text, (role.name, alias)


def test_every_flag_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for param in import_command.params:
        for flag in getattr(param, "opts", []):
            if flag.startswith("--") and flag not in ("--help", "--workspace", "--json"):
                assert flag in text, flag
