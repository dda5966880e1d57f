"""The guardrail alarm of the health check stays valid when it is read after every batch."""

from __future__ import annotations

import numpy as np

from sameday.analysis.comparisons import compare
from sameday.analysis.health import relative_sequence
from sameday.analysis.stats.summary import ArmSummary


def _summary(values: np.ndarray) -> ArmSummary:
    return ArmSummary(
        len(values),
        float(values.sum()),
        float((values**2).sum()),
        n_nonzero=int(np.count_nonzero(values)),
    )


def _ever_harmed(rng: np.random.Generator, lift: float, looks: int, batch: int) -> bool:
    """One test read after each batch: does the interval ever lie wholly below zero?"""
    control = rng.poisson(2.0, size=looks * batch).astype(float)
    treatment = rng.poisson(2.0 * (1 + lift), size=looks * batch).astype(float)
    for look in range(1, looks + 1):
        upto = look * batch
        fixed = compare("mean", _summary(control[:upto]), _summary(treatment[:upto]), 0.05)
        _, high = relative_sequence(fixed, n_star=5_000, alpha=0.05)
        if high < 0:
            return True
    return False


def test_no_harm_rarely_alarms_however_often_it_is_read() -> None:
    # 200 A/A tests of a count metric, each read after every one of 25 batches of 100 units
    # per arm: the share that ever shows harm stays within alpha (the sequence is two-sided,
    # so harm alone is about alpha / 2).
    rng = np.random.default_rng(11)
    rate = np.mean([_ever_harmed(rng, 0.0, looks=25, batch=100) for _ in range(200)])
    assert rate <= 0.05


def test_real_harm_is_caught() -> None:
    rng = np.random.default_rng(12)
    caught = np.mean([_ever_harmed(rng, -0.10, looks=25, batch=100) for _ in range(20)])
    assert caught >= 0.9
