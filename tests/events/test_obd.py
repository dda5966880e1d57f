"""The Open Bandit Dataset round trip: the vendored sample → records → OBD rows, unchanged."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sameday.errors import OBDFormatError
from sameday.events import Exposure, Outcome, SQLiteSink, from_obd_csv, to_obd_rows
from sameday.events.obd import OBD_COLUMNS
from tests.conftest import SHARED

OBD = SHARED / "vendor" / "obd" / "random" / "all" / "all.csv"


@pytest.fixture(scope="module")
def obd_rows() -> list[dict[str, str]]:
    if not OBD.is_file():
        pytest.skip(f"the vendored OBD sample is missing: {OBD}")
    with OBD.open(newline="") as handle:
        return list(csv.DictReader(handle))


def assert_same_as_file(rows: list[dict[str, object]], expected: list[dict[str, str]]) -> None:
    assert len(rows) == len(expected) == 10_000
    for got, want in zip(rows, expected, strict=True):
        assert got["item_id"] == want["item_id"]
        assert got["position"] == int(want["position"])
        assert got["click"] == int(want["click"])
        assert got["propensity_score"] == float(want["propensity_score"])
        assert got["timestamp"] == want["timestamp"]
        context = {k: v for k, v in want.items() if k not in OBD_COLUMNS and k != ""}
        assert {k: got[k] for k in context} == context


def test_the_vendored_sample_round_trips(obd_rows: list[dict[str, str]]) -> None:
    exposures, outcomes = from_obd_csv(OBD)
    assert len(outcomes) == sum(int(r["click"]) for r in obd_rows) == 38
    assert exposures[0].request_id == "obd-0" and exposures[0].items == ("14",)
    assert outcomes[0].request_id == outcomes[0].unit and outcomes[0].name == "click"
    assert_same_as_file(to_obd_rows(exposures, outcomes), obd_rows)


def test_the_round_trip_holds_through_a_sqlite_log(
    obd_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    exposures, outcomes = from_obd_csv(OBD)
    with SQLiteSink(tmp_path / "obd.db") as sink:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
        stored = list(sink.read_exposures())
        rewards = list(sink.read_outcomes())
    assert_same_as_file(to_obd_rows(stored, rewards), obd_rows)


def test_lists_give_one_row_per_slot_and_rewards_follow_items() -> None:
    shown = Exposure(
        request_id="r1",
        time=0.25,
        unit="u",
        surface="home",
        items=("a", "b", "c"),
        propensity=0.5,
        extra={"first_position": 4},
    )
    other = Exposure(request_id="r2", time=1.0, unit="u", surface="home", items=("d", "e"))
    outcomes = [
        Outcome(event_id="1", unit="u", name="click", time=1, request_id="r1", item="b"),
        Outcome(event_id="2", unit="u", name="buy", time=1, request_id="r1", item="c"),
        Outcome(event_id="3", unit="u", name="click", time=2, request_id="r2"),  # whole list
        Outcome(event_id="4", unit="u", name="click", time=2),  # no request: not attributable
    ]
    rows = to_obd_rows([shown, other], outcomes)
    assert [(r["item_id"], r["position"], r["click"]) for r in rows] == [
        ("a", 4, 0),
        ("b", 5, 1),
        ("c", 6, 0),
        ("d", 1, 1),
        ("e", 2, 1),
    ]
    assert rows[0]["timestamp"] == "1970-01-01 00:00:00.250000+00:00"
    assert rows[0]["propensity_score"] == 0.5 and rows[3]["propensity_score"] is None
    assert [r["click"] for r in to_obd_rows([shown], outcomes, reward_event="buy")] == [0, 0, 1]


def test_a_file_that_is_not_obd_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,item_id\n2019-11-24 00:00:00+00:00,1\n")
    with pytest.raises(OBDFormatError, match=r"lacks the OBD column.*position"):
        from_obd_csv(bad)
    bad.write_text(",timestamp,item_id,position,click,propensity_score\n0,never,1,1,0,0.5\n")
    with pytest.raises(OBDFormatError, match=r"bad.csv:2: not an OBD row"):
        from_obd_csv(bad)
    bad.write_text("")
    with pytest.raises(OBDFormatError, match="empty"):
        from_obd_csv(bad)
