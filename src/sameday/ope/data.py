"""Logged rounds for off-policy evaluation, as aligned NumPy arrays.

A round is one action shown in one position: the action (an item, or an arm), its position
(1-based), the reward that followed, and the probability the logging policy had of choosing it
there (the propensity). That is the Open Bandit Dataset's shape; sameday's exposures become
rounds the same way (:func:`sameday.events.to_obd_rows` for items; one round per exposure for
arms).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from sameday.errors import LoggedDataError
from sameday.events.obd import from_obd_csv, to_obd_rows
from sameday.events.records import Exposure, Outcome

Level = Literal["item", "arm"]


@dataclass(frozen=True)
class LoggedData:
    """Aligned arrays, one entry per round.

    Attributes:
        actions: the action shown, as an index into ``action_names``.
        action_names: every action seen in the log, sorted.
        positions: the 1-based slot of the round.
        rewards: the reward (0/1 for clicks).
        pscores: the logging policy's probability of the action in that slot.
        units: the unit (context key) of the round, for result-set policies.
    """

    actions: npt.NDArray[np.int64]
    action_names: tuple[str, ...]
    positions: npt.NDArray[np.int64]
    rewards: npt.NDArray[np.float64]
    pscores: npt.NDArray[np.float64]
    units: tuple[str, ...]

    @property
    def rounds(self) -> int:
        """The number of rounds."""
        return int(self.actions.size)

    @property
    def slots(self) -> int:
        """The number of positions (the longest position seen)."""
        return int(self.positions.max()) if self.rounds else 0

    @classmethod
    def build(
        cls,
        actions: Iterable[str],
        positions: Iterable[int],
        rewards: Iterable[float],
        pscores: Iterable[float | None],
        units: Iterable[str],
        *,
        source: str,
    ) -> LoggedData:
        """Check and pack rounds.

        Raises:
            LoggedDataError: no rounds, or a propensity missing or not in (0, 1].
        """
        names = list(actions)
        scores = list(pscores)
        if not names:
            raise LoggedDataError(f"{source} has no logged rounds to evaluate")
        bad = [i for i, p in enumerate(scores) if p is None or not 0.0 < p <= 1.0]
        if bad:
            raise LoggedDataError(
                f"{source}: {len(bad)} round(s) lack a propensity in (0, 1] (first: round "
                f"{bad[0]}); off-policy evaluation needs logs that record propensities"
            )
        vocabulary = tuple(sorted(set(names)))
        index = {name: i for i, name in enumerate(vocabulary)}
        return cls(
            actions=np.array([index[n] for n in names], dtype=np.int64),
            action_names=vocabulary,
            positions=np.array(list(positions), dtype=np.int64),
            rewards=np.array(list(rewards), dtype=np.float64),
            pscores=np.array(scores, dtype=np.float64),
            units=tuple(units),
        )


def from_obd(path: str | Path) -> LoggedData:
    """Rounds of an Open Bandit Dataset ``all.csv`` (see :func:`sameday.events.from_obd_csv`)."""
    exposures, outcomes = from_obd_csv(path)
    return from_exposures(exposures, outcomes, level="item", source=str(path))


def from_exposures(
    exposures: Iterable[Exposure],
    outcomes: Iterable[Outcome],
    *,
    level: Level = "item",
    reward_event: str = "click",
    window: float | None = None,
    source: str = "the event log",
) -> LoggedData:
    """Rounds of sameday exposures and outcomes.

    Args:
        level: ``item``: each shown item is a round (action = item, OBD-style); ``arm``: each
            exposure is a round (action = its arm, reward = any reward event for the request
            within ``window`` seconds), what a bandit over arms is judged on.
        reward_event: the outcome name that is the reward.
        window: for ``arm``, the seconds after the exposure a reward counts (``None``: any).
    """
    if level == "item":
        logged = list(exposures)
        rows = to_obd_rows(logged, list(outcomes), reward_event)
        return LoggedData.build(
            (str(row["item_id"]) for row in rows),
            (int(row["position"]) for row in rows),
            (float(row["click"]) for row in rows),
            (row["propensity_score"] for row in rows),
            [e.unit for e in logged for _ in e.items],
            source=source,
        )
    shown = [e for e in exposures if e.arm is not None]
    times = {e.request_id: e.time for e in shown}
    rewarded: set[str] = set()
    for outcome in outcomes:
        served = times.get(outcome.request_id or "") if outcome.name == reward_event else None
        if served is not None and (window is None or 0.0 <= outcome.time - served <= window):
            rewarded.add(outcome.request_id or "")
    return LoggedData.build(
        (e.arm or "" for e in shown),
        (1 for _ in shown),
        (float(e.request_id in rewarded) for e in shown),
        (e.propensity for e in shown),
        (e.unit for e in shown),
        source=source,
    )
