"""Always-valid inference: intervals and p-values that stay honest however often you look.

A fixed-horizon interval is valid only if it is read once, at the planned sample size. Reading it
every day and stopping at the first "significant" day inflates false positives: 30 equally spaced
looks at alpha 0.05 reject in 0.28 of A/A tests, for a normal metric (0.279) and a conversion rate
(0.281) alike (20,000 simulated tests each, ``benchmarks/aa_heavy_tails.py``). The asymptotic
confidence sequence of Waudby-Smith, Arnold, Wu, Ramdas et al. (2021, arXiv:2103.06476), as used by
GrowthBook, covers the true lift *at every sample size at once* with probability ``1 - alpha``, so
the report may be read at any time.

With ``n = n_A + n_B`` units so far and a tuning size ``N*`` (where the sequence is tightest):

- ``ρ = sqrt((-2·ln α + ln(-2·ln α + 1)) / N*)`` and ``k = n·ρ²``;
- half-width ``se · sqrt(2·(k+1)/k · ln(sqrt(k+1)/α))``;
- always-valid p-value ``min(1, sqrt(k+1) · exp(-k·z²/(2·(k+1))))`` with ``z = estimate / se``.

This is an mSPRT with a normal mixing distribution of variance ``τ² = ρ²·n·se²`` (Johari, Pekelis
and Walsh, 2017); the p-value is below ``α`` exactly when the interval excludes zero. The price is a
wider interval: about 1.55x the fixed one at ``N*`` for alpha 0.05. ``N*`` should be the total
sample size the experiment plans to reach (:func:`tuning_from_plan`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats._types import FloatArray
from sameday.analysis.stats.errors import check_alpha
from sameday.analysis.stats.frequentist import Comparison, Estimate
from sameday.errors import StatsInputError

#: GrowthBook's default tuning size when the experiment has no plan.
DEFAULT_N_STAR = 5000.0


def rho(n_star: float, alpha: float) -> float:
    """The mixing parameter ``ρ`` that makes the sequence tightest at ``n_star`` units."""
    check_alpha(alpha)
    if n_star <= 0:
        raise StatsInputError(f"n_star must be > 0 (the planned total sample size), got {n_star}")
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / n_star)


def halfwidth_arrays(
    se: npt.ArrayLike, n: npt.ArrayLike, *, n_star: float, alpha: float
) -> FloatArray:
    """Half-width of the confidence sequence at ``n`` total units (vectorised)."""
    k = _k(n, n_star, alpha)
    return np.asarray(se, dtype=np.float64) * np.sqrt(
        2 * (k + 1) / k * np.log(np.sqrt(k + 1) / alpha)
    )


def p_value_arrays(
    point: npt.ArrayLike, se: npt.ArrayLike, n: npt.ArrayLike, *, n_star: float, alpha: float
) -> FloatArray:
    """Always-valid p-value at ``n`` total units (vectorised)."""
    k = _k(n, n_star, alpha)
    x = np.asarray(point, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, x / s, np.where(x == 0, 0.0, np.inf))
        log_p = 0.5 * np.log1p(k) - k * z**2 / (2 * (k + 1))
    return np.asarray(np.minimum(1.0, np.exp(log_p)), dtype=np.float64)


def sequential_estimate(
    fixed: Estimate, n: int, *, n_star: float = DEFAULT_N_STAR, alpha: float | None = None
) -> Estimate:
    """Turn a fixed-horizon estimate into an always-valid one at ``n`` total units.

    The point and standard error are kept; the interval and p-value are replaced, and ``df`` is
    ``inf`` because the sequence is built on the normal approximation.
    """
    level = fixed.alpha if alpha is None else alpha
    if math.isnan(fixed.point) or math.isnan(fixed.se):
        return replace(fixed, df=math.inf, alpha=level)
    half = float(halfwidth_arrays(fixed.se, n, n_star=n_star, alpha=level))
    p_value = float(p_value_arrays(fixed.point, fixed.se, n, n_star=n_star, alpha=level))
    return Estimate(
        point=fixed.point,
        se=fixed.se,
        ci_low=fixed.point - half,
        ci_high=fixed.point + half,
        p_value=p_value,
        df=math.inf,
        alpha=level,
    )


def sequential_comparison(comparison: Comparison, *, n_star: float = DEFAULT_N_STAR) -> Comparison:
    """The same comparison with always-valid intervals and p-values (``n = n_A + n_B``).

    The relative lift gets Fieller's interval with the sequence's multiplier and the absolute
    lift's always-valid p-value, so it excludes 0 exactly when the absolute sequence does.
    """
    n = comparison.n_control + comparison.n_treatment
    absolute = sequential_estimate(comparison.absolute, n, n_star=n_star)
    fixed = comparison.relative
    low, high = comparison.ratio.interval(
        float(halfwidth_arrays(1.0, n, n_star=n_star, alpha=fixed.alpha))
    )
    relative = replace(
        fixed,
        ci_low=low,
        ci_high=high,
        p_value=math.nan if math.isnan(fixed.point) else absolute.p_value,
        df=math.inf,
    )
    return replace(comparison, absolute=absolute, relative=relative, sequential=True)


def tuning_from_plan(per_arm_sample_size: float, arms_compared: int = 2) -> float:
    """``N*`` from a plan: the total units of the two arms a comparison uses at the planned end.

    Tuning to the planned size makes the sequence tightest when the decision is due, so the
    price of peeking is paid where it matters least.
    """
    if per_arm_sample_size <= 0:
        raise StatsInputError(f"the planned sample size must be > 0, got {per_arm_sample_size}")
    return per_arm_sample_size * arms_compared


def _k(n: npt.ArrayLike, n_star: float, alpha: float) -> FloatArray:
    units = np.asarray(n, dtype=np.float64)
    if np.any(units <= 0):
        raise StatsInputError("a confidence sequence needs at least one unit (n > 0)")
    return units * rho(n_star, alpha) ** 2
