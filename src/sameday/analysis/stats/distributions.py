"""The normal, Student t and chi-square distribution functions a report needs, without scipy.

Why not ``scipy.special``: importing it costs about 0.25 s of CPU (0.15 s of it scipy's
array-API layer walking numpy's lazy submodules), a quarter of a whole ``sameday report`` over
a million exposures, which issue 15 times as a process against a pandas script. The report needs
five functions, and each is computed here to within 1e-12 (relative) of scipy's, which
``tests/analysis/stats/test_distributions.py`` checks over grids reaching the extremes:

- :func:`ndtr` and :func:`ndtri`, the normal CDF and quantile: ``math.erfc`` and
  ``statistics.NormalDist.inv_cdf`` (Wichura's AS241, exact to double precision);
- :func:`stdtr` and :func:`stdtrit`, Student's t CDF and quantile for any real degrees of
  freedom (Welch's are fractional): the regularised incomplete beta function, by DiDonato and
  Morris's asymptotic expansion from 30 degrees of freedom up (for ``t² <= df``), else by its
  hypergeometric series where that is short and its continued fraction elsewhere, with the log
  of the beta function from Stirling's series for large degrees of freedom so that a million
  units lose no digits; the quantile by Newton's method on the tail (near the
  median on ``P(|T| < t)``, whose digits ``1 - 2 P(T > t)`` would lose), from the
  Cornish-Fisher expansion where it converges, so that a report's quantiles take one or two
  tail evaluations each;
- :func:`chdtrc`, the chi-square survival function for whole degrees of freedom (a sample-ratio
  check and Cochran's Q have ``k - 1``), by its closed form.

Every function works elementwise on numbers or numpy arrays, as scipy's do, and returns a float
for scalar input. The noncentral t of a sample-size plan for means is still scipy's (imported
there, when such a plan is made).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats._types import FloatArray

_SQRT_HALF = math.sqrt(0.5)
_LN_SQRT_PI = 0.5 * math.log(math.pi)  # ln Γ(1/2)
_EPS = 1e-16
_MAX_TERMS = 100_000
_LARGE_A = 15.0
"""From here on (30 degrees of freedom), Student's t by the asymptotic expansion."""
_BGRAT_TERMS = 30
_MAX_STEPS = 400
_NEWTON_LAST = 1e-9
"""A Newton step in ``ln t`` this small is the last :func:`_t_quantile` needs."""
_CORNISH_FISHER_DF = 10.0
_LOG_HUGE = math.log(1e300)
_HUGE_T = 1e150
_STANDARD = NormalDist()


@overload
def _elementwise(func: Callable[..., float], *args: float) -> float: ...
@overload
def _elementwise(func: Callable[..., float], *args: npt.ArrayLike) -> float | FloatArray: ...
def _elementwise(func: Callable[..., float], *args: Any) -> float | FloatArray:
    """``func`` over broadcast arguments: a float for scalars, an array otherwise."""
    if all(isinstance(a, (int, float)) for a in args):
        return func(*(float(a) for a in args))
    given = [np.asarray(a, dtype=np.float64) for a in args]
    if all(a.ndim == 0 for a in given):  # one comparison's statistics: no broadcasting
        return func(*(float(a) for a in given))
    arrays = np.broadcast_arrays(*given)
    out = np.empty(arrays[0].shape, dtype=np.float64)
    for index in np.ndindex(out.shape):
        out[index] = func(*(float(a[index]) for a in arrays))
    if out.ndim == 0:
        return float(out)
    return out


def ndtr(x: npt.ArrayLike) -> Any:
    """The standard normal CDF (``scipy.special.ndtr``)."""
    return _elementwise(_ndtr, x)


def ndtri(p: npt.ArrayLike) -> Any:
    """The standard normal quantile (``scipy.special.ndtri``); NaN outside [0, 1]."""
    return _elementwise(_ndtri, p)


def stdtr(df: npt.ArrayLike, t: npt.ArrayLike) -> Any:
    """Student's t CDF with ``df`` degrees of freedom (``scipy.special.stdtr``)."""
    return _elementwise(_stdtr, df, t)


def stdtrit(df: npt.ArrayLike, p: npt.ArrayLike) -> Any:
    """Student's t quantile (``scipy.special.stdtrit``); NaN outside [0, 1]."""
    return _elementwise(_stdtrit, df, p)


def chdtrc(df: npt.ArrayLike, x: npt.ArrayLike) -> Any:
    """The chi-square survival function for whole ``df`` >= 1 (``scipy.special.chdtrc``).

    Raises:
        ValueError: ``df`` is not a whole number (no caller has one; see the module docstring).
    """
    return _elementwise(_chdtrc, df, x)


