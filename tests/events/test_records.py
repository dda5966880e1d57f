"""Records: slotted (outcomes frozen), and the one byte encoding, which round-trips exactly."""

from __future__ import annotations

import dataclasses

import pytest

from sameday.events import Exposure, Outcome
from sameday.events.records import (
    decode_exposure,
    decode_outcome,
    encode_exposure,
    encode_outcome,
)
from tests.events.factories import exposure, outcome


def test_records_are_slotted_and_outcomes_frozen() -> None:
    event = outcome(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.name = "other"  # type: ignore[misc]
    assert not hasattr(exposure(1), "__dict__") and not hasattr(event, "__dict__")


@pytest.mark.parametrize(
    "record",
    [
        exposure(3),
        exposure(4, design="interleave", teams=("a", None), scores=None, degraded=True),
        Exposure(request_id="r", time=1.5, unit="u", surface="s", items=()),
    ],
)
def test_exposures_round_trip_through_bytes(record: Exposure) -> None:
    data = encode_exposure(record)
    assert isinstance(data, bytes) and b" " not in data.replace(b"\xc3\xa9 ", b"")
    assert decode_exposure(data) == record
    assert decode_exposure(data.decode()) == record


def test_outcomes_round_trip_through_bytes() -> None:
    for record in (outcome(2), Outcome(event_id="e", unit="u", name="buy", time=0.0, value=9.5)):
        assert decode_outcome(encode_outcome(record)) == record


def test_decoding_something_else_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="not an exposure record"):
        decode_exposure(b'{"request_id": "r", "colour": "blue"}')
    with pytest.raises(ValueError, match="not an outcome record"):
        decode_outcome(b'{"event_id": "e"}')
    with pytest.raises(ValueError):
        decode_outcome(b"{not json")
