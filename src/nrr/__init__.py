"""nrr: revenue retention analytics from Stripe or any billing export, on your own machine.

The public API. Names load on first use, so importing ``nrr`` (and starting the CLI) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "open_workspace": "nrr.api",
    "compute": "nrr.api",
    "compute_frames": "nrr.api",
    "revenue_lines": "nrr.api",
    "Results": "nrr.api",
    "Workspace": "nrr.api",
    "Settings": "nrr.schema",
    "import_file": "nrr.imports",
    "sync_stripe": "nrr.sync",
    "reports": "nrr.reports",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nrr' has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    return module if name == "reports" else getattr(module, name)
