"""The Bayesian Gaussian view: chance to win, expected loss and a credible interval.

The lift estimate ``d`` with standard error ``s`` is read as a likelihood ``N(d, s²)`` for the
true lift ``Δ``. With a flat prior the posterior is ``N(d, s²)`` (GrowthBook's default); with a
Gaussian prior ``N(μ0, σ0²)`` it is the precision-weighted combination
``N((d/s² + μ0/σ0²)/(1/s² + 1/σ0²), 1/(1/s² + 1/σ0²))``, which shrinks noisy early lifts.

From a posterior ``N(m, v)`` (``sd = sqrt(v)``), with "higher is better":

- chance to win ``P(Δ > 0) = Φ(m / sd)``;
- expected loss of shipping the treatment ``E[max(-Δ, 0)] = sd·φ(m/sd) - m·Φ(-m/sd)``: what we
  lose on average if we ship and it was worse (in the lift's units);
- expected loss of keeping the control ``E[max(Δ, 0)] = sd·φ(m/sd) + m·Φ(m/sd)``;
- the central ``1 - alpha`` credible interval ``m ± z·sd``.

For a metric where lower is better the lift's sign is flipped before the chance and losses are
computed, so "win" always means "better". These are normal approximations: trust them when each
arm has enough units for its mean to be roughly normal (tens of conversions per arm at least).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats import distributions as dist
from sameday.analysis.stats._types import FloatArray
from sameday.analysis.stats.errors import check_alpha
from sameday.analysis.stats.frequentist import Comparison, Estimate
from sameday.errors import StatsInputError


@dataclass(frozen=True)
class Posterior:
    """The posterior of one lift (absolute or relative), summarised for a report."""

    mean: float
    sd: float
    ci_low: float
    ci_high: float
    chance_to_win: float
    expected_loss: float
    expected_loss_control: float
    alpha: float


@dataclass(frozen=True)
class BayesianView:
    """Posteriors of the absolute and the relative lift of one comparison."""

    absolute: Posterior
    relative: Posterior


def chance_to_win_arrays(
    mean: npt.ArrayLike, sd: npt.ArrayLike, *, higher_is_better: bool = True
) -> FloatArray:
    """``P(Δ > 0)`` (or ``P(Δ < 0)`` when lower is better) under ``N(mean, sd²)``, vectorised."""
    m = _oriented(mean, higher_is_better)
    s = np.asarray(sd, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(s > 0, m / s, np.sign(m) * np.inf)
    return np.asarray(dist.ndtr(ratio), dtype=np.float64)


def expected_loss_arrays(
    mean: npt.ArrayLike, sd: npt.ArrayLike, *, higher_is_better: bool = True
) -> tuple[FloatArray, FloatArray]:
    """Expected loss of shipping the treatment and of keeping the control, vectorised."""
    m = _oriented(mean, higher_is_better)
    s = np.asarray(sd, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(s > 0, m / s, 0.0)
        density = np.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
        ship = np.where(s > 0, s * density - m * dist.ndtr(-u), np.maximum(-m, 0.0))
        keep = np.where(s > 0, s * density + m * dist.ndtr(u), np.maximum(m, 0.0))
    return np.maximum(ship, 0.0), np.maximum(keep, 0.0)


def posterior(
    estimate: Estimate,
    *,
    higher_is_better: bool = True,
    prior_mean: float = 0.0,
    prior_sd: float | None = None,
    alpha: float | None = None,
) -> Posterior:
    """The Gaussian posterior of a lift estimate (flat prior unless ``prior_sd`` is given)."""
    level = estimate.alpha if alpha is None else alpha
    check_alpha(level)
    mean, sd = estimate.point, estimate.se
    if prior_sd is not None and not math.isnan(mean):
        if prior_sd <= 0:
            raise StatsInputError(
                f"prior_sd must be > 0 (or None for a flat prior), got {prior_sd}"
            )
        if sd > 0:
            precision = 1 / sd**2 + 1 / prior_sd**2
            mean = (mean / sd**2 + prior_mean / prior_sd**2) / precision
            sd = math.sqrt(1 / precision)
    z = float(dist.ndtri(1 - level / 2))
    ship, keep = expected_loss_arrays(mean, sd, higher_is_better=higher_is_better)
    return Posterior(
        mean=mean,
        sd=sd,
        ci_low=mean - z * sd,
        ci_high=mean + z * sd,
        chance_to_win=float(chance_to_win_arrays(mean, sd, higher_is_better=higher_is_better)),
        expected_loss=float(ship),
        expected_loss_control=float(keep),
        alpha=level,
    )


def bayesian_view(
    comparison: Comparison,
    *,
    higher_is_better: bool = True,
    prior_sd_relative: float | None = None,
) -> BayesianView:
    """Posteriors of both lifts of ``comparison``.

    Args:
        comparison: a fixed-horizon comparison (its estimates' standard errors are used).
        higher_is_better: the metric's direction.
        prior_sd_relative: sd of a zero-centred Gaussian prior on the *relative* lift
            (GrowthBook's informative default is 0.3); the absolute lift gets the same prior
            scaled by the control's value. ``None`` is a flat prior.
    """
    prior_abs = (
        None
        if prior_sd_relative is None or comparison.control == 0
        else prior_sd_relative * abs(comparison.control)
    )
    return BayesianView(
        absolute=posterior(
            comparison.absolute, higher_is_better=higher_is_better, prior_sd=prior_abs
        ),
        relative=posterior(
            comparison.relative, higher_is_better=higher_is_better, prior_sd=prior_sd_relative
        ),
    )


def _oriented(mean: npt.ArrayLike, higher_is_better: bool) -> FloatArray:
    m = np.asarray(mean, dtype=np.float64)
    return m if higher_is_better else -m
