"""Interleaving: the reference vectors, team-draft invariants, balanced bias, list probability."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from sameday.policies.interleave import _orders_showing, _round, balanced, multileave, team_draft
from sameday.policies.keyed import KeyedStream


class Scripted(KeyedStream):
    """A stream whose coins are given: enumerates every coin sequence exactly."""

    def __init__(self, coins: tuple[int, ...]) -> None:
        super().__init__(b"")
        self._script = list(coins)

    def coin(self) -> int:
        value = self._script.pop(0)
        self.draws.append(value)
        return value


def enumerate_team_draft(a: list[str], b: list[str], n: int, rounds: int):
    for coins in itertools.product((0, 1), repeat=rounds):
        yield coins, team_draft(a, b, n, Scripted(coins))


def test_reference_vector_click_on_3_is_credited_half_and_half() -> None:
    a, b = ["1", "2", "3", "4"], ["2", "3", "4", "1"]
    credit = Counter()
    for coins, result in enumerate_team_draft(a, b, 4, 2):
        assert result.coins == coins
        credit[result.teams[result.items.index("3")]] += 0.25
    assert credit == {0: 0.5, 1: 0.5}


def test_list_probability_equals_the_enumerated_frequency() -> None:
    a, b = ["1", "2", "3", "4", "5"], ["2", "3", "4", "1", "6"]
    seen = Counter()
    results = {}
    for _, result in enumerate_team_draft(a, b, 5, 3):
        seen[result.items] += 2**-3
        results[result.items] = result.probability
    assert results == dict(seen)
    assert abs(sum(seen.values()) - 1.0) < 1e-12


rankings = st.lists(st.integers(0, 30), min_size=0, max_size=25, unique=True)


@settings(max_examples=300, deadline=None)
@given(rankings, rankings, st.integers(1, 30), st.text(max_size=8))
def test_team_draft_invariants_for_any_seed(a: list[int], b: list[int], n: int, key: str) -> None:
    la, lb = [str(x) for x in a], [str(x) for x in b]
    stream = KeyedStream.for_request("exp", key, "r")
    result = team_draft(la, lb, n, stream)
    assert len(set(result.items)) == len(result.items)
    assert len(result.items) == min(n, len(set(la) | set(lb)))
    assert set(result.items) <= set(la) | set(lb)
    both = True
    for prefix in range(1, len(result.items) + 1):
        teams = result.teams[:prefix]
        left_a = [x for x in la if x not in result.items[: prefix - 1]]
        left_b = [x for x in lb if x not in result.items[: prefix - 1]]
        both = both and bool(left_a) and bool(left_b)
        if both:
            assert abs(teams.count(0) - teams.count(1)) <= 1
    assert 0.5 ** len(result.coins) <= result.probability <= 1.0
    replay = team_draft(la, lb, n, KeyedStream.for_request("exp", key, "r"))
    assert replay == result  # reproducible from the key


@settings(max_examples=100, deadline=None)
@given(st.permutations([str(i) for i in range(12)]), st.integers(1, 12))
def test_each_coin_sequence_has_probability_two_to_minus_rounds(perm: list[str], n: int) -> None:
    a = [str(i) for i in range(12)]
    outcomes = Counter()
    rounds = (n + 1) // 2
    for coins in itertools.product((0, 1), repeat=rounds):
        result = team_draft(a, list(perm), n, Scripted(coins))
        assert len(result.coins) == rounds
        outcomes[(result.items, result.teams)] += 1
    assert sum(outcomes.values()) == 2**rounds


def test_multileave_balances_three_teams_and_probabilities_sum_to_one() -> None:
    lists = [[f"{t}{i}" for i in range(10)] for t in "abc"]
    lists[1][0] = "a0"
    totals = Counter()
    probabilities = {}
    for request in range(3000):
        result = multileave(lists, 9, KeyedStream.for_request("m", "u", str(request)))
        counts = Counter(result.teams)
        assert max(counts.values()) - min(counts.values()) <= 1
        totals[result.items] += 1
        probabilities[result.items] = result.probability
    assert abs(sum(probabilities.values()) - 1.0) < 1e-9
    for items, count in totals.items():
        assert abs(count / 3000 - probabilities[items]) < 0.03


@settings(max_examples=150, deadline=None)
@given(
    st.integers(2, 6),
    st.integers(1, 8),
    st.integers(0, 2**32 - 1),
)
def test_counted_orders_equal_the_orders_listed(k: int, room: int, seed: int) -> None:
    """The count of orders showing a round's items equals listing all k! orders."""
    rng = random.Random(seed)
    pool = [f"i{j}" for j in range(8)]  # few items: rankings overlap and run out
    rankings = [rng.sample(pool, rng.randint(0, 5)) for _ in range(k)]
    used = set(rng.sample(pool, rng.randint(0, 3)))
    pointers = [0] * k
    listed: Counter[tuple[str, ...]] = Counter(
        tuple(item for _, item in _round(rankings, pointers, used, order, room))
        for order in itertools.permutations(range(k))
    )
    for shown, orders in listed.items():
        assert _orders_showing(rankings, pointers, used, shown, room) == orders


def test_multileaving_ten_rankers() -> None:
    lists = [[f"{t}{i}" for i in range(30)] for t in "abcdefghij"]
    for t in range(1, 10):
        lists[t][:3] = lists[0][:3]  # shared tops make rounds where orders collide
    result = multileave(lists, 20, KeyedStream.for_request("m", "u", "r"))  # 10! = 3.6M orders
    assert len(result.items) == 20 and 0 < result.probability <= 1


def test_balanced_interleaving_is_biased_on_shifted_lists() -> None:
    a = ["d1", "d2", "d3"]
    b = ["d2", "d3", "d4"]
    rng = random.Random(7)
    wins = Counter()
    for request in range(4000):
        result = balanced(a, b, 4, KeyedStream.for_request("b", "u", str(request)))
        clicked = rng.choice(result.items)  # a user clicking at random prefers nobody
        rank_a = a.index(clicked) + 1 if clicked in a else None
        rank_b = b.index(clicked) + 1 if clicked in b else None
        k = min(r for r in (rank_a, rank_b) if r is not None)
        credit_a, credit_b = int(clicked in a[:k]), int(clicked in b[:k])
        wins["a" if credit_a > credit_b else "b" if credit_b > credit_a else "tie"] += 1
    assert wins["b"] / 4000 > 0.7  # 3/4 of random clicks go to the shifted ranker
    drafted = Counter()
    long_a = [f"d{i}" for i in range(1, 12)]
    long_b = [*long_a[1:], "d12"]
    for request in range(4000):
        result = team_draft(long_a, long_b, 4, KeyedStream.for_request("t", "u", str(request)))
        drafted[result.teams[rng.randrange(len(result.items))]] += 1
    assert abs(drafted[1] / 4000 - 0.5) < 0.03  # team-draft: no preference from random clicks


def test_competitive_pairs_marks_items_both_rankers_place() -> None:
    result = team_draft(
        ["x", "y", "a1"],
        ["y", "x", "b1"],
        3,
        KeyedStream.for_request("e", "u", "r"),
        competitive=True,
    )
    shared_items = {result.items[s] for s in result.shared}
    assert shared_items == {"x", "y"}
