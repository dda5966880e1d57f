"""Who may enter an experiment before its arms are chosen: layers (namespaces) and filters.

A layer is GrowthBook's namespace ``(name, start, end)``: every experiment in layer ``name`` hashes
the unit with seed ``"__" + name`` (hash version 1, as GrowthBook does) and admits the units whose
bucket falls in its own ``[start, end)``. Experiments given disjoint slices of one layer never
share a unit, whatever their own seeds.

Filters are GrowthBook's newer, general form: each names a seed, a hash version, an attribute and
the bucket ranges it admits; a unit must pass every filter. When an experiment has filters its
namespace is ignored, as in GrowthBook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sameday.assign._js import number_to_string
from sameday.assign.buckets import Range
from sameday.assign.hashing import hash as gb_hash

__all__ = ["Filter", "Namespace", "hash_value", "in_namespace", "is_filtered_out"]

Namespace = tuple[str, float, float]
"""GrowthBook's namespace: ``(layer name, start, end)`` with ``0 <= start < end <= 1``."""


def in_namespace(unit_id: str, namespace: Namespace) -> bool:
    """Whether ``unit_id`` falls in the namespace's slice ``[start, end)`` of its layer."""
    name, start, end = namespace
    n = gb_hash("__" + name, unit_id, 1)
    return n is not None and start <= n < end


def hash_value(attributes: Mapping[str, Any], attribute: str) -> str:
    """The string GrowthBook hashes for ``attributes[attribute]``, or ``""`` when it can't.

    Only non-empty strings and finite, non-zero numbers identify a unit (numbers as their JS
    string, so ``123`` and ``123.0`` both hash as ``"123"``); anything else, including a missing
    attribute, gives ``""``, which keeps the unit out of the experiment.
    """
    value = attributes.get(attribute)
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if value == 0 or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    text = number_to_string(value)
    return "" if text.endswith("Infinity") else text


@dataclass(frozen=True, slots=True)
class Filter:
    """One GrowthBook filter: units whose bucket under ``seed`` is in none of ``ranges`` are out.

    Attributes:
        seed: hash seed of this filter.
        ranges: admitted ``[start, end)`` bucket ranges.
        hash_version: GrowthBook hash version (GrowthBook's default for filters is 2).
        attribute: attribute hashed; ``None`` means the unit being assigned. GrowthBook payloads
            that omit it mean ``"id"``, which is what :meth:`from_dict` gives.
    """

    seed: str
    ranges: tuple[Range, ...]
    hash_version: int = 2
    attribute: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Filter:
        """Read GrowthBook's JSON shape ``{seed, ranges, hashVersion?, attribute?}``."""
        return cls(
            seed=str(data.get("seed", "")),
            ranges=tuple((float(r[0]), float(r[1])) for r in data.get("ranges", ())),
            hash_version=int(data.get("hashVersion") or 2),
            attribute=str(data.get("attribute") or "id"),
        )

    def admits(self, value: str) -> bool:
        """Whether a unit whose hash attribute is ``value`` passes this filter."""
        if not value:
            return False
        n = gb_hash(self.seed, value, self.hash_version)
        return n is not None and any(start <= n < end for start, end in self.ranges)


def is_filtered_out(
    filters: Sequence[Filter], attributes: Mapping[str, Any], unit: str | None = None
) -> bool:
    """Whether any filter rejects the unit (GrowthBook's ``isFilteredOut``).

    Args:
        filters: the experiment's filters.
        attributes: the request's attributes, read by filters that name an attribute.
        unit: the unit's hash value, used by filters whose ``attribute`` is ``None``.
    """
    for flt in filters:
        value = (unit or "") if flt.attribute is None else hash_value(attributes, flt.attribute)
        if not flt.admits(value):
            return True
    return False
