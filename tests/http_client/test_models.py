"""What the client sends and returns, read from and written to the API's JSON."""

from __future__ import annotations

import pytest

from sameday.http_client import Event, SamedayUnavailable
from sameday.http_client._models import fallback_recommendation, recommendation


def test_events_leave_out_what_is_not_set() -> None:
    assert Event(event_id="e", unit="u", name="click").to_json() == {
        "event_id": "e",
        "unit": "u",
        "name": "click",
        "value": 1.0,
    }
    full = Event(event_id="e", unit="u", name="buy", value=9.5, time=1.0, request_id="r", item="i")
    assert full.to_json()["request_id"] == "r" and full.to_json()["time"] == 1.0


def test_a_body_that_is_not_a_recommendation_is_refused() -> None:
    with pytest.raises(ValueError, match="not a recommendation: KeyError"):
        recommendation({"request_id": "r"})
    with pytest.raises(ValueError, match="not a recommendation"):
        recommendation([1, 2])


def test_the_fallback_is_deduplicated_filtered_and_cut_like_a_served_list() -> None:
    error = SamedayUnavailable("down", reason="down", attempts=1)
    calls: list[tuple[str, str]] = []

    def per_surface(surface: str, unit: str) -> list[str]:
        calls.append((surface, unit))
        return ["a", "b", "a", "c", "d"]

    rec = fallback_recommendation(
        per_surface, surface="home", unit="u1", request_id="r", n=2, exclude=["b"], error=error
    )
    assert calls == [("home", "u1")]
    assert rec.item_ids == ["a", "c"] and rec.fallback and rec.error is error
    assert (rec.experiment, rec.arm, rec.degraded, dict(rec.snapshots)) == (None, None, False, {})
    whole = fallback_recommendation(
        ("x", "y"), surface="s", unit="u", request_id="r", n=None, exclude=(), error=error
    )
    assert whole.item_ids == ["x", "y"]


def test_the_model_object_of_a_scored_list_is_kept() -> None:
    body = {
        "request_id": "r",
        "surface": "home",
        "unit": "u1",
        "experiment": None,
        "arm": None,
        "degraded": False,
        "snapshots": {},
        "items": [{"item": "i1", "score": 2.5, "position": 1, "source": "cands"}],
    }
    assert recommendation(body).model is None
    scored = {"scorer": "ranker@champion", "version": "ranker/3", "fallback": None}
    assert recommendation({**body, "model": scored}).model == scored
