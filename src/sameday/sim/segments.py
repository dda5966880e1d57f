"""A world of heterogeneous tastes, with the exact effect of personalisation on every user.

Users differ in what draws them: a new user's clicks follow popularity and what little the
recommender knows of her is mostly noise; a heavy user's follow her own taste, which months of
history have pinned down. So the same change — a personalised list instead of the popular one —
helps some users and hurts others, and an average lift hides both. Each user ``u`` has

- a taste weight ``w_u`` and a popularity weight ``p_u``: the attraction of item ``i`` is
  ``sigmoid(offset + w_u·<user_u, item_i> + p_u·bias_i)``;
- the recommender's estimate of her taste, ``user_u + σ_u·noise``: the personalised list is the
  top ``n`` items by the estimate, the popular list the top ``n`` by ``bias`` for everyone.

``w``, ``p`` and ``σ`` are set by two dimensions, **tenure** (new or existing) and **activity**
(light, medium, heavy), per :data:`PROFILES`; the other dimensions (platform and
``noise_dimensions`` more) are drawn independently and change nothing. Given the click model,
every user's probability of a click under either list is exact (:func:`effects`), and so is every
segment's effect: the truth that segment effects and uplift models are graded against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sameday.errors import SimulationError
from sameday.sim.clicks import ClickModel
from sameday.sim.world import FloatArray, IntArray, World, make_world

TextArray = npt.NDArray[np.str_]
"""Each user's value of one dimension."""

TENURE = ("existing", "new")
ACTIVITY = ("light", "medium", "heavy")
PLATFORM = ("ios", "android", "web")
SHARES = {"tenure": (0.7, 0.3), "activity": (0.4, 0.35, 0.25), "platform": (0.45, 0.35, 0.2)}
"""How common each value is."""

PROFILES: dict[tuple[str, str], tuple[float, float, float]] = {
    # (tenure, activity): (taste weight, popularity weight, noise of the taste estimate)
    ("existing", "light"): (1.4, 0.9, 1.2),
    ("existing", "medium"): (2.4, 0.7, 0.5),
    ("existing", "heavy"): (3.0, 0.5, 0.3),
    ("new", "light"): (1.0, 1.0, 2.0),
    ("new", "medium"): (1.0, 1.0, 2.0),
    ("new", "heavy"): (1.0, 1.0, 2.0),
}
"""New users (whatever their activity so far) and light users follow popularity more and are
poorly known; medium and heavy existing users follow their taste, which the recommender knows
well. With the position-based model on 10 slots the click probability is about 0.26 under the
popular list; personalisation changes it by about -0.15 for new users, -0.08 for light existing
users, +0.18 for medium and +0.36 for heavy ones (+0.04 on average: a win that hides a loss)."""

NOISE_VALUES = 5
"""Values of each noise dimension (``n1``, ``n2``, ...: ``a`` to ``e``, equally likely)."""


@dataclass(frozen=True, eq=False)
class SegmentedWorld:
    """Users with dimensions and heterogeneous tastes; see the module docstring.

    Attributes:
        world: the latent users and items (``world.taste`` is not used: ``taste`` is per user).
        attributes: dimension → each user's value.
        taste, popularity, noise: each user's weights and the noise of her estimate.
        estimate: the recommender's estimate of each user's latent taste.
        offset: log-odds of an average item.
    """

    world: World
    attributes: dict[str, TextArray]
    taste: FloatArray
    popularity: FloatArray
    noise: FloatArray
    estimate: FloatArray
    offset: float

    def __repr__(self) -> str:
        return f"SegmentedWorld(users={self.users:,}, dimensions={list(self.attributes)})"

    @property
    def users(self) -> int:
        """How many users the world holds."""
        return self.world.n_users

    def attraction(self, users: IntArray, lists: IntArray) -> FloatArray:
        """Attraction of each row of ``lists`` (item indices) to the matching user."""
        w = self.world
        match = np.einsum("ud,uld->ul", w.user_factors[users], w.item_factors[lists])
        logits = (
            self.offset
            + self.taste[users, None] * match
            + self.popularity[users, None] * w.item_bias[lists]
        )
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * logits)), dtype=np.float64)

    def popular(self, n: int) -> IntArray:
        """The popular list: the ``n`` items of highest bias, for everyone."""
        return np.argsort(-self.world.item_bias, kind="stable")[:n].astype(np.int64)

    def personal(self, users: IntArray, n: int, *, chunk: int = 4096) -> IntArray:
        """Each user's personalised list: the top ``n`` items by her estimated taste."""
        out = np.empty((users.size, n), dtype=np.int64)
        items = self.world.item_factors.T
        for start in range(0, users.size, chunk):
            rows = users[start : start + chunk]
            scores = self.estimate[rows] @ items
            top = np.argpartition(-scores, n - 1, axis=1)[:, :n]
            order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
            out[start : start + chunk] = np.take_along_axis(top, order, axis=1)
        return out


