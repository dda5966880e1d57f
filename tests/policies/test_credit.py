"""Credit attribution and the small simulation: team-draft finds the better ranker."""

from __future__ import annotations

import random

from sameday.events.records import Exposure, Outcome
from sameday.policies.credit import (
    credit_impressions,
    impression_outcomes,
    preference,
    user_credit,
)
from sameday.policies.interleave import balanced, ranks, team_draft
from sameday.policies.keyed import KeyedStream


def exposure(rid: str, unit: str, items, teams, **extra) -> Exposure:
    return Exposure(
        request_id=rid,
        time=0.0,
        unit=unit,
        surface="home",
        items=tuple(items),
        experiment="exp",
        design="interleave",
        teams=tuple(teams),
        extra={"arms": ["a", "b"], **extra},
    )


def click(rid: str, unit: str, item: str | None, n: int = 0, name: str = "click") -> Outcome:
    return Outcome(
        event_id=f"{rid}-{item}-{n}", unit=unit, name=name, time=1.0, request_id=rid, item=item
    )


def test_clicks_are_credited_by_request_and_slot() -> None:
    logs = [
        exposure("r1", "u1", "xyz", ["a", "b", None]),
        exposure("r2", "u1", "xyz", ["b", "a", "a"]),
        exposure("r3", "u2", "xyz", ["a", "b", "b"]),
    ]
    outcomes = [
        click("r1", "u1", "x"),
        click("r1", "u1", "x", 1),  # a repeat counts once
        click("r1", "u1", "z"),  # a fallback slot: no team
        click("r2", "u1", "x"),
        click("r2", "u1", "y"),
        click("r2", "u1", "z"),
        click("r3", "u2", None),  # list-level: no team
        click("r3", "u2", "y", name="view"),  # not a credited event
    ]
    impressions = credit_impressions(logs, outcomes)
    assert [i.credit for i in impressions] == [
        {"a": 1.0, "b": 0.0},
        {"a": 2.0, "b": 1.0},
        {"a": 0.0, "b": 0.0},
    ]
    assert [i.result("a", "b") for i in impressions] == ["win", "win", "tie"]
    counts = impression_outcomes(impressions, "a", "b")
    assert (counts.wins_a, counts.wins_b, counts.ties) == (2, 0, 1)
    users = user_credit(impressions, "a", "b")
    assert users.units == ("u1", "u2") and users.share_b() == [0.25, None]


def test_competitive_pairs_ignore_shared_slots() -> None:
    logs = [exposure("r1", "u1", "xy", ["a", "b"], shared=[0])]
    outcomes = [click("r1", "u1", "x"), click("r1", "u1", "y")]
    assert credit_impressions(logs, outcomes)[0].credit == {"a": 1.0, "b": 1.0}
    competitive = credit_impressions(logs, outcomes, credit="competitive_pairs")
    assert competitive[0].credit == {"a": 0.0, "b": 1.0}


def test_balanced_credit_uses_ranks() -> None:
    a, b = ["d1", "d2", "d3"], ["d2", "d3", "d4"]
    merged = balanced(a, b, 4, KeyedStream.for_request("e", "u", "r"))
    log = exposure(
        "r",
        "u",
        merged.items,
        ["a" if t == 0 else "b" for t in merged.teams],
        method="balanced",
        ranks=ranks(merged.items, [a, b]),
    )
    credit = credit_impressions([log], [click("r", "u", "d3")])[0].credit
    assert credit == {"a": 0.0, "b": 1.0}  # k = 2: d3 is in B's top 2, not A's


def _simulate(run: int, users: int = 60) -> bool:
    rng = random.Random(run)
    relevant = {f"i{k}" for k in range(8)}
    catalogue = [f"i{k}" for k in range(40)]
    logs, outcomes = [], []
    for u in range(users):
        good = sorted(catalogue, key=lambda i: (i not in relevant, rng.random()))
        bad = rng.sample(catalogue, len(catalogue))
        rid = f"{run}-{u}"
        merged = team_draft(good, bad, 10, KeyedStream.for_request("sim", str(u), rid))
        logs.append(
            exposure(rid, str(u), merged.items, ["a" if t == 0 else "b" for t in merged.teams])
        )
        for position, item in enumerate(merged.items, start=1):
            p = (0.5 if item in relevant else 0.05) / position**0.5
            if rng.random() < p:
                outcomes.append(click(rid, str(u), item))
    counts = impression_outcomes(credit_impressions(logs, outcomes), "a", "b")
    return counts.wins_a > counts.wins_b


def test_team_draft_prefers_the_better_ranker_in_95_percent_of_runs() -> None:
    assert sum(_simulate(run) for run in range(200)) >= 190


def test_preference_feeds_the_stats_engine() -> None:
    logs = [exposure(f"r{u}", f"u{u}", "xy", ["a", "b"]) for u in range(40)]
    outcomes = [click(f"r{u}", f"u{u}", "y" if u % 4 else "x") for u in range(40)]
    per_impression, per_user = preference(credit_impressions(logs, outcomes), "a", "b", n_boot=200)
    assert (per_impression.wins_a, per_impression.wins_b) == (10, 30)
    assert per_user.users == 40 and per_user.prefer_b == 30
