"""Candidate policies, as the probability each would have chosen every action in every round.

A candidate maps logged rounds to a matrix ``π[i, a]``: the probability of showing action ``a``
in round ``i``'s position (and for the round's unit). Context-free candidates give the same row
for every round of a position.

- :class:`Uniform`: every action alike.
- :class:`Fixed`: always one action (an arm, or an item).
- :class:`BernoulliTS`: Bernoulli Thompson sampling from Beta priors, as Open Bandit Pipeline
  evaluates it: per draw, sample every action's rate and rank the top ``slots``; the share of
  draws that put an action in a position is its probability there (seeded Monte Carlo).
- :class:`ResultSet`: a sameday result set, served as is: the item at position ``p`` of the
  unit's list has probability 1 there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sameday.errors import PolicyError
from sameday.ope.data import LoggedData
from sameday.store.base import ServingStore

Matrix = npt.NDArray[np.float64]


class Candidate(Protocol):
    """A policy to evaluate: ``π[i, a]`` over the logged rounds and actions."""

    @property
    def name(self) -> str:
        """The candidate's name in reports."""

    def action_dist(self, data: LoggedData) -> Matrix:
        """The probability of each action (columns, ``data.action_names``) in each round."""


@dataclass(frozen=True)
class Uniform:
    """Every action with probability ``1 / n_actions`` (default: the actions in the log)."""

    n_actions: int | None = None
    name: str = "uniform"

    def action_dist(self, data: LoggedData) -> Matrix:
        n = self.n_actions or len(data.action_names)
        return np.full((data.rounds, len(data.action_names)), 1.0 / n)


@dataclass(frozen=True)
class Fixed:
    """Always the action ``action``."""

    action: str
    name: str = "fixed"

    def action_dist(self, data: LoggedData) -> Matrix:
        if self.action not in data.action_names:
            raise PolicyError(
                f"action {self.action!r} never appears in the log (actions: "
                f"{', '.join(data.action_names[:10])}...): nothing to evaluate it on"
            )
        dist = np.zeros((data.rounds, len(data.action_names)))
        dist[:, data.action_names.index(self.action)] = 1.0
        return dist


@dataclass(frozen=True)
class BernoulliTS:
    """Bernoulli Thompson sampling with fixed Beta priors (see the module docstring).

    ``actions`` names the prior of each index (OBD: item ids ``"0"``..``"79"``).
    """

    alpha: Sequence[float]
    beta: Sequence[float]
    actions: Sequence[str]
    draws: int = 100_000
    seed: int = 12345
    name: str = "bernoulli_ts"

    @classmethod
    def from_yaml(
        cls, path: str | Path, campaign: str = "all", *, draws: int = 100_000, seed: int = 12345
    ) -> BernoulliTS:
        """Priors from a YAML file of ``campaign: {alpha: [...], beta: [...]}`` (zr-obp's)."""
        import yaml

        data = yaml.safe_load(Path(path).read_text())
        try:
            prior = data[campaign]
            alpha, beta = [float(v) for v in prior["alpha"]], [float(v) for v in prior["beta"]]
        except (KeyError, TypeError) as exc:
            raise PolicyError(
                f"{path} has no {campaign!r} priors with 'alpha' and 'beta' lists ({exc})"
            ) from exc
        if len(alpha) != len(beta):
            raise PolicyError(f"{path}: {len(alpha)} alphas but {len(beta)} betas")
        return cls(alpha, beta, [str(i) for i in range(len(alpha))], draws=draws, seed=seed)

    def position_dist(self, slots: int) -> Matrix:
        """``P[a, p]``: the share of draws that rank action ``a`` at position ``p``."""
        rng = np.random.default_rng(self.seed)
        n = len(self.alpha)
        counts = np.zeros((n, slots))
        chunk = max(1, 2_000_000 // n)
        for start in range(0, self.draws, chunk):
            size = min(chunk, self.draws - start)
            theta = rng.beta(self.alpha, self.beta, size=(size, n))
            top = np.argsort(-theta, axis=1)[:, :slots]
            for p in range(slots):
                counts[:, p] += np.bincount(top[:, p], minlength=n)
        return counts / self.draws

    def action_dist(self, data: LoggedData) -> Matrix:
        table = self.position_dist(data.slots)
        column = {name: i for i, name in enumerate(self.actions)}
        missing = [a for a in data.action_names if a not in column]
        if missing:
            raise PolicyError(
                f"the priors name no action {', '.join(missing[:5])}: the priors must cover "
                "every logged action"
            )
        rows = table[[column[a] for a in data.action_names]]  # (logged actions, slots)
        return rows.T[data.positions - 1]


@dataclass
class ResultSet:
    """Serve the live snapshot of ``result_set``: its list for the round's unit, in order."""

    store: ServingStore
    result_set: str
    name: str = "result_set"
    _lists: dict[str, list[str]] = field(default_factory=dict)

    def action_dist(self, data: LoggedData) -> Matrix:
        column = {name: i for i, name in enumerate(data.action_names)}
        dist = np.zeros((data.rounds, len(data.action_names)))
        for i, (unit, position) in enumerate(zip(data.units, data.positions, strict=True)):
            ranked = self._list(unit)
            if position <= len(ranked) and ranked[position - 1] in column:
                dist[i, column[ranked[position - 1]]] = 1.0
        return dist

    def _list(self, unit: str) -> list[str]:
        if unit not in self._lists:
            self._lists[unit] = [entry.item for entry in self.store.get(self.result_set, unit)]
        return self._lists[unit]
