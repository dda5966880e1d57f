"""Fixed-horizon comparisons of two arms: Welch t with absolute and relative lift.

Every comparison reduces an arm to an estimate (a mean, a proportion, a ratio, a CUPED-adjusted
mean) and the variance of that estimate, then calls one vectorised kernel, :func:`lift_arrays`:

- absolute lift ``d = m_B - m_A`` with variance ``v_A + v_B``;
- relative lift ``d / |b|`` (``b`` the control's unadjusted value), its standard error by the
  delta method, ``var = var(d)/b² + d²·var(b)/b⁴ + 2·d·cov(m_A, b)/b³`` (what the Bayesian view
  reads), and its interval by Fieller's method (:mod:`~sameday.analysis.stats.fieller`), cut to
  the metric's range: the relative lift's p-value is the absolute lift's, so the test that
  decides is the one that holds its error rate on skewed metrics;
- Welch–Satterthwaite degrees of freedom ``(v_A + v_B)² / (v_A²/(n_A-1) + v_B²/(n_B-1))``, used for
  the t quantile of both intervals and the p-value.

Proportions use ``p(1-p)`` as the per-unit variance, as GrowthBook does. Ratio metrics (``Σy/Σx``
per arm) and CUPED live in :mod:`~sameday.analysis.stats.adjusted`. The kernel broadcasts over
arrays, so a whole time series (or ten thousand simulated tests) is one call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats import distributions as dist
from sameday.analysis.stats._squares import Square, as_numpy
from sameday.analysis.stats._types import FloatArray
from sameday.analysis.stats.errors import check_alpha
from sameday.analysis.stats.fieller import fieller_arrays
from sameday.analysis.stats.summary import ArmSummary

Method = Literal["mean", "proportion", "ratio", "cuped"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, two-sided interval and p-value.

    ``df`` is the degrees of freedom of the t distribution used (``inf``: normal; sequential
    intervals always report ``inf``). ``alpha`` is the level the interval was built for.
    """

    point: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    alpha: float

    @property
    def significant(self) -> bool:
        """Whether the null of no difference is rejected at ``alpha`` (the interval excludes 0)."""
        return bool(self.p_value < self.alpha)


@dataclass(frozen=True)
class RatioParts:
    """The relative lift as the ratio ``diff / |base|``, with what its interval is built from.

    ``cov`` is the covariance of ``diff`` and ``base``; ``lower`` is the smallest relative lift
    the metric allows (-1 when its values cannot be negative, else ``-inf``). A sequential
    comparison rebuilds the interval from these with its own multiplier.
    """

    diff: float
    var_diff: float
    base: float
    var_base: float
    cov: float
    lower: float

    def interval(self, multiplier: float) -> tuple[float, float]:
        """Fieller's interval of the relative lift for the critical value ``multiplier``."""
        low, high = fieller_arrays(
            self.diff,
            self.var_diff,
            self.base,
            self.var_base,
            self.cov,
            multiplier,
            lower=self.lower,
        )
        return float(low), float(high)


@dataclass(frozen=True)
class Comparison:
    """Treatment against control for one metric: what a report row needs.

    ``control`` and ``treatment`` are the arms' unadjusted values (mean, proportion or ratio).
    For CUPED, ``theta`` is the pooled adjustment coefficient and ``variance_reduction`` the
    share of the absolute lift's variance that the covariate removed. ``relative`` has the delta
    method's standard error, Fieller's interval (``ratio``) and the absolute lift's p-value.
    """

    method: Method
    control: float
    treatment: float
    n_control: int
    n_treatment: int
    absolute: Estimate
    relative: Estimate
    ratio: RatioParts
    sequential: bool = False
    theta: float | None = None
    variance_reduction: float | None = None


@dataclass(frozen=True)
class LiftArrays:
    """Output of :func:`lift_arrays`: absolute and relative lift with their standard errors.

    ``base``, ``var_base`` and ``cov_base`` (the covariance of the absolute lift and ``base``)
    are the relative lift's denominator, for :func:`relative_interval_arrays`.
    """

    absolute: FloatArray
    se_absolute: FloatArray
    relative: FloatArray
    se_relative: FloatArray
    df: FloatArray
    base: FloatArray
    var_base: FloatArray
    cov_base: FloatArray


class LiftInputs(NamedTuple):
    """One comparison as :func:`lift_arrays` takes it, from the arms' summaries.

    Each method reduces its two arms to these nine numbers (:func:`welch_inputs`,
    :func:`~sameday.analysis.stats.adjusted.ratio_inputs`,
    :func:`~sameday.analysis.stats.adjusted.cuped_inputs`), so one comparison and a stack of them
    (the days of a lift series, :mod:`~sameday.analysis.stats.lifts`) go through the same
    kernel from the same numbers. ``base``, ``var_base`` and ``cov_base`` are the relative
    lift's denominator, its variance and its covariance with ``est_a``.
    """

    est_a: float
    var_a: float
    n_a: int
    est_b: float
    var_b: float
    n_b: int
    base: float
    var_base: float
    cov_base: float


