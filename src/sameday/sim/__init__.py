"""A seeded simulator of users, items and clicks, whose true effects are known exactly.

- :mod:`sameday.sim.world`: latent tastes and a long tail of popularity; attraction in closed form.
- :mod:`sameday.sim.interactions`: logged training interactions and the offline hold-out.
- :mod:`sameday.sim.clicks`: position-based and cascade click models, exact and sampled.
- :mod:`sameday.sim.truth`: the exact A/B lift and interleaving preference of two rankers.
- :mod:`sameday.sim.data`: the data set on disk (``python -m sameday.sim generate``).
- :mod:`sameday.sim.segments`: users of heterogeneous tastes with dimensions, and the exact
  effect of personalisation on each user and segment.
- :mod:`sameday.sim.who_benefits`: the ``sameday demo --variant who-benefits`` run, graded.
- :mod:`sameday.sim.timeline` and :mod:`sameday.sim.incidents`: days of the quickstart with
  incidents of known truth, watched by the metric monitors (``sameday demo --incidents``).

The quickstart (``sameday demo``) grades its online tests against :mod:`sameday.sim.truth`.
"""

from sameday.errors import SimulationError
from sameday.sim.clicks import Cascade, ClickModel, PositionBased, click_model
from sameday.sim.interactions import Interactions, log_interactions, split
from sameday.sim.truth import ABTruth, InterleavingTruth, ab_truth, interleaving_truth, served
from sameday.sim.world import World, load_world, make_world

__all__ = [
    "ABTruth",
    "Cascade",
    "ClickModel",
    "Interactions",
    "InterleavingTruth",
    "PositionBased",
    "SimulationError",
    "World",
    "ab_truth",
    "click_model",
    "interleaving_truth",
    "load_world",
    "log_interactions",
    "make_world",
    "served",
    "split",
]
