"""Offline ranking metrics of top-k lists against held-out interactions, vectorised with numpy.

Inputs are a ``(users, k)`` integer array of recommended items per user, best first, ``-1`` for
an empty slot, and the held-out relevant items as parallel ``(user, item)`` arrays (binary
relevance: an item is relevant to a user when the pair was held out). Conventions, stated
because libraries differ on each:

- **Which users count.** Averages are over the users with at least one relevant item; a user with
  nothing held out cannot be scored and is left out (``users`` in the result says how many were
  scored). Catalogue coverage is over every list given.
- **precision@k** = hits in the top k / ``k`` — a fixed denominator, so a short list is penalised
  for its empty slots.
- **recall@k** = hits / the number of relevant items (not capped at ``k``).
- **nDCG@k**: gains are 1 for a relevant item, 0 otherwise, discounted by ``1/log2(rank + 1)``;
  the ideal DCG puts ``min(relevant, k)`` relevant items first. This is scikit-learn's
  ``ndcg_score(..., k=k)`` with binary relevance (checked in the tests).
- **MAP@k**: average precision at k = ``Σ_j precision@j · rel_j / min(relevant, k)`` (the
  ``min`` keeps a perfect list at 1 when a user has more than ``k`` relevant items), averaged.
- **MRR@k**: the reciprocal rank of the first relevant item in the top k, 0 when there is none.
- **hit rate@k**: the share of users with at least one relevant item in the top k.
- **coverage**: distinct items recommended anywhere (top k) / catalogue size.

A duplicated item in one list counts once: its later copies are no hit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from sameday.errors import OfflineInputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class OfflineMetrics:
    """Mean metrics at ``k`` over ``users`` scored users; ``coverage`` over all lists."""

    k: int
    users: int
    precision: float
    recall: float
    ndcg: float
    map: float
    mrr: float
    hit_rate: float
    coverage: float

    def as_dict(self) -> dict[str, float | int]:
        """Every field by name, for JSON."""
        return asdict(self)


def hits(
    recommended: npt.ArrayLike, relevant_users: npt.ArrayLike, relevant_items: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """``(users, k)``: whether each recommended item is relevant to its row's user.

    Row ``u`` of ``recommended`` is user ``u``. Relevance is looked up with one sorted search of
    ``user * n + item`` codes, so it costs ``O((users·k + pairs) log pairs)`` without a dense
    matrix. Repeated items in a row and ``-1`` slots are never hits.
    """
    rec = _recommended(recommended)
    users = np.asarray(relevant_users, dtype=np.int64)
    items = np.asarray(relevant_items, dtype=np.int64)
    if users.shape != items.shape or users.ndim != 1:
        raise OfflineInputError("relevant users and items must be flat arrays of equal length")
    width = int(max(rec.max(initial=0), items.max(initial=0))) + 1
    codes = np.unique(users * width + items)
    query = np.arange(rec.shape[0], dtype=np.int64)[:, None] * width + rec
    pos = np.minimum(np.searchsorted(codes, query), max(codes.size - 1, 0))
    found = (codes[pos] == query) if codes.size else np.zeros(rec.shape, dtype=np.bool_)
    return np.asarray(found & (rec >= 0) & _first_copies(rec), dtype=np.bool_)


def evaluate(
    recommended: npt.ArrayLike,
    relevant_users: npt.ArrayLike,
    relevant_items: npt.ArrayLike,
    *,
    k: int,
    n_items: int,
) -> OfflineMetrics:
    """All metrics of the module docstring at ``k`` (lists longer than ``k`` are cut).

    Raises:
        OfflineInputError: ``k < 1``, malformed arrays, or no user with a relevant item.
    """
    if k < 1:
        raise OfflineInputError(f"k must be >= 1, got {k}")
    rec = _recommended(recommended)[:, :k]
    if rec.shape[1] < k:
        rec = np.pad(rec, ((0, 0), (0, k - rec.shape[1])), constant_values=-1)
    users = np.asarray(relevant_users, dtype=np.int64)
    if users.size and (users.min() < 0 or users.max() >= rec.shape[0]):
        raise OfflineInputError(
            f"relevant users must index the {rec.shape[0]} rows of recommendations"
        )
    items = np.asarray(relevant_items, dtype=np.int64)
    if users.shape != items.shape or users.ndim != 1:
        raise OfflineInputError("relevant users and items must be flat arrays of equal length")
    pairs = np.unique(np.stack([users, items], axis=1), axis=0)
    n_relevant = np.bincount(pairs[:, 0], minlength=rec.shape[0])
    scored = n_relevant > 0
    if not scored.any():
        raise OfflineInputError("no user has a relevant (held-out) item: nothing to score")
    hit = hits(rec, users, items)[scored].astype(np.float64)
    rel = n_relevant[scored].astype(np.float64)
    ranks = np.arange(1, k + 1, dtype=np.float64)
    discount = 1.0 / np.log2(ranks + 1.0)
    ideal = np.cumsum(discount)[np.minimum(rel, k).astype(np.int64) - 1]
    count = hit.sum(axis=1)
    precision_at = np.cumsum(hit, axis=1) / ranks
    first = np.argmax(hit > 0, axis=1)
    listed = rec[rec >= 0]
    return OfflineMetrics(
        k=k,
        users=int(scored.sum()),
        precision=float(np.mean(count / k)),
        recall=float(np.mean(count / rel)),
        ndcg=float(np.mean((hit @ discount) / ideal)),
        map=float(np.mean((precision_at * hit).sum(axis=1) / np.minimum(rel, k))),
        mrr=float(np.mean(np.where(count > 0, 1.0 / (first + 1.0), 0.0))),
        hit_rate=float(np.mean(count > 0)),
        coverage=float(np.unique(listed).size / n_items) if n_items > 0 else 0.0,
    )


def _recommended(recommended: npt.ArrayLike) -> IntArray:
    rec = np.asarray(recommended, dtype=np.int64)
    if rec.ndim != 2:
        raise OfflineInputError(
            f"recommendations must be a (users, k) array, got shape {rec.shape}"
        )
    return rec


def _first_copies(rec: IntArray) -> npt.NDArray[np.bool_]:
    """True where an item appears for the first time in its row."""
    order = np.argsort(rec, axis=1, kind="stable")
    ranked = np.take_along_axis(rec, order, axis=1)
    repeat = np.zeros(rec.shape, dtype=np.bool_)
    repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
    first = np.empty_like(repeat)
    np.put_along_axis(first, order, ~repeat, axis=1)
    return first