_FIELDS = len(LiftInputs._fields)


def lift_of(inputs: LiftInputs | Sequence[LiftInputs], *, square: Square = as_numpy) -> LiftArrays:
    """:func:`lift_arrays` of one comparison (0-d arrays) or of a sequence of them (1-d)."""
    table = np.asarray(inputs, dtype=np.float64)
    # A sequence is a table of one row per comparison (none: an empty table, not a flat one).
    columns = table.T if isinstance(inputs, LiftInputs) else table.reshape(-1, _FIELDS).T
    return lift_arrays(
        *columns[:6], base=columns[6], var_base=columns[7], cov_base=columns[8], square=square
    )


def welch_inputs(control: ArmSummary, treatment: ArmSummary, *, ddof: int) -> LiftInputs:
    """The means of two arms and the variances of those means (per-unit variance over n).

    ``ddof`` 1 for sample variances, 0 for a proportion's ``p(1-p)``.

    Raises:
        StatsInputError: an arm has fewer than two units.
    """
    control.require(2, "control")
    treatment.require(2, "treatment")
    var_a = control.variance(ddof) / control.n
    return LiftInputs(
        control.mean,
        var_a,
        control.n,
        treatment.mean,
        treatment.variance(ddof) / treatment.n,
        treatment.n,
        control.mean,
        var_a,
        var_a,
    )


def lift_arrays(
    est_a: npt.ArrayLike,
    var_a: npt.ArrayLike,
    n_a: npt.ArrayLike,
    est_b: npt.ArrayLike,
    var_b: npt.ArrayLike,
    n_b: npt.ArrayLike,
    *,
    base: npt.ArrayLike | None = None,
    var_base: npt.ArrayLike | None = None,
    cov_base: npt.ArrayLike | None = None,
    square: Square = as_numpy,
) -> LiftArrays:
    """Absolute and relative lift of B over A, vectorised over any broadcastable shape.

    Args:
        est_a, est_b: the arms' estimates (means, proportions, ratios or adjusted means).
        var_a, var_b: the variances *of those estimates* (per-unit variance divided by n).
        n_a, n_b: units per arm, for the Welch–Satterthwaite degrees of freedom.
        base: denominator of the relative lift; defaults to ``est_a``. CUPED passes the
            unadjusted control mean.
        var_base: variance of ``base`` (defaults to ``var_a``).
        cov_base: covariance of ``est_a`` and ``base`` (defaults to ``var_a``).
        square: how the absolute lift's variance is squared for the degrees of freedom (a
            single number when the arguments are: see :mod:`~sameday.analysis.stats._squares`).

    Returns:
        The lifts, their standard errors and the degrees of freedom. A zero ``base`` gives a NaN
        relative lift; zero variance in both arms gives infinite degrees of freedom.
    """
    a, va, na = _f(est_a), _f(var_a), _f(n_a)
    b, vb, nb = _f(est_b), _f(var_b), _f(n_b)
    denom = a if base is None else _f(base)
    v_denom = va if var_base is None else _f(var_base)
    c_denom = va if cov_base is None else _f(cov_base)
    diff = b - a
    var_diff = va + vb
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(
            var_diff > 0, square(var_diff) / (va**2 / (na - 1) + vb**2 / (nb - 1)), np.inf
        )
        relative = np.where(denom != 0, diff / np.abs(denom), np.nan)
        var_rel = var_diff / denom**2 + diff**2 * v_denom / denom**4 + 2 * diff * c_denom / denom**3
        var_rel = np.where(denom != 0, np.maximum(var_rel, 0.0), np.nan)
    return LiftArrays(
        absolute=diff,
        se_absolute=np.sqrt(var_diff),
        relative=relative,
        se_relative=np.sqrt(var_rel),
        df=df,
        base=denom,
        var_base=v_denom,
        # cov(m_B - m_A, base) = -cov(m_A, base): the treatment arm is independent of the base.
        cov_base=-c_denom,
    )


def relative_interval_arrays(
    lift: LiftArrays, multiplier: npt.ArrayLike, *, lower: float = -1.0
) -> tuple[FloatArray, FloatArray]:
    """Fieller's interval of the relative lift for the critical value ``multiplier``.

    ``lower`` is the smallest relative lift the metric allows (-1: its values cannot be negative;
    ``-inf``: no bound). See :mod:`~sameday.analysis.stats.fieller`.
    """
    return fieller_arrays(
        lift.absolute,
        lift.se_absolute**2,
        lift.base,
        lift.var_base,
        lift.cov_base,
        multiplier,
        lower=lower,
    )