def make_segmented_world(
    users: int,
    *,
    items: int = 400,
    dim: int = 8,
    seed: int = 0,
    noise_dimensions: int = 7,
    offset: float = -3.5,
) -> SegmentedWorld:
    """Draw the users, their dimensions and their tastes (seeded: the same world everywhere).

    Raises:
        SimulationError: fewer than 100 users, or a negative number of noise dimensions.
    """
    if users < 100 or noise_dimensions < 0:
        raise SimulationError(
            f"a segmented world needs at least 100 users and no negative count of noise "
            f"dimensions; got users={users}, noise_dimensions={noise_dimensions}"
        )
    world = make_world(users, items, dim=dim, seed=seed, popularity=0.3)
    rng = np.random.default_rng(seed + 1)
    attributes: dict[str, TextArray] = {}
    for name, values in (("tenure", TENURE), ("activity", ACTIVITY), ("platform", PLATFORM)):
        attributes[name] = np.asarray(values)[rng.choice(len(values), users, p=SHARES[name])]
    letters = np.asarray(list("abcde"))
    for k in range(1, noise_dimensions + 1):
        attributes[f"n{k}"] = letters[rng.integers(0, NOISE_VALUES, users)]
    cells = zip(attributes["tenure"], attributes["activity"], strict=True)
    profile = np.array([PROFILES[(str(t), str(a))] for t, a in cells])
    taste, popularity, noise = profile[:, 0], profile[:, 1], profile[:, 2]
    error = rng.standard_normal(world.user_factors.shape) / np.sqrt(dim)
    estimate = world.user_factors + noise[:, None] * error
    return SegmentedWorld(world, attributes, taste, popularity, noise, estimate, offset)


@dataclass(frozen=True, eq=False)
class Effects:
    """Every user's exact probability of at least one click under each list, and the difference.

    ``segment`` gives the exact mean over the users of one value of a dimension (or of several:
    ``segment(tenure="existing", activity="heavy")``).
    """

    control: FloatArray
    treatment: FloatArray
    world: SegmentedWorld

    @property
    def effect(self) -> FloatArray:
        """Each user's true uplift: treatment minus control probability of a click."""
        return np.asarray(self.treatment - self.control, dtype=np.float64)

    def mask(self, **values: str) -> np.ndarray:
        """The users whose dimensions have ``values``."""
        chosen = np.ones(self.world.users, dtype=bool)
        for name, value in values.items():
            chosen &= self.world.attributes[name] == value
        return chosen

    def segment(self, **values: str) -> tuple[float, float, float]:
        """``(control, treatment, effect)``: exact means over the users with ``values``."""
        chosen = self.mask(**values)
        if not chosen.any():
            raise SimulationError(f"no user has {values}")
        c, t = float(self.control[chosen].mean()), float(self.treatment[chosen].mean())
        return c, t, t - c

    def conditional(self) -> FloatArray:
        """Each user's true uplift *given her dimensions*: the exact mean effect of her
        (tenure, activity) cell, the only dimensions that matter. It is what an uplift model on
        the dimensions estimates; a user's own effect also varies with latent tastes that no
        dimension records, which no such model can rank by."""
        out = np.empty(self.world.users)
        for t in TENURE:
            for a in ACTIVITY:
                cell = self.mask(tenure=t, activity=a)
                if cell.any():
                    out[cell] = self.effect[cell].mean()
        return out

    def benefiting(self) -> set[tuple[str, str]]:
        """The (tenure, activity) cells whose users gain on average: whom to target."""
        return {
            (t, a) for t in TENURE for a in ACTIVITY if self.segment(tenure=t, activity=a)[2] > 0
        }


def effects(world: SegmentedWorld, model: ClickModel, n: int) -> Effects:
    """The exact effect of serving each user her personalised list instead of the popular one."""
    users = np.arange(world.users, dtype=np.int64)
    popular = np.broadcast_to(world.popular(n), (users.size, n))
    control = model.any_click(world.attraction(users, popular))
    treatment = model.any_click(world.attraction(users, world.personal(users, n)))
    return Effects(control, treatment, world)
