"""Adjusted p-values across metrics and arms: Holm and Benjamini–Hochberg.

A report with five metrics and three treatment arms makes fifteen tests; at alpha 0.05 the chance
that at least one is "significant" by luck is far above 5%. The report therefore adjusts:

- **Holm** (1979) controls the family-wise error rate (the chance of *any* false positive) and is
  uniformly more powerful than Bonferroni. Sorted ascending, ``p̃(i) = max_{j<=i} min(1,
  (m - j + 1)·p(j))``. Use it for guardrails and for the decision metric across arms.
- **Benjamini–Hochberg** (1995) controls the false discovery rate (the expected share of false
  positives among the discoveries), under independence or positive dependence. Sorted ascending,
  ``p̃(i) = min_{j>=i} min(1, m·p(j)/j)``. Use it for exploratory secondary metrics.

Both return adjusted p-values in the input order, to compare against the unadjusted alpha; they
match ``statsmodels.stats.multitest.multipletests`` (``holm`` and ``fdr_bh``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from sameday.analysis.stats._types import FloatArray
from sameday.errors import StatsInputError

Correction = Literal["holm", "bh", "none"]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error rate)."""
    p, order = _sorted(p_values)
    m = p.size
    scaled = (m - np.arange(m)) * p
    adjusted = np.minimum(1.0, np.maximum.accumulate(scaled))
    return _unsorted(adjusted, order)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg step-up adjusted p-values (false discovery rate)."""
    p, order = _sorted(p_values)
    m = p.size
    scaled = m * p / np.arange(1, m + 1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return _unsorted(adjusted, order)


def adjust(p_values: Sequence[float], method: Correction) -> list[float]:
    """Adjusted p-values by ``method``: ``holm``, ``bh`` or ``none`` (returned unchanged)."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        _sorted(p_values)
        return [float(p) for p in p_values]
    raise StatsInputError(f"unknown correction {method!r}; use 'holm', 'bh' or 'none'")


def _sorted(p_values: Sequence[float]) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise StatsInputError("p-values must be a flat sequence")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise StatsInputError(f"p-values must be within [0, 1], got {p.tolist()}")
    order = np.argsort(p, kind="stable")
    return p[order], order


def _unsorted(adjusted: FloatArray, order: npt.NDArray[np.intp]) -> list[float]:
    result = np.empty_like(adjusted)
    result[order] = adjusted
    return [float(v) for v in result]
