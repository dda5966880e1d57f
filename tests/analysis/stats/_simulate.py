"""Seeded, vectorised simulation of per-arm summaries, shared by the statistics tests.

Summaries are drawn from their exact sampling distributions rather than from unit-level data:
for ``m`` normal units the sum is ``N(m·μ, m·σ²)`` and, independently, the centred sum of squares
is ``σ²·χ²(m-1)``; for Bernoulli units the sum is ``Binomial(m, p)`` and equals the sum of squares.
Batches are accumulated with ``cumsum`` to give the summaries at successive looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Arms:
    """Cumulative summaries with shape ``(tests, looks)`` per arm."""

    n: Array
    mean_a: Array
    var_a: Array
    mean_b: Array
    var_b: Array


def normal_batches(
    rng: np.random.Generator, shape: tuple[int, ...], m: int, mu: float, sigma: float
) -> tuple[Array, Array]:
    """Sums and sums of squares of ``m`` N(mu, sigma²) units, for every cell of ``shape``."""
    total = rng.normal(m * mu, np.sqrt(m) * sigma, size=shape)
    centred = sigma**2 * rng.chisquare(m - 1, size=shape)
    return total, centred + total**2 / m


def normal_looks(
    seed: int, tests: int, looks: int, m: int, *, mu: float, sigma: float, effect: float
) -> Arms:
    """Normal metric, ``m`` units per arm per look, treatment mean shifted by ``effect``."""
    rng = np.random.default_rng(seed)
    sum_a, sq_a = (np.cumsum(v, axis=1) for v in normal_batches(rng, (tests, looks), m, mu, sigma))
    sum_b, sq_b = (
        np.cumsum(v, axis=1) for v in normal_batches(rng, (tests, looks), m, mu + effect, sigma)
    )
    return _arms(np.arange(1, looks + 1) * m, sum_a, sq_a, sum_b, sq_b, ddof=1)


def bernoulli_looks(seed: int, tests: int, looks: int, m: int, *, p_a: float, p_b: float) -> Arms:
    """Conversion metric, ``m`` units per arm per look."""
    rng = np.random.default_rng(seed)
    sum_a = np.cumsum(rng.binomial(m, p_a, size=(tests, looks)), axis=1).astype(np.float64)
    sum_b = np.cumsum(rng.binomial(m, p_b, size=(tests, looks)), axis=1).astype(np.float64)
    return _arms(np.arange(1, looks + 1) * m, sum_a, sum_a, sum_b, sum_b, ddof=0)


def _arms(
    n: npt.NDArray[np.int_], sum_a: Array, sq_a: Array, sum_b: Array, sq_b: Array, ddof: int
) -> Arms:
    units = np.broadcast_to(n.astype(np.float64), sum_a.shape)
    mean_a, mean_b = sum_a / units, sum_b / units
    var_a = (sq_a - sum_a**2 / units) / (units - ddof)
    var_b = (sq_b - sum_b**2 / units) / (units - ddof)
    return Arms(units, mean_a, var_a, mean_b, var_b)


@dataclass(frozen=True)
class Heavy:
    """Cumulative per-look sums of one arm of a zero-inflated metric, shape ``(tests, looks)``."""

    n: npt.NDArray[np.int_]
    nonzero: npt.NDArray[np.int_]
    total: Array
    total_sq: Array


def heavy_looks(
    rng: np.random.Generator,
    tests: int,
    looks: int,
    m: int,
    *,
    buyers: float = 0.05,
    sigma: float = 1.5,
    lift: float = 0.0,
) -> Heavy:
    """Revenue per unit: a buyer with probability ``buyers``, spending ``lognormal(3, sigma)``.

    ``m`` units per look; ``lift`` scales every amount by ``1 + lift`` (a relative lift of the
    mean). Only the buyers' amounts are drawn, so a million units cost what 50,000 do.
    """
    k = rng.binomial(m, buyers, size=(tests, looks))
    amounts = rng.lognormal(3.0, sigma, size=int(k.sum())) * (1 + lift)
    ends = np.cumsum(k.ravel())
    starts = ends - k.ravel()
    csum = np.concatenate([[0.0], np.cumsum(amounts)])
    csq = np.concatenate([[0.0], np.cumsum(amounts**2)])
    total = (csum[ends] - csum[starts]).reshape(k.shape)
    total_sq = (csq[ends] - csq[starts]).reshape(k.shape)
    n = np.broadcast_to(np.arange(1, looks + 1) * m, k.shape)
    return Heavy(n, np.cumsum(k, axis=1), np.cumsum(total, axis=1), np.cumsum(total_sq, axis=1))
