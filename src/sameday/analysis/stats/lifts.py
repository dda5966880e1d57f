"""The relative lifts of many comparisons at once: the days of a lift series.

A report's lift series compares the cumulative summaries of every day, about thirty comparisons
per metric and arm. One :func:`~sameday.analysis.comparisons.compare` and one
:func:`~sameday.analysis.stats.sequential.sequential_comparison` per day took 0.2 ms a day
(17 ms of a 20 ms ``ab_report`` on ``benchmarks/report_bench.py``'s log, 3 metrics x 28 days),
nearly all of it numpy's overhead on single numbers and the dataclasses around them, for the
four numbers a chart needs: the relative lift, its fixed and always-valid intervals and the
decision's p-value. :func:`relative_lifts` runs the same kernels once over arrays of all the
days: 3 ms for those 84.

Its numbers are each comparison's, to the last bit (``tests/analysis/test_series.py`` checks
it): every step is the one the single comparison takes, elementwise, and numpy computes an
element of an array as it computes a single number, except a square, which it takes by ``pow``
for a single number and by multiplication for an array: the kernels square what one comparison
holds as single numbers with :func:`~sameday.analysis.stats._squares.as_single`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sameday.analysis.stats import distributions as dist
from sameday.analysis.stats._squares import as_single
from sameday.analysis.stats._types import FloatArray
from sameday.analysis.stats.errors import check_alpha
from sameday.analysis.stats.fieller import fieller_arrays
from sameday.analysis.stats.frequentist import LiftInputs, lift_of, t_p_value
from sameday.analysis.stats.sequential import halfwidth_arrays, p_value_arrays


@dataclass(frozen=True)
class RelativeLifts:
    """The relative lift of each comparison with its fixed and always-valid reading.

    Element ``i`` of each array is what ``compare`` and ``sequential_comparison`` give the
    ``i``-th comparison as ``relative``: ``point``; ``fixed_low``, ``fixed_high`` and
    ``fixed_p`` from the fixed-horizon comparison; ``sequential_low``, ``sequential_high`` and
    ``sequential_p`` from the always-valid one.
    """

    point: FloatArray
    fixed_low: FloatArray
    fixed_high: FloatArray
    fixed_p: FloatArray
    sequential_low: FloatArray
    sequential_high: FloatArray
    sequential_p: FloatArray


def relative_lifts(
    inputs: Sequence[LiftInputs], *, alpha: float, nonnegative: bool, n_star: float
) -> RelativeLifts:
    """The relative lifts of the comparisons ``inputs`` at level ``alpha``.

    Args:
        inputs: one comparison each (``welch_inputs``, ``ratio_inputs``, ``cuped_inputs``).
        alpha: the level of every interval.
        nonnegative: the metric's values cannot be negative (relative lifts are >= -100%).
        n_star: the confidence sequence's tuning size (see
            :func:`~sameday.analysis.stats.sequential.rho`).

    Raises:
        StatsInputError: ``alpha`` is not within (0, 1) or ``n_star`` is not positive, for
            which each comparison alone would raise as well.
    """
    check_alpha(alpha)
    lower = -1.0 if nonnegative else -math.inf
    lift = lift_of(inputs, square=as_single)
    n = _units(inputs)
    point, se = lift.absolute, lift.se_absolute
    # The variance of the absolute lift as both intervals take it: the square of its standard
    # error, which one comparison squares as a single number (RatioParts as a Python float).
    var_diff = as_single(se)

    def interval(multiplier: FloatArray) -> tuple[FloatArray, FloatArray]:
        return fieller_arrays(
            point,
            var_diff,
            lift.base,
            lift.var_base,
            lift.cov_base,
            multiplier,
            lower=lower,
            square=as_single,
        )

    # Fixed horizon: the t quantile of the absolute lift's interval, which the relative one
    # shares, and its p-value, which the relative lift takes where it is defined.
    quantile = np.asarray(dist.stdtrit(lift.df, 1 - alpha / 2), dtype=np.float64)
    fixed_low, fixed_high = interval(quantile)
    fixed_p = t_p_value(point, se, lift.df)
    # Always valid: the sequence's multiplier for a unit standard error at n units; the
    # absolute lift keeps its fixed p-value where it has no point or standard error.
    multiplier = halfwidth_arrays(1.0, n, n_star=n_star, alpha=alpha)
    sequential_low, sequential_high = interval(multiplier)
    always = p_value_arrays(point, se, n, n_star=n_star, alpha=alpha)
    always = np.where(np.isnan(point) | np.isnan(se), fixed_p, always)
    undefined = np.isnan(lift.relative)
    return RelativeLifts(
        point=lift.relative,
        fixed_low=fixed_low,
        fixed_high=fixed_high,
        fixed_p=np.where(undefined, np.nan, fixed_p),
        sequential_low=sequential_low,
        sequential_high=sequential_high,
        sequential_p=np.where(undefined, np.nan, always),
    )


def _units(inputs: Sequence[LiftInputs]) -> FloatArray:
    """Each comparison's units, both arms together (where the sequence stands)."""
    return np.array([i.n_a + i.n_b for i in inputs], dtype=np.float64)
