"""Planning: sample size, power, minimum detectable effect and duration of a two-arm test.

Two proportions ``p1`` (baseline) and ``p2`` (target), ``d = p2 - p1``, two-sided ``alpha``,
``z_a = Φ⁻¹(1 - alpha/2)``, ``z_b = Φ⁻¹(power)``, per arm (equal split):

- pooled-null (the classic, Fleiss 1981): ``n = (z_a·sqrt(2·p̄q̄) + z_b·sqrt(p1q1 + p2q2))² / d²``
  with ``p̄ = (p1 + p2)/2``; equals statsmodels' ``samplesize_proportions_2indep_onetail``;
- unpooled: ``n = (z_a + z_b)²·(p1q1 + p2q2) / d²``;
- continuity-corrected (Fleiss, Tytun and Ury 1980): ``n' = n/4·(1 + sqrt(1 + 4/(n·|d|)))²``.

Means: Cohen's ``d = effect / sd``; ``n`` solves the noncentral-t power equation of a two-sided
two-sample t-test, as statsmodels' ``tt_ind_solve_power`` does (``d = 0.1`` needs 1,571 per arm).

CUPED with pre/post correlation ``ρ`` multiplies the variance, hence ``n``, by ``1 - ρ²``. With
more than two arms each treatment is compared with the control at ``alpha / (arms - 1)``
(Bonferroni), matching the Holm correction the report applies across arms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sameday.analysis.stats import distributions as dist
from sameday.analysis.stats.errors import check_alpha
from sameday.errors import StatsInputError

Variance = Literal["pooled", "unpooled"]


def sample_size_proportions(
    baseline: float,
    target: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    variance: Variance = "pooled",
    continuity: bool = False,
) -> float:
    """Units per arm to detect ``baseline → target`` (unrounded; round up to plan)."""
    _check_levels(alpha, power)
    s0, s1, d = _proportion_sds(baseline, target, variance)
    z_a, z_b = _z(1 - alpha / 2), _z(power)
    n = (z_a * s0 + z_b * s1) ** 2 / d**2
    if continuity:
        n = n / 4 * (1 + math.sqrt(1 + 4 / (n * abs(d)))) ** 2
    return n


def power_proportions(
    baseline: float,
    target: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    variance: Variance = "pooled",
) -> float:
    """Power of the two-sided test of two proportions with ``n_per_arm`` units per arm."""
    _check_levels(alpha, 0.5)
    s0, s1, d = _proportion_sds(baseline, target, variance)
    z_a, root = _z(1 - alpha / 2), math.sqrt(n_per_arm)
    upper = dist.ndtr((abs(d) * root - z_a * s0) / s1)
    lower = dist.ndtr((-abs(d) * root - z_a * s0) / s1)
    return float(upper + lower)


def mde_proportions(
    baseline: float,
    n_per_arm: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
    variance: Variance = "pooled",
) -> float:
    """Smallest upward change from ``baseline`` detectable with ``n_per_arm`` units per arm.

    Raises:
        StatsInputError: not even a jump to a rate of ~1 would reach the requested power.
    """
    _check_levels(alpha, power)
    _check_rate(baseline, "baseline")
    target = _solve(
        lambda p2: (
            power_proportions(baseline, p2, n_per_arm, alpha=alpha, variance=variance) - power
        ),
        baseline + 1e-9,
        1 - 1e-9,
        f"{n_per_arm:g} units per arm cannot reach power {power} from a baseline of {baseline}",
    )
    return (target - baseline) / baseline if relative else target - baseline


def sample_size_means(effect_size: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Units per arm for a two-sided Welch/Student t-test to detect Cohen's ``d``."""
    _check_levels(alpha, power)
    if effect_size == 0:
        raise StatsInputError("the effect size must be non-zero")
    # The normal approximation is within a few units of the answer; bracket around it.
    approx = 2 * (_z(1 - alpha / 2) + _z(power)) ** 2 / effect_size**2
    return _solve(
        lambda n: power_means(effect_size, n, alpha=alpha) - power,
        max(2.0, approx / 2),
        2 * approx + 10,
        f"effect size {effect_size} is too small to plan for",
    )


def power_means(effect_size: float, n_per_arm: float, *, alpha: float = 0.05) -> float:
    """Power of the two-sided two-sample t-test (noncentral t) with ``n_per_arm`` per arm."""
    _check_levels(alpha, 0.5)
    df = 2 * n_per_arm - 2
    noncentrality = abs(effect_size) * math.sqrt(n_per_arm / 2)
    crit = float(dist.stdtrit(df, 1 - alpha / 2))
    # Only a plan for means needs the noncentral t: scipy is imported here, not with the module
    # (a report's plans are of proportions; see stats.distributions for why that matters).
    from scipy import special

    # scipy's noncentral t returns NaN deep in a tail (noncentrality >> crit): that mass is ~0.
    upper = 1 - np.nan_to_num(special.nctdtr(df, noncentrality, crit), nan=0.0)
    lower = np.nan_to_num(special.nctdtr(df, noncentrality, -crit), nan=0.0)
    return float(upper + lower)


