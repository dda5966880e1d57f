"""Serving interleaved and bandit experiments end to end through ``Client``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sameday.events.memory import MemorySink
from sameday.events.records import Outcome
from sameday.events.writer import EventWriter
from sameday.metadata import MetadataStore
from sameday.policies.bandit import BanditParams
from sameday.policies.credit import credit_impressions
from sameday.policies.interleave import team_draft
from sameday.policies.keyed import KeyedStream
from sameday.serve.client import Client
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec


def _store() -> MemoryStore:
    store = MemoryStore()
    load_lists(store, "als", "v1", {f"u{i}": [f"a{k}" for k in range(6)] for i in range(50)})
    load_lists(store, "pop", "v1", {f"u{i}": ["a0", "p1", "p2", "p3"] for i in range(50)})
    load_lists(store, "fill", "v1", {"*": ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"]})
    return store


class Source:
    """Applied specs and bandit snapshots from a real metadata database."""

    def __init__(self, specs: dict, metadata: MetadataStore) -> None:
        self._specs = specs
        self.metadata = metadata

    def specs(self) -> dict:
        return self._specs

    def bandit_versions(self) -> dict[str, int]:
        return self.metadata.bandit_versions()

    def latest_bandit_params(self, experiment: str) -> Any:
        return self.metadata.latest_bandit_params(experiment)

    def close(self) -> None:
        self.metadata.close()


def _flushed(writer: EventWriter, sink: MemorySink):
    writer.close()
    return list(sink.read_exposures()), list(sink.read_outcomes())


def test_interleaved_experiment_through_client() -> None:
    specs = {
        ("surface", "home"): surface_spec("home", "als", fallbacks=["fill"], n=12),
        ("experiment", "il"): experiment_spec(
            "il",
            "home",
            {"als": "als", "pop": "pop"},
            design="interleave",
            interleave={"credit": "competitive_pairs"},
        ),
    }
    sink = MemorySink()
    writer = EventWriter(sink)
    client = Client(_store(), writer=writer, state=build_state(specs), refresh_interval=0)
    served = [client.recommend("home", f"u{i}") for i in range(50)]
    exposures, _ = _flushed(writer, sink)
    client.writer = None
    client.close()
    assert len(exposures) == 50
    first = exposures[0]
    assert first.design == "interleave" and first.arm is None and first.experiment == "il"
    assert len(first.items) == 12 and len(first.teams) == 12
    assert first.teams[-2:] == (None, None)  # 6 + 3 unique arm items, then fallbacks
    assert first.items[first.teams.index(None)] in {"a0", "f1"}
    assert first.extra["arms"] == ["als", "pop"] and first.extra["coins"]
    assert first.propensity == first.extra["list_probability"] > 0
    rebuilt = team_draft(
        [f"a{k}" for k in range(6)],
        ["a0", "p1", "p2", "p3"],
        12,
        KeyedStream.for_request("il", first.unit, first.request_id),
    )
    assert first.items[: len(rebuilt.items)] == rebuilt.items  # reproducible from the key
    assert [s.item for s in served[0].items] == list(first.items)
    outcomes_for = [
        Outcome(
            event_id=e.request_id,
            unit=e.unit,
            name="click",
            time=e.time,
            request_id=e.request_id,
            item=e.items[1],
        )
        for e in exposures
    ]
    credits = credit_impressions(exposures, outcomes_for, credit="competitive_pairs")
    assert len(credits) == 50


def test_bandit_experiment_through_client(tmp_path) -> None:
    specs = {
        ("surface", "home"): surface_spec("home", "als", fallbacks=["fill"], n=3),
        ("experiment", "bd"): experiment_spec(
            "bd",
            "home",
            {"als": "als", "pop": "pop"},
            design="bandit",
            bandit={"algorithm": "epsilon_greedy", "epsilon": 0.2},
        ),
    }
    metadata = MetadataStore.open(f"sqlite:///{tmp_path}/meta.db")
    sink = MemorySink()
    writer = EventWriter(sink)
    client = Client(_store(), specs=Source(specs, metadata), writer=writer, refresh_interval=0)
    # request ids seed the draws: fixed ids make the counts the same on every run
    before = Counter(
        client.recommend("home", f"u{i % 50}", request_id=f"a{i}").arm for i in range(400)
    )
    assert abs(before["als"] - 200) < 50  # uniform before the first snapshot
    params = BanditParams(
        algorithm="epsilon_greedy",
        arms=("als", "pop"),
        successes=(50, 5),
        trials=(100, 100),
        prior_alpha=1.0,
        prior_beta=1.0,
        allocation=(0.9, 0.1),
        through=0.0,
    )
    metadata.save_bandit_params("bd", params.to_json(), expected_version=None)
    assert client.refresh()
    after = Counter(
        client.recommend("home", f"u{i % 50}", request_id=f"b{i}").arm for i in range(1000)
    )
    assert abs(after["als"] / 1000 - 0.9) < 0.03
    exposures, _ = _flushed(writer, sink)
    client.writer = None
    client.close()
    last = exposures[-1]
    assert last.design == "bandit" and last.extra == {"params_version": 1}
    assert last.propensity == (0.9 if last.arm == "als" else 0.1)
    assert exposures[0].propensity == 0.5
