"""Bandits on a running server: load live parameter snapshots, and update them on a timer.

Serving reads a :class:`~sameday.policies.bandit.BanditPolicy` per bandit experiment from
``Engine.bandits``, one reference swapped whole. :func:`load_policies` rebuilds that mapping when
a snapshot version changed (the refresher calls it on every poll: one small query).
:class:`BanditUpdater` is the thread ``sameday serve`` runs to count rewards and save the next
snapshot every ``bandit.update_interval``; with several replicas the first to save wins each
round and the others' attempts end in a harmless conflict.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sameday.errors import SamedayError
from sameday.policies.bandit import BanditParams, BanditPolicy
from sameday.serve.state import ExperimentPlan, ServingState

if TYPE_CHECKING:
    from sameday.config.experiment import Bandit
    from sameday.events.sink import EventSink
    from sameday.metadata.records import BanditParamsRecord
    from sameday.policies.update import ParamStore


@dataclass(frozen=True, slots=True)
class BanditPlan:
    """A bandit's settings and the uniform policy it serves until its first parameter snapshot
    (what the ``bandit`` design compiles into ``ExperimentPlan.settings``)."""

    settings: Bandit
    initial: BanditPolicy


class ParamSource(Protocol):
    """Reads live bandit parameters (``MetadataStore`` implements it)."""

    def bandit_versions(self) -> dict[str, int]:
        """Every bandit experiment's live snapshot version."""

    def latest_bandit_params(self, experiment: str) -> BanditParamsRecord | None:
        """The live snapshot of ``experiment``."""


def bandit_plans(state: ServingState) -> list[ExperimentPlan]:
    """The bandit experiments ``state`` serves (their ``settings`` is a :class:`BanditPlan`)."""
    return [
        experiment
        for surface in state.surfaces.values()
        for experiment in surface.experiments
        if isinstance(experiment.settings, BanditPlan)
    ]


def load_policies(
    source: ParamSource, state: ServingState, current: Mapping[str, BanditPolicy]
) -> dict[str, BanditPolicy]:
    """The policy of every bandit in ``state`` with a live snapshot, reusing unchanged ones.

    A snapshot whose arms are not the experiment's (it was saved before the arms changed) is
    ignored: the experiment serves its uniform start until the next update.
    """
    plans = bandit_plans(state)
    if not plans:
        return {}
    versions = source.bandit_versions()
    policies: dict[str, BanditPolicy] = {}
    for plan in plans:
        version = versions.get(plan.name)
        if version is None:
            continue
        arms = tuple(arm.name for arm in plan.arms)
        known = current.get(plan.name)
        if known is not None and known.version == version and known.arms == arms:
            policies[plan.name] = known
            continue
        record = source.latest_bandit_params(plan.name)
        if record is None:
            continue
        params = BanditParams.from_json(record.params)
        if params.arms == arms:
            policies[plan.name] = BanditPolicy.build(plan.name, params, record.version)
    return policies


class BanditUpdater:
    """Runs each bandit's update every ``bandit.update_interval`` seconds on a daemon thread.

    Args:
        store: where snapshots are read and saved.
        sink: the event log to count rewards from (a sink of its own, not the writer's).
        state: a callable giving the state currently served (experiments come and go).
        tick: how often, in seconds, to check whether an update is due.
    """

    def __init__(
        self,
        store: ParamStore,
        sink: EventSink,
        state: Callable[[], ServingState],
        *,
        tick: float = 1.0,
    ) -> None:
        self.store = store
        self.sink = sink
        self.state = state
        self.errors = 0
        self.updates = 0
        self._due: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(tick,), name="sameday-bandits", daemon=True
        )

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def run_due(self, now: float | None = None) -> int:
        """Update every bandit whose interval has passed; return how many snapshots were saved."""
        from sameday.policies.update import update_bandit

        moment = time.time() if now is None else now
        saved = 0
        for plan in bandit_plans(self.state()):
            bandit: BanditPlan = plan.settings
            if self._due.get(plan.name, 0.0) > moment:
                continue
            self._due[plan.name] = moment + bandit.settings.update_interval
            arms = [arm.name for arm in plan.arms]
            try:
                result = update_bandit(
                    plan.name, arms, bandit.settings, self.store, self.sink, now=moment
                )
            except SamedayError:  # a conflict or an unreachable database: next interval
                self.errors += 1
                continue
            saved += int(result.saved)
        self.updates += saved
        return saved

    def _loop(self, tick: float) -> None:
        while not self._stop.wait(tick):
            try:
                self.run_due()
            except Exception:  # the updater must outlive any one bad round
                self.errors += 1

    def close(self) -> None:
        """Stop the thread (waits for a round in progress) and close the sink."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.sink.close()
