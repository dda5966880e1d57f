"""Helpers for testing code that uses sameday: stores filled in one call, specs built inline.

Public on purpose (like click's ``CliRunner``): a product team testing its own integration needs
the same shortcuts sameday's tests use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sameday.store.base import Item, ServingStore
from sameday.store.codec import encode_list

Lists = Mapping[str, Sequence[str | tuple[str, float]]]


def load_lists(store: ServingStore, result_set: str, version: str, lists: Lists) -> None:
    """Load ``key → items`` into ``store`` as ``version`` of ``result_set`` and make it live.

    Items are ids (scored by rank, highest first) or ``(id, score)`` pairs.
    """
    chunk = []
    for key in sorted(lists):
        entries = lists[key]
        items = [
            Item(entry, float(len(entries) - rank))
            if isinstance(entry, str)
            else Item(entry[0], float(entry[1]))
            for rank, entry in enumerate(entries)
        ]
        chunk.append((key, encode_list(items)))
    store.load(result_set, version, [chunk])
    store.set_live(result_set, version)


def surface_spec(name: str, result_set: str, **fields: Any) -> dict[str, Any]:
    """The applied spec of a surface, with defaults filled in."""
    from sameday.config.surface import Surface

    return Surface.model_validate({"name": name, "result_set": result_set, **fields}).model_dump(
        mode="json"
    )


def experiment_spec(
    name: str, surface: str, arms: Mapping[str, str], **fields: Any
) -> dict[str, Any]:
    """The applied spec of an experiment with ``arm name → result set``, running by default."""
    from sameday.config.experiment import Experiment

    data = {
        "name": name,
        "surface": surface,
        "phase": "running",
        "arms": [{"name": arm, "result_set": rs} for arm, rs in arms.items()],
        **fields,
    }
    return Experiment.model_validate(data).model_dump(mode="json")
