"""Click models: where a user looks in a list, and so what she clicks, in closed form.

Both models take the **attraction** of each slot (:meth:`sameday.sim.world.World.attraction`),
an array of shape ``(lists, slots)``, and give exact probabilities — no sampling — as well as a
sampler that draws clicks from those same probabilities:

- :class:`PositionBased` (Craswell et al., 2008): slot ``k`` is examined with probability
  ``θ_k``, independently of the others, and an examined item is clicked with its attraction.
  Clicks are independent: ``P(click k) = θ_k·α_k``, ``P(any click) = 1 - Π(1 - θ_k·α_k)``,
  ``E[clicks] = Σ θ_k·α_k``.
- :class:`Cascade` (Craswell et al., 2008): the user scans top-down and clicks the first item
  that attracts her, then stops. ``P(click k) = α_k·Π_{j<k}(1 - α_j)``; at most one click, so
  ``E[clicks] = P(any click) = 1 - Π(1 - α_k)``.

:meth:`team_wins` gives, for an interleaved list whose slots belong to team 0 or team 1 (or to
none, ``-1``), the exact probabilities that team 0 or team 1 gets more clicks: the per-impression
outcome an interleaving report counts. Under the position-based model it convolves the
independent clicks into the distribution of ``clicks_0 - clicks_1``; under the cascade it sums
the single click's position probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sameday.errors import SimulationError
from sameday.sim.world import FloatArray

BoolArray = npt.NDArray[np.bool_]


class ClickModel(Protocol):
    """What the simulator needs of a click model; every array is ``(lists, slots)``."""

    @property
    def name(self) -> str:
        """The model's name, as the demo prints it."""

    def click_probabilities(self, attraction: FloatArray) -> FloatArray:
        """The marginal probability of a click in each slot."""

    def any_click(self, attraction: FloatArray) -> FloatArray:
        """``(lists,)``: the probability of at least one click in the list."""

    def expected_clicks(self, attraction: FloatArray) -> FloatArray:
        """``(lists,)``: the expected number of clicks in the list."""

    def team_wins(
        self, attraction: FloatArray, teams: npt.NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray]:
        """``(lists,)`` twice: the chance that team 0, and team 1, gets strictly more clicks."""

    def sample(self, attraction: FloatArray, rng: np.random.Generator) -> BoolArray:
        """Draw clicks: ``True`` where the user clicked."""


