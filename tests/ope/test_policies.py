"""``sameday/ope/policies.py``: each candidate's probability of every action in every round."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sameday.errors import PolicyError
from sameday.ope.data import LoggedData
from sameday.ope.policies import BernoulliTS, Fixed, ResultSet, Uniform
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists


def logged(actions: list[str], positions: list[int], units: list[str] | None = None) -> LoggedData:
    n = len(actions)
    return LoggedData.build(
        actions, positions, [0.0] * n, [0.5] * n, units or ["u"] * n, source="test"
    )


def test_uniform_spreads_each_round_evenly() -> None:
    data = logged(["a", "b", "c", "a"], [1, 1, 2, 2])
    assert np.allclose(Uniform().action_dist(data), 1 / 3)
    assert np.allclose(Uniform(n_actions=10).action_dist(data), 0.1)  # actions never logged


def test_fixed_always_takes_its_action() -> None:
    data = logged(["a", "b", "c"], [1, 1, 1])
    assert Fixed("b").action_dist(data).tolist() == [[0, 1, 0]] * 3
    with pytest.raises(
        PolicyError, match=r"action 'z' never appears in the log \(actions: a, b, c"
    ):
        Fixed("z").action_dist(data)


def test_bernoulli_ts_ranks_by_sampled_rates() -> None:
    policy = BernoulliTS([50, 1, 1], [1, 50, 50], ["0", "1", "2"], draws=4000, seed=1)
    table = policy.position_dist(2)
    assert np.allclose(table.sum(axis=0), 1.0)  # one action per position in every draw
    assert np.all(table.sum(axis=1) <= 1.0 + 1e-12)  # an action takes one position at most
    assert table[0, 0] == pytest.approx(1.0)  # the clear favourite always leads
    assert table[1, 1] == pytest.approx(0.5, abs=0.05)  # the two others share second place
    assert np.array_equal(table, policy.position_dist(2))  # seeded
    data = logged(["2", "0", "1"], [1, 2, 1])
    dist = policy.action_dist(data)  # columns follow the log's sorted actions: 0, 1, 2
    assert dist.shape == (3, 3)
    assert np.allclose(dist[0], table[:, 0]) and np.allclose(dist[1], table[:, 1])
    with pytest.raises(PolicyError, match="the priors name no action 9"):
        policy.action_dist(logged(["0", "9"], [1, 1]))


def test_bernoulli_ts_priors_must_pair_up(tmp_path: Path) -> None:
    priors = tmp_path / "p.yaml"
    priors.write_text("all: {alpha: [1, 2, 3], beta: [1, 2]}\n")
    with pytest.raises(PolicyError, match="3 alphas but 2 betas"):
        BernoulliTS.from_yaml(priors)


def test_a_result_set_serves_its_list_for_each_unit_and_position() -> None:
    store = MemoryStore()
    load_lists(store, "personal", "v1", {"u1": ["b", "a", "zz"], "u2": ["c"]})
    data = logged(
        ["a", "b", "c", "a", "a", "b"],
        [1, 2, 1, 2, 3, 2],
        units=["u1", "u1", "u2", "u3", "u1", "u2"],
    )
    dist = ResultSet(store, "personal").action_dist(data)
    assert dist.tolist() == [
        [0, 1, 0],  # u1 position 1: b
        [1, 0, 0],  # u1 position 2: a
        [0, 0, 1],  # u2 position 1: c
        [0, 0, 0],  # u3 has no list: the candidate shows nothing there
        [0, 0, 0],  # u1 position 3: zz, an item the log never shows
        [0, 0, 0],  # u2's list is one item long
    ]