def _ndtr(x: float) -> float:
    if math.isnan(x):
        return math.nan
    return 0.5 * math.erfc(-x * _SQRT_HALF)


def _ndtri(p: float) -> float:
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    return _STANDARD.inv_cdf(p)


def _stdtr(df: float, t: float) -> float:
    if math.isnan(df) or math.isnan(t) or df <= 0:
        return math.nan
    if math.isinf(df):
        return _ndtr(t)
    if math.isinf(t):
        return 0.0 if t < 0 else 1.0
    tail = _t_tail(df, abs(t))
    return tail if t < 0 else 1.0 - tail


def _t_tail(df: float, t: float) -> float:
    """``P(T > t)`` for ``t >= 0``: half the regularised incomplete beta ``I_x(df/2, 1/2)`` at
    ``x = df / (df + t²)`` (its complement ``I_y(1/2, df/2)``, ``y = t² / (df + t²)``, is the
    probability of ``|T| < t``)."""
    if t == 0:
        return 0.5
    a, b = 0.5 * df, 0.5
    if t > _HUGE_T:  # t² would overflow; there 1 + t²/df is t²/df and y is 1
        log_ratio = 2.0 * math.log(t) - math.log(df)
        log_front = -a * log_ratio - _log_beta_half(a)
        return 0.5 * math.exp(log_front) * _ibeta_fraction(a, b, math.exp(-log_ratio)) / a
    t2 = t * t
    if t2 == 0.0 or t2 / df == 0.0:  # P(|T| < t) is below double precision's half an ulp of 1/2
        return 0.5
    if t2 > df:  # x and y without cancellation either way
        x, y = df / (df + t2), 1.0 / (1.0 + df / t2)
    else:
        y = t2 / (df + t2)
        x = 1.0 / (1.0 + t2 / df)
    if a >= _LARGE_A and t2 <= df:  # x >= 1/2; below, the continued fraction is fast
        return 0.5 * _ibeta_large_a(a, t2 / df)
    # ln(x^a y^b / B(a, b)), with a ln x = -a ln(1 + t²/df) exact for large df.
    log_front = -a * math.log1p(t2 / df) + b * math.log(y) - _log_beta_half(a)
    if (a + b) * y < 30.0 and y < 0.5:
        inside = _ibeta_series(b, a, y, log_front)  # P(|T| < t), by the series
        if inside < 0.9:  # the tail 0.5 (1 - inside) keeps its digits
            return 0.5 * (1.0 - inside)
    if x < (a + 1.0) / (a + b + 2.0):
        return 0.5 * math.exp(log_front) * _ibeta_fraction(a, b, x) / a
    return 0.5 * (1.0 - math.exp(log_front) * _ibeta_fraction(b, a, y) / b)


def _ibeta_large_a(a: float, ratio: float) -> float:
    """``I_x(a, 1/2)`` at ``x = 1 / (1 + ratio)`` for large ``a``: DiDonato and Morris's
    asymptotic expansion (BGRAT, ACM TOMS 708, section 9) in incomplete gamma functions, which
    for ``b = 1/2`` are ``erfc``: fast and accurate where the continued fraction needs
    thousands of terms (``x`` near ``(a+1)/(a+b+2)``) and the series loses the tail's digits.

    With ``T = a - 1/4`` and ``u = T ln(1 + ratio)``: ``I = Γ(a+½)/(Γ(a) √T) Σ p_n k_n``, where
    ``k_0 = erfc(√u)`` and ``k_n`` are ``H(½, u) J_n`` of the paper (``H = √u e^-u / √π``), kept
    scaled by ``H`` so that nothing overflows where ``erfc`` underflows.
    """
    b = 0.5
    big_t = a - 0.25
    lx = -math.log1p(ratio)
    u = -big_t * lx
    log_h = 0.5 * math.log(u) - u - _LN_SQRT_PI if u > 0 else -math.inf
    h = math.exp(log_h)
    scale = math.exp(_LN_SQRT_PI - _log_beta_half(a) - 0.5 * math.log(big_t))
    k = math.erfc(math.sqrt(u))
    total = k
    lx2 = (0.5 * lx) ** 2
    lxp = 1.0
    t4 = 4.0 * big_t * big_t
    b2n = b
    for n in range(1, _BGRAT_TERMS):
        pn = _BGRAT_P[n]
        k = (b2n * (b2n + 1.0) * k + (u + b2n + 1.0) * lxp * h) / t4
        lxp *= lx2
        b2n += 2.0
        term = pn * k
        total += term
        if abs(term) <= _EPS * abs(total):
            break
    return scale * total


