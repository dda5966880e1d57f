"""Bandit allocations, picks, propensities, and batch updates from the event log."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from sameday.config.experiment import Bandit
from sameday.errors import BanditParamsConflict, BanditSettingsError
from sameday.events.memory import MemorySink
from sameday.events.records import Exposure, Outcome
from sameday.metadata import MetadataStore
from sameday.policies.bandit import BanditParams, BanditPolicy, allocation, initial_params
from sameday.policies.update import count_rewards, update_bandit

S, N = [30, 10, 5], [100, 100, 100]


@pytest.mark.parametrize("algorithm", ["thompson", "epsilon_greedy", "softmax"])
def test_allocations_sum_to_one_and_keep_the_minimum_share(algorithm: str) -> None:
    settings = Bandit(algorithm=algorithm, min_share=0.05)
    shares = allocation(settings, S, N)
    assert abs(sum(shares) - 1.0) < 1e-9
    assert min(shares) >= 0.05 - 1e-12 and shares[0] == max(shares)


def test_closed_forms() -> None:
    eps = allocation(Bandit(algorithm="epsilon_greedy", epsilon=0.3), S, N)
    assert eps == pytest.approx([0.1 + 0.7, 0.1, 0.1])
    soft = allocation(Bandit(algorithm="softmax", temperature=0.1), S, N)
    means = [(1 + s) / (2 + n) for s, n in zip(S, N, strict=True)]
    weights = [math.exp(m / 0.1) for m in means]
    assert soft == pytest.approx([w / sum(weights) for w in weights])


def test_warmup_is_uniform_and_min_share_is_checked() -> None:
    assert allocation(Bandit(warmup_units=1000), S, N) == [1 / 3] * 3
    with pytest.raises(BanditSettingsError, match="lower min_share"):
        allocation(Bandit(min_share=0.4), S, N)


def test_pick_follows_the_allocation_and_is_reproducible() -> None:
    params = initial_params(["a", "b", "c"], Bandit(), start=0.0)
    params = BanditParams(
        **{
            **params.to_json(),
            "arms": ("a", "b", "c"),
            "successes": (0, 0, 0),
            "trials": (0, 0, 0),
            "allocation": (0.7, 0.3, 0.0),
        }
    )
    policy = BanditPolicy.build("exp", params, 1)
    counts = Counter(policy.pick("u", str(r))[0] for r in range(20_000))
    assert counts[2] == 0 and abs(counts[0] / 20_000 - 0.7) < 0.015
    assert policy.pick("u", "r1") == policy.pick("u", "r1")
    assert policy.pick("u", "r1")[1] in (0.7, 0.3)


def test_rewards_count_only_within_the_window() -> None:
    exposures = [
        Exposure(request_id="r1", time=100.0, unit="u", surface="s", items=(), arm="a"),
        Exposure(request_id="r2", time=100.0, unit="u", surface="s", items=(), arm="b"),
        Exposure(request_id="r3", time=100.0, unit="u", surface="s", items=(), arm="b"),
    ]
    outcomes = [
        Outcome(event_id="1", unit="u", name="click", time=150.0, request_id="r1"),
        Outcome(event_id="2", unit="u", name="click", time=170.0, request_id="r1"),
        Outcome(event_id="3", unit="u", name="click", time=500.0, request_id="r2"),  # too late
        Outcome(event_id="4", unit="u", name="buy", time=110.0, request_id="r3"),  # other event
    ]
    assert count_rewards(exposures, outcomes, ["a", "b"], event="click", window=60.0) == (
        [1, 0],
        [1, 2],
    )


@dataclass
class MemoryParams:
    saved: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def latest_bandit_params(self, experiment: str) -> Any:
        return None if not self.saved else _Record(*self.saved[-1])

    def save_bandit_params(self, experiment: str, params: dict[str, Any], *, expected_version):
        self.saved.append((len(self.saved) + 1, params))
        return _Record(*self.saved[-1])


@dataclass
class _Record:
    version: int
    params: dict[str, Any]


def _log(sink: MemorySink, arm: str, t: float, rid: str, reward: bool) -> None:
    sink.write_exposures(
        [
            Exposure(
                request_id=rid,
                time=t,
                unit=rid,
                surface="s",
                items=("x",),
                experiment="exp",
                arm=arm,
                design="bandit",
                propensity=0.5,
            )
        ]
    )
    if reward:
        sink.write_outcomes(
            [Outcome(event_id=rid, unit=rid, name="click", time=t + 1, request_id=rid)]
        )


def test_update_counts_each_closed_exposure_once() -> None:
    sink = MemorySink()
    for i in range(40):
        _log(sink, "a" if i % 2 else "b", 1000.0 + i, f"r{i}", reward=i % 2 == 1 and i % 4 == 1)
    settings = Bandit(reward={"event": "click", "window": 100.0}, algorithm="epsilon_greedy")
    store = MemoryParams()
    first = update_bandit("exp", ["a", "b"], settings, store, sink, now=1120.0)
    assert first.saved and first.counted == 20 and first.params.through == 1020.0
    second = update_bandit("exp", ["a", "b"], settings, store, sink, now=1120.0)
    assert not second.saved
    third = update_bandit("exp", ["a", "b"], settings, store, sink, now=2000.0)
    assert third.version == 2 and third.params.trials == (20, 20)
    assert third.params.successes == (10, 0) and third.params.allocation[0] == pytest.approx(0.95)


def test_snapshots_swap_atomically_in_the_metadata_store(tmp_path) -> None:
    with MetadataStore.open(f"sqlite:///{tmp_path}/m.db") as store:
        assert store.latest_bandit_params("exp") is None
        one = store.save_bandit_params("exp", {"k": 1}, expected_version=None)
        two = store.save_bandit_params("exp", {"k": 2}, expected_version=1)
        with pytest.raises(BanditParamsConflict, match="run the update again"):
            store.save_bandit_params("exp", {"k": 3}, expected_version=1)
        assert (one.version, two.version) == (1, 2)
        assert store.latest_bandit_params("exp").params == {"k": 2}
        assert store.bandit_versions() == {"exp": 2}
        assert [r.version for r in store.bandit_history("exp")] == [2, 1]
        assert two.created_at.tzinfo is not None and two.created_at <= datetime.now(UTC)


def test_snapshots_on_postgres(postgres_url: str) -> None:
    with MetadataStore.open(postgres_url) as store:
        store.save_bandit_params("exp", {"k": 1}, expected_version=None)
        with pytest.raises(BanditParamsConflict):
            store.save_bandit_params("exp", {"k": 2}, expected_version=None)
        assert store.bandit_versions() == {"exp": 1}