@dataclass(frozen=True)
class PositionBased:
    """The position-based model, with examination probabilities ``θ_k`` per slot.

    Build the usual ``θ_k = 1/k^η`` with :meth:`power`; lists longer than ``examination`` are
    refused rather than silently given a probability for slots nobody specified.
    """

    examination: tuple[float, ...]
    name: str = "position-based"

    def __post_init__(self) -> None:
        if not self.examination or any(not 0.0 <= t <= 1.0 for t in self.examination):
            raise SimulationError(
                f"examination probabilities must be a non-empty list in [0, 1], "
                f"got {self.examination}"
            )

    @classmethod
    def power(cls, slots: int, eta: float = 1.0) -> PositionBased:
        """``θ_k = 1/k^eta`` for ``k = 1 .. slots`` (eta 1: half as likely to look at slot 2)."""
        return cls(tuple(float(k**-eta) for k in range(1, slots + 1)))

    def _theta(self, attraction: FloatArray) -> FloatArray:
        slots = attraction.shape[-1]
        if slots > len(self.examination):
            raise SimulationError(
                f"lists of {slots} slots, but examination probabilities for only "
                f"{len(self.examination)}: build the model for at least {slots} slots"
            )
        return np.asarray(self.examination[:slots], dtype=np.float64)

    def click_probabilities(self, attraction: FloatArray) -> FloatArray:
        """``θ_k·α_k`` in every slot."""
        return np.asarray(attraction * self._theta(attraction), dtype=np.float64)

    def any_click(self, attraction: FloatArray) -> FloatArray:
        """``1 - Π(1 - θ_k·α_k)``."""
        return np.asarray(1.0 - np.prod(1.0 - self.click_probabilities(attraction), axis=-1))

    def expected_clicks(self, attraction: FloatArray) -> FloatArray:
        """``Σ θ_k·α_k``."""
        return np.asarray(self.click_probabilities(attraction).sum(axis=-1), dtype=np.float64)

    def team_wins(
        self, attraction: FloatArray, teams: npt.NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray]:
        """Exact, by convolving independent clicks into the law of ``clicks_0 - clicks_1``."""
        p = self.click_probabilities(attraction)
        lists, slots = p.shape
        dist = np.zeros((lists, 2 * slots + 1))
        dist[:, slots] = 1.0
        for k in range(slots):
            step = np.where(teams[:, k] == 0, 1, np.where(teams[:, k] == 1, -1, 0))
            pk = p[:, k : k + 1]
            shifted = np.zeros_like(dist)
            for s in (1, -1):
                rows = step == s
                shifted[rows] = np.roll(dist[rows], s, axis=1)
            rows = step == 0
            shifted[rows] = dist[rows]
            dist = (1.0 - pk) * dist + pk * shifted
        return dist[:, slots + 1 :].sum(axis=1), dist[:, :slots].sum(axis=1)

    def sample(self, attraction: FloatArray, rng: np.random.Generator) -> BoolArray:
        """Each slot clicked independently with ``θ_k·α_k``."""
        p = self.click_probabilities(attraction)
        return np.asarray(rng.random(p.shape) < p, dtype=np.bool_)


@dataclass(frozen=True)
class Cascade:
    """The cascade model: scan down, click the first attractive item, stop."""

    name: str = "cascade"

    def click_probabilities(self, attraction: FloatArray) -> FloatArray:
        """``α_k·Π_{j<k}(1 - α_j)``."""
        survive = np.cumprod(1.0 - attraction, axis=-1)
        before = np.concatenate([np.ones_like(survive[..., :1]), survive[..., :-1]], axis=-1)
        return np.asarray(attraction * before, dtype=np.float64)

    def any_click(self, attraction: FloatArray) -> FloatArray:
        """``1 - Π(1 - α_k)``."""
        return np.asarray(1.0 - np.prod(1.0 - attraction, axis=-1))

    def expected_clicks(self, attraction: FloatArray) -> FloatArray:
        """At most one click: the same as :meth:`any_click`."""
        return self.any_click(attraction)

    def team_wins(
        self, attraction: FloatArray, teams: npt.NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray]:
        """The single click's probability summed over each team's slots."""
        p = self.click_probabilities(attraction)
        return (
            np.asarray(np.where(teams == 0, p, 0.0).sum(axis=1), dtype=np.float64),
            np.asarray(np.where(teams == 1, p, 0.0).sum(axis=1), dtype=np.float64),
        )

    def sample(self, attraction: FloatArray, rng: np.random.Generator) -> BoolArray:
        """One uniform per list picks the clicked slot (or none) from the exact probabilities."""
        p = self.click_probabilities(attraction)
        edges = np.cumsum(p, axis=-1)
        draw = rng.random((*p.shape[:-1], 1))
        slot = np.sum(edges <= draw, axis=-1)
        return np.asarray(np.arange(p.shape[-1]) == slot[..., None], dtype=np.bool_)


def click_model(name: str, slots: int) -> ClickModel:
    """A click model by name: ``pbm`` (:class:`PositionBased`, ``θ_k = 1/k``) or ``cascade``.

    Raises:
        SimulationError: an unknown name.
    """
    if name in ("pbm", "position-based"):
        return PositionBased.power(slots)
    if name == "cascade":
        return Cascade()
    raise SimulationError(f"unknown click model {name!r}: use 'pbm' or 'cascade'")
