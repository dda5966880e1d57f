"""Import the statistics libraries in a thread while a report's DuckDB queries run.

A report is two stages: DuckDB reads the event log and sums it per arm and day, then numpy
turns the sums into statistics (with the distribution functions of
:mod:`sameday.analysis.stats.distributions`: ``scipy.special`` cost 0.25 s more of CPU, which
this thread took from DuckDB's). Importing numpy takes 0.1-0.3 s (more on a loaded machine),
and DuckDB releases the GIL while it works, so a ``sameday report`` process imports it on a
second thread during the queries instead of before them (``benchmarks/report_bench.py`` times the
whole process). Only third-party modules are imported here, never a sameday module, so the two
threads can never wait on each other's half-imported modules: the main thread's first
``import numpy`` after the queries simply waits for this thread if it is still at work.
"""

from __future__ import annotations

import importlib
import sys
import threading

STATISTICS = ("numpy",)
"""What every design's report needs once its summaries are computed."""

SWITCH_INTERVAL = 0.0005
"""How long (seconds) the importing thread may keep the GIL once the main thread asks for it,
while it imports. A report runs some twenty DuckDB statements, and each time one ends the main
thread needs the GIL back to send the next: at Python's default (5 ms) it could wait that long
every time, up to a tenth of a second in all, while a core sat idle."""


def preload(modules: tuple[str, ...] = STATISTICS) -> threading.Thread | None:
    """Start importing ``modules`` on a thread; ``None`` when all are imported already.

    The thread is not a daemon, so the interpreter never exits in the middle of an import. A
    module that cannot be imported is left for the main thread to import, where the error is
    raised with its usual message.
    """
    missing = tuple(m for m in modules if m not in sys.modules)
    if not missing:
        return None
    thread = threading.Thread(target=_import, args=(missing,), name="sameday-preload")
    thread.start()
    return thread


def _import(modules: tuple[str, ...]) -> None:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:
                return
    finally:
        sys.setswitchinterval(previous)
