"""Opening a SQLite file in WAL mode when several processes open it at once.

Three parts keep SQLite files (the metadata database, the embedded serving store, the embedded
event log), and ``sameday serve --workers N`` starts N processes that open them together.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

BUSY_TIMEOUT = 10.0
"""Seconds to keep retrying a file another process is switching to WAL."""


def use_wal(cursor: Any, *, timeout: float = BUSY_TIMEOUT) -> None:
    """Switch the file of ``cursor`` (a DB-API cursor or connection) to WAL, retrying while
    another connection holds the lock.

    WAL is persistent, so this is a read once the file is in WAL mode. Switching needs a moment of
    exclusive access, and SQLite answers "database is locked" at once (without its busy handler)
    when several processes open a new file together: retry for up to ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
