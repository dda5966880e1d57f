"""The click models' closed forms against Monte Carlo draws from the same models."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.errors import SimulationError
from sameday.sim.clicks import Cascade, PositionBased, click_model

DRAWS = 200_000


def _attraction(seed: int, lists: int = 4, slots: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.02, 0.6, size=(lists, slots))


@pytest.mark.parametrize("model", [PositionBased.power(6), Cascade()], ids=lambda m: m.name)
def test_exact_expectations_match_monte_carlo(model: PositionBased | Cascade) -> None:
    alpha = _attraction(1)
    rng = np.random.default_rng(2)
    repeated = np.repeat(alpha, DRAWS // 4, axis=0)
    clicks = model.sample(repeated, rng).reshape(alpha.shape[0], -1, alpha.shape[1])
    se = 4 * np.sqrt(0.25 / clicks.shape[1])
    np.testing.assert_allclose(clicks.mean(axis=1), model.click_probabilities(alpha), atol=se)
    np.testing.assert_allclose(clicks.any(axis=2).mean(axis=1), model.any_click(alpha), atol=se)
    np.testing.assert_allclose(
        clicks.sum(axis=2).mean(axis=1), model.expected_clicks(alpha), atol=3 * se
    )


@pytest.mark.parametrize("model", [PositionBased.power(6), Cascade()], ids=lambda m: m.name)
def test_team_wins_match_monte_carlo(model: PositionBased | Cascade) -> None:
    alpha = _attraction(3)
    teams = np.asarray([[0, 1, 0, 1, -1, 1], [1, 0, 1, 0, 1, 0], [0, 0, 1, 1, 0, 1], [1] * 6])
    win_a, win_b = model.team_wins(alpha, teams)
    rng = np.random.default_rng(4)
    per = DRAWS // 4
    clicks = model.sample(np.repeat(alpha, per, axis=0), rng).reshape(4, per, 6)
    a = (clicks & (teams == 0)[:, None, :]).sum(axis=2)
    b = (clicks & (teams == 1)[:, None, :]).sum(axis=2)
    se = 4 * np.sqrt(0.25 / per)
    np.testing.assert_allclose((a > b).mean(axis=1), win_a, atol=se)
    np.testing.assert_allclose((b > a).mean(axis=1), win_b, atol=se)
    assert win_a[3] == 0.0


def test_closed_forms_on_a_hand_example() -> None:
    alpha = np.asarray([[0.5, 0.5]])
    pbm = PositionBased((1.0, 0.5))
    np.testing.assert_allclose(pbm.click_probabilities(alpha), [[0.5, 0.25]])
    np.testing.assert_allclose(pbm.any_click(alpha), [1 - 0.5 * 0.75])
    np.testing.assert_allclose(Cascade().click_probabilities(alpha), [[0.5, 0.25]])
    np.testing.assert_allclose(Cascade().expected_clicks(alpha), [0.75])
    win_a, win_b = pbm.team_wins(alpha, np.asarray([[0, 1]]))
    np.testing.assert_allclose([win_a[0], win_b[0]], [0.5 * 0.75, 0.5 * 0.25])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(SimulationError, match="at least 7 slots"):
        PositionBased.power(6).any_click(np.zeros((1, 7)))
    with pytest.raises(SimulationError, match="in \\[0, 1\\]"):
        PositionBased((1.2,))
    with pytest.raises(SimulationError, match="'pbm' or 'cascade'"):
        click_model("dbn", 10)
