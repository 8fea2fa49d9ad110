import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

# Tests import their shared builders as plain modules (tests/factories.py).
sys.path.insert(0, str(Path(__file__).parent))


SPARK = "tests/spark/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spark's tests first, then the other files, those with the most tests first.

    The Spark tests are the longest unit of work (several minutes on the 2-core machine): started
    first, they run while the other worker goes through the rest, instead of finishing last.
    """
    units = [_unit(item.nodeid) for item in items]
    sizes = Counter(units)
    rank = {unit: (unit != SPARK, -sizes[unit], n) for n, unit in enumerate(dict.fromkeys(units))}
    ordered = sorted(zip(units, items, strict=True), key=lambda pair: rank[pair[0]])
    items[:] = [item for _, item in ordered]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (as scripts/test runs it), except that all Spark tests are one unit.

    One worker then starts one JVM and warms it up once (the first pipeline in a JVM takes
    twice as long as the next), and the units go out in the collection order set above.
    """
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Units(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False
    return Units(config, log)


def _unit(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return SPARK if path.startswith(SPARK) else path
