"""T-, X- and doubly-robust learners, cross-fitted so that no unit is scored by a model that saw it.

Every model is scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingRegressor` (or its
classifier, for a binary outcome's outcome models), with native categories and missing values.
With ``μ_a(x)`` the expected outcome in arm ``a`` and ``e`` the share of treated units (the
propensity, the same for everyone in a randomised test):

- **T-learner**: ``τ(x) = μ₁(x) − μ₀(x)``, one outcome model per arm.
- **X-learner** (Künzel et al. 2019): impute each unit's effect with the other arm's model —
  ``D = y − μ₀(x)`` for a treated unit, ``D = μ₁(x) − y`` for a control —, regress ``D`` on ``x``
  in each arm (``τ₁``, ``τ₀``), and combine ``τ = e·τ₀ + (1 − e)·τ₁``.
- **DR-learner** (Kennedy 2023): regress the doubly-robust score
  ``Γ = μ₁ − μ₀ + t(y − μ₁)/e − (1 − t)(y − μ₀)/(1 − e)`` on ``x``. ``Γ`` averages to the
  effect whatever the outcome models' errors, which is also why the policy values use it.

**Cross-fitting.** Units are split at random into ``K ≥ 3`` folds. The outcome models are fitted
once per fold and arm, each on that fold alone: ``μ_a^(m)``. A unit in fold ``k`` is then scored

- by the T-learner with the average of ``μ^(m)`` over the folds ``m ≠ k``;
- by the X- and DR-learners with second-stage models fitted on the folds ``≠ k`` only, whose
  targets at a training unit in fold ``j`` use the outcome models of the folds ``∉ {j, k}``.

So no model involved in a unit's score — neither the second stage nor the outcome models behind
its training targets — ever saw that unit's outcome: the scores are honest out-of-sample
predictions, which is what the Qini curves, the calibration and the policy values need. The
out-of-fold ``μ`` (average over ``m ≠ k``) also gives each unit's ``Γ``.

Fitting costs ``2K`` outcome models on ``1/K`` of the units each, and ``K`` second stages per
learner on ``(K − 1)/K`` each: for ``K = 3``, about five fits on all the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sameday._extras import extra
from sameday.analysis.uplift.data import FloatArray, UpliftData
from sameday.errors import UnsupportedAnalysis

IntArray = npt.NDArray[np.int64]

LEARNERS = ("T-learner", "X-learner", "DR-learner")
"""The learners fitted, in the order reports show them."""


@dataclass(frozen=True)
class Settings:
    """How the models are fitted; the defaults suit tens of thousands to millions of units.

    Attributes:
        folds: cross-fitting folds, at least 3 (see the module docstring).
        seed: seeds the folds, the models and the bootstrap: the same seed, the same numbers.
        max_iter: boosting rounds at most (early stopping ends sooner on 10,000+ units).
        learning_rate: shrinkage of each round. 50 rounds at 0.2 rank as well as 100 at 0.1
            on the benchmark's 200,000 units (same Qini areas to 1e-4), 30% faster.
        max_leaf_nodes: leaves per tree.
        min_samples_leaf: units per leaf at least; effects are small against the noise, so
            leaves stay large.
        threads: OpenMP threads of each fit. One by default: on a machine whose cores other
            work shares, more threads than free cores make every fit wait on the others (ten
            times slower, measured); raise it on a machine of your own.
    """

    folds: int = 3
    seed: int = 0
    max_iter: int = 50
    learning_rate: float = 0.2
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 100
    threads: int = 1

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise UnsupportedAnalysis(f"threads must be at least 1, got {self.threads}")
        if self.folds < 3:
            raise UnsupportedAnalysis(
                f"folds must be at least 3 (got {self.folds}): a unit's training targets need "
                "outcome models fitted on a fold that is neither its own nor the scored one"
            )


@dataclass(frozen=True, eq=False)
class Scores:
    """Every unit's out-of-fold scores.

    Attributes:
        tau: learner name → estimated effect ``τ̂(x)`` of each unit.
        mu0, mu1: out-of-fold expected outcome in the control and in the treatment arm.
        gamma: each unit's doubly-robust score ``Γ`` (its mean is the average effect).
        fold: each unit's fold.
        propensity: the share of treated units ``e``.
    """

    tau: dict[str, FloatArray]
    mu0: FloatArray
    mu1: FloatArray
    gamma: FloatArray
    fold: IntArray
    propensity: float


def fit_scores(data: UpliftData, settings: Settings) -> Scores:
    """Fit the three learners on ``data`` with cross-fitting (see the module docstring).

    Raises:
        MissingDependency: scikit-learn (the ``uplift`` extra) is not installed.
        UnsupportedAnalysis: a fold lacks units of an arm (too few units for ``folds``).
    """
    with extra("uplift", "sameday uplift (its gradient boosting models)"):
        import sklearn.ensemble  # noqa: F401  (loads the OpenMP runtime the limit applies to)
        from threadpoolctl import threadpool_limits

    with threadpool_limits(settings.threads, "openmp"):
        return _fit(data, settings)


def _fit(data: UpliftData, settings: Settings) -> Scores:
    k = settings.folds
    rng = np.random.default_rng(settings.seed)
    fold = rng.permutation(np.arange(data.units) % k).astype(np.int64)
    x, y, t = data.x, data.y, data.treated
    e = data.share_treated
    for m in range(k):
        for arm in (False, True):
            if np.count_nonzero((fold == m) & (t == arm)) < 20:
                raise UnsupportedAnalysis(
                    f"fold {m} holds fewer than 20 {'treated' if arm else 'control'} units: "
                    "too few units for the folds; use fewer folds or more data"
                )
    # pred[a, m] = μ_a^(m) on every unit outside fold m (NaN inside it)
    pred = np.full((2, k, data.units), np.nan)
    for m in range(k):
        inside = fold == m
        for a in (0, 1):
            rows = inside & (t == bool(a))
            if np.ptp(y[rows]) == 0:  # every unit the same outcome: nothing to fit
                pred[a, m, ~inside] = y[rows][0]
                continue
            model = _outcome_model(data, settings, seed=settings.seed + 10 * m + a)
            model.fit(x[rows], y[rows])
            pred[a, m, ~inside] = _predict(model, x[~inside], data.outcome == "binary")
    sums = np.nansum(pred, axis=1)  # Σ over the folds that did not see each unit
    mu0, mu1 = sums[0] / (k - 1), sums[1] / (k - 1)
    gamma = _dr_score(mu0, mu1, y, t, e)
    t_learner = mu1 - mu0
    x_learner = np.empty(data.units)
    dr_learner = np.empty(data.units)
    for held in range(k):
        test = fold == held
        train = ~test
        # outcome models of the folds that are neither the unit's own nor the held-out one
        nu0 = (sums[0][train] - pred[0, held, train]) / (k - 2)
        nu1 = (sums[1][train] - pred[1, held, train]) / (k - 2)
        xt, yt, tt = x[train], y[train], t[train]
        seed = settings.seed + 100 + 10 * held
        tau1 = _effect_model(data, settings, seed).fit(xt[tt], yt[tt] - nu0[tt])
        tau0 = _effect_model(data, settings, seed + 1).fit(xt[~tt], nu1[~tt] - yt[~tt])
        x_learner[test] = e * tau0.predict(x[test]) + (1 - e) * tau1.predict(x[test])
        psi = _dr_score(nu0, nu1, yt, tt, e)
        dr = _effect_model(data, settings, seed + 2).fit(xt, psi)
        dr_learner[test] = dr.predict(x[test])
    return Scores(
        tau=dict(zip(LEARNERS, (t_learner, x_learner, dr_learner), strict=True)),
        mu0=mu0,
        mu1=mu1,
        gamma=gamma,
        fold=fold,
        propensity=e,
    )


def _dr_score(
    mu0: FloatArray, mu1: FloatArray, y: FloatArray, t: npt.NDArray[np.bool_], e: float
) -> FloatArray:
    """The doubly-robust (AIPW) score of each unit's effect."""
    return np.asarray(
        mu1 - mu0 + np.where(t, (y - mu1) / e, -(y - mu0) / (1 - e)), dtype=np.float64
    )


