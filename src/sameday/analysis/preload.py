"""Import the statistics libraries in a thread while a report's DuckDB queries run.

A report is two stages: DuckDB reads the event log and sums it per arm and day, then numpy
turns the sums into statistics (with the distribution functions of
:mod:`sameday.analysis.stats.distributions`: ``scipy.special`` cost 0.25 s more of CPU, which
this thread took from DuckDB's). Importing numpy takes 0.1-0.3 s (more on a loaded machine),
and DuckDB releases the GIL while it works, so a ``sameday report`` process imports it on a
second thread during the queries instead of before them (``benchmarks/report_bench.py`` times the
whole process). The main thread's first ``import numpy`` after the queries simply waits for this
thread if it is still at work.

Two threads importing at once can deadlock only if each waits on a module the other is half-way
through importing. So a sameday module is preloaded only once the main thread has imported
everything it imports until its queries end (an A/B report's
:func:`~sameday.analysis.summaries.summarise` starts the preload once the log is open, the other
designs once their report module is imported): the statistics modules import numpy, the
standard library and sameday modules already imported, and the main thread imports none of them
while DuckDB works.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable

STATISTICS = ("numpy",)
"""What every design's report needs once its summaries are computed."""

SWITCH_INTERVAL = 0.0005
"""How long (seconds) the importing thread may keep the GIL once the main thread asks for it,
while it imports. A report runs some twenty DuckDB statements, and each time one ends the main
thread needs the GIL back to send the next: at Python's default (5 ms) it could wait that long
every time, up to a tenth of a second in all, while a core sat idle."""


def preload(
    modules: tuple[str, ...] = STATISTICS, *, after: Callable[[], object] | None = None
) -> threading.Thread | None:
    """Start importing ``modules`` on a thread; ``None`` when all are imported already.

    ``after`` is called on the thread before it imports: a report passes the wait of its event
    log's own check (:meth:`sameday.events.source.LogCheck.wait`), which runs on the second core
    while the queries run on the first. Importing numpy at the same time made three threads
    share two cores, and the queries lost 0.04 s of 0.7 (``benchmarks/report_bench.py``); one
    after the other, the check and the imports still end before the queries do.

    The thread is not a daemon, so the interpreter never exits in the middle of an import. A
    module that cannot be imported is left for the main thread to import, where the error is
    raised with its usual message.
    """
    missing = tuple(m for m in modules if m not in sys.modules)
    if not missing:
        return None
    thread = threading.Thread(target=_import, args=(missing, after), name="sameday-preload")
    thread.start()
    return thread


_lock = threading.Lock()
_importing = 0
"""How many preload threads are at work: the first sets the shorter switch interval, the last
restores the interpreter's (two may overlap, numpy's and a design's statistics modules)."""
_previous = 0.0


def _import(modules: tuple[str, ...], after: Callable[[], object] | None) -> None:
    global _importing, _previous
    if after is not None:
        after()
    with _lock:
        if _importing == 0:
            _previous = sys.getswitchinterval()
            sys.setswitchinterval(min(_previous, SWITCH_INTERVAL))
        _importing += 1
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:
                return
    finally:
        with _lock:
            _importing -= 1
            if _importing == 0:
                sys.setswitchinterval(_previous)
