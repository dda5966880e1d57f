"""Evaluate every trained recommender offline on the held-out interactions.

    python jobs/evaluate.py popular als itemknn --data data --out out --k 10

Reads ``out/MODEL.npy`` (written by ``jobs/train.py``) and the test split, prints one line per
model and writes ``out/offline.json``: ``{"k": 10, "models": {"als": {"ndcg": ...}, ...}}``.
The conventions of each metric are those of ``sameday.offline.ranking_metrics``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sameday.offline import evaluate
from sameday.sim.data import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=Path("out"))
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    data = load_dataset(args.data)
    report: dict[str, dict[str, float | int]] = {}
    for name in args.models:
        lists = np.load(args.out / f"{name}.npy")
        if lists.shape[0] == 1:  # one list for everyone (popularity)
            lists = np.repeat(lists, data.n_users, axis=0)
        metrics = evaluate(lists, data.test.users, data.test.items, k=args.k, n_items=data.n_items)
        report[name] = metrics.as_dict()
        print(
            f"{name:>10}  nDCG@{args.k} {metrics.ndcg:.4f}  P@{args.k} {metrics.precision:.4f}  "
            f"R@{args.k} {metrics.recall:.4f}  MAP {metrics.map:.4f}  MRR {metrics.mrr:.4f}  "
            f"hit {metrics.hit_rate:.3f}  coverage {metrics.coverage:.3f}"
        )
    (args.out / "offline.json").write_text(
        json.dumps({"k": args.k, "models": report}, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