def _boosting(data: UpliftData, settings: Settings, seed: int) -> dict[str, Any]:
    return {
        "max_iter": settings.max_iter,
        "learning_rate": settings.learning_rate,
        "max_leaf_nodes": settings.max_leaf_nodes,
        "min_samples_leaf": settings.min_samples_leaf,
        "categorical_features": data.categorical if data.categorical.any() else None,
        "early_stopping": "auto",
        "random_state": seed,
    }


def _outcome_model(data: UpliftData, settings: Settings, seed: int) -> Any:
    """``μ_a``: a classifier for a binary outcome (calibrated probabilities), else a regressor."""
    with extra("uplift", "sameday uplift (its gradient boosting models)"):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    if data.outcome == "binary":
        return HistGradientBoostingClassifier(**_boosting(data, settings, seed))
    return HistGradientBoostingRegressor(**_boosting(data, settings, seed))


def _effect_model(data: UpliftData, settings: Settings, seed: int) -> Any:
    """A second-stage regressor (its targets are effects, continuous whatever the outcome)."""
    with extra("uplift", "sameday uplift (its gradient boosting models)"):
        from sklearn.ensemble import HistGradientBoostingRegressor
    return HistGradientBoostingRegressor(**_boosting(data, settings, seed))


def _predict(model: Any, x: FloatArray, binary: bool) -> FloatArray:
    """Expected outcomes: the positive class's probability for a classifier."""
    if binary:
        return np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)
    return np.asarray(model.predict(x), dtype=np.float64)
