"""Analysis of interleaving experiments: which ranker do users prefer?

In an interleaved test every impression shows one list merged from rankers A and B; each click is
credited to the ranker that contributed the clicked item. An impression is a *win* for B when B's
items got more credited clicks than A's, a *loss* when A's did, a *tie* otherwise (including no
clicks). Interleaving needs 10-100x fewer units than an A/B test to find the better ranker
(Chapelle, Joachims, Radlinski and Yue, 2012), but it answers only "which is preferred", not "by
how much would a business metric move".

Two analyses:

- :func:`preference_test`, per impression: the preference share ``wins_B / (wins_A + wins_B)``
  with an exact two-sided sign (binomial) test of 1/2 and a Clopper–Pearson interval, and
  ``Δ = (wins_B - wins_A) / impressions``. Impressions of one user are not independent, so with
  heavy users this p-value is too optimistic.
- :func:`user_preference`, per user: each user scores 1 if B won more of their impressions than A,
  0 if fewer, 1/2 if equal; the user share, a sign test over users with a preference, and seeded
  percentile-bootstrap intervals that resample *users* — for the user share and for the
  impression-weighted share, whose interval then honours the clustering of impressions in users.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats.errors import check_alpha
from sameday.errors import StatsInputError

# Bound the bootstrap's index matrix (replicates x users) to about 16 MB at a time.
_CHUNK_CELLS = 2_000_000


@dataclass(frozen=True)
class PreferenceTest:
    """Per-impression preference of B over A with an exact sign test."""

    wins_a: int
    wins_b: int
    ties: int
    share_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float

    @property
    def significant(self) -> bool:
        """Whether the preference differs from a coin flip at ``alpha``."""
        return self.p_value < self.alpha


@dataclass(frozen=True)
class UserPreference:
    """Per-user preference of B over A, with user-level bootstrap intervals."""

    users: int
    prefer_a: int
    prefer_b: int
    tied: int
    share_b: float
    ci_low: float
    ci_high: float
    impression_share_b: float
    impression_ci_low: float
    impression_ci_high: float
    p_value: float
    alpha: float
    n_boot: int
    seed: int

    @property
    def significant(self) -> bool:
        """Whether the users' preference differs from a coin flip at ``alpha``."""
        return self.p_value < self.alpha


def preference_test(
    wins_a: int, wins_b: int, ties: int = 0, *, alpha: float = 0.05
) -> PreferenceTest:
    """Preference share of B among decided impressions, with ``scipy.stats.binomtest``.

    With no decided impression the share is NaN and the p-value 1.
    """
    check_alpha(alpha)
    if min(wins_a, wins_b, ties) < 0:
        raise StatsInputError(f"win, loss and tie counts must be >= 0, got {wins_a, wins_b, ties}")
    decided, total = wins_a + wins_b, wins_a + wins_b + ties
    if decided == 0:
        return PreferenceTest(wins_a, wins_b, ties, math.nan, 0.0, math.nan, math.nan, 1.0, alpha)
    result = _binomtest(wins_b, decided)
    interval = result.proportion_ci(confidence_level=1 - alpha, method="exact")
    return PreferenceTest(
        wins_a=wins_a,
        wins_b=wins_b,
        ties=ties,
        share_b=wins_b / decided,
        delta=(wins_b - wins_a) / total,
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        p_value=float(result.pvalue),
        alpha=alpha,
    )


def user_preference(
    wins_a: npt.ArrayLike,
    wins_b: npt.ArrayLike,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> UserPreference:
    """Per-user preference from each user's count of impressions won by A and by B.

    Args:
        wins_a, wins_b: one entry per user: impressions (or credited clicks) won by A and B.
        alpha: level of the intervals and the sign test.
        n_boot: bootstrap replicates; 2,000 keeps the interval ends stable to about 0.005.
        seed: seed of the bootstrap: the same inputs and seed give the same interval.
    """
    check_alpha(alpha)
    a = np.asarray(wins_a, dtype=np.float64)
    b = np.asarray(wins_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise StatsInputError("wins_a and wins_b must be non-empty flat arrays, one entry per user")
    if np.any(a < 0) or np.any(b < 0):
        raise StatsInputError("per-user win counts must be >= 0")
    if n_boot < 100:
        raise StatsInputError(f"n_boot must be >= 100 for a usable interval, got {n_boot}")
    score = np.where(b > a, 1.0, np.where(b < a, 0.0, 0.5))
    prefer_a, prefer_b = int(np.sum(b < a)), int(np.sum(b > a))
    users_share, impressions_share = _bootstrap(a, b, score, n_boot, seed)
    quantiles = [alpha / 2, 1 - alpha / 2]
    low, high = np.quantile(users_share, quantiles)
    total = float(a.sum() + b.sum())
    imp_low, imp_high = (
        np.nanquantile(impressions_share, quantiles) if total else (math.nan, math.nan)
    )
    decided = prefer_a + prefer_b
    p_value = float(_binomtest(prefer_b, decided).pvalue) if decided else 1.0
    return UserPreference(
        users=int(a.size),
        prefer_a=prefer_a,
        prefer_b=prefer_b,
        tied=int(a.size) - decided,
        share_b=float(score.mean()),
        ci_low=float(low),
        ci_high=float(high),
        impression_share_b=float(b.sum() / total) if total else math.nan,
        impression_ci_low=float(imp_low),
        impression_ci_high=float(imp_high),
        p_value=p_value,
        alpha=alpha,
        n_boot=n_boot,
        seed=seed,
    )


def _bootstrap(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    score: npt.NDArray[np.float64],
    n_boot: int,
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """User share and impression share in ``n_boot`` resamples of the users, in chunks."""
    rng = np.random.default_rng(seed)
    users = a.size
    chunk = max(1, _CHUNK_CELLS // users)
    user_share = np.empty(n_boot)
    impression_share = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, users, size=(stop - start, users))
        user_share[start:stop] = score[idx].mean(axis=1)
        won_b = b[idx].sum(axis=1)
        decided = won_b + a[idx].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            impression_share[start:stop] = np.where(decided > 0, won_b / decided, np.nan)
    return user_share, impression_share


def _binomtest(successes: int, trials: int) -> Any:
    """``scipy.stats.binomtest`` against a fair coin, imported here: ``scipy.stats`` takes
    0.7-1.4 s to import, and an A/B report, which imports this package, never needs it."""
    from scipy import stats

    return stats.binomtest(successes, trials, 0.5)