def t_interval(
    point: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike, alpha: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Two-sided ``1 - alpha`` interval and p-value from a t distribution (vectorised).

    A zero standard error gives a point interval and a p-value of 1 (no difference) or 0; an
    undefined point or standard error (NaN) gives NaN throughout.
    """
    x, s, nu = _f(point), _f(se), _f(df)
    quantile = dist.stdtrit(nu, 1 - alpha / 2)
    return x - quantile * s, x + quantile * s, t_p_value(x, s, nu)


def t_p_value(point: npt.ArrayLike, se: npt.ArrayLike, df: npt.ArrayLike) -> FloatArray:
    """The two-sided p-value of :func:`t_interval`, for a caller that has the quantile already."""
    x, s, nu = _f(point), _f(se), _f(df)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(s > 0, np.abs(x) / s, np.where(x == 0, 0.0, np.inf))
        t = np.where(np.isnan(x) | np.isnan(s), np.nan, t)
    p_value: FloatArray = 2 * dist.stdtr(nu, -t)
    return p_value


def compare_means(
    control: ArmSummary, treatment: ArmSummary, *, alpha: float = 0.05, nonnegative: bool = True
) -> Comparison:
    """Welch t-test on per-unit means (sample variances with ``n - 1``).

    The absolute p-value equals ``scipy.stats.ttest_ind_from_stats(..., equal_var=False)``.
    ``nonnegative``: the metric's values cannot be negative, so its relative lift is >= -100%.
    """
    return _compare("mean", control, treatment, ddof=1, alpha=alpha, nonnegative=nonnegative)


def compare_proportions(
    control: ArmSummary, treatment: ArmSummary, *, alpha: float = 0.05
) -> Comparison:
    """Welch test on conversion rates, with ``p(1-p)`` as each arm's per-unit variance."""
    return _compare("proportion", control, treatment, ddof=0, alpha=alpha, nonnegative=True)


def estimate(point: float, se: float, df: float, alpha: float) -> Estimate:
    """An :class:`Estimate` from a point, a standard error and degrees of freedom."""
    low, high, p_value = t_interval(point, se, df, alpha)
    return Estimate(
        point=float(point),
        se=float(se),
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p_value),
        df=float(df),
        alpha=alpha,
    )


def from_lift(
    method: Method,
    control: ArmSummary,
    treatment: ArmSummary,
    values: tuple[float, float],
    lift: LiftArrays,
    alpha: float,
    *,
    nonnegative: bool,
) -> Comparison:
    """Package the kernel's output as a :class:`Comparison` (``values``: control, treatment).

    ``nonnegative``: the metric's values cannot be negative (its relative lift is >= -100%).
    """
    df = float(lift.df)
    absolute = estimate(float(lift.absolute), float(lift.se_absolute), df, alpha)
    ratio = RatioParts(
        diff=absolute.point,
        var_diff=absolute.se**2,
        base=float(lift.base),
        var_base=float(lift.var_base),
        cov=float(lift.cov_base),
        lower=-1.0 if nonnegative else -math.inf,
    )
    low, high = relative_interval_arrays(lift, dist.stdtrit(df, 1 - alpha / 2), lower=ratio.lower)
    relative = Estimate(
        point=float(lift.relative),
        se=float(lift.se_relative),
        ci_low=float(low),
        ci_high=float(high),
        p_value=_defined(absolute.p_value, float(lift.relative)),
        df=df,
        alpha=alpha,
    )
    return Comparison(
        method=method,
        control=values[0],
        treatment=values[1],
        n_control=control.n,
        n_treatment=treatment.n,
        absolute=absolute,
        relative=relative,
        ratio=ratio,
    )


def _defined(p_value: float, relative: float) -> float:
    """The relative lift's p-value: the absolute one, undefined where the relative lift is."""
    return math.nan if math.isnan(relative) else p_value


def _compare(
    method: Method,
    control: ArmSummary,
    treatment: ArmSummary,
    *,
    ddof: int,
    alpha: float,
    nonnegative: bool,
) -> Comparison:
    check_alpha(alpha)
    lift = lift_of(welch_inputs(control, treatment, ddof=ddof))
    return from_lift(
        method,
        control,
        treatment,
        (control.mean, treatment.mean),
        lift,
        alpha,
        nonnegative=nonnegative,
    )


def _f(value: npt.ArrayLike) -> FloatArray:
    return np.asarray(value, dtype=np.float64)
