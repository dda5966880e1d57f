"""The memory sink as a test double: switching it off makes writes fail, and commits nothing."""

from __future__ import annotations

import pytest

from sameday.errors import StoreUnavailable
from sameday.events import MemorySink
from tests.events.factories import exposure, outcome


def test_switched_off_it_refuses_writes_and_keeps_what_it_had() -> None:
    sink = MemorySink()
    sink.write_exposures([exposure(0)])
    sink.available = False
    with pytest.raises(StoreUnavailable, match="available = False"):
        sink.write_exposures([exposure(1)])
    with pytest.raises(StoreUnavailable):
        sink.write_outcomes([outcome(1)])
    assert repr(sink) == "MemorySink(exposures=1, outcomes=0, available=False)"
    sink.available = True
    assert sink.write_outcomes([outcome(1)]) == 1
