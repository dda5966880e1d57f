"""The sequential sample-ratio test: an SRM alarm that stays valid however often it is checked.

It lives with the monitors because both of its readers look again and again: the status board
and the dashboard's "ratio" badge (:mod:`sameday.monitor.status`), and the experiment-health
check (:mod:`sameday.analysis.health`), so the two never disagree on the same counts.

The chi-square check of :mod:`~sameday.analysis.stats.srm` is valid for one look (a report). A
monitor looks every few minutes for weeks, and by the law of the iterated logarithm a test
repeated forever on a correct split eventually crosses any fixed threshold. This test never
does, beyond ``alpha``.

It is the Dirichlet-multinomial mixture of Lindon and Malek (2022, "Anytime-valid inference for
multinomial count data", NeurIPS; arXiv:2011.03567), as Optimizely uses it. Under the null each
new unit lands in arm ``j`` with the configured share ``θ0_j``. The alternative puts a
Dirichlet prior ``Dir(k·θ0)`` on the shares, centred on the null; the Bayes factor of the counts
``n`` (``N = Σ n_j``) is

    BF(n) = Γ(k) / Γ(k + N) · Π_j Γ(k·θ0_j + n_j) / Γ(k·θ0_j) / Π_j θ0_j^n_j

Under the null, ``BF`` taken unit after unit is a non-negative martingale of mean 1, so by
Ville's inequality ``P(BF ever reaches 1/α) ≤ α``: ``p = min(1, 1/BF)`` is an always-valid
p-value. It depends on the counts only, so it can be computed at any moment from cumulative
counts (a monitor pass sees a subsequence of the unit-by-unit martingale: the guarantee holds
a fortiori), with no state kept between looks.

The concentration ``k`` (100, Lindon and Malek's and the ``savvi`` package's default) sets
which imbalances the test is quickest on: the prior's spread of an arm's share is about
``sqrt(θ(1-θ)/k)``, 5 points for a 50/50 split. A 50/50 split whose second arm loses 5% of
its units is flagged at ``alpha = 0.001`` after a median of 26,000 units (10% of runs by
11,900, 90% by 46,000: 200 simulated runs checked every 1,000 units). The chi-square test at
``p < 0.001`` read after each batch is quicker (14,000) because it is not valid: on a correct
split, 500 looks make it alarm in 2.1% of runs, 20 times its level; this test in 0.1%
(``tests/monitor/test_srm.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from sameday.errors import StatsInputError

FloatArray = npt.NDArray[np.float64]

SEQUENTIAL_SRM_ALPHA = 0.001
"""Default level: the industry's SRM threshold, here valid under continuous monitoring."""
CONCENTRATION = 100.0
"""Default ``k`` of the Dirichlet prior ``Dir(k·θ0)``."""


@dataclass(frozen=True)
class SequentialSRM:
    """Result of :func:`sequential_srm`; ``mismatch`` is the alarm.

    ``log_bayes_factor`` is the natural log of the evidence for a mismatch; ``p_value`` the
    always-valid p-value at this look (``min(1, 1/BF)``); ``observed_shares`` each arm's share
    of the units so far.
    """

    observed: tuple[int, ...]
    weights: tuple[float, ...]
    log_bayes_factor: float
    p_value: float
    alpha: float
    concentration: float

    @property
    def mismatch(self) -> bool:
        """Whether the evidence has crossed ``1/alpha``: the split is broken."""
        return self.p_value <= self.alpha

    @property
    def observed_shares(self) -> tuple[float, ...]:
        """Each arm's observed share of the units (NaN before the first unit)."""
        total = sum(self.observed)
        return tuple(c / total if total else math.nan for c in self.observed)


def log_bayes_factor(
    counts: npt.ArrayLike, weights: Sequence[float], *, concentration: float = CONCENTRATION
) -> FloatArray:
    """``ln BF`` of unit counts against the shares ``weights`` (vectorised: the last axis of
    ``counts`` is the arms, any axes before it are independent tests or looks).

    Arms whose weight is 0 must have no units; they are left out of the test.

    Raises:
        StatsInputError: fewer than two arms with a weight, negative counts or weights, a
            count for an arm of weight 0, or a concentration that is not positive.
    """
    shares = _shares(weights)
    n = np.asarray(counts, dtype=np.float64)
    if n.shape[-1] != len(shares):
        raise StatsInputError(f"got counts for {n.shape[-1]} arms and {len(shares)} weights")
    if np.any(n < 0):
        raise StatsInputError("unit counts must be >= 0")
    if not concentration > 0:
        raise StatsInputError(f"the concentration must be > 0, got {concentration}")
    used = shares > 0
    if np.any(n[..., ~used] > 0):
        raise StatsInputError("an arm of weight 0 received units: its weight cannot be 0")
    theta, n = shares[used], n[..., used]
    if theta.size < 2:
        raise StatsInputError("the sample-ratio test needs at least two arms with a weight")
    prior = concentration * theta
    total = n.sum(axis=-1)
    log_bf = (
        special.gammaln(concentration)
        - special.gammaln(concentration + total)
        + np.sum(special.gammaln(prior + n) - special.gammaln(prior), axis=-1)
        - np.sum(n * np.log(theta), axis=-1)
    )
    return np.asarray(log_bf, dtype=np.float64)


def sequential_srm(
    counts: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    alpha: float = SEQUENTIAL_SRM_ALPHA,
    concentration: float = CONCENTRATION,
) -> SequentialSRM:
    """The always-valid sample-ratio test of ``counts`` (units per arm, in arm order) against
    the configured ``weights`` (equal when omitted).

    Raises:
        StatsInputError: as :func:`log_bayes_factor`, or ``alpha`` outside (0, 1).
    """
    if not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be in (0, 1), got {alpha}")
    observed = tuple(int(c) for c in counts)
    given = weights if weights is not None else [1.0] * len(observed)
    shares = _shares(given)
    log_bf = float(log_bayes_factor(observed, given, concentration=concentration))
    p_value = math.exp(-log_bf) if log_bf > 0 else 1.0
    return SequentialSRM(
        observed, tuple(float(s) for s in shares), log_bf, p_value, alpha, concentration
    )


def _shares(weights: Sequence[float]) -> FloatArray:
    values = np.asarray([float(w) for w in weights], dtype=np.float64)
    total = float(values.sum()) if values.size else 0.0
    if values.size < 2 or np.any(values < 0) or total <= 0:
        raise StatsInputError(
            f"weights must be two or more values >= 0, not all zero; got {tuple(values)}"
        )
    return np.asarray(values / total, dtype=np.float64)
