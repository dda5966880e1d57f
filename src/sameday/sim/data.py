"""A simulated data set on disk: the world, the logged interactions and the catalogue.

One folder, written by :func:`generate` (``python -m sameday.sim generate``) and read by the
quickstart's training jobs and by the demo:

- ``world.npz``: the latent world (:meth:`sameday.sim.world.World.save`); only the simulator and
  the demo read it, since a real pipeline never sees the truth;
- ``interactions.npz``: ``train_users``, ``train_items``, ``test_users``, ``test_items`` (integer
  indices) and ``n_users``, ``n_items``;
- ``items.csv``: the catalogue, one ``item_id`` a line, for the result sets' catalogue check.

Outside the simulator users and items are strings, ``user-17`` and ``item-42``, as a product
would send them; :func:`user_id`, :func:`item_id` and :func:`item_index` convert.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sameday.errors import SimulationError
from sameday.sim.interactions import Interactions, log_interactions, split
from sameday.sim.world import World, load_world, make_world


def user_id(index: int) -> str:
    """The external id of user ``index``."""
    return f"user-{index}"


def item_id(index: int) -> str:
    """The external id of item ``index``."""
    return f"item-{index}"


def item_index(item: str) -> int:
    """The index of an item id written by :func:`item_id`."""
    return int(item.removeprefix("item-"))


def user_index(unit: str) -> int:
    """The index of a user id written by :func:`user_id`."""
    return int(unit.removeprefix("user-"))


@dataclass(frozen=True, eq=False)
class Dataset:
    """The logged interactions, split for training and offline testing."""

    n_users: int
    n_items: int
    train: Interactions
    test: Interactions

    def __repr__(self) -> str:
        return (
            f"Dataset(users={self.n_users}, items={self.n_items}, train={len(self.train)}, "
            f"test={len(self.test)})"
        )


def generate(
    out: Path,
    *,
    users: int,
    items: int,
    seed: int = 0,
    dim: int = 8,
    mean_interactions: float = 30.0,
    test_share: float = 0.2,
) -> tuple[World, Dataset]:
    """Draw a world and its logs from ``seed`` and write them to the folder ``out``."""
    world = make_world(users, items, dim=dim, seed=seed)
    logged = log_interactions(world, mean=mean_interactions, seed=seed + 1)
    train, test = split(logged, test_share=test_share, seed=seed + 2)
    data = Dataset(users, items, train, test)
    out.mkdir(parents=True, exist_ok=True)
    world.save(out / "world.npz")
    np.savez_compressed(
        out / "interactions.npz",
        train_users=train.users,
        train_items=train.items,
        test_users=test.users,
        test_items=test.items,
        shape=np.asarray([users, items]),
    )
    catalogue = "\n".join(item_id(i) for i in range(items))
    (out / "items.csv").write_text("item_id\n" + catalogue + "\n", encoding="utf-8")
    return world, data


def load_dataset(folder: Path) -> Dataset:
    """Read the interactions :func:`generate` wrote to ``folder``.

    Raises:
        SimulationError: the file is missing or malformed.
    """
    path = folder / "interactions.npz"
    try:
        with np.load(path) as data:
            n_users, n_items = (int(v) for v in data["shape"])
            return Dataset(
                n_users,
                n_items,
                Interactions(data["train_users"], data["train_items"]),
                Interactions(data["test_users"], data["test_items"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise SimulationError(
            f"{path}: not a simulated data set ({exc}); write one with "
            "`python -m sameday.sim generate --out DIR`"
        ) from exc


def load(folder: Path) -> tuple[World, Dataset]:
    """The world and the data set of ``folder``."""
    return load_world(folder / "world.npz"), load_dataset(folder)
