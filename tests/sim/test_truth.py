"""The exact A/B and interleaving truths against simulated users of the same lists."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.errors import SimulationError
from sameday.policies.interleave import team_draft
from sameday.policies.keyed import KeyedStream
from sameday.sim.clicks import Cascade, PositionBased
from sameday.sim.grading import ab_users, grade, interleaving_users
from sameday.sim.truth import ab_truth, interleaving_truth, served
from sameday.sim.world import make_world


def test_served_fills_from_the_fallback_without_duplicates() -> None:
    out = served([[3, 1], [], [2, 2, 5, 6]], fallback=[1, 9, 8], n=3)
    np.testing.assert_array_equal(out, [[3, 1, 9], [1, 9, 8], [2, 5, 6]])


def test_ab_truth_matches_monte_carlo() -> None:
    world = make_world(300, 60, seed=2)
    users = np.arange(300)
    rng = np.random.default_rng(0)
    a = np.tile(np.arange(5), (300, 1))
    b = np.argsort(-world.attraction_matrix(users), axis=1)[:, :5]
    model = PositionBased.power(5)
    truth = ab_truth(world, model, users, a, b)
    reps = 200
    col = np.repeat(users, reps)[:, None]
    ctr = [
        model.sample(world.attraction(col, np.repeat(x, reps, 0)), rng).any(1).mean()
        for x in (a, b)
    ]
    assert ctr[0] == pytest.approx(truth.control_ctr, abs=0.005)
    assert ctr[1] == pytest.approx(truth.treatment_ctr, abs=0.005)
    assert truth.relative_lift > 0


@pytest.mark.parametrize("model", [PositionBased.power(4), Cascade()], ids=lambda m: m.name)
def test_interleaving_truth_matches_served_team_draft(model: PositionBased | Cascade) -> None:
    """Real keyed coins, as the server draws them, converge on the enumerated truth."""
    world = make_world(40, 30, seed=3)
    users = np.arange(40)
    rng = np.random.default_rng(1)
    lists_a = [rng.permutation(30)[:8].tolist() for _ in users]
    lists_b = [np.argsort(-world.attraction_matrix([u])[0])[:8].tolist() for u in users]
    truth = interleaving_truth(world, model, users, lists_a, lists_b, 4)
    wins = np.zeros(2)
    reps = 400
    for u in users:
        a, b = [str(i) for i in lists_a[u]], [str(i) for i in lists_b[u]]
        rows, teams = [], []
        for r in range(reps):
            shown = team_draft(a, b, 4, KeyedStream.for_request("t", str(u), str(r)))
            rows.append([int(i) for i in shown.items])
            teams.append(shown.teams)
        clicks = model.sample(world.attraction(u, np.asarray(rows)), rng)
        t = np.asarray(teams)
        ca, cb = (clicks & (t == 0)).sum(1), (clicks & (t == 1)).sum(1)
        wins += [(ca > cb).mean(), (cb > ca).mean()]
    wins /= len(users)
    assert wins[0] == pytest.approx(truth.win_a, abs=0.01)
    assert wins[1] == pytest.approx(truth.win_b, abs=0.01)
    assert truth.share_b > 0.5


def test_grading_and_sizes() -> None:
    assert grade("ship", "b", better="b", worse="a") == "right"
    assert grade("ship", "a", better="b", worse="a") == "wrong"
    assert grade("stop for harm", "a", better="b", worse="a") == "right"
    assert grade("keep running", None, better="b", worse="a") == "inconclusive"
    assert ab_users(0.10, 0.11) == pytest.approx(2 * 14750.79, rel=1e-3)
    n = interleaving_users(0.6, 0.5)
    assert n == pytest.approx(2 * ((1.959964 * 0.5 + 0.841621 * np.sqrt(0.24)) / 0.1) ** 2, 1e-4)
    with pytest.raises(SimulationError, match="1/2"):
        interleaving_users(0.5, 0.3)
