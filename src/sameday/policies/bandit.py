"""Context-free bandits over an experiment's arms: the parameters, the allocation, the pick.

A bandit's state is a :class:`BanditParams` snapshot: per arm the rewards and trials counted so
far, and the **allocation**, the probability of serving each arm until the next update. Every
algorithm is reduced to that allocation once per update, off the serving path:

- **Thompson sampling** (default): serving arm ``k`` with probability
  ``P(θ_k = max_j θ_j)`` under the Beta posteriors *is* Thompson sampling's action distribution,
  so the allocation is that probability, estimated by Monte Carlo (seeded, 20,000 draws: error at
  most 0.0035) and then served exactly. The logged propensity is therefore the true probability
  of the served arm, not an estimate of an estimate, and a Thompson pick costs a hash and a
  bisection instead of one Beta draw per arm.
- **epsilon-greedy**: ``ε/K`` to every arm plus ``1 - ε`` to the best posterior mean (split on
  ties), in closed form.
- **softmax**: ``exp(mean_k / τ)``, normalised, in closed form.

Then a **minimum share** ``m`` keeps every arm alive: ``p_k ← m + (1 - K·m)·p_k``. Before
``warmup_units`` exposures have been counted the allocation is uniform.

:meth:`BanditPolicy.pick` draws the arm from the uniform number keyed by
``(experiment, unit, request)``, so the served arm is reproducible from the exposure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from math import exp
from typing import Any

from sameday.config.experiment import Bandit
from sameday.errors import BanditSettingsError
from sameday.policies.keyed import keyed_uniform

THOMPSON_DRAWS = 20_000
"""Monte Carlo draws behind a Thompson allocation."""


@dataclass(frozen=True, slots=True)
class BanditParams:
    """One immutable snapshot of a bandit's state (stored as JSON, see :meth:`to_json`).

    Attributes:
        algorithm: ``thompson``, ``epsilon_greedy`` or ``softmax``.
        arms: arm names, in the experiment's order.
        successes, trials: rewarded exposures and counted exposures per arm.
        prior_alpha, prior_beta: the Beta prior the posteriors start from.
        allocation: the probability of serving each arm until the next update.
        through: exposures served before this time (seconds since the epoch) are counted.
    """

    algorithm: str
    arms: tuple[str, ...]
    successes: tuple[int, ...]
    trials: tuple[int, ...]
    prior_alpha: float
    prior_beta: float
    allocation: tuple[float, ...]
    through: float

    @property
    def exposures(self) -> int:
        """Exposures counted so far, over all arms."""
        return sum(self.trials)

    def to_json(self) -> dict[str, Any]:
        """The snapshot as JSON-ready data."""
        return {
            "algorithm": self.algorithm,
            "arms": list(self.arms),
            "successes": list(self.successes),
            "trials": list(self.trials),
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
            "allocation": list(self.allocation),
            "through": self.through,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BanditParams:
        """The snapshot :meth:`to_json` wrote."""
        return cls(
            algorithm=str(data["algorithm"]),
            arms=tuple(str(a) for a in data["arms"]),
            successes=tuple(int(v) for v in data["successes"]),
            trials=tuple(int(v) for v in data["trials"]),
            prior_alpha=float(data["prior_alpha"]),
            prior_beta=float(data["prior_beta"]),
            allocation=tuple(float(v) for v in data["allocation"]),
            through=float(data["through"]),
        )


def initial_params(arms: Sequence[str], settings: Bandit, *, start: float) -> BanditParams:
    """The state before any update: no counts, a uniform allocation."""
    k = len(arms)
    return BanditParams(
        algorithm=settings.algorithm,
        arms=tuple(arms),
        successes=(0,) * k,
        trials=(0,) * k,
        prior_alpha=settings.prior_alpha,
        prior_beta=settings.prior_beta,
        allocation=(1.0 / k,) * k,
        through=start,
    )


def allocation(
    settings: Bandit, successes: Sequence[int], trials: Sequence[int], *, seed: int = 0
) -> list[float]:
    """Each arm's serving probability for these counts (see the module docstring).

    Raises:
        BanditSettingsError: ``min_share`` times the number of arms exceeds 1.
    """
    k = len(trials)
    if settings.min_share * k > 1.0 + 1e-12:
        raise BanditSettingsError(
            f"bandit min_share {settings.min_share:g} x {k} arms exceeds 1: lower min_share to "
            f"at most {1.0 / k:.4g}"
        )
    if sum(trials) < settings.warmup_units:
        return [1.0 / k] * k
    alphas = [settings.prior_alpha + s for s in successes]
    betas = [settings.prior_beta + n - s for s, n in zip(successes, trials, strict=True)]
    means = [a / (a + b) for a, b in zip(alphas, betas, strict=True)]
    if settings.algorithm == "thompson":
        from sameday.analysis.stats.bandit import probability_best

        shares, _ = probability_best(alphas, betas, draws=THOMPSON_DRAWS, seed=seed)
    elif settings.algorithm == "epsilon_greedy":
        best = max(means)
        leaders = [m == best for m in means]
        greedy = (1.0 - settings.epsilon) / sum(leaders)
        shares = [settings.epsilon / k + (greedy if lead else 0.0) for lead in leaders]
    else:
        top = max(means)
        weights = [exp((m - top) / settings.temperature) for m in means]
        total = sum(weights)
        shares = [w / total for w in weights]
    floor = settings.min_share
    return [floor + (1.0 - k * floor) * p for p in shares]


@dataclass(frozen=True, slots=True)
class BanditPolicy:
    """A bandit as served: the arms and the live allocation of one parameter snapshot."""

    experiment: str
    arms: tuple[str, ...]
    allocation: tuple[float, ...]
    version: int
    _edges: tuple[float, ...]

    @classmethod
    def build(cls, experiment: str, params: BanditParams, version: int) -> BanditPolicy:
        """Precompute the cumulative allocation once per snapshot."""
        total = sum(params.allocation)
        shares = tuple(p / total for p in params.allocation)
        edges = tuple(accumulate(shares))[:-1]
        return cls(experiment, params.arms, shares, version, edges)

    def pick(self, unit: str, request: str) -> tuple[int, float]:
        """The arm index served to this request, and its probability (the propensity)."""
        index = bisect_right(self._edges, keyed_uniform(self.experiment, unit, request))
        while not self.allocation[index]:  # float sums can leave a sliver to a trailing 0 share
            index -= 1
        return index, self.allocation[index]
