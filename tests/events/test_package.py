"""The package's public names, and its import budget: the serving path imports it."""

from __future__ import annotations

import subprocess
import sys

import sameday.events


def test_public_names_are_pinned() -> None:
    assert sorted(sameday.events.__all__) == sameday.events.__all__
    for name in sameday.events.__all__:
        assert getattr(sameday.events, name) is not None
    assert sameday.events.PostgresSink.__module__ == "sameday.events.postgres"


def test_importing_it_loads_nothing_heavy() -> None:
    heavy = ["pandas", "scipy", "statsmodels", "duckdb", "pyarrow", "psycopg", "asyncio"]
    code = (
        f"import sys, sameday.events\nprint(','.join(m for m in {heavy!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