def _bgrat_coefficients(b: float) -> tuple[float, ...]:
    """The coefficients ``p_n`` of :func:`_ibeta_large_a`'s series, which depend on ``b`` only:
    computed once (at import) rather than in each of the tens of calls a quantile makes."""
    p = [1.0]
    for n in range(1, _BGRAT_TERMS):
        pn = sum((m * b - n) * p[n - m] / math.factorial(2 * m + 1) for m in range(1, n)) / n
        pn += (b - 1.0) / math.factorial(2 * n + 1)
        p.append(pn)
    return tuple(p)


_BGRAT_P = _bgrat_coefficients(0.5)


def _log_beta_half(a: float) -> float:
    """``ln B(a, 1/2) = ln Γ(a) + ln Γ(1/2) - ln Γ(a + 1/2)`` to double precision for any ``a``.

    For large ``a`` the two ``lgamma`` values are huge and nearly equal (at a million units,
    1.3e7 each): their difference by Stirling's series instead, where only small terms cancel.
    """
    if a < 20.0:
        return math.lgamma(a) + _LN_SQRT_PI - math.lgamma(a + 0.5)
    c = a + 0.5
    # ln Γ(a) - ln Γ(c) = (a - ½) ln a - (c - ½) ln c - a + c + S(a) - S(c), with c - a = ½.
    difference = -0.5 * math.log(a) - a * math.log1p(0.5 / a) + 0.5 + _stirling(a) - _stirling(c)
    return difference + _LN_SQRT_PI


def _stirling(z: float) -> float:
    """The correction ``ln Γ(z) - ((z - ½) ln z - z + ½ ln 2π)`` for ``z >= 20``."""
    w = 1.0 / (z * z)
    return (
        1.0 / 12.0
        - w * (1.0 / 360.0 - w * (1.0 / 1260.0 - w * (1.0 / 1680.0 - w * (1.0 / 1188.0))))
    ) / z


def _ibeta_series(a: float, b: float, x: float, log_front: float) -> float:
    """``I_x(a, b) = x^a (1-x)^b / (a B(a, b)) · Σ (a+b)_n / (a+1)_n x^n`` (all terms positive);
    ``log_front`` is ``ln(x^a (1-x)^b / B(a, b))``."""
    term, total, n = 1.0, 1.0, 0
    while n < _MAX_TERMS:
        term *= (a + b + n) / (a + 1.0 + n) * x
        total += term
        n += 1
        if term < _EPS * total:
            break
    return math.exp(log_front) * total / a


def _ibeta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of ``I_x(a, b)`` (modified Lentz), for ``x < (a+1)/(a+b+2)``;
    ``I_x(a, b) = x^a (1-x)^b / (a B(a, b)) · fraction``."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def _t_density(df: float, t: float) -> float:
    """Student's t density (for Newton's steps in :func:`_stdtrit`)."""
    a = 0.5 * df
    log_density = -(a + 0.5) * math.log1p(t * t / df) - 0.5 * math.log(df) - _log_beta_half(a)
    return math.exp(log_density)


def _stdtrit(df: float, p: float) -> float:
    if math.isnan(df) or math.isnan(p) or df <= 0 or not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if math.isinf(df):
        return _ndtri(p)
    if p == 0.5:
        return 0.0
    t = None
    if abs(p - 0.5) < 0.25:  # near the centre, by P(|T| < t) = |2p - 1| (exact in floats)
        t = _t_central_quantile(df, abs(2.0 * (p - 0.5)))
    if t is None:
        t = _t_quantile(df, min(p, 1.0 - p))
    return t if p > 0.5 else -t


def _t_inside(df: float, t: float) -> float | None:
    """``P(|T| < t)`` by its series, for ``t >= 0`` where the series is short and exact (it
    keeps the digits of a small probability, which ``1 - 2 P(T > t)`` loses), else ``None``."""
    if t == 0:
        return 0.0
    a, b = 0.5 * df, 0.5
    t2 = t * t
    y = t2 / (df + t2)
    if not (a + b) * y < 30.0 or not y < 0.5:
        return None
    log_front = -a * math.log1p(t2 / df) + b * math.log(y) - _log_beta_half(a)
    return _ibeta_series(b, a, y, log_front)


