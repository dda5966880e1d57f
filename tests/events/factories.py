"""Deterministic records for the event tests."""

from __future__ import annotations

from typing import Any

from sameday.events import Exposure, Outcome

T0 = 1_700_000_000.0
"""The time of record 0; record ``i`` is ``i`` seconds later."""


def exposure(i: int, **changes: Any) -> Exposure:
    """Exposure ``i``: unit ``u<i % 7>``, experiment ``exp-a`` for even ``i`` else ``exp-b``."""
    fields: dict[str, Any] = {
        "request_id": f"req-{i:05d}",
        "time": T0 + i,
        "unit": f"u{i % 7}",
        "surface": "home",
        "items": (f"item-{i}", f"item-{i + 1}", "popular-1"),
        "experiment": "exp-a" if i % 2 == 0 else "exp-b",
        "arm": "treatment" if i % 3 else "control",
        "hash_attribute": "id",
        "hash_value": f"u{i % 7}",
        "hash_version": 2,
        "seed": "exp-a" if i % 2 == 0 else "exp-b",
        "bucket": (i % 100) / 100,
        "scores": (0.9, 0.5, 0.125),
        "snapshot_versions": {"personal": "v3", "popular": "v1"},
        "propensity": 0.5,
        "design": "ab",
        "extra": {"note": "é ünïcode", "n": i},
    }
    fields.update(changes)
    return Exposure(**fields)


def outcome(i: int, **changes: Any) -> Outcome:
    """Outcome ``i``: a click by unit ``u<i % 7>`` on request ``req-<i>``'s first item."""
    fields: dict[str, Any] = {
        "event_id": f"evt-{i:05d}",
        "unit": f"u{i % 7}",
        "name": "click",
        "time": T0 + i + 0.5,
        "request_id": f"req-{i:05d}",
        "item": f"item-{i}",
    }
    fields.update(changes)
    return Outcome(**fields)
