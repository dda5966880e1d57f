"""Python scorers for the online-scoring tests (``python: tests.serve._scorers:NAME``).

They live in an importable module because a ``python:`` scorer is imported by name, as a
team's own module would be.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

RELEASE = threading.Event()
"""Set to let :func:`hang` return."""


def by_x(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """Highest feature ``x`` first, plus the request's ``boost`` attribute when given."""
    return [float(row.get("x", 0.0)) * float(row.get("boost", 1.0)) for row in rows]


def by_popularity(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """Highest ``pop`` first: a column of the item feature table."""
    return [float(row.get("pop", 0.0)) for row in rows]


def hang(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """Overrun any budget: wait until released (at most two seconds)."""
    RELEASE.wait(2.0)
    return [0.0] * len(rows)


def slow(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """Take 200 ms."""
    time.sleep(0.2)
    return [0.0] * len(rows)


def broken(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """Fail as a buggy scorer does."""
    raise KeyError("x")


def short(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """Return one score too few."""
    return [1.0] * (len(rows) - 1)


class Reversed:
    """An object with ``predict``: the batch order reversed."""

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        return [float(row["rank"]) for row in rows]


REVERSED = Reversed()


THREADS: list[int] = []
"""The thread each run of :func:`where` ran on."""
SLOW = threading.Event()
"""Set to make :func:`where` take 200 ms."""


def where(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """:func:`by_x`, noting the thread it runs on (and slow while :data:`SLOW` is set)."""
    THREADS.append(threading.get_ident())
    if SLOW.is_set():
        time.sleep(0.2)
    return by_x(rows)


def by_matrix(candidates: Any) -> Any:
    """Highest ``x`` minus ``y`` first, computed on the candidates' matrix (a held list's
    prepared payload columns when it has them)."""
    return candidates.matrix(["x", "y"]) @ [1.0, -1.0]
