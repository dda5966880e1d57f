"""Interleaving on the serving path: merge the arms' lists by the experiment's method.

The merge is a pure function of the lists and the key ``(experiment, unit, request)``
(:mod:`sameday.policies.interleave`), so an exposure's list can be rebuilt from its key and the
snapshots it names. What the exposure records besides ``teams`` goes in ``extra``: the method,
the coins, the probability of the list, and what credit needs (``shared`` slots for competitive
pairs, each slot's ``ranks`` for balanced interleaving).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sameday.policies.interleave import Interleaved, balanced, multileave, ranks, team_draft
from sameday.policies.keyed import KeyedStream


@dataclass(frozen=True, slots=True)
class InterleavePlan:
    """How an interleaved experiment merges its arms' lists.

    ``method`` is ``team_draft`` (two arms), ``multileave`` (three or more) or ``balanced``;
    ``fallbacks`` fill a list the arms leave short, with no team.
    """

    method: str
    competitive: bool
    fallbacks: tuple[str, ...]


def interleave_lists(
    plan: InterleavePlan,
    experiment: str,
    unit: str,
    request: str,
    lists: Sequence[Sequence[str]],
    size: int,
    exclude: Collection[str],
) -> tuple[Interleaved, dict[str, Any]]:
    """The merged list and the ``extra`` fields its exposure logs."""
    stream = KeyedStream.for_request(experiment, unit, request)
    if plan.method == "balanced":
        merged = balanced(lists[0], lists[1], size, stream, exclude=exclude)
    elif plan.method == "multileave":
        merged = multileave(lists, size, stream, exclude=exclude, competitive=plan.competitive)
    else:
        merged = team_draft(
            lists[0], lists[1], size, stream, exclude=exclude, competitive=plan.competitive
        )
    extra: dict[str, Any] = {
        "method": plan.method,
        "coins": list(merged.coins),
        "list_probability": merged.probability,
    }
    if plan.competitive:
        extra["shared"] = list(merged.shared)
    if plan.method == "balanced":
        extra["ranks"] = ranks(merged.items, lists)
    return merged, extra
