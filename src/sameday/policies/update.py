"""Batch posterior updates of a bandit from the event log, saved as a new parameter snapshot.

The reward of an exposure is whether an outcome named ``bandit.reward.event`` with the same
``request_id`` arrived within ``bandit.reward.window`` seconds after it. An exposure is counted
only once its window has closed (served before ``now - window``), so a reward still to come is
never recorded as a failure; each update counts the exposures served between the previous
snapshot's ``through`` and that cutoff, exactly once.

The result is saved as an immutable snapshot (version ``previous + 1``); servers pick it up on
their next refresh. ``sameday bandit update`` runs one update, ``sameday serve`` runs one every
``bandit.update_interval``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sameday.config.experiment import Bandit, Experiment
from sameday.errors import NotABandit
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import EventSink
from sameday.policies.bandit import BanditParams, allocation, initial_params

if TYPE_CHECKING:
    from sameday.metadata.records import BanditParamsRecord


class ParamStore(Protocol):
    """Where parameter snapshots live: ``sameday.metadata.MetadataStore`` implements it."""

    def latest_bandit_params(self, experiment: str) -> BanditParamsRecord | None:
        """The live snapshot, or ``None`` before the first update."""

    def save_bandit_params(
        self, experiment: str, params: dict[str, Any], *, expected_version: int | None
    ) -> BanditParamsRecord:
        """Insert the snapshot after ``expected_version``, atomically."""


@dataclass(frozen=True)
class UpdateResult:
    """What one update did: the live version and parameters, and how many exposures it added."""

    experiment: str
    version: int
    params: BanditParams
    counted: int
    rewarded: int
    saved: bool


def count_rewards(
    exposures: Iterable[Exposure],
    outcomes: Iterable[Outcome],
    arms: Sequence[str],
    *,
    event: str,
    window: float,
) -> tuple[list[int], list[int]]:
    """Successes and trials per arm (in ``arms`` order); exposures of other arms are ignored."""
    index = {arm: k for k, arm in enumerate(arms)}
    served: dict[str, tuple[int, float]] = {}
    for exposure in exposures:
        k = index.get(exposure.arm or "")
        if k is not None:
            served[exposure.request_id] = (k, exposure.time)
    trials = [0] * len(arms)
    for k, _ in served.values():
        trials[k] += 1
    rewarded: set[str] = set()
    for outcome in outcomes:
        hit = served.get(outcome.request_id or "") if outcome.name == event else None
        if hit is not None and 0.0 <= outcome.time - hit[1] <= window:
            rewarded.add(outcome.request_id or "")
    successes = [0] * len(arms)
    for request_id in rewarded:
        successes[served[request_id][0]] += 1
    return successes, trials


def advance(
    previous: BanditParams,
    settings: Bandit,
    experiment: str,
    sink: EventSink,
    *,
    now: float,
    seed: int,
) -> tuple[BanditParams, int, int]:
    """The parameters after counting every exposure whose reward window closed by ``now``.

    Returns the new parameters, the exposures counted and those rewarded.
    """
    cutoff = now - settings.reward.window
    if cutoff <= previous.through:
        return previous, 0, 0
    exposures = sink.read_exposures(experiment=experiment, since=previous.through, until=cutoff)
    outcomes = sink.read_outcomes(experiment=experiment, since=previous.through, until=now)
    successes, trials = count_rewards(
        exposures,
        outcomes,
        previous.arms,
        event=settings.reward.event,
        window=settings.reward.window,
    )
    total_s = [a + b for a, b in zip(previous.successes, successes, strict=True)]
    total_n = [a + b for a, b in zip(previous.trials, trials, strict=True)]
    params = BanditParams(
        algorithm=settings.algorithm,
        arms=previous.arms,
        successes=tuple(total_s),
        trials=tuple(total_n),
        prior_alpha=settings.prior_alpha,
        prior_beta=settings.prior_beta,
        allocation=tuple(allocation(settings, total_s, total_n, seed=seed)),
        through=cutoff,
    )
    return params, sum(trials), sum(successes)


def update_bandit(
    experiment: str,
    arms: Sequence[str],
    settings: Bandit,
    store: ParamStore,
    sink: EventSink,
    *,
    now: float | None = None,
) -> UpdateResult:
    """Count new rewards for ``experiment`` and save the next snapshot if anything changed.

    A snapshot whose arms differ from ``arms`` (arms were renamed or added) is not continued:
    counting restarts from a uniform allocation.

    Raises:
        BanditParamsConflict: another update saved first; nothing was saved.
        BanditSettingsError: the settings allow no valid allocation.
    """
    moment = time.time() if now is None else now
    live = store.latest_bandit_params(experiment)
    version = 0 if live is None else live.version
    previous = None if live is None else BanditParams.from_json(live.params)
    if previous is None or list(previous.arms) != list(arms):
        previous = initial_params(arms, settings, start=0.0)
    params, counted, rewarded = advance(
        previous, settings, experiment, sink, now=moment, seed=version + 1
    )
    if live is not None and (params is previous or counted == 0):
        # No exposure's window closed since the live snapshot: it stays live, unchanged, and
        # the next update counts from its cut-off again.
        return UpdateResult(experiment, version, previous, 0, 0, saved=False)
    record = store.save_bandit_params(
        experiment, params.to_json(), expected_version=None if live is None else version
    )
    return UpdateResult(experiment, record.version, params, counted, rewarded, saved=True)


def update_experiment(
    experiment: Experiment, store: ParamStore, sink: EventSink, *, now: float | None = None
) -> UpdateResult:
    """:func:`update_bandit` for an experiment's configuration.

    Raises:
        NotABandit: the experiment's design is not ``bandit``.
    """
    if experiment.design != "bandit":
        raise NotABandit(
            f"experiment {experiment.name!r} has design {experiment.design!r}: only "
            "design: bandit experiments have posteriors to update"
        )
    arms = [arm.name for arm in experiment.arms]
    return update_bandit(experiment.name, arms, experiment.bandit or Bandit(), store, sink, now=now)
