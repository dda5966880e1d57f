"""The report's distribution functions against scipy's, to 1e-12 relative, over grids that reach
the extremes (``sameday.analysis.stats.distributions`` replaces ``scipy.special`` on the report
path; a report's numbers must not move)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from scipy import special

from sameday.analysis.stats import distributions as dist

RTOL = 1e-12

DFS = np.array(
    [
        *(0.1, 0.5, 1, 1.5, 2, 2.5, 3, 4.7, 7, 10, 19.9, 20, 20.1, 29.9, 30, 30.1, 33.3, 50),
        *(99.5, 300, 1e3, 8325.11, 3e4, 198686.07, 1e6, 1e7, 1e9, 1e12, math.inf),
    ]
)
"""Degrees of freedom: tiny, whole, fractional (Welch's), both sides of the switch to the
asymptotic expansion (30), a report's (thousands to millions) and far beyond."""

T = np.array(
    [
        *(0, 1e-300, 1e-8, 1e-3, 0.1, 0.5, 1, 1.5, 1.7, 1.96, 2, 2.5, 3, 4, 5, 7, 10, 15, 20),
        *(30, 38, 50, 100, 1e3, 1e5, 1e10, 1e100, 1e200, math.inf),
    ]
)
T = np.concatenate([-T[::-1], T])

P = np.array(
    [
        *(1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 1e-3, 0.01, 0.025, 0.05, 0.1, 0.3, 0.5),
        *(0.7, 0.9, 0.95, 0.975, 0.99, 0.999, 1 - 1e-5, 1 - 1e-10),
    ]
)


def _relative(mine: npt.ArrayLike, theirs: npt.ArrayLike) -> np.ndarray:
    """Relative differences; values both below 1e-300 (subnormal, where SciPy often gives 0)
    count as equal."""
    a, b = np.asarray(mine, dtype=float), np.asarray(theirs, dtype=float)
    same = (a == b) | (np.isnan(a) & np.isnan(b)) | (np.maximum(np.abs(a), np.abs(b)) < 1e-300)
    with np.errstate(all="ignore"):
        return np.where(same, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


def _cauchy(t: float) -> float:
    """Student's t CDF with one degree of freedom, exactly (each tail without cancellation)."""
    return math.atan2(1, -t) / math.pi if t < 0 else 1 - math.atan2(1, t) / math.pi


def test_stdtr_agrees_with_scipy_over_the_grid() -> None:
    df, t = np.meshgrid(DFS, T)
    mine, theirs = dist.stdtr(df, t), special.stdtr(df, t)
    # scipy loses digits near t = 0 at one degree of freedom (3e-9 at t = 1e-8), and gives 0
    # beyond |t| = 1e154 (where t² overflows): there the Cauchy CDF decides, below and in the
    # next test.
    scipy_off = (df == 1) & (np.abs(t) < 1e-3) & (t != 0)
    beyond = np.isfinite(t) & (np.abs(t) > 1e150)
    assert _relative(mine, theirs)[~scipy_off & ~beyond].max() <= RTOL
    cauchy = [_cauchy(x) for x in t[scipy_off]]
    assert _relative(mine[scipy_off], cauchy).max() <= 1e-15


@pytest.mark.parametrize(
    "t", [-1e200, -1e120, -1e10, -50.0, -3.0, -1e-8, 0.0, 1e-8, 0.7, 12.0, 1e100]
)
def test_stdtr_is_exact_where_the_t_has_a_closed_form(t: float) -> None:
    assert dist.stdtr(1.0, t) == pytest.approx(_cauchy(t), rel=1e-15)
    if abs(t) > 1e100:  # 2 + t² is t²: the tail is 1 / (2t²)
        two = 0.5 / t / t
        two = two if t < 0 else 1 - two
    elif t < -1:  # the lower tail without cancellation: 1/2 - |t|/(2 sqrt(2+t²))
        two = 1 / (math.sqrt(2 + t * t) * (math.sqrt(2 + t * t) - t))
    else:
        two = 0.5 + t / (2 * math.sqrt(2 + t * t))
    assert dist.stdtr(2.0, t) == pytest.approx(two, rel=1e-13)


def test_stdtrit_agrees_with_scipy_over_the_grid() -> None:
    df, p = np.meshgrid(DFS, P)
    mine, theirs = dist.stdtrit(df, p), special.stdtrit(df, p)
    # Quantiles beyond 1e150 are out of scipy's reach (its t² overflows): left to the next test.
    representable = np.abs(theirs) < 1e150
    assert representable.mean() > 0.95
    assert _relative(mine, theirs)[representable].max() <= RTOL


def test_stdtrit_inverts_stdtr() -> None:
    """To the quantile's last digits: ``p`` moves by ``t f(t) / p`` times the quantile's
    relative error, up to some hundreds in the far tails."""
    df, p = np.meshgrid(DFS[DFS >= 1], P)
    back = dist.stdtr(df, dist.stdtrit(df, p))
    assert _relative(back, p).max() <= RTOL


def test_random_inputs_agree_with_scipy() -> None:
    """Away from the grid: degrees of freedom from 0.3 to 1e8, heavy-tailed t, uniform p.
    Within 1e-4 of p = 1/2 SciPy's quantile loses digits (6e-7 at 3 degrees of freedom and
    p - 1/2 = 4e-15): the next test checks those quantiles instead."""
    rng = np.random.default_rng(1)
    df = 10 ** rng.uniform(-0.5, 8, 20_000)
    t = rng.standard_cauchy(df.size) * rng.choice([0.01, 0.3, 1, 3, 10], df.size)
    assert _relative(dist.stdtr(df, t), special.stdtr(df, t)).max() <= RTOL
    p = rng.uniform(0, 1, df.size)
    theirs = special.stdtrit(df, p)
    kept = (np.abs(p - 0.5) > 1e-4) & (np.abs(theirs) < 1e150)
    assert _relative(dist.stdtrit(df, p), theirs)[kept].max() <= RTOL


@pytest.mark.parametrize("df", [0.7, 3.09, 10.0, 47.5, 300.0])
@pytest.mark.parametrize("offset", [4e-15, 1e-12, 1e-9, -1e-6])
def test_quantiles_next_to_the_median_keep_their_digits(df: float, offset: float) -> None:
    """Next to p = 1/2 the quantile is ``(p - 1/2) / f(0)`` up to a relative ``O(t²)``."""
    density = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
    assert dist.stdtrit(df, 0.5 + offset) == pytest.approx((0.5 + offset - 0.5) / density, rel=RTOL)


def test_a_reports_quantiles_are_scipys() -> None:
    """What a report asks for: 1 - alpha/2 at Welch's degrees of freedom."""
    rng = np.random.default_rng(3)
    df = np.concatenate([rng.uniform(2, 100, 200), 10 ** rng.uniform(2, 8, 800)])
    for alpha in (0.001, 0.01, 0.05, 0.1, 0.2):
        assert (
            _relative(dist.stdtrit(df, 1 - alpha / 2), special.stdtrit(df, 1 - alpha / 2)).max()
            <= RTOL
        )
    t = rng.normal(0, 4, df.size)
    assert _relative(dist.stdtr(df, -np.abs(t)), special.stdtr(df, -np.abs(t))).max() <= RTOL


@pytest.mark.parametrize(
    "df", [8325.112285645617, 91856.62827155807, 163077.4724789844, 198682.11753170975]
)
def test_a_reports_quantile_takes_few_tail_evaluations(
    df: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the Cornish-Fisher start Newton needs one or two evaluations of the tail. These
    degrees of freedom are the benchmark report's: at the second and fourth Newton used to
    step between two neighbouring floats until its 400-step limit (at the third too, from
    the new start with the old stopping rule)."""
    calls: list[float] = []
    tail = dist._t_tail

    def counted(df: float, t: float) -> float:
        calls.append(t)
        return tail(df, t)

    monkeypatch.setattr(dist, "_t_tail", counted)
    quantile = dist.stdtrit(df, 0.975)
    assert len(calls) <= 3
    assert _relative(quantile, special.stdtrit(df, 0.975)) <= RTOL


def test_ndtr_and_ndtri_agree_with_scipy() -> None:
    x = np.concatenate([np.linspace(-37.5, 9, 4000), [-1e300, 0, 1e300, math.inf, -math.inf]])
    assert _relative(dist.ndtr(x), special.ndtr(x)).max() <= RTOL
    p = np.concatenate(
        [10.0 ** -np.arange(1, 308), np.linspace(0, 1, 1001), 1 - 10.0 ** -np.arange(1, 16)]
    )
    assert _relative(dist.ndtri(p), special.ndtri(p)).max() <= RTOL


def test_chdtrc_agrees_with_scipy_for_whole_degrees_of_freedom() -> None:
    k, x = np.meshgrid(
        np.arange(1, 80),
        [0, 1e-10, 0.1, 1, 3, 3.84, 10, 22.774, 50, 100, 300, 700, 1400, 1e4, math.inf],
    )
    assert _relative(dist.chdtrc(k, x), special.chdtrc(k, x)).max() <= RTOL


def test_chdtrc_refuses_fractional_degrees_of_freedom() -> None:
    with pytest.raises(ValueError, match="whole degrees of freedom"):
        dist.chdtrc(1.5, 3.0)


def test_edges_and_undefined_inputs_are_scipys() -> None:
    nan = math.nan
    for df, t in [(0, 1), (-1, 1), (nan, 1), (3, nan), (math.inf, 1.5), (5, math.inf)]:
        assert _relative(dist.stdtr(df, t), special.stdtr(df, t)) <= RTOL
    for df, p in [(0, 0.3), (5, 1.5), (5, -0.1), (nan, 0.3), (3, nan), (math.inf, 0.9), (4, 0.5)]:
        assert _relative(dist.stdtrit(df, p), special.stdtrit(df, p)) <= RTOL
    assert dist.stdtrit(5, 1.0) == math.inf
    assert dist.stdtrit(5, 0.0) == -math.inf  # scipy says +inf, which is not a lower bound
    for x in [nan, -1.0, 0.0]:
        assert _relative(dist.chdtrc(2, x), special.chdtrc(2, x)) == 0
    for p in [nan, -0.5, 0.0, 1.0, 2.0]:
        assert _relative(dist.ndtri(p), special.ndtri(p)) == 0


def test_scalars_give_floats_and_arrays_broadcast() -> None:
    assert isinstance(dist.stdtr(10, 1.0), float)
    assert isinstance(dist.stdtrit(np.float64(10), 0.975), float)
    out = dist.stdtr(np.array([[5.0], [50.0]]), np.array([-1.0, 0.0, 2.0]))
    assert out.shape == (2, 3)
    assert _relative(out, special.stdtr(np.array([[5.0], [50.0]]), [-1.0, 0.0, 2.0])).max() <= RTOL
