"""The learners: honest out-of-fold scores, and the heterogeneity they should find."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.analysis.uplift.curves import curves
from sameday.analysis.uplift.data import Feature, UpliftData
from sameday.analysis.uplift.learners import LEARNERS, Settings, fit_scores
from sameday.errors import UnsupportedAnalysis

# boosting that can memorise: a unique number per unit, tiny leaves, many rounds
MEMORISING = Settings(min_samples_leaf=2, max_leaf_nodes=63, max_iter=60, learning_rate=0.5)


def _noise(n: int, seed: int) -> UpliftData:
    """Outcomes that owe nothing to the features, and a feature unique to each unit."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.permutation(n).astype(float), rng.integers(0, 4, n)])
    features = (Feature("id", "number"), Feature("group", "category", ("a", "b", "c", "d")))
    t = rng.random(n) < 0.5
    y = rng.normal(0.0, 1.0, n)
    return UpliftData(x, features, t, y, "continuous", "m", "control", "new")


def test_no_unit_is_scored_by_a_model_that_saw_its_outcome() -> None:
    data = _noise(2000, seed=1)
    scores = fit_scores(data, MEMORISING)
    for name in LEARNERS:
        c = curves(scores.tau[name], data.treated, data.y, bootstrap=200)
        # a model that saw the unit ranks its own luck first: a Qini area far above chance
        assert c.qini_area.low < 0 < c.qini_area.high, name
    # ... as the same boosting does, scored in sample: the check above can fail (it also
    # catches the X-learner fed targets from outcome models that saw the scored fold)
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    kwargs = {"min_samples_leaf": 2, "max_leaf_nodes": 63, "max_iter": 60, "learning_rate": 0.5}
    t, x, y = data.treated, data.x, data.y
    with threadpool_limits(1, "openmp"):
        mu1 = HistGradientBoostingRegressor(**kwargs).fit(x[t], y[t]).predict(x)
        mu0 = HistGradientBoostingRegressor(**kwargs).fit(x[~t], y[~t]).predict(x)
    leaky = curves(mu1 - mu0, t, y, bootstrap=200)
    assert leaky.qini_area.low > 0


def test_the_learners_find_who_benefits() -> None:
    rng = np.random.default_rng(2)
    n = 12_000
    group = rng.integers(0, 3, n)
    other = rng.integers(0, 5, n)
    tau = np.array([-0.1, 0.0, 0.2])[group]
    t = rng.random(n) < 0.4
    y = (rng.random(n) < 0.3 + t * tau).astype(float)
    x = np.column_stack([group, other]).astype(float)
    features = (Feature("g", "category", ("a", "b", "c")), Feature("o", "category", tuple("vwxyz")))
    data = UpliftData(x, features, t, y, "binary", "ctr", "control", "new")
    scores = fit_scores(data, Settings(seed=3))
    assert scores.propensity == pytest.approx(t.mean())
    assert set(np.unique(scores.fold)) == {0, 1, 2}
    # the doubly-robust scores average to the effect
    assert scores.gamma.mean() == pytest.approx(tau.mean(), abs=0.02)
    for name in LEARNERS:
        means = [scores.tau[name][group == g].mean() for g in range(3)]
        assert means[0] < means[1] < means[2], name
        assert means[2] == pytest.approx(0.2, abs=0.06), name
        assert means[0] == pytest.approx(-0.1, abs=0.06), name


def test_settings_are_checked() -> None:
    with pytest.raises(UnsupportedAnalysis, match="folds must be at least 3"):
        Settings(folds=2)
    with pytest.raises(UnsupportedAnalysis, match="threads must be at least 1"):
        Settings(threads=0)
    tiny = _noise(100, seed=4)
    with pytest.raises(UnsupportedAnalysis, match="fewer than 20"):
        fit_scores(tiny, Settings(folds=5))
