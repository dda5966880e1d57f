"""Several processes opening one new SQLite file at once, as ``sameday serve --workers N`` does.

Switching a new file to WAL needs a moment of exclusive access, and SQLite answers "database is
locked" at once to the others (its busy handler is not consulted): a worker of a fresh project
failed to start this way in CI. Every SQLite part must wait its turn instead.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sameday.events import SQLiteSink
from sameday.store.sqlite import SQLiteStore

PROCESSES = 6
FILES = 6


def _open_event_log(path: Path) -> None:
    SQLiteSink(path).close()


def _open_serving_store(path: Path) -> None:
    SQLiteStore(path).close()


def _open_and_report(opener: Callable[[Path], None], path: Path, start: Any, out: Any) -> None:
    """Open ``path`` the moment every sibling is ready; put what happened on ``out``."""
    start.wait()
    try:
        opener(path)
    except Exception as exc:  # the parent reports what each child saw
        out.put(f"{type(exc).__name__}: {exc}")
    else:
        out.put("ok")


@pytest.mark.parametrize("opener", [_open_event_log, _open_serving_store])
def test_processes_opening_one_new_file_together_all_succeed(
    tmp_path: Path, opener: Callable[[Path], None]
) -> None:
    context = multiprocessing.get_context("fork")
    for number in range(FILES):
        path = tmp_path / f"new-{number}.db"
        start, out = context.Barrier(PROCESSES), context.Queue()
        children = [
            context.Process(target=_open_and_report, args=(opener, path, start, out))
            for _ in range(PROCESSES)
        ]
        for child in children:
            child.start()
        answers = [out.get(timeout=60) for _ in children]
        for child in children:
            child.join(timeout=60)
        assert answers == ["ok"] * PROCESSES, answers
