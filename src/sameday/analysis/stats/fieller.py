"""Fieller's interval for a ratio of two estimates: the interval of the relative lift.

The relative lift is a ratio, ``L = D / b``: the absolute lift ``D`` over the control's value
``b``. The delta method's ``L ± q·se(L)`` is symmetric around the point, but ``1/b`` is not: when
the control's value is itself uncertain (few units, heavy tails) that interval falls below -100% on
a metric that cannot be negative, and its test is not the test of ``D``. On 5% buyers × lognormal
revenue it rejected the null in 14.6% of A/A tests at 500 units per arm (``docs/analysis.md``).

Fieller (1954) inverts the test of ``D - L·b = 0`` instead. The interval holds every ``L`` with
``|D - L·b| <= q·sqrt(var D - 2L·cov(D, b) + L²·var b)``, that is the ``L`` between the roots of
``(b² - q²·var b)·L² - 2·(D·b - q²·cov)·L + (D² - q²·var D) <= 0``. Three consequences:

- at ``L = 0`` the condition is the test of the absolute lift: the relative interval excludes 0
  exactly when the absolute one does, so one test decides, and it is the test whose error rate
  holds (the difference of two arms drawn from one distribution is symmetric, however skewed);
- when ``b`` cannot be told from 0 at this level (``b² <= q²·var b``) no finite interval covers
  the ratio, and the upper end is infinite, which is what the data say. The set is then either
  every ``L`` or two rays, ``L <= r1`` and ``L >= r2``; when the metric's range cuts the lower ray
  away (a clear gain of a non-negative metric over a control near zero) the interval is
  ``[r2, inf)`` and still excludes 0 exactly when the test rejects; otherwise it is the hull,
  the whole range;
- the interval is cut to the metric's possible range: the relative lift of a metric that cannot
  be negative is at least -100% (``lower = -1``).

``q`` is the t quantile of a fixed-horizon interval, or the multiplier of a confidence sequence
(:func:`sameday.analysis.stats.sequential.halfwidth_arrays` with a unit standard error).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats._squares import Square, as_numpy
from sameday.analysis.stats._types import FloatArray


def fieller_arrays(
    diff: npt.ArrayLike,
    var_diff: npt.ArrayLike,
    base: npt.ArrayLike,
    var_base: npt.ArrayLike,
    cov: npt.ArrayLike,
    multiplier: npt.ArrayLike,
    *,
    lower: float = -1.0,
    square: Square = as_numpy,
) -> tuple[FloatArray, FloatArray]:
    """Fieller's interval for ``diff / |base|``, cut at ``lower`` (vectorised).

    Args:
        diff, var_diff: the numerator (the absolute lift) and its variance.
        base, var_base: the denominator (the control's value) and its variance.
        cov: the covariance of ``diff`` and ``base``.
        multiplier: ``q``, the interval's critical value.
        lower: the smallest relative lift the metric allows (``-inf``: none).
        square: how ``|base|`` and ``D·b - q²·cov`` are squared (single numbers when the
            arguments are: see :mod:`~sameday.analysis.stats._squares`).

    Returns:
        The low and high ends; the high end is infinite when ``base`` is not distinguishable
        from zero; NaN when ``base`` is exactly zero or an input is NaN.
    """
    d, vd = _f(diff), _f(var_diff)
    b, vb, c = _f(base), _f(var_base), _f(cov)
    q2 = _f(multiplier) ** 2
    # diff / |base|: a negative base enters as -base, whose covariance with diff is -cov.
    sign = np.where(b < 0, -1.0, 1.0)
    c, b = sign * c, np.abs(b)
    a = square(b) - q2 * vb
    h = d * b - q2 * c
    disc = square(h) - a * (d**2 - q2 * vd)
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.maximum(disc, 0.0))
        first, second = (h - root) / a, (h + root) / a
    r1, r2 = np.minimum(first, second), np.maximum(first, second)
    # a > 0: the interval [r1, r2]. a < 0 with real roots: two rays, (-inf, r1] and [r2, inf);
    # when the lower ray lies wholly below the metric's range only [r2, inf) is left, otherwise
    # the hull of what is left is the whole range. a < 0 without real roots (or a = 0): every L.
    rays = (a < 0) & (disc >= 0)
    upper_ray_only = rays & (r1 < lower)
    low = np.where(a > 0, r1, np.where(upper_ray_only, r2, -np.inf))
    high = np.where(a > 0, r2, np.inf)
    undefined = (b == 0) | np.isnan(d + vd + b + vb + c + q2)
    low = np.where(undefined, np.nan, np.maximum(low, lower))
    high = np.where(undefined, np.nan, np.maximum(high, lower))
    return low, high


def _f(value: npt.ArrayLike) -> FloatArray:
    return np.asarray(value, dtype=np.float64)
