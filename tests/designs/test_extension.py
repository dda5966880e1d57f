"""The seam's proof: a design written and registered here, in the test suite only, is accepted
by the config, served, logged and reported without any change to sameday's modules.

``reverse`` is an A/B test whose arms serve their lists bottom up: it inherits everything from
the ``ab`` design except how a request is finished.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sameday import design_registry
from sameday.analysis.report import ABReport, build_report
from sameday.config import load_project
from sameday.designs.ab import AB
from sameday.errors import ConfigError
from sameday.events import Exposure, Outcome, SQLiteSink
from sameday.reports.data import to_dict
from sameday.reports.html import to_html
from sameday.reports.text import to_text
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.engine import Answers, Engine, Filled, Prepared, Recommendation
from sameday.serve.state import build_state
from sameday.store.base import Read
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec
from tests.analysis._logs import make_project

EXPERIMENT = """surface: home
design: reverse
arms:
  - {name: control, result_set: popular}
  - {name: personal, result_set: personal}
metrics: {primary: [ctr]}
"""


class Reverse(AB):
    """An A/B test whose arms serve their lists reversed."""

    def finish(
        self, engine: Engine, request: Prepared, answers: Answers
    ) -> Recommendation | list[Read]:
        filled = engine.fill(
            request.chain, request.key, request.size, request.excluded, request.cache, answers
        )
        if isinstance(filled, list):
            return filled
        flipped = Filled(
            filled.entries[::-1],
            filled.sources[::-1],
            filled.degraded,
            filled.versions,
            filled.store_errors,
            filled.fallback_fills,
        )
        assert request.experiment is not None and request.arm_index is not None
        arm = request.experiment.arms[request.arm_index]
        return engine.deliver(request, flipped, arm=arm.name, propensity=arm.weight)


class Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


@pytest.fixture
def reverse() -> Iterator[Reverse]:
    design = Reverse()
    design_registry.register("reverse", design)
    yield design
    del design_registry.DESIGNS["reverse"]


def test_an_unregistered_design_is_refused_with_the_registered_ones(tmp_path: Path) -> None:
    project = make_project(tmp_path, EXPERIMENT)
    with pytest.raises(ConfigError) as info:
        load_project(project)
    assert "no design named 'reverse'" in str(info.value)
    assert "ab, bandit, interleave" in str(info.value)


def test_a_design_registered_by_the_test_suite_is_served_logged_and_reported(
    reverse: Reverse, tmp_path: Path
) -> None:
    project_root = make_project(tmp_path, EXPERIMENT)
    project = load_project(project_root)
    assert project.experiments["test"].design == "reverse"

    store = MemoryStore()
    units = [f"u{u:04d}" for u in range(400)]
    lists = {"personal": {u: [f"p{u}-{j}" for j in range(5)] for u in units}}
    lists["popular"] = {"*": [f"pop-{j}" for j in range(5)]}
    for result_set, by_key in lists.items():
        load_lists(store, result_set, f"{result_set}-1", by_key)
    arms = {"control": "popular", "personal": "personal"}
    specs = {
        ("surface", "home"): surface_spec("home", "popular", n=5),
        ("experiment", "test"): experiment_spec("test", "home", arms, design="reverse"),
    }
    state = build_state(specs)
    (plan,) = state.surfaces["home"].experiments
    assert plan.design == "reverse" and plan.implementation is reverse
    log = Log()
    cache = refresh_cache(store, state.result_sets, ListCache.empty())
    engine = Engine(store, state=state, cache=cache, log=log)

    served = {unit: engine.recommend("home", unit) for unit in units}
    for unit, result in served.items():
        assert result.experiment == "test" and result.arm in arms
        key = unit if result.arm == "personal" else "*"
        assert [s.item for s in result.items] == lists[arms[result.arm]][key][::-1]
    assert {r.arm for r in served.values()} == set(arms)
    assert len(log.exposures) == len(units)
    for exposure in log.exposures:
        assert exposure.design == "reverse" and exposure.experiment == "test"
        assert exposure.items == tuple(s.item for s in served[exposure.unit].items)
        assert exposure.propensity == 0.5 and exposure.seed == "test"

    # Personal lists get twice the clicks: the A/B report the design inherits says so.
    rng = np.random.default_rng(3)
    outcomes = []
    for k, exposure in enumerate(log.exposures):
        rate = 0.8 if exposure.arm == "personal" else 0.3
        if rng.random() < rate:
            outcomes.append(
                Outcome(
                    event_id=f"e{k}",
                    unit=exposure.unit,
                    name="click",
                    time=exposure.time + 1,
                    request_id=exposure.request_id,
                )
            )
    sink = SQLiteSink(project_root / ".sameday" / "events.db")
    try:
        sink.write_exposures(log.exposures)
        sink.write_outcomes(outcomes)
    finally:
        sink.close()
    report = build_report(project, "test")
    assert isinstance(report, ABReport) and report.design == "reverse"
    assert report.decision.verdict == "ship" and report.decision.arm == "personal"
    assert sum(report.srm.observed) == len(units) if report.srm else False
    assert to_text(report).startswith("test (reverse)")
    page = to_html(report)
    assert "reverse · generated" in page and "<h2>Metrics</h2>" in page
    assert "<dt>sample ratio</dt>" in page  # the glossary of the design it inherits
    assert to_dict(report)["design"] == "reverse"
