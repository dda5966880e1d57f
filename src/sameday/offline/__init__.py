"""Offline evaluation of recommendations against held-out interactions.

:func:`sameday.offline.metrics.evaluate` computes precision, recall, nDCG, MAP, MRR and hit rate
at k, and catalogue coverage; the conventions are in :mod:`sameday.offline.metrics`.
"""

from sameday.errors import OfflineInputError
from sameday.offline.metrics import OfflineMetrics, evaluate, hits

__all__ = ["OfflineInputError", "OfflineMetrics", "evaluate", "hits"]
