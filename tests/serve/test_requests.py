"""Reading request input: numbers are numbers, written the one way JSON and URLs write them."""

from __future__ import annotations

import pytest

from sameday.errors import BadRequest
from sameday.serve import requests as parse


@pytest.mark.parametrize("text", ["²", "٣", "+5", " 5", "5_0", "5.0", "", "-1", "0", "10001"])
def test_a_query_count_takes_ascii_digits_only(text: str) -> None:
    with pytest.raises(BadRequest, match="'n' must be") as info:
        parse.recommend_query({"unit": "u", "n": text})
    assert info.value.field == "n"


def test_a_query_count_in_ascii_digits_is_read() -> None:
    assert parse.recommend_query({"unit": "u", "n": "0012"}).n == 12
    assert parse.recommend_query({"unit": "u"}).n is None


@pytest.mark.parametrize("value", ["5", None, True, 2.5, [5], "٣", 0])
def test_a_json_count_must_be_a_json_integer(value: object) -> None:
    with pytest.raises(BadRequest, match="'n' must be") as info:
        parse.recommend_body({"unit": "u", "n": value})
    assert info.value.field == "n"
    with pytest.raises(BadRequest, match="'n' must be"):
        parse.batch_body({"requests": [{"unit": "u"}], "n": value})


def test_a_json_count_is_read() -> None:
    assert parse.recommend_body({"unit": "u", "n": 7}).n == 7
    assert parse.recommend_body({"unit": "u", "n": 7.0}).n == 7  # JSON has one number type
    assert parse.recommend_body({"unit": "u"}).n is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"value": "5"}, "value"),
        ({"value": None}, "value"),
        ({"time": None}, "time"),
        ({"time": "1700000000"}, "time"),
        ({"value": True}, "value"),
        ({"unit": "u\x00"}, "unit"),
        ({"name": "x" * 257}, "name"),
    ],
)
def test_event_fields_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    event = {"event_id": "e1", "unit": "u", "name": "click", **changes}
    with pytest.raises(BadRequest) as info:
        parse.events_body({"events": [{"event_id": "e0", "unit": "u", "name": "c"}, event]})
    assert info.value.field == f"events[1].{field}"
