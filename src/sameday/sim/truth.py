"""The true effect of one ranker against another, computed exactly from the click model.

An online test estimates an effect from sampled clicks; here the same effect is computed with
no sampling at all, so the estimate can be graded:

- **A/B** (:func:`ab_truth`): each user's probability of at least one click (the ``ctr``
  metric: a proportion per unit) and expected clicks under each arm's list, averaged over the
  users. The relative lift of the averages is what a report's ``ctr`` lift estimates.
- **Interleaving** (:func:`interleaving_truth`): team-draft's coins are enumerated — every one of
  the ``2**rounds`` equally likely coin sequences, run through the very
  :func:`sameday.policies.interleave.team_draft` the server uses — and, for each merged list,
  the click model gives the exact probability that each team wins the impression. With one
  impression per user, the share of users preferring B among users with a preference (what the
  report calls ``share_b``) converges to ``Σ P(B wins) / Σ (P(A wins) + P(B wins))``.

Lists are arrays of item indices, one row per user, ``-1`` for an empty slot; :func:`served`
builds them the way the server does (the arm's list, then its fallback, without duplicates).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sameday.policies.interleave import team_draft
from sameday.policies.keyed import KeyedStream
from sameday.sim.clicks import ClickModel
from sameday.sim.world import IntArray, World


@dataclass(frozen=True)
class ABTruth:
    """Exact per-arm means over the users, and the relative lift of the click-through rate."""

    users: int
    control_ctr: float
    treatment_ctr: float
    control_clicks: float
    treatment_clicks: float

    @property
    def relative_lift(self) -> float:
        """``treatment_ctr / control_ctr - 1``: what the report's ``ctr`` lift estimates."""
        return self.treatment_ctr / self.control_ctr - 1.0


@dataclass(frozen=True)
class InterleavingTruth:
    """Exact mean probabilities that A or B wins an impression, over the users."""

    users: int
    win_a: float
    win_b: float

    @property
    def share_b(self) -> float:
        """The share of decided impressions B wins: the report's user-level ``share_b``."""
        return self.win_b / (self.win_a + self.win_b)

    @property
    def decided(self) -> float:
        """The probability that an impression has a winner (a user shows a preference)."""
        return self.win_a + self.win_b


def served(lists: Sequence[Sequence[int]], fallback: Sequence[int], n: int) -> IntArray:
    """Each list cut to ``n``, then filled from ``fallback`` without duplicates; ``-1`` pads."""
    out = np.full((len(lists), n), -1, dtype=np.int64)
    for row, items in enumerate(lists):
        chosen = list(dict.fromkeys(int(i) for i in items))[:n]
        if len(chosen) < n:
            seen = set(chosen)
            chosen += [int(i) for i in fallback if int(i) not in seen][: n - len(chosen)]
        out[row, : len(chosen)] = chosen
    return out


def ab_truth(
    world: World, model: ClickModel, users: IntArray, control: IntArray, treatment: IntArray
) -> ABTruth:
    """The exact A/B effect when ``users`` see the rows of ``control`` or of ``treatment``."""
    col = users[:, None]
    a = world.attraction(col, control)
    b = world.attraction(col, treatment)
    return ABTruth(
        users=int(users.size),
        control_ctr=float(model.any_click(a).mean()),
        treatment_ctr=float(model.any_click(b).mean()),
        control_clicks=float(model.expected_clicks(a).mean()),
        treatment_clicks=float(model.expected_clicks(b).mean()),
    )


class _Scripted(KeyedStream):
    """A stream that plays back given coins: the way to enumerate team-draft's outcomes."""

    def __init__(self, coins: Sequence[int]) -> None:
        super().__init__(b"")
        self._script = iter(coins)

    def coin(self) -> int:
        value = next(self._script, 0)
        self.draws.append(value)
        return value


def interleaving_truth(
    world: World,
    model: ClickModel,
    users: IntArray,
    lists_a: Sequence[Sequence[int]],
    lists_b: Sequence[Sequence[int]],
    n: int,
) -> InterleavingTruth:
    """The exact team-draft outcome of rankers A (team 0) and B (team 1) over ``users``.

    ``lists_a`` and ``lists_b`` are the rankers' lists as the server reads them (it reads
    ``2 * n`` items of each); slots team-draft cannot fill stay empty (the server fills them
    from fallbacks, which belong to no team and so never decide an impression).
    """
    rounds = (n + 1) // 2
    sequences = list(itertools.product((0, 1), repeat=rounds))
    merged = np.full((len(users) * len(sequences), n), -1, dtype=np.int64)
    teams = np.full_like(merged, -1)
    row = 0
    for a, b in zip(lists_a, lists_b, strict=True):
        sa = [str(int(i)) for i in a]
        sb = [str(int(i)) for i in b]
        for coins in sequences:
            shown = team_draft(sa, sb, n, _Scripted(coins))
            k = len(shown.items)
            merged[row, :k] = [int(i) for i in shown.items]
            teams[row, :k] = shown.teams
            row += 1
    who = np.repeat(users, len(sequences))[:, None]
    win_a, win_b = model.team_wins(world.attraction(who, merged), teams)
    return InterleavingTruth(
        users=int(users.size), win_a=float(win_a.mean()), win_b=float(win_b.mean())
    )
