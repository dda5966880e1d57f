"""Train one recommender on the logged interactions and write every user's top-N list.

    python jobs/train.py popular|als|itemknn --data data --out out --top 50

Writes ``out/MODEL.csv`` (``key,item,score``: what the result set publishes) and
``out/MODEL.npy`` (the same lists as item indices, ``-1`` padded, for offline evaluation).
The popularity baseline writes one list under the key ``*``, served to every user.

ALS and item-kNN come from the ``implicit`` package. Its models are fitted on a user x item CSR
matrix, inside ``threadpool_limits(1, "blas")``: implicit runs its own threads, and letting BLAS
start more on top of them makes the fit many times slower.
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sameday.sim.data import Dataset, item_id, load_dataset, user_id


def popular(data: Dataset, top: int) -> tuple[np.ndarray, np.ndarray]:
    """The most interacted-with items, one list for everyone."""
    counts = np.bincount(data.train.items, minlength=data.n_items).astype(np.float64)
    order = np.argsort(-counts, kind="stable")[:top]
    return order[None, :], counts[order][None, :]


def implicit_model(name: str, data: Dataset, top: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """ALS or item-kNN (cosine) with already-seen items filtered from each user's list."""
    from implicit.als import AlternatingLeastSquares
    from implicit.nearest_neighbours import CosineRecommender
    from implicit.utils import ParameterWarning
    from threadpoolctl import threadpool_limits

    ones = np.ones(len(data.train), dtype=np.float32)
    user_items = sp.csr_matrix(
        (ones, (data.train.users, data.train.items)), shape=(data.n_users, data.n_items)
    )
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        # implicit's item-kNN converts a transposed copy to CSR itself and warns about it
        warnings.simplefilter("ignore", category=ParameterWarning)
        if name == "als":
            model = AlternatingLeastSquares(
                factors=16, regularization=0.1, alpha=1.0, iterations=15, random_state=seed
            )
        else:
            model = CosineRecommender(K=100)
        model.fit(user_items, show_progress=False)
        users = np.arange(data.n_users)
        ids, scores = model.recommend(users, user_items, N=top, filter_already_liked_items=True)
    ids = np.where(np.isfinite(scores) & (scores > 0), ids, -1)
    return ids.astype(np.int64), scores.astype(np.float64)


def write(out: Path, name: str, ids: np.ndarray, scores: np.ndarray) -> int:
    """Write the CSV that is published and the index array that is evaluated."""
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / f"{name}.npy", ids)
    rows = 0
    with (out / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "item", "score"])
        for row, (items, values) in enumerate(zip(ids, scores, strict=True)):
            key = "*" if ids.shape[0] == 1 and name == "popular" else user_id(row)
            for item, score in zip(items, values, strict=True):
                if item >= 0:
                    writer.writerow([key, item_id(int(item)), f"{score:.6g}"])
                    rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=["popular", "als", "itemknn"])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--top", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    data = load_dataset(args.data)
    if args.model == "popular":
        ids, scores = popular(data, args.top)
    else:
        ids, scores = implicit_model(args.model, data, args.top, args.seed)
    rows = write(args.out, args.model, ids, scores)
    seconds = time.perf_counter() - started
    print(f"{args.model}: {rows} rows for {ids.shape[0]} key(s) in {seconds:.2f}s")


if __name__ == "__main__":
    main()
