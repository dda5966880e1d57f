"""Offline evaluation of recommendations against held-out interactions.

:func:`sameday.offline.ranking_metrics.evaluate` computes precision, recall, nDCG, MAP, MRR and
hit rate at k, and catalogue coverage; the conventions are in
:mod:`sameday.offline.ranking_metrics`.
"""

from sameday.errors import OfflineInputError
from sameday.offline.ranking_metrics import OfflineMetrics, evaluate, hits

__all__ = ["OfflineInputError", "OfflineMetrics", "evaluate", "hits"]
