"""The world of heterogeneous tastes: its exact effects, per user and per segment."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.errors import SimulationError
from sameday.sim.clicks import PositionBased
from sameday.sim.segments import PROFILES, effects, make_segmented_world


def test_effects_are_the_click_model_applied_to_each_users_lists() -> None:
    world = make_segmented_world(500, seed=3)
    model = PositionBased.power(10)
    truth = effects(world, model, 10)
    w = world.world
    theta = np.array([1 / k for k in range(1, 11)])
    popular = np.argsort(-w.item_bias)[:10]
    for u in (0, 7, 123, 499):
        personal = np.argsort(-(world.estimate[u] @ w.item_factors.T))[:10]
        for items, probability in ((popular, truth.control[u]), (personal, truth.treatment[u])):
            logits = (
                world.offset
                + world.taste[u] * (w.item_factors[items] @ w.user_factors[u])
                + world.popularity[u] * w.item_bias[items]
            )
            attraction = 1 / (1 + np.exp(-logits))
            assert probability == pytest.approx(1 - np.prod(1 - theta * attraction), rel=1e-9)
    tenure, activity = world.attributes["tenure"], world.attributes["activity"]
    for u in range(500):
        profile = PROFILES[(str(tenure[u]), str(activity[u]))]
        assert (world.taste[u], world.popularity[u], world.noise[u]) == profile


def test_segments_and_who_benefits() -> None:
    world = make_segmented_world(20_000, seed=4)
    truth = effects(world, PositionBased.power(10), 10)
    existing = truth.mask(tenure="existing")
    c, t, effect = truth.segment(tenure="existing")
    assert (c, t) == (truth.control[existing].mean(), truth.treatment[existing].mean())
    assert effect == pytest.approx(truth.effect[existing].mean())
    assert truth.segment(tenure="new")[2] < -0.1 < 0.1 < truth.segment(activity="heavy")[2]
    assert truth.benefiting() == {("existing", "medium"), ("existing", "heavy")}
    # the conditional truth is constant in each (tenure, activity) cell, and right on average
    cell = truth.mask(tenure="existing", activity="heavy")
    assert np.ptp(truth.conditional()[cell]) == 0
    assert truth.conditional().mean() == pytest.approx(truth.effect.mean())
    # platform and the noise dimensions change nothing but the mix of users
    assert set(world.attributes) == {
        "tenure",
        "activity",
        "platform",
        *(f"n{k}" for k in range(1, 8)),
    }


def test_the_world_is_seeded_and_checked() -> None:
    a, b = make_segmented_world(300, seed=9), make_segmented_world(300, seed=9)
    assert np.array_equal(a.estimate, b.estimate)
    assert all(np.array_equal(a.attributes[k], b.attributes[k]) for k in a.attributes)
    with pytest.raises(SimulationError, match="at least 100 users"):
        make_segmented_world(50)
