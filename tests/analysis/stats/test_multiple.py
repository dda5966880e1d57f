"""Holm and Benjamini–Hochberg adjusted p-values, against statsmodels."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from sameday.analysis.stats.multiple import adjust, benjamini_hochberg, holm
from sameday.errors import StatsInputError

P = [0.01, 0.02, 0.03, 0.2]


def test_golden_vectors() -> None:
    assert benjamini_hochberg(P) == pytest.approx([0.04, 0.04, 0.04, 0.2], abs=1e-4)
    assert holm(P) == pytest.approx([0.04, 0.06, 0.06, 0.2], abs=1e-4)


def test_equals_statsmodels_on_random_inputs_in_any_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # multipletests calls gc.collect() on every call (0.1 s each in a large process).
    monkeypatch.setattr(gc, "collect", lambda generation=2: 0)
    rng = np.random.default_rng(1)
    for _ in range(300):
        m = int(rng.integers(1, 30))
        p = rng.uniform(0, 1, m) ** rng.uniform(0.5, 4)
        if rng.random() < 0.5:
            p[rng.integers(0, m, size=m // 2)] = p[0]  # ties
        assert holm(p.tolist()) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-12)
        assert benjamini_hochberg(p.tolist()) == pytest.approx(
            multipletests(p, method="fdr_bh")[1], abs=1e-12
        )


def test_adjust_dispatches_and_validates() -> None:
    assert adjust(P, "holm") == holm(P)
    assert adjust(P, "bh") == benjamini_hochberg(P)
    assert adjust(P, "none") == P
    assert holm([]) == []
    with pytest.raises(StatsInputError, match="unknown correction"):
        adjust(P, "bonferroni")  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="within"):
        holm([0.5, 1.5])
    with pytest.raises(StatsInputError, match="within"):
        benjamini_hochberg([float("nan")])
