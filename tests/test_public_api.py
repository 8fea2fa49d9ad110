"""The public API is declared in nrr/__init__.py; changing it must be a visible decision."""

from __future__ import annotations

import nrr

EXPECTED = [
    "Results", "Settings", "Workspace", "__version__", "compute", "compute_frames", "import_file",
    "open_workspace", "reports", "revenue_lines", "sync_stripe",
]


def test_public_names_are_the_declared_ones():
    assert nrr.__all__ == EXPECTED


def test_every_public_name_resolves():
    for name in nrr.__all__:
        assert getattr(nrr, name) is not None
