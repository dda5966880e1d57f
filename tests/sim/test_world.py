"""Worlds, logged interactions and the hold-out split: seeded, shaped as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sameday.errors import SimulationError
from sameday.sim.data import generate, load, user_id, user_index
from sameday.sim.interactions import log_interactions, split
from sameday.sim.world import load_world, make_world


def test_same_seed_same_world_and_logs(tmp_path: Path) -> None:
    a, b = make_world(50, 40, seed=3), make_world(50, 40, seed=3)
    np.testing.assert_array_equal(a.user_factors, b.user_factors)
    la, lb = log_interactions(a, mean=5, seed=1), log_interactions(b, mean=5, seed=1)
    np.testing.assert_array_equal(la.items, lb.items)
    assert not np.array_equal(make_world(50, 40, seed=4).item_bias, a.item_bias)
    a.save(tmp_path / "w.npz")
    np.testing.assert_array_equal(load_world(tmp_path / "w.npz").item_factors, a.item_factors)


def test_attraction_matches_the_formula_and_marks_empty_slots() -> None:
    world = make_world(5, 8, seed=0)
    expected = 1 / (
        1
        + np.exp(
            -(
                world.offset
                + world.taste * world.user_factors[2] @ world.item_factors[3]
                + world.item_bias[3]
            )
        )
    )
    assert world.attraction(2, 3) == pytest.approx(expected)
    got = world.attraction(np.asarray([[2], [4]]), np.asarray([[3, -1], [0, 1]]))
    assert got.shape == (2, 2) and got[0, 0] == pytest.approx(expected) and got[0, 1] == 0.0
    np.testing.assert_allclose(world.attraction_matrix([4])[0, :2], got[1])


def test_popularity_has_a_long_tail() -> None:
    world = make_world(2000, 500, seed=1)
    counts = np.sort(np.bincount(log_interactions(world, seed=2).items, minlength=500))[::-1]
    assert counts[:25].sum() > 4 * counts[-25:].sum()


def test_split_holds_out_a_share_per_user_and_keeps_every_user() -> None:
    world = make_world(300, 200, seed=5)
    logged = log_interactions(world, mean=10, seed=6)
    train, test = split(logged, test_share=0.2, seed=7)
    assert len(train) + len(test) == len(logged)
    assert set(np.unique(train.users)) == set(range(300))
    pairs = set(zip(train.users.tolist(), train.items.tolist(), strict=True))
    assert not pairs & set(zip(test.users.tolist(), test.items.tolist(), strict=True))
    sizes = np.bincount(logged.users, minlength=300)
    np.testing.assert_array_equal(
        np.bincount(test.users, minlength=300), np.floor(sizes * 0.2).astype(int)
    )


def test_generate_writes_a_dataset_that_loads_back(tmp_path: Path) -> None:
    _, data = generate(tmp_path, users=40, items=30, seed=1, mean_interactions=4)
    world, again = load(tmp_path)
    assert world.n_users == 40 and again.n_items == 30
    np.testing.assert_array_equal(again.test.items, data.test.items)
    assert (tmp_path / "items.csv").read_text().splitlines()[:2] == ["item_id", "item-0"]
    assert user_index(user_id(17)) == 17


def test_bad_settings_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="at least 1 user, 2 items"):
        make_world(0, 10)
    with pytest.raises(SimulationError, match=r"sameday\.sim generate"):
        load_world(tmp_path / "missing.npz")
    with pytest.raises(SimulationError, match="test_share"):
        split(log_interactions(make_world(3, 5), mean=2), test_share=1.0)
