"""Grading online tests against the simulator's truth, and the users each design needs.

:func:`grade` says whether a report's verdict agrees with the truth. :func:`ab_users` and
:func:`interleaving_users` size the two designs for the same comparison at the same ``alpha`` and
power, so the quickstart can say how many users interleaving needed compared with A/B:

- A/B on a proportion (the ``ctr`` metric): twice the per-arm size of
  :func:`sameday.analysis.stats.power.sample_size_proportions` (pooled-variance normal test).
- Interleaving, as its report decides (a two-sided sign test over the users with a
  preference): with ``q`` the share of those users preferring B and ``d`` the share of all users
  who show a preference, ``n = ((z_{1-α/2}·½ + z_{power}·sqrt(q(1-q))) / (q - ½))² / d``
  users — the normal approximation of the binomial test, divided by ``d`` because users without
  a preference carry no information.
"""

from __future__ import annotations

import math
from typing import Literal

from scipy import stats

from sameday.analysis.stats.power import sample_size_proportions
from sameday.errors import SimulationError

Grade = Literal["right", "wrong", "inconclusive"]


def grade(verdict: str, arm: str | None, better: str, worse: str) -> Grade:
    """``right`` when the verdict picks the truly better arm, ``wrong`` when it picks the worse.

    ``verdict`` is the report's (``ship``, ``stop for harm``, ``keep running``, ...); ``arm`` the
    arm it names. ``stop for harm`` on a treatment arm picks the control, i.e. the other arm.
    Anything else is ``inconclusive``: no decision is not a wrong decision.
    """
    if verdict == "ship" and arm is not None:
        return "right" if arm == better else "wrong"
    if verdict == "stop for harm" and arm is not None:
        return "right" if arm == worse else "wrong"
    return "inconclusive"


def ab_users(control: float, treatment: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Users (both arms together) an A/B test needs to tell ``control`` from ``treatment``."""
    return 2.0 * sample_size_proportions(control, treatment, alpha=alpha, power=power)


def interleaving_users(
    share: float, decided: float, *, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Users an interleaving test needs to detect a preference ``share`` (see module docstring).

    Raises:
        SimulationError: ``share`` is exactly 1/2 (no preference: no size suffices), or a rate
            outside (0, 1).
    """
    if not 0.0 < share < 1.0 or not 0.0 < decided <= 1.0:
        raise SimulationError(
            f"share must be in (0, 1) and decided in (0, 1]; got share={share}, decided={decided}"
        )
    if share == 0.5:
        raise SimulationError("a preference share of exactly 1/2 cannot be detected at any size")
    z_a = float(stats.norm.ppf(1 - alpha / 2))
    z_b = float(stats.norm.ppf(power))
    n = ((z_a * 0.5 + z_b * math.sqrt(share * (1 - share))) / (share - 0.5)) ** 2
    return n / decided