def mde_means(n_per_arm: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest Cohen's ``d`` detectable with ``n_per_arm`` units per arm."""
    _check_levels(alpha, power)
    return _solve(
        lambda d: power_means(d, n_per_arm, alpha=alpha) - power,
        1e-9,
        100.0,
        f"{n_per_arm:g} units per arm cannot reach power {power}",
    )


def cuped_factor(rho: float) -> float:
    """The factor ``1 - ρ²`` by which CUPED shrinks the variance and the sample size."""
    if not -1 < rho < 1:
        raise StatsInputError(f"the pre/post correlation must be within (-1, 1), got {rho}")
    return 1 - rho**2


def duration_days(total_units: float, daily_units: float) -> int:
    """Whole days needed to enrol ``total_units`` at ``daily_units`` new units a day."""
    if daily_units <= 0:
        raise StatsInputError(f"daily units must be > 0, got {daily_units}")
    return max(1, math.ceil(total_units / daily_units))


@dataclass(frozen=True)
class PowerPlan:
    """A sample-size plan: what ``sameday power`` prints.

    ``per_arm`` is rounded up; ``per_arm_exact`` is the formula's value. ``effect`` is the
    absolute difference (proportions) or Cohen's d (means, when ``sd`` was given).
    """

    metric: Literal["proportion", "mean"]
    baseline: float
    mde: float
    relative: bool
    effect: float
    arms: int
    alpha: float
    comparison_alpha: float
    power: float
    cuped_rho: float
    per_arm_exact: float
    per_arm: int
    total: int
    daily_units: float | None
    days: int | None


def plan(
    baseline: float,
    mde: float,
    *,
    relative: bool = True,
    arms: int = 2,
    alpha: float = 0.05,
    power: float = 0.8,
    daily_units: float | None = None,
    cuped_rho: float = 0.0,
    sd: float | None = None,
    variance: Variance = "pooled",
    continuity: bool = False,
) -> PowerPlan:
    """Plan a test from its hypothesis: a proportion, or a mean when ``sd`` is given.

    Args:
        baseline: the control's expected rate (or mean).
        mde: minimum detectable effect, relative (0.05 = +5%) or absolute.
        relative: whether ``mde`` is relative to ``baseline``.
        arms: number of arms including the control.
        alpha, power: two-sided level and desired power of each treatment-control comparison.
        daily_units: units entering the experiment per day (all arms), for the duration.
        cuped_rho: expected pre/post correlation of the metric when CUPED is used.
        sd: per-unit standard deviation of a mean metric (omit for a proportion).
        variance, continuity: the proportion formula (see the module docstring).
    """
    if arms < 2:
        raise StatsInputError(f"a test needs at least two arms, got {arms}")
    if mde <= 0:
        raise StatsInputError(f"the minimum detectable effect must be > 0, got {mde}")
    comparison_alpha = alpha / (arms - 1)
    absolute = mde * abs(baseline) if relative else mde
    if sd is None:
        effect = absolute
        exact = sample_size_proportions(
            baseline,
            baseline + absolute,
            alpha=comparison_alpha,
            power=power,
            variance=variance,
            continuity=continuity,
        )
    else:
        if sd <= 0:
            raise StatsInputError(f"the standard deviation must be > 0, got {sd}")
        effect = absolute / sd
        exact = sample_size_means(effect, alpha=comparison_alpha, power=power)
    exact *= cuped_factor(cuped_rho)
    per_arm = math.ceil(exact - 1e-9)
    total = per_arm * arms
    return PowerPlan(
        metric="proportion" if sd is None else "mean",
        baseline=baseline,
        mde=mde,
        relative=relative,
        effect=effect,
        arms=arms,
        alpha=alpha,
        comparison_alpha=comparison_alpha,
        power=power,
        cuped_rho=cuped_rho,
        per_arm_exact=exact,
        per_arm=per_arm,
        total=total,
        daily_units=daily_units,
        days=None if daily_units is None else duration_days(total, daily_units),
    )


def _proportion_sds(baseline: float, target: float, variance: Variance) -> tuple[float, ...]:
    """Per-unit sds of the difference under the null and the alternative, and the difference."""
    _check_rate(baseline, "baseline")
    _check_rate(target, "target")
    if target == baseline:
        raise StatsInputError("the target rate must differ from the baseline")
    alt = math.sqrt(baseline * (1 - baseline) + target * (1 - target))
    if variance == "unpooled":
        return alt, alt, target - baseline
    pooled = (baseline + target) / 2
    return math.sqrt(2 * pooled * (1 - pooled)), alt, target - baseline


def _solve(func: Callable[[float], float], low: float, high: float, message: str) -> float:
    if func(high) < 0:
        raise StatsInputError(message)
    # scipy.optimize costs ~0.3 s to import and only solving for a sample size needs it.
    from scipy import optimize

    return float(optimize.brentq(func, low, high, xtol=1e-10, rtol=1e-12))


def _z(q: float) -> float:
    return float(dist.ndtri(q))


def _check_rate(rate: float, name: str) -> None:
    if not 0 < rate < 1:
        raise StatsInputError(f"the {name} rate must be within (0, 1), got {rate}")


def _check_levels(alpha: float, power: float) -> None:
    check_alpha(alpha)
    if not 0 < power < 1:
        raise StatsInputError(f"power must be within (0, 1), got {power}")
