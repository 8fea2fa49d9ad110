"""Every setting is documented, and settings round-trip through the workspace."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nrr.api import open_workspace
from nrr.schema import Settings

DOC = (Path(__file__).parent.parent / "docs" / "settings.md").read_text()


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(Settings)])
def test_setting_is_documented(name: str) -> None:
    assert f"| `{name}` |" in DOC


def test_settings_round_trip(tmp_path: Path) -> None:
    chosen = Settings(discounts="all", churn_timing="requested", past_due_grace_days=14,
                      metered="trailing_average", fx_date="fixed", reporting_currency="chf",
                      size_bands=(5_000, 20_000), period="quarter", fixed_rates={"EUR": "0.93"})
    with open_workspace(tmp_path / "ws") as ws:
        ws.save_settings(chosen)
    with open_workspace(tmp_path / "ws") as ws:
        assert ws.settings == chosen
        assert ws.settings.reporting_currency == "CHF"


@pytest.mark.parametrize("bad", [
    {"discounts": "sometimes"}, {"churn_timing": "never"}, {"past_due_grace_days": -1},
    {"reporting_currency": "EURO"}, {"size_bands": (5, 5)}, {"period": "week"},
])
def test_bad_settings_are_refused_with_the_choices(bad: dict) -> None:
    with pytest.raises(ValueError, match="must"):
        Settings(**bad)