def _t_central_quantile(df: float, central: float) -> float | None:
    """The ``t > 0`` with ``P(|T| < t) = central`` (``0 < central < 1/2``), or ``None`` where
    :func:`_t_inside` does not apply. ``P(|T| < t)`` is increasing and concave in ``t > 0``:
    Newton's method from 0 approaches the root from below, without overshooting."""
    t, close = 0.0, False
    for _ in range(_MAX_STEPS):
        inside = _t_inside(df, t)
        if inside is None:
            return None
        step = (central - inside) / (2.0 * _t_density(df, t))
        t += step
        if close or step == 0.0:
            break
        close = abs(step) <= 1e-9 * t  # quadratic convergence: one step more is exact
    return t


def _t_quantile(df: float, tail: float) -> float:
    """The ``t > 0`` with ``P(T > t) = tail`` (``0 < tail < 0.5``): Newton's method on
    ``ln P(T > e^s) = ln tail`` in ``s = ln t``, where the far tail's power law is a straight
    line, inside a bracket that every step narrows (a step that leaves it bisects it)."""
    # Below: the normal quantile (the t's tails are heavier). Above: the power law of the far
    # tail, P(T > t) <= df^(df/2 - 1) t^-df / B(df/2, 1/2), which bounds the tail everywhere.
    low = math.log(-_ndtri(tail))
    high = (0.5 - 1.0 / df) * math.log(df) - (math.log(tail) + _log_beta_half(0.5 * df)) / df
    high = min(max(high, low), _LOG_HUGE)
    target = math.log(tail)
    s = min(max(_t_quantile_start(df, -_ndtri(tail)), low), high)
    for _ in range(_MAX_STEPS):
        t = math.exp(s)
        upper = _t_tail(df, t)
        if upper <= 0.0:  # beyond double precision: from above
            high, step = s, math.nan
        else:
            excess = math.log(upper) - target
            if excess == 0.0:
                return t
            if excess > 0:
                low = s
            else:
                high = s
            density = _t_density(df, t)
            step = excess * upper / (t * density) if density > 0 else math.nan
        following = s + step
        if low <= following <= high:
            # Newton's error after a step h is of order h²: from h <= 1e-9 on, the step lands
            # within rounding, and further steps would only chase the tail's last-ulp noise
            # (two points an ulp or two apart can each step to the other forever).
            if abs(step) <= _NEWTON_LAST:
                return math.exp(following)
        else:
            following = 0.5 * (low + high)
        if abs(following - s) <= 2.0 * _EPS or high - low <= 2.0 * _EPS * abs(high):
            return math.exp(following)
        s = following
    return math.exp(s)


def _t_quantile_start(df: float, z: float) -> float:
    """Newton's starting ``ln t`` for :func:`_t_quantile`, from the normal quantile ``z > 0``.

    Where ``z² < df`` (every Welch test of a real experiment), the Cornish-Fisher expansion of
    the t quantile in powers of ``1/df`` (Abramowitz and Stegun 26.7.5) from 10 degrees of
    freedom up (below, its negative terms can outweigh ``z``), which at thousands of
    degrees of freedom is already within an ulp or two: Newton then checks it with one or two
    tail evaluations instead of some twenty from ``z``. Elsewhere the series diverges: ``z``.
    """
    if df < _CORNISH_FISHER_DF or not z * z < df:
        return math.log(z)
    z2 = z * z
    g1 = z * (z2 + 1.0) / 4.0
    g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0
    g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0
    g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0
    v = 1.0 / df
    expanded = z + v * (g1 + v * (g2 + v * (g3 + v * g4)))
    return math.log(max(expanded, z))  # the t quantile is beyond the normal one


def _chdtrc(df: float, x: float) -> float:
    if math.isnan(df) or math.isnan(x):
        return math.nan
    if not df.is_integer() or df < 1:
        raise ValueError(f"chdtrc needs whole degrees of freedom >= 1, got {df}")
    if x < 0:
        return math.nan
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    k, half = int(df), 0.5 * x
    log_half = math.log(half)
    # Q(k/2, x/2) = erfc(√(x/2)) + Σ_{j<m} e^{-x/2} (x/2)^{j+½} / Γ(j+3/2) for odd k = 2m+1,
    # Σ_{j<m} e^{-x/2} (x/2)^j / j! for even k = 2m: sums of positive terms.
    if k % 2:
        total = math.erfc(math.sqrt(half))
        shape = 1.5
    else:
        total = 0.0
        shape = 1.0
    for j in range(k // 2):
        total += math.exp((shape - 1.0 + j) * log_half - half - math.lgamma(shape + j))
    return min(total, 1.0)
