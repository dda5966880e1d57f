"""The package's public names, and its import budget: the serving path imports it."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def test_each_name_is_imported_on_first_use() -> None:
    """A report reads the log through ``sameday.events.source``, which runs the package first:
    none of the writing side (writer, memory sink, OBD converter) loads with it."""
    assert set(sameday.events.__all__) == {"EventRejected", "EventsUnavailable"} | set(
        sameday.events._MODULES
    )
    writing = ["sameday.events.writer", "sameday.events.memory", "sameday.events.obd"]
    code = (
        "import sys, sameday.events.source\n"
        f"print(','.join(m for m in {writing!r} if m in sys.modules))\n"
        "from sameday.events import EventWriter\n"
        "print(EventWriter.__module__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["", "sameday.events.writer"]
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchName'"):
        getattr(sameday.events, "NoSuchName")  # noqa: B009
