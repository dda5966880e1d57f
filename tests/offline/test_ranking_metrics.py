"""Offline metrics: hand-computed cases, and nDCG against scikit-learn's ndcg_score."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.errors import OfflineInputError
from sameday.offline.ranking_metrics import evaluate, hits


def test_hand_computed_metrics() -> None:
    recommended = [[1, 2, 3], [4, 5, 6], [7, 8, -1]]
    users, items = [0, 0, 1, 1, 1, 1, 2], [2, 9, 6, 7, 8, 9, 0]
    m = evaluate(recommended, users, items, k=3, n_items=10)
    assert m.users == 3
    assert m.precision == pytest.approx((1 / 3 + 1 / 3 + 0) / 3)
    assert m.recall == pytest.approx((1 / 2 + 1 / 4 + 0) / 3)
    assert m.mrr == pytest.approx((1 / 2 + 1 / 3) / 3)
    assert m.hit_rate == pytest.approx(2 / 3)
    assert m.map == pytest.approx(((1 / 2) / 2 + (1 / 3) / 3) / 3)
    ndcg0 = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    ndcg1 = (1 / np.log2(4)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))
    assert m.ndcg == pytest.approx((ndcg0 + ndcg1) / 3)
    assert m.coverage == pytest.approx(8 / 10)


def test_users_without_held_out_items_are_not_scored_and_duplicates_hit_once() -> None:
    got = hits([[1, 1, 2], [3, 4, 5]], [0], [1])
    np.testing.assert_array_equal(got, [[True, False, False], [False, False, False]])
    m = evaluate([[1, 1, 2], [3, 4, 5]], [0], [1], k=3, n_items=6)
    assert m.users == 1 and m.precision == pytest.approx(1 / 3)


@pytest.mark.parametrize("k", [1, 5, 10])
def test_ndcg_matches_scikit_learn(k: int) -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(k)
    n_users, n_items = 60, 40
    truth = (rng.random((n_users, n_items)) < 0.1).astype(float)
    truth[0] = 0
    truth[0, 3] = 1
    scores = rng.random((n_users, n_items))
    recommended = np.argsort(-scores, axis=1)[:, :k]
    users, items = np.nonzero(truth)
    ours = evaluate(recommended, users, items, k=k, n_items=n_items)
    scored = truth.sum(axis=1) > 0
    expected = sklearn.ndcg_score(truth[scored], scores[scored], k=k)
    assert ours.ndcg == pytest.approx(expected, abs=1e-12)


def test_bad_inputs_say_what_is_wrong() -> None:
    with pytest.raises(OfflineInputError, match="k must be"):
        evaluate([[1]], [0], [1], k=0, n_items=2)
    with pytest.raises(OfflineInputError, match="nothing to score"):
        evaluate([[1]], [], [], k=1, n_items=2)
    with pytest.raises(OfflineInputError, match="\\(users, k\\)"):
        evaluate([1, 2], [0], [1], k=1, n_items=2)
    with pytest.raises(OfflineInputError, match="index the 1 rows"):
        evaluate([[1]], [3], [1], k=1, n_items=2)
