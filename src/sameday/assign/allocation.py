"""An experiment's assignment, checked and precomputed once, applied per request in microseconds.

``Allocation`` holds what GrowthBook's ``run`` recomputes on every call: the bucket ranges from
weights and coverage, the FNV state after the seed (hash version 2 hashes ``seed + unit``, so the
seed's part is done at build time), the layer slice and the filters. ``assign(unit)`` then only
hashes the unit and scans the ranges. It gives the arm GrowthBook would give for the same
experiment (checked against growthbook-python in the tests and the benchmark).

Unlike ``get_bucket_ranges``, which reproduces GrowthBook's silent fallback to equal weights, an
``Allocation`` refuses weights that are wrong: serving a split nobody asked for is worse than an
error at config time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sameday.assign.buckets import WEIGHT_SUM_MAX, WEIGHT_SUM_MIN, Range, get_bucket_ranges
from sameday.assign.filters import Filter, Namespace, in_namespace, is_filtered_out
from sameday.assign.hashing import FNV_OFFSET, FNV_PRIME, code_units, fnv1a32_continue
from sameday.assign.hashing import hash as gb_hash
from sameday.errors import InvalidAllocation

if TYPE_CHECKING:
    from sameday.config.experiment import Experiment

__all__ = ["Allocation", "InvalidAllocation"]

_MASK = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one experiment splits units into arms; build once per config, call ``assign`` often.

    Attributes:
        seed: hash seed; sameday uses the experiment name (plus ``:v<bucket_version>``).
        arms: number of arms.
        weights: each arm's share of covered units, summing to 1; ``None`` for equal shares.
        coverage: share of eligible units in the experiment, in [0, 1].
        hash_version: GrowthBook hash version, 1 or 2 (2 for new experiments).
        namespace: ``(layer, start, end)``: only units in that slice of the layer are eligible.
        filters: GrowthBook filters; when given, ``namespace`` is ignored, as in GrowthBook.
        explicit_ranges: GrowthBook's ``ranges``: one ``[start, end)`` per arm, overriding
            weights and coverage.
        ranges: the bucket range of each arm (derived).

    Raises:
        InvalidAllocation: on settings GrowthBook would silently replace or ignore.
    """

    seed: str
    arms: int = 2
    weights: tuple[float, ...] | None = None
    coverage: float = 1.0
    hash_version: int = 2
    namespace: Namespace | None = None
    filters: tuple[Filter, ...] = ()
    explicit_ranges: tuple[Range, ...] | None = None
    ranges: tuple[Range, ...] = field(init=False)
    _seed_state: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.hash_version not in (1, 2):
            self._fail(f"hash_version must be 1 or 2, not {self.hash_version!r}")
        if self.arms < 2:
            self._fail(f"needs at least two arms (as GrowthBook does), got {self.arms}")
        if not (0.0 <= self.coverage <= 1.0):
            self._fail(f"coverage must be within [0, 1], not {self.coverage!r}")
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
            self._check_weights()
        if self.namespace is not None:
            name, start, end = self.namespace
            if not (0.0 <= start <= end <= 1.0):
                self._fail(f"layer {name!r} slice must satisfy 0 <= start <= end <= 1")
        object.__setattr__(self, "filters", tuple(self.filters))
        if self.explicit_ranges is not None:
            ranges = tuple((float(s), float(e)) for s, e in self.explicit_ranges)
            if len(ranges) != self.arms or not all(0 <= s <= e <= 1 for s, e in ranges):
                self._fail(f"ranges must be {self.arms} pairs [start, end) within [0, 1]")
            object.__setattr__(self, "explicit_ranges", ranges)
        else:
            ranges = tuple(get_bucket_ranges(self.arms, self.coverage, self.weights))
        object.__setattr__(self, "ranges", ranges)
        object.__setattr__(self, "_seed_state", fnv1a32_continue(FNV_OFFSET, self.seed))

    def _fail(self, problem: str) -> None:
        raise InvalidAllocation(f"allocation with seed {self.seed!r}: {problem}")

    def _check_weights(self) -> None:
        weights = self.weights or ()
        if len(weights) != self.arms:
            self._fail(f"{len(weights)} weights given for {self.arms} arms; give one per arm")
        if not all(math.isfinite(w) and w >= 0 for w in weights):
            self._fail(f"weights must be finite and non-negative, got {list(weights)}")
        total = sum(weights)
        if total < WEIGHT_SUM_MIN or total > WEIGHT_SUM_MAX:
            self._fail(f"weights must sum to 1, they sum to {total:g}")

    @classmethod
    def from_experiment(cls, experiment: Experiment) -> Allocation:
        """The allocation of an experiment file: its seed, arms, weights, coverage and layer."""
        layer = experiment.layer
        return cls(
            seed=experiment.seed,
            arms=len(experiment.arms),
            weights=tuple(experiment.weights),
            coverage=experiment.coverage,
            hash_version=experiment.hashing.version,
            namespace=None if layer is None else (layer.name, *layer.range),
        )

    def bucket(self, unit: str) -> float:
        """The unit's bucket in [0, 1) under this seed and hash version (logged as hash input)."""
        if self.hash_version == 1:
            return gb_hash(self.seed, unit, 1) or 0.0
        inner = fnv1a32_continue(self._seed_state, unit)
        return (fnv1a32_continue(FNV_OFFSET, str(inner)) % 10000) / 10000

    def assign(self, unit: str, attributes: Mapping[str, Any] | None = None) -> int | None:
        """The arm index for ``unit`` (its hash attribute as a string), or ``None`` if excluded.

        A unit is excluded when ``unit`` is empty, when a filter or the layer slice rejects it,
        or when its bucket falls outside every arm's range (coverage). ``attributes`` is read
        only by filters that name an attribute.
        """
        return self.locate(unit, attributes)[0]

    def locate(
        self, unit: str, attributes: Mapping[str, Any] | None = None
    ) -> tuple[int | None, float | None]:
        """``(arm index, bucket)`` for ``unit``: :meth:`assign` plus the bucket it used, hashed
        once, for the exposure log. The bucket is ``None`` when the unit was excluded before
        hashing (empty id, filter or layer)."""
        if not unit:
            return None, None
        if self.filters:
            if is_filtered_out(self.filters, attributes or {}, unit):
                return None, None
        elif self.namespace is not None and not in_namespace(unit, self.namespace):
            return None, None
        if self.hash_version == 2:
            # Hash version 2, inlined: FNV-1a from the seed's state, then over the digits.
            state = self._seed_state
            for code in unit.encode() if unit.isascii() else code_units(unit):
                state = ((state ^ code) * FNV_PRIME) & _MASK
            outer = FNV_OFFSET
            for code in str(state).encode():
                outer = ((outer ^ code) * FNV_PRIME) & _MASK
            n = (outer % 10000) / 10000
        else:
            n = self.bucket(unit)
        for index, (start, end) in enumerate(self.ranges):
            if start <= n < end:
                return index, n
        return None, n
