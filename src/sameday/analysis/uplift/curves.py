"""How good a ranking by predicted uplift is: Qini and uplift curves, their areas, calibration.

Sort the units by a score, highest first (ties in random order), and imagine treating only the
top share ``φ``. With ``N_t(φ)``, ``S_t(φ)`` the treated units among them and the sum of their
outcomes (``N_c``, ``S_c`` for the controls) and ``N_t``, ``N`` the totals:

- the **Qini curve** ``Q(φ) = (S_t(φ) − S_c(φ)·N_t(φ)/N_c(φ)) / N_t``: the extra outcome among the
  treated of the top ``φ``, per treated unit;
- the **uplift curve** ``U(φ) = (S_t(φ)/N_t(φ) − S_c(φ)/N_c(φ))·(N_t(φ) + N_c(φ)) / N``: the
  observed effect in the top ``φ`` times its share of the units (the cumulative gain per unit).

Both start at 0 and end at the average effect (ATE), and a random ranking draws the straight line
``φ·ATE`` between. The **area** reported is the area between the curve and that line (the Qini
coefficient, and its uplift-curve twin): 0 for a ranking no better than chance, larger for one
that puts the units who benefit first. It is in the outcome's unit (clicks per unit, ...).

The curves are drawn at :data:`POINTS` equal shares of the units. **Intervals** come from a
Poisson bootstrap of the units with the scores held fixed (they measure the noise of the outcomes
given the ranking, not of refitting the models): every unit's weight is Poisson(1), so each
block's weighted sums ``(n*, Σy*)`` have mean ``(n, Σy)``, variances ``n`` and ``Σy²`` and
covariance ``Σy``; the blocks hold thousands of units on the data this is made for, so each
replicate draws them from that normal limit instead of drawing a weight for every unit (a million
units × 200 replicates would be 200 million draws). ``tests/analysis/uplift`` checks the
intervals against the exact Poisson bootstrap.

**Calibration by decile**: in each tenth of the ranking, the mean predicted effect against the
observed one (treated mean − control mean, with its interval), and the slope of observed on
predicted (weighted by precision): 1 is a model whose numbers can be taken at face value, 0 one
that ranks no better than chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sameday.analysis.uplift.data import BoolArray, FloatArray

POINTS = 100
"""Points of each curve (equal shares of the units), besides the origin."""
DECILES = 10


@dataclass(frozen=True)
class Area:
    """An area between a curve and the random line, with its bootstrap interval."""

    point: float
    low: float
    high: float


@dataclass(frozen=True, eq=False)
class Curves:
    """The Qini and uplift curves of one ranking, at ``fraction`` of the units (0 first)."""

    fraction: FloatArray
    qini: FloatArray
    uplift: FloatArray
    ate: float
    qini_area: Area
    uplift_area: Area


@dataclass(frozen=True)
class Decile:
    """One tenth of the ranking (``decile`` 1 holds the highest predicted effects)."""

    decile: int
    units: int
    predicted: float
    observed: float
    low: float
    high: float


@dataclass(frozen=True)
class Calibration:
    """Predicted against observed effect by decile, and the slope of one on the other."""

    deciles: tuple[Decile, ...]
    slope: float


def ranking(score: FloatArray, seed: int) -> np.ndarray:
    """Unit indices from the highest score down; equal scores in a seeded random order."""
    shuffled = np.random.default_rng(seed).permutation(score.size)
    return shuffled[np.argsort(-score[shuffled], kind="stable")]


def block_sums(order: np.ndarray, treated: BoolArray, y: FloatArray, blocks: int) -> FloatArray:
    """Per block of the ranking and arm: units, Σy and Σy², shape ``(6, blocks)`` in the order
    treated (n, Σy, Σy²) then control (n, Σy, Σy²); fewer blocks when there are fewer units."""
    starts = _starts(order.size, blocks)[:-1]
    t, v = treated[order], y[order]
    out = []
    for arm in (t, ~t):
        w = arm.astype(np.float64)
        out += [np.add.reduceat(w, starts), np.add.reduceat(w * v, starts)]
        out.append(np.add.reduceat(w * v * v, starts))
    return np.asarray(out)


def _starts(units: int, blocks: int) -> np.ndarray:
    """Where each of ``blocks`` near-equal blocks of ``units`` starts, and the end: no block is
    empty (``np.add.reduceat`` would read an empty block as its next element)."""
    return np.linspace(0, units, min(blocks, units) + 1).astype(np.int64)


def curves(
    score: FloatArray,
    treated: BoolArray,
    y: FloatArray,
    *,
    seed: int = 0,
    bootstrap: int = 200,
    alpha: float = 0.05,
) -> Curves:
    """The curves of ranking the units by ``score``, with areas and their bootstrap intervals."""
    sums = block_sums(ranking(score, seed), treated, y, POINTS)
    fraction, qini, uplift, ate = _curves(sums[[0, 1, 3, 4]][:, None, :])
    q_area = _area(fraction, qini, ate)
    u_area = _area(fraction, uplift, ate)
    replicas = _replicas(sums, bootstrap, np.random.default_rng(seed + 1))
    f_b, q_b, u_b, ate_b = _curves(replicas)
    lo, hi = 100 * alpha / 2, 100 * (1 - alpha / 2)
    q_boot = _area(f_b, q_b, ate_b)
    u_boot = _area(f_b, u_b, ate_b)
    return Curves(
        fraction=fraction[0],
        qini=qini[0],
        uplift=uplift[0],
        ate=float(ate[0]),
        qini_area=Area(float(q_area[0]), *np.percentile(q_boot, [lo, hi]).tolist()),
        uplift_area=Area(float(u_area[0]), *np.percentile(u_boot, [lo, hi]).tolist()),
    )


def _curves(sums: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Fractions, Qini and uplift curves and the ATE of block sums ``(4, replicas, blocks)``
    (treated n, Σy, control n, Σy), each curve starting at the origin."""
    n_t, s_t, n_c, s_c = (np.cumsum(part, axis=-1) for part in sums)
    total = n_t[..., -1:] + n_c[..., -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_t = np.where(n_t > 0, s_t / n_t, 0.0)
        mean_c = np.where(n_c > 0, s_c / n_c, 0.0)
        both = (n_t > 0) & (n_c > 0)
        qini = np.where(both, (s_t - s_c * n_t / np.where(n_c > 0, n_c, 1)) / n_t[..., -1:], 0.0)
        uplift = np.where(both, (mean_t - mean_c) * (n_t + n_c) / total, 0.0)
    fraction = (n_t + n_c) / total
    zero = np.zeros((*fraction.shape[:-1], 1))
    ate = mean_t[..., -1] - mean_c[..., -1]
    return (
        np.concatenate([zero, fraction], axis=-1),
        np.concatenate([zero, qini], axis=-1),
        np.concatenate([zero, uplift], axis=-1),
        ate,
    )


def _area(fraction: FloatArray, curve: FloatArray, ate: FloatArray) -> FloatArray:
    """The area between each curve and its random line ``φ·ATE`` (trapezoids)."""
    gap = curve - fraction * ate[..., None]
    return np.asarray(
        np.sum((gap[..., 1:] + gap[..., :-1]) / 2 * np.diff(fraction, axis=-1), axis=-1)
    )


def _replicas(sums: FloatArray, count: int, rng: np.random.Generator) -> FloatArray:
    """``count`` Poisson-bootstrap replicates of the block sums, from their normal limit:
    ``(4, count, blocks)`` as :func:`_curves` takes them."""
    out = []
    for n, s, q in (sums[0:3], sums[3:6]):
        z1 = rng.standard_normal((count, n.size))
        z2 = rng.standard_normal((count, n.size))
        root = np.sqrt(n)
        slope = np.divide(s, root, out=np.zeros_like(s), where=root > 0)
        rest = np.sqrt(np.maximum(q - np.divide(s * s, n, out=np.zeros_like(s), where=n > 0), 0))
        out += [np.maximum(n + root * z1, 0.0), s + slope * z1 + rest * z2]
    return np.asarray(out)


def calibration(
    score: FloatArray, treated: BoolArray, y: FloatArray, *, seed: int = 0, alpha: float = 0.05
) -> Calibration:
    """Predicted against observed effect in each decile of the ranking by ``score``."""
    order = ranking(score, seed)
    sums = block_sums(order, treated, y, DECILES)
    starts = _starts(order.size, DECILES)
    predicted = np.add.reduceat(score[order], starts[:-1]) / np.diff(starts)
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    observed, weights = [], []
    for d in range(starts.size - 1):
        n_t, s_t, q_t, n_c, s_c, q_c = sums[:, d]
        if n_t < 2 or n_c < 2:
            rows.append(Decile(d + 1, int(n_t + n_c), float(predicted[d]), *([np.nan] * 3)))
            continue
        m_t, m_c = s_t / n_t, s_c / n_c
        var = (q_t - n_t * m_t**2) / (n_t - 1) / n_t + (q_c - n_c * m_c**2) / (n_c - 1) / n_c
        se = float(np.sqrt(max(var, 0.0)))
        diff = float(m_t - m_c)
        low, high = diff - z * se, diff + z * se
        rows.append(Decile(d + 1, int(n_t + n_c), float(predicted[d]), diff, low, high))
        observed.append((float(predicted[d]), diff))
        weights.append(1.0 / se**2 if se > 0 else 0.0)
    return Calibration(tuple(rows), _slope(observed, weights))


def _slope(points: list[tuple[float, float]], weights: list[float]) -> float:
    """The weighted least-squares slope of observed on predicted (NaN when undefined)."""
    if len(points) < 2 or sum(weights) == 0:
        return float("nan")
    p, o = (np.array(v) for v in zip(*points, strict=True))
    w = np.array(weights)
    pm, om = np.average(p, weights=w), np.average(o, weights=w)
    spread = float(np.sum(w * (p - pm) ** 2))
    return float(np.sum(w * (p - pm) * (o - om)) / spread) if spread > 0 else float("nan")
