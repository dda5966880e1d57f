"""The built-in checks, by name: what a monitor runs when its file lists ``checks:`` (or not).

Each entry names the function that builds a check's instances for a project and a monitor
(``(project, monitor) -> list[Check]``, reading the monitor's settings section if the check has
one) and the moments a check is worth running again on its own: after a pipeline ``run``,
after a ``publish``. Functions are imported when a monitor runs, so importing the registry
costs nothing. Plugging a check in is one line here and its name in
``sameday.config.monitor.CHECK_NAMES`` (a test keeps the two in step).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sameday.config.monitor import CHECK_NAMES

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.config.monitor import Monitor
    from sameday.monitor.check import Check

Factory = Callable[["Project", "Monitor"], Sequence["Check"]]
Moment = str
"""``run`` (a pipeline run ended) or ``publish`` (a snapshot went live)."""


@dataclass(frozen=True)
class Builtin:
    """Where a built-in check is built (``module:function``) and when it runs on its own."""

    factory: str
    after: frozenset[Moment]


BUILTIN: dict[str, Builtin] = {
    "runs": Builtin("sameday.monitor.runs:builtin_checks", frozenset({"run"})),
    "freshness": Builtin("sameday.monitor.freshness:builtin_checks", frozenset({"run", "publish"})),
    "drift": Builtin("sameday.monitor.drift:builtin_checks", frozenset({"publish"})),
    "dataset": Builtin("sameday.monitor.datasets:builtin_checks", frozenset({"run"})),
    # in analysis: it reads experiment summaries, a layer above this one
    "health": Builtin("sameday.analysis.health:builtin_checks", frozenset()),
    "series": Builtin("sameday.monitor.series:builtin_checks", frozenset()),
}


def factory(name: str) -> Factory:
    """The function that builds the check called ``name``.

    Raises:
        KeyError: no built-in check has this name (the config model refuses such names first).
    """
    module, _, function = BUILTIN[name].factory.partition(":")
    return cast(Factory, getattr(importlib.import_module(module), function))


def checks_for(project: Project, monitor: Monitor, *, after: Moment | None = None) -> list[Check]:
    """The checks ``monitor`` runs (its ``checks:``, or every built-in one), in its order.

    With ``after``, only those worth running right after that moment.
    """
    names = monitor.checks if monitor.checks is not None else list(CHECK_NAMES)
    built: list[Check] = []
    for name in dict.fromkeys(names):
        if after is not None and after not in BUILTIN[name].after:
            continue
        built.extend(factory(name)(project, monitor))
    return built
