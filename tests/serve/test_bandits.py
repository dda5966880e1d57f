"""Bandits on a server: live parameter snapshots loaded per poll, and the timed updater."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sameday.events.records import Exposure, Outcome
from sameday.events.sink import EventSink, open_sink
from sameday.metadata import MetadataStore
from sameday.policies.bandit import BanditParams
from sameday.serve.bandits import BanditUpdater, bandit_plans, load_policies
from sameday.serve.state import ServingState, build_state
from sameday.testing import experiment_spec, surface_spec

NOW = 1_800_000_000.0
ARMS = ("x", "y")


def specs(*, arms: tuple[str, ...] = ARMS, interval: float = 60) -> dict[Any, Any]:
    return {
        ("surface", "home"): surface_spec("home", "popular"),
        ("surface", "mail"): surface_spec("mail", "popular"),
        ("experiment", "band"): experiment_spec(
            "band",
            "home",
            {arm: "popular" for arm in arms},
            design="bandit",
            bandit={"reward": {"window": 60}, "update_interval": interval},
        ),
        ("experiment", "ab"): experiment_spec("ab", "mail", {"a": "popular", "b": "popular"}),
    }


@pytest.fixture
def metadata(sqlite_url: str) -> Iterator[MetadataStore]:
    with MetadataStore.open(sqlite_url) as store:
        yield store


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[EventSink]:
    with open_sink(f"sqlite:///{tmp_path / 'events.db'}") as opened:
        yield opened


def params(arms: tuple[str, ...], allocation: tuple[float, ...]) -> dict[str, Any]:
    zeros = (0,) * len(arms)
    return BanditParams("thompson", arms, zeros, zeros, 1.0, 1.0, allocation, 0.0).to_json()


def log_rounds(sink: EventSink, *, at: float, clicked: dict[str, int], rounds: int = 10) -> None:
    """``rounds`` exposures per arm at time ``at``; the first ``clicked[arm]`` are clicked."""
    exposures, outcomes = [], []
    for arm in ARMS:
        for i in range(rounds):
            request = f"{arm}-{at}-{i}"
            exposures.append(
                Exposure(
                    request_id=request,
                    time=at,
                    unit=f"u{i}",
                    surface="home",
                    items=("i",),
                    experiment="band",
                    arm=arm,
                    design="bandit",
                    propensity=0.5,
                )
            )
            if i < clicked[arm]:
                outcomes.append(
                    Outcome(
                        event_id=f"e-{request}",
                        unit=f"u{i}",
                        name="click",
                        time=at + 1,
                        request_id=request,
                    )
                )
    sink.write_exposures(exposures)
    sink.write_outcomes(outcomes)


def test_bandit_plans_are_the_bandit_experiments_of_every_surface() -> None:
    state = build_state(specs())
    assert [plan.name for plan in bandit_plans(state)] == ["band"]
    assert bandit_plans(ServingState.empty()) == []


def test_no_snapshot_yet_leaves_the_uniform_start(metadata: MetadataStore) -> None:
    assert load_policies(metadata, build_state(specs()), {}) == {}


def test_the_live_snapshot_is_loaded_and_reused_until_it_changes(
    metadata: MetadataStore,
) -> None:
    state = build_state(specs())
    metadata.save_bandit_params("band", params(ARMS, (0.2, 0.8)), expected_version=None)
    first = load_policies(metadata, state, {})
    policy = first["band"]
    assert (policy.arms, policy.allocation, policy.version) == (ARMS, (0.2, 0.8), 1)
    assert load_policies(metadata, state, first)["band"] is policy  # unchanged: not rebuilt
    metadata.save_bandit_params("band", params(ARMS, (0.9, 0.1)), expected_version=1)
    second = load_policies(metadata, state, first)["band"]
    assert (second.allocation, second.version) == ((0.9, 0.1), 2)


def test_a_snapshot_of_other_arms_is_ignored(metadata: MetadataStore) -> None:
    metadata.save_bandit_params("band", params(ARMS, (0.3, 0.7)), expected_version=None)
    before = load_policies(metadata, build_state(specs()), {})
    renamed = build_state(specs(arms=("x", "y", "z")))
    assert load_policies(metadata, renamed, before) == {}  # serves its uniform start instead


def test_a_stopped_bandit_is_dropped(metadata: MetadataStore) -> None:
    metadata.save_bandit_params("band", params(ARMS, (0.3, 0.7)), expected_version=None)
    before = load_policies(metadata, build_state(specs()), {})
    without = {k: v for k, v in specs().items() if k != ("experiment", "band")}
    assert load_policies(metadata, build_state(without), before) == {}


def test_the_updater_saves_a_snapshot_per_interval(
    metadata: MetadataStore, sink: EventSink
) -> None:
    log_rounds(sink, at=NOW - 600, clicked={"x": 1, "y": 9})
    state = build_state(specs(interval=300))
    updater = BanditUpdater(metadata, sink, lambda: state)
    assert updater.run_due(NOW) == 1
    live = metadata.latest_bandit_params("band")
    assert live is not None and live.version == 1
    saved = BanditParams.from_json(live.params)
    assert saved.trials == (10, 10) and saved.successes == (1, 9)
    assert saved.allocation[1] > 0.9  # y is clicked nine times in ten, x once
    log_rounds(sink, at=NOW + 100, clicked={"x": 0, "y": 0})
    assert updater.run_due(NOW + 299) == 0  # not due yet: nothing read, nothing saved
    assert metadata.bandit_versions() == {"band": 1}
    assert updater.run_due(NOW + 300) == 1
    assert metadata.bandit_versions() == {"band": 2}
    assert updater.updates == 2 and updater.errors == 0
    updater.sink.close()


def test_an_unreachable_database_is_counted_and_retried_next_interval(
    sqlite_url: str, sink: EventSink
) -> None:
    log_rounds(sink, at=NOW - 600, clicked={"x": 1, "y": 1})
    state = build_state(specs(interval=300))
    closed = MetadataStore.open(sqlite_url)
    closed.close()
    updater = BanditUpdater(closed, sink, lambda: state)
    assert updater.run_due(NOW) == 0
    assert updater.errors == 1
    assert updater.run_due(NOW + 1) == 0 and updater.errors == 1  # waits for the next interval
    with MetadataStore.open(sqlite_url) as reopened:
        updater.store = reopened
        assert updater.run_due(NOW + 300) == 1
        assert reopened.bandit_versions() == {"band": 1}


def test_the_thread_updates_until_closed(metadata: MetadataStore, tmp_path: Path) -> None:
    own_sink = open_sink(f"sqlite:///{tmp_path / 'events.db'}")
    log_rounds(own_sink, at=time.time() - 600, clicked={"x": 2, "y": 3})
    state = build_state(specs())
    updater = BanditUpdater(metadata, own_sink, lambda: state, tick=0.01)
    updater.start()
    deadline = time.monotonic() + 5
    while updater.updates == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    updater.close()
    assert updater.updates == 1 and updater.errors == 0
    assert metadata.bandit_versions() == {"band": 1}
    assert not updater._thread.is_alive()
    with pytest.raises(Exception):  # noqa: B017 - the updater closed its sink
        log_rounds(own_sink, at=time.time(), clicked={"x": 0, "y": 0})
