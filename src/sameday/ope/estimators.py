"""IPS, SNIPS, DM and DR estimates of a candidate policy's reward per round, with intervals.

With logged rounds ``(a_i, p_i, r_i)``, the candidate's probabilities ``π_i(a)`` and the weight
``w_i = π_i(a_i) / p_i``:

- **IPS** ``mean(w_i r_i)``, unbiased when every action the candidate takes had a positive
  logging probability; ``clip`` caps ``w_i`` (lower variance, some bias).
- **SNIPS** ``Σ w_i r_i / Σ w_i``: self-normalised, bounded by the rewards, slightly biased.
- **DM** ``mean(Σ_a π_i(a) q̂(a, pos_i))``: the direct method with a context-free reward model
  ``q̂``, the logged mean reward of each action in each position (the overall mean where an
  action was never logged there). Low variance, biased when ``q̂`` is.
- **DR** ``DM + mean(w_i (r_i - q̂(a_i, pos_i)))``: unbiased if either the weights or ``q̂``
  are right.

Intervals are seeded percentile bootstraps over rounds (the reward model held fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sameday.ope.data import LoggedData
from sameday.ope.policies import Candidate, Matrix

ESTIMATORS = ("ips", "snips", "dm", "dr")
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class Estimate:
    """One estimator's value and bootstrap interval."""

    estimator: str
    policy: str
    value: float
    ci_low: float
    ci_high: float
    rounds: int
    alpha: float
    n_boot: int
    seed: int


def reward_model(data: LoggedData) -> Matrix:
    """``q̂[a, p]``: the mean logged reward of action ``a`` at position ``p``."""
    shape = (len(data.action_names), data.slots)
    sums = np.zeros(shape)
    counts = np.zeros(shape)
    np.add.at(sums, (data.actions, data.positions - 1), data.rewards)
    np.add.at(counts, (data.actions, data.positions - 1), 1.0)
    overall = float(data.rewards.mean())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, overall)


def estimate(
    data: LoggedData,
    candidate: Candidate,
    *,
    estimators: Sequence[str] = ESTIMATORS,
    clip: float | None = None,
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[Estimate]:
    """Every requested estimate of ``candidate``'s reward per round on ``data``.

    Raises:
        ValueError: an unknown estimator, or ``clip`` not positive.
    """
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator(s) {', '.join(unknown)}; use {', '.join(ESTIMATORS)}")
    if clip is not None and clip <= 0:
        raise ValueError(f"clip must be positive, got {clip}")
    dist = candidate.action_dist(data)
    rows = np.arange(data.rounds)
    weights = dist[rows, data.actions] / data.pscores
    if clip is not None:
        weights = np.minimum(weights, clip)
    q = reward_model(data)
    q_logged = q[data.actions, data.positions - 1]
    direct = np.einsum("ia,ai->i", dist, q[:, data.positions - 1])
    terms: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64] | None]] = {
        "ips": (weights * data.rewards, None),
        "snips": (weights * data.rewards, weights),
        "dm": (direct, None),
        "dr": (direct + weights * (data.rewards - q_logged), None),
    }
    out = []
    for name in estimators:
        numerator, denominator = terms[name]
        value = (
            _ratio(numerator.sum(), denominator.sum())
            if denominator is not None
            else float(numerator.mean())
        )
        low, high = _bootstrap(numerator, denominator, alpha, n_boot, seed)
        out.append(
            Estimate(name, candidate.name, value, low, high, data.rounds, alpha, n_boot, seed)
        )
    return out


def _ratio(top: float, bottom: float) -> float:
    return float(top / bottom) if bottom else float("nan")


def _bootstrap(
    numerator: npt.NDArray[np.float64],
    denominator: npt.NDArray[np.float64] | None,
    alpha: float,
    n_boot: int,
    seed: int,
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    size = numerator.size
    values = np.empty(n_boot)
    chunk = max(1, _CHUNK_CELLS // size)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, size, size=(stop - start, size))
        top = numerator[idx].sum(axis=1)
        if denominator is None:
            values[start:stop] = top / size
        else:
            bottom = denominator[idx].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                values[start:stop] = np.where(bottom > 0, top / bottom, np.nan)
    low, high = np.nanquantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
