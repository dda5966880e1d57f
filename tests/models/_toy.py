"""A small real model for the registry tests: a linear scorer over named features.

It lives in an importable module (not in a test file's namespace) because pickled models are
unpickled by class path, as in a user's training code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class LinearScorer:
    """``score = bias + sum(weight[f] * row[f])`` over the numeric features of each row."""

    def __init__(self, weights: Mapping[str, float], bias: float = 0.0) -> None:
        self.weights = dict(weights)
        self.bias = bias

    def predict(self, features: Sequence[Mapping[str, Any]]) -> list[float]:
        return [
            self.bias + sum(w * float(row.get(name, 0.0)) for name, w in self.weights.items())
            for row in features
        ]


def save(weights: Mapping[str, float], folder: Path, bias: float = 0.0) -> Path:
    """Write the scorer as a framework-neutral file, as a training job would."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.json").write_text(json.dumps({"weights": dict(weights), "bias": bias}))
    return folder


def load(folder: Path) -> LinearScorer:
    """The ``python`` flavor's loader: read back what :func:`save` wrote."""
    data = json.loads((folder / "weights.json").read_text())
    return LinearScorer(data["weights"], data["bias"])


ROWS = [
    {"user": "u1", "item": "i1", "clicks": 3, "recency": 0.5},
    {"user": "u1", "item": "i2", "clicks": 0, "recency": 2.0},
    {"user": "u2", "item": "i3", "clicks": 7, "recency": 0.1},
]
"""Candidates to score: one mapping of features each."""
