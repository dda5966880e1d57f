"""The simulated world: users and items with latent tastes, and a long tail of popularity.

Every user ``u`` and item ``i`` has a latent vector; an item also has a popularity bias drawn
from a Zipf law, so a few items are attractive to almost everyone and most are niche. The
**attraction** of an item to a user, the probability that the user clicks it once she has looked
at it, is

    attraction(u, i) = sigmoid(offset + taste · <user_u, item_i> + bias_i)

Nothing else decides a click: the click models (:mod:`sameday.sim.clicks`) only add where the
user looks. Because attraction is a closed form, the expected clicks of any list are known
exactly, which is what lets the quickstart grade an online test against the truth.

Worlds are made by :func:`make_world` from a seed (numpy's PCG64), so the same arguments give
the same world on every machine; :meth:`World.save` and :func:`load_world` keep it in one
``.npz`` file that a pipeline job writes and the demo reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sameday.errors import SimulationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_ROWS = 4096
"""Rows of lists scored at once: bounds the ``(rows, slots, dim)`` temporary."""


@dataclass(frozen=True, eq=False)
class World:
    """Latent users and items; see the module docstring for the attraction formula.

    Attributes:
        user_factors: ``(n_users, dim)`` latent tastes.
        item_factors: ``(n_items, dim)`` latent traits.
        item_bias: ``(n_items,)`` popularity, in log-odds (the long tail).
        taste: weight of the taste match against popularity.
        offset: log-odds of an average item for an average user (sets the base click rate).
    """

    user_factors: FloatArray
    item_factors: FloatArray
    item_bias: FloatArray
    taste: float
    offset: float

    def __repr__(self) -> str:
        return (
            f"World(users={self.n_users}, items={self.n_items}, dim={self.dim}, "
            f"taste={self.taste}, offset={self.offset})"
        )

    @property
    def n_users(self) -> int:
        """How many users the world holds (user ids are ``0 .. n_users - 1``)."""
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        """How many items the world holds (item ids are ``0 .. n_items - 1``)."""
        return int(self.item_factors.shape[0])

    @property
    def dim(self) -> int:
        """The number of latent dimensions."""
        return int(self.user_factors.shape[1])

    def attraction(self, users: npt.ArrayLike, items: npt.ArrayLike) -> FloatArray:
        """Attraction of ``items`` to ``users``, broadcast together (``(m, 1)`` with ``(m, k)``).

        An item index of ``-1`` marks an empty slot and has attraction 0.
        """
        u = np.asarray(users, dtype=np.int64)
        i = np.asarray(items, dtype=np.int64)
        empty = i < 0
        safe = np.where(empty, 0, i)
        out = np.empty(np.broadcast_shapes(u.shape, i.shape), dtype=np.float64)
        if out.ndim == 0:
            return np.asarray(self.attraction(u.reshape(1), i.reshape(1)).reshape(()))
        u, safe, empty = (np.broadcast_to(x, out.shape) for x in (u, safe, empty))
        for start in range(0, len(out), _ROWS):
            rows = slice(start, start + _ROWS)
            match = np.einsum(
                "...d,...d->...", self.user_factors[u[rows]], self.item_factors[safe[rows]]
            )
            logits = self.offset + self.taste * match + self.item_bias[safe[rows]]
            out[rows] = np.where(empty[rows], 0.0, _sigmoid(logits))
        return out

    def attraction_matrix(self, users: npt.ArrayLike) -> FloatArray:
        """Attraction of every item to each of ``users``: shape ``(len(users), n_items)``."""
        u = np.asarray(users, dtype=np.int64)
        logits = self.offset + self.taste * (self.user_factors[u] @ self.item_factors.T)
        return _sigmoid(logits + self.item_bias)

    def save(self, path: Path) -> None:
        """Write the world to one ``.npz`` file (read it back with :func:`load_world`)."""
        np.savez_compressed(
            path,
            user_factors=self.user_factors,
            item_factors=self.item_factors,
            item_bias=self.item_bias,
            scalars=np.asarray([self.taste, self.offset]),
        )


def make_world(
    n_users: int,
    n_items: int,
    *,
    dim: int = 8,
    seed: int = 0,
    taste: float = 5.0,
    offset: float = -6.5,
    zipf: float = 1.1,
    popularity: float = 0.2,
) -> World:
    """Draw a world.

    Latent vectors are standard normal divided by ``sqrt(dim)``, so ``<user, item>`` has about
    unit variance whatever ``dim`` is. Item ``i``'s popularity rank is a random permutation; its
    bias is ``popularity * log(rank ** -zipf)``, centred on the mean, so the head of the
    catalogue is a few log-odds above the tail.

    Raises:
        SimulationError: fewer than one user, fewer than two items, or ``dim < 1``.
    """
    if n_users < 1 or n_items < 2 or dim < 1:
        raise SimulationError(
            f"a world needs at least 1 user, 2 items and 1 dimension; got users={n_users}, "
            f"items={n_items}, dim={dim}"
        )
    rng = np.random.default_rng(seed)
    users = rng.standard_normal((n_users, dim)) / np.sqrt(dim)
    items = rng.standard_normal((n_items, dim)) / np.sqrt(dim)
    rank = rng.permutation(n_items) + 1
    bias = -zipf * np.log(rank.astype(np.float64)) * popularity
    return World(users, items, bias - bias.mean(), float(taste), float(offset))


def load_world(path: Path) -> World:
    """Read a world written by :meth:`World.save`.

    Raises:
        SimulationError: the file is missing or is not a saved world.
    """
    try:
        with np.load(path) as data:
            taste, offset = (float(v) for v in data["scalars"])
            return World(
                np.asarray(data["user_factors"], dtype=np.float64),
                np.asarray(data["item_factors"], dtype=np.float64),
                np.asarray(data["item_bias"], dtype=np.float64),
                taste,
                offset,
            )
    except (OSError, KeyError, ValueError) as exc:
        raise SimulationError(
            f"{path}: not a saved world ({exc}); write one with `python -m sameday.sim generate`"
        ) from exc


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)
