"""Who gets a surface's traffic: running experiments that would starve each other, and shares.

The server tries a surface's running experiments in name order and gives a unit to the first one
that admits it (its hash attribute is set, its targeting matches, the unit is in its layer slice
and within its coverage). Each experiment hashes with its own seed, and each layer with its own,
so two experiments a unit could enter are independent draws: the later one only sees the units
the earlier ones left, ``coverage × (1 - earlier coverage)`` of its traffic, and nothing at all
when the earlier one covers everyone. Lowering coverage cannot make them fit: the hashes are
independent, so coverages of 0.5 and 0.5 give the second a quarter, not a half.

Two running experiments on one surface therefore never share a unit, unless one of these proves
it: they hold disjoint slices of the same layer (the layer hash is shared, so the slices split the
units), or their targeting cannot match the same request. The proof for targeting is deliberately
narrow: the same attribute compared with two different literals of one type (``country: JP``
against ``country: US``, ``is_new: true`` against ``false``, or ``$eq``). ``$in`` lists are not
a proof: an attribute holding a list matches every ``$in`` it shares an element with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sameday.config.experiment import Experiment

__all__ = ["Conflict", "conflicts", "overlap_message", "overlaps", "shares"]


@dataclass(frozen=True)
class Conflict:
    """Two running experiments on one surface that can draw the same unit.

    Attributes:
        first: the experiment tried first (by name), which takes the shared units.
        second: the experiment that loses them.
        declared: the share of its surface's traffic ``second`` declares (slice × coverage).
        served: the share it would get behind ``first`` alone.
    """

    first: Experiment
    second: Experiment
    declared: float
    served: float

    def message(self) -> str:
        """What happens, and how to fix it, in words a person can act on."""
        first, second = self.first, self.second
        layer = second.layer.name if second.layer is not None else second.surface
        outcome = (
            "no traffic at all"
            if self.served <= 0
            else f"{_percent(self.served)} of the surface's traffic instead of "
            f"{_percent(self.declared)}"
        )
        return (
            f"running experiments {first.name!r} and {second.name!r} both serve surface "
            f"{second.surface!r} and can draw the same units: the server gives each unit to the "
            f"first by name, so {second.name!r} gets {outcome}. Put both in one layer with "
            f"disjoint slices (e.g. layer: {{name: {layer}, range: [0, 0.5]}} in {first.name!r} "
            f"and range: [0.5, 1] in {second.name!r}), target audiences that cannot overlap "
            "(country: JP / country: US), or stop one of them. Lowering coverage does not help: "
            "each experiment hashes units independently"
        )


def _running(experiments: Iterable[Experiment]) -> list[Experiment]:
    """The running experiments, in the order the server tries them (by name)."""
    return sorted((e for e in experiments if e.phase == "running"), key=lambda e: e.name)


def conflicts(experiments: Iterable[Experiment]) -> list[Conflict]:
    """Every pair of running experiments on one surface that can starve the later one.

    An experiment with coverage 0 takes no unit and is never starved, so it conflicts with none.
    """
    tried = [e for e in _running(experiments) if e.coverage > 0]
    found = []
    for index, second in enumerate(tried):
        for first in tried[:index]:
            if _same_layer(first, second):
                continue  # overlapping slices of one layer are refused by `overlaps`
            if first.surface == second.surface and _may_share(first, second):
                declared = _declared(second)
                served = declared * (1 - _declared(first))
                found.append(Conflict(first, second, declared, served))
    return found


def overlaps(experiments: Iterable[Experiment]) -> list[tuple[Experiment, Experiment]]:
    """Pairs of running experiments holding overlapping slices of one layer, on any surface.

    A layer promises that its experiments never share a unit, across surfaces too.
    """
    order = [e for e in _running(experiments) if e.layer is not None]
    return [
        (first, second)
        for index, second in enumerate(order)
        for first in order[:index]
        if _same_layer(first, second) and not _disjoint_slices(first, second)
    ]


def overlap_message(first: Experiment, second: Experiment) -> str:
    """Which two experiments overlap in which layer, and what to do."""
    assert first.layer is not None and second.layer is not None
    return (
        f"running experiments {first.name!r} {list(first.layer.range)} and "
        f"{second.name!r} {list(second.layer.range)} overlap in layer "
        f"{first.layer.name!r}: give them disjoint ranges, or stop one"
    )


def shares(experiments: Iterable[Experiment]) -> dict[str, float]:
    """Each running experiment's share of the requests to its surface that match its targeting.

    The share is its slice width × coverage, less what the experiments tried before it take:
    earlier experiments in one layer take the sum of their shares (their slices are disjoint),
    separate layers and experiments without a layer take independent draws. Earlier experiments
    with targeting are counted as if it matched, so for those the share is a lower bound.
    """
    order = _running(experiments)
    out: dict[str, float] = {}
    for index, experiment in enumerate(order):
        taken: dict[str, float] = {}
        alone: list[float] = []
        for earlier in order[:index]:
            if earlier.surface != experiment.surface or not _may_share(earlier, experiment):
                continue
            if earlier.layer is None:
                alone.append(_declared(earlier))
            else:
                name = earlier.layer.name
                taken[name] = taken.get(name, 0.0) + _declared(earlier)
        left = 1.0
        for share in [*alone, *taken.values()]:
            left *= 1.0 - min(share, 1.0)
        out[experiment.name] = _declared(experiment) * left
    return out


def _declared(experiment: Experiment) -> float:
    """The share an experiment asks for: its layer slice's width times its coverage."""
    if experiment.layer is None:
        return experiment.coverage
    start, end = experiment.layer.range
    return (end - start) * experiment.coverage


def _same_layer(first: Experiment, second: Experiment) -> bool:
    return (
        first.layer is not None
        and second.layer is not None
        and first.layer.name == second.layer.name
    )


def _disjoint_slices(first: Experiment, second: Experiment) -> bool:
    assert first.layer is not None and second.layer is not None
    (a0, a1), (b0, b1) = first.layer.range, second.layer.range
    return a1 <= b0 or b1 <= a0


def _may_share(first: Experiment, second: Experiment) -> bool:
    """False only when it is proven that no unit can be admitted by both."""
    if _same_layer(first, second) and _disjoint_slices(first, second):
        return False
    return not _exclusive(first.targeting, second.targeting)


def _exclusive(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """True when some attribute is compared with two different literals of one type."""
    for key in first.keys() & second.keys():
        if key.startswith("$"):
            continue
        a, b = _literal(first[key]), _literal(second[key])
        if a is not None and b is not None and type(a[0]) is type(b[0]) and a[0] != b[0]:
            return True
    return False


def _literal(condition: Any) -> tuple[str | bool | float] | None:
    """The one value a condition requires (``JP`` or ``{$eq: JP}``), or None if it is not one.

    Numbers are compared as floats (``1`` and ``1.0`` are the same requirement in GrowthBook).
    """
    if isinstance(condition, Mapping) and list(condition) == ["$eq"]:
        condition = condition["$eq"]
    if isinstance(condition, str | bool):
        return (condition,)
    if isinstance(condition, int | float):
        return (float(condition),)
    return None


def _percent(share: float) -> str:
    return f"{share * 100:.3g}%"
