"""The sample-ratio check: did each arm get the share of units it was configured to get?

A sample ratio mismatch (SRM) means assignment or logging is broken (a redirect that loses users,
a bot filter that hits one arm, exposures logged only on success), and then every lift is biased
in an unknown direction. It is checked before anything else and blocks the verdict.

The test is Pearson's chi-square goodness of fit of the observed unit counts against the
configured weights: ``χ² = Σ (observed - expected)² / expected`` with ``arms - 1`` degrees of
freedom. The alarm threshold is ``p < 0.001`` (the industry's, e.g. GrowthBook, Statsig,
Optimizely): strict, because the check runs on every experiment every day, and because with a
million units even a real 0.5-point imbalance gives p around 1e-23 — there is no need to be lax.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sameday.analysis.stats import distributions as dist
from sameday.errors import StatsInputError

#: p-value below which the sample ratio is declared mismatched.
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SampleRatioCheck:
    """Result of :func:`sample_ratio_check`. ``mismatch`` is the alarm."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    weights: tuple[float, ...]
    chi2: float
    df: int
    p_value: float
    threshold: float

    @property
    def mismatch(self) -> bool:
        """Whether the sample ratio is off (``p_value < threshold``): the verdict is invalid."""
        return self.p_value < self.threshold

    @property
    def observed_shares(self) -> tuple[float, ...]:
        """Each arm's observed share of the units."""
        total = sum(self.observed)
        return tuple(c / total if total else math.nan for c in self.observed)


def sample_ratio_check(
    counts: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
) -> SampleRatioCheck:
    """Chi-square goodness of fit of the units per arm against the configured weights.

    Args:
        counts: units assigned (exposed) per arm, in arm order.
        weights: the configured traffic shares in the same order (normalised to sum to one);
            equal shares when omitted.
        threshold: alarm when the p-value is below it.

    Returns:
        The statistic, its p-value and whether it raises the alarm. With no units at all the
        p-value is 1 (nothing to check yet).

    Raises:
        StatsInputError: fewer than two arms, weights of the wrong length, or a count or weight that
            is negative (or a zero weight for an arm that got units).
    """
    observed = tuple(int(c) for c in counts)
    if len(observed) < 2:
        raise StatsInputError(
            f"the sample-ratio check needs at least two arms, got {len(observed)}"
        )
    if any(c < 0 for c in observed):
        raise StatsInputError(f"unit counts must be >= 0, got {observed}")
    shares = _normalised(weights, len(observed))
    total = sum(observed)
    expected = tuple(total * w for w in shares)
    if total == 0:
        return SampleRatioCheck(observed, expected, shares, 0.0, len(observed) - 1, 1.0, threshold)
    chi2 = 0.0
    for arm, (obs, exp) in enumerate(zip(observed, expected, strict=True)):
        if exp == 0:
            if obs:
                raise StatsInputError(f"arm {arm} has weight 0 but received {obs} units")
            continue
        chi2 += (obs - exp) ** 2 / exp
    df = sum(1 for w in shares if w > 0) - 1
    p_value = float(dist.chdtrc(df, chi2)) if df > 0 else 1.0
    return SampleRatioCheck(observed, expected, shares, chi2, df, p_value, threshold)


def _normalised(weights: Sequence[float] | None, arms: int) -> tuple[float, ...]:
    if weights is None:
        return tuple(1.0 / arms for _ in range(arms))
    values = tuple(float(w) for w in weights)
    if len(values) != arms:
        raise StatsInputError(f"got {len(values)} weights for {arms} arms; give one weight per arm")
    total = sum(values)
    if any(w < 0 for w in values) or total <= 0:
        raise StatsInputError(f"weights must be >= 0 and not all zero, got {values}")
    return tuple(w / total for w in values)
