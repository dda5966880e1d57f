"""GrowthBook's vendored conformance file, shared by the tests that read it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.conftest import SHARED

CASES_PATH = SHARED / "vendor/growthbook/cases.json"


@cache
def load_cases() -> dict[str, Any]:
    """The suite, parsed once."""
    data: dict[str, Any] = json.loads(CASES_PATH.read_text(encoding="utf-8"))
    return data


def family(name: str) -> list[Any]:
    """The vectors of one family; none when the file is missing (a test reports that)."""
    if not CASES_PATH.exists():
        return []
    cases: list[Any] = load_cases()[name]
    return cases
