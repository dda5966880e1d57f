"""``count_exposures``: per-arm exposures and units, the same on every backend."""

from __future__ import annotations

from collections import Counter

from sameday.events import EventSink
from tests.events.factories import T0, exposure


def expected(indices: range) -> dict[str, tuple[int, int]]:
    """Counted by hand from the factory: arm and unit of each exposure of exp-a."""
    records = [exposure(i) for i in indices if exposure(i).experiment == "exp-a"]
    exposures = Counter(r.arm for r in records)
    units = {arm: len({r.unit for r in records if r.arm == arm}) for arm in exposures}
    return {str(arm): (n, units[arm]) for arm, n in exposures.items()}


def test_counts_per_arm_within_a_time_window(sink: EventSink) -> None:
    sink.write_exposures([exposure(i) for i in range(60)])
    counted = sink.count_exposures("exp-a")
    assert {arm: tuple(c) for arm, c in counted.items()} == expected(range(60))
    recent = sink.count_exposures("exp-a", since=T0 + 30, until=T0 + 45)
    assert {arm: tuple(c) for arm, c in recent.items()} == expected(range(30, 45))
    assert sink.count_exposures("nope") == {}
