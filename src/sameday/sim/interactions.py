"""Logged interactions: what the recommenders learn from, and what offline evaluation holds out.

Each user has ``1 + Poisson(mean - 1)`` interactions (at most half the catalogue), drawn without
replacement with probability proportional to the item's attraction to her (the Gumbel top-k
trick: the ``n`` largest ``log α + Gumbel`` keys are a sample without replacement proportional to
``α``). Popular items are therefore logged more often, as they are in real logs, and a user's
items follow her tastes, so collaborative filtering has something to find.

:func:`split` holds out a share of each user's interactions, at random, as the offline test set;
users with a single interaction keep it for training, so every user has a history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sameday.errors import SimulationError
from sameday.sim.world import IntArray, World

_CHUNK = 512


@dataclass(frozen=True, eq=False)
class Interactions:
    """Parallel arrays of (user, item) pairs, sorted by user; no pair appears twice."""

    users: IntArray
    items: IntArray

    def __len__(self) -> int:
        return int(self.users.shape[0])

    def __repr__(self) -> str:
        return f"Interactions(pairs={len(self)}, users={len(np.unique(self.users))})"


def log_interactions(world: World, *, mean: float = 30.0, seed: int = 0) -> Interactions:
    """Draw every user's logged interactions (see the module docstring).

    Raises:
        SimulationError: ``mean`` below 1.
    """
    if mean < 1:
        raise SimulationError(f"the mean number of interactions must be >= 1, got {mean}")
    rng = np.random.default_rng(seed)
    cap = max(1, world.n_items // 2)
    counts = np.minimum(1 + rng.poisson(mean - 1.0, world.n_users), cap)
    users: list[IntArray] = []
    items: list[IntArray] = []
    for start in range(0, world.n_users, _CHUNK):
        block = np.arange(start, min(start + _CHUNK, world.n_users))
        keys = np.log(world.attraction_matrix(block)) + rng.gumbel(size=(block.size, world.n_items))
        order = np.argsort(-keys, axis=1)
        for row, user in enumerate(block):
            chosen = np.sort(order[row, : counts[user]])
            users.append(np.full(chosen.size, user, dtype=np.int64))
            items.append(chosen.astype(np.int64))
    return Interactions(np.concatenate(users), np.concatenate(items))


def split(
    interactions: Interactions, *, test_share: float = 0.2, seed: int = 0
) -> tuple[Interactions, Interactions]:
    """Hold out ``test_share`` of each user's interactions (rounded down) as the test set.

    Returns:
        ``(train, test)``; both sorted by user.

    Raises:
        SimulationError: ``test_share`` outside ``[0, 1)``.
    """
    if not 0.0 <= test_share < 1.0:
        raise SimulationError(f"test_share must be in [0, 1), got {test_share}")
    rng = np.random.default_rng(seed)
    users, items = interactions.users, interactions.items
    order = np.lexsort((rng.random(users.size), users))
    users, items = users[order], items[order]
    starts = np.searchsorted(users, users, side="left")
    rank = np.arange(users.size) - starts
    sizes = np.bincount(users)[users]
    held = rank < np.floor(sizes * test_share)
    train = np.lexsort((items[~held], users[~held]))
    test = np.lexsort((items[held], users[held]))
    return (
        Interactions(users[~held][train], items[~held][train]),
        Interactions(users[held][test], items[held][test]),
    )
