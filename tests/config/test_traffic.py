"""Running experiments on one surface never starve each other silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sameday.config import Experiment, load_project
from sameday.config.traffic import conflicts, shares
from sameday.errors import ConfigError
from sameday.serve.engine import Engine
from sameday.serve.state import build_state


def running_pair(project_dir: Path, first: str = "", second: str = "") -> None:
    """home-personal and a copy named zz-second, both running, with extra lines each."""
    file = project_dir / "experiments" / "home-personal.yaml"
    text = file.read_text().replace("phase: draft", "phase: running")
    file.write_text(text + first)
    copy = text.replace("name: home-personal", "name: zz-second")
    (project_dir / "experiments" / "zz-second.yaml").write_text(copy + second)


def problems(project_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ={})
    return [str(p) for p in info.value.problems]


def test_second_running_experiment_without_layer_is_an_error(project_dir: Path) -> None:
    running_pair(project_dir)
    (message,) = problems(project_dir)
    assert "zz-second.yaml:4:10: surface: running experiments 'home-personal' and 'zz-second'" in (
        message
    )
    assert "'zz-second' gets no traffic at all" in message
    assert "Put both in one layer with disjoint slices" in message


def test_lower_coverage_is_not_enough_and_says_what_is_served(project_dir: Path) -> None:
    running_pair(project_dir)
    for name in ("home-personal", "zz-second"):
        file = project_dir / "experiments" / f"{name}.yaml"
        file.write_text(file.read_text().replace("coverage: 1.0", "coverage: 0.5"))
    (message,) = problems(project_dir)
    assert "gets 25% of the surface's traffic instead of 50%" in message


def test_disjoint_slices_of_one_layer_pass(project_dir: Path) -> None:
    running_pair(
        project_dir,
        "layer: {name: home, range: [0, 0.5]}\n",
        "layer: {name: home, range: [0.5, 1]}\n",
    )
    assert len(load_project(project_dir, environ={}).experiments) == 2


def test_different_layers_still_compete_on_one_surface(project_dir: Path) -> None:
    running_pair(project_dir, "layer: {name: a}\n", "layer: {name: b}\n")
    (message,) = problems(project_dir)
    assert "'zz-second' gets no traffic at all" in message


@pytest.mark.parametrize(
    ("first", "second", "exclusive"),
    [
        ({"country": "JP"}, {"country": "US"}, True),
        ({"country": "JP"}, {"country": {"$eq": "US"}}, True),
        ({"is_new": True}, {"is_new": False}, True),
        ({"age": 30}, {"age": 31.0}, True),
        ({"country": "JP"}, {"country": "JP"}, False),
        ({"country": "JP"}, {"plan": "pro"}, False),
        # A string and a number are not a proof: GrowthBook matches "1" against both.
        ({"tier": "1"}, {"tier": 1}, False),
        # Nor are $in lists: an attribute holding [JP, US] matches both.
        ({"country": {"$in": ["JP"]}}, {"country": {"$in": ["US"]}}, False),
        ({}, {"country": "US"}, False),
    ],
)
def test_targeting_proves_exclusion_only_when_certain(
    first: dict[str, Any], second: dict[str, Any], exclusive: bool
) -> None:
    pair = [
        experiment("a", targeting=first),
        experiment("b", targeting=second),
    ]
    assert (conflicts(pair) == []) is exclusive


def test_coverage_zero_and_other_surfaces_and_drafts_do_not_conflict() -> None:
    assert conflicts([experiment("a", coverage=0.0), experiment("b")]) == []
    assert conflicts([experiment("a"), experiment("b", surface="email")]) == []
    assert conflicts([experiment("a"), experiment("b", phase="draft")]) == []


def experiment(name: str, **fields: Any) -> Experiment:
    spec: dict[str, Any] = {
        "name": name,
        "surface": "home",
        "phase": "running",
        "arms": [{"name": "a", "result_set": "x"}, {"name": "b", "result_set": "y"}],
        **fields,
    }
    return Experiment.model_validate(spec)


def test_shares_match_what_the_engine_serves() -> None:
    """Applied states from before the check can still hold competing experiments: the shares
    `sameday experiments` shows must be what the server really gives, starvation included."""
    experiments = [
        experiment("a-first", coverage=0.4),
        experiment("b-layered", layer={"name": "l", "range": [0.0, 0.5]}),
        experiment("c-layered", coverage=0.5, layer={"name": "l", "range": [0.5, 1.0]}),
        experiment("d-last", coverage=0.8),
        experiment("e-other", surface="email", coverage=0.3),
    ]
    specs: dict[tuple[str, str], dict[str, Any]] = {
        ("experiment", e.name): e.model_dump(mode="json") for e in experiments
    }
    for surface in ("home", "email"):
        specs[("surface", surface)] = {"name": surface, "result_set": "x"}
    state = build_state(specs)
    units = 20_000
    served: dict[str, int] = {}
    for surface in ("home", "email"):
        for i in range(units):
            chosen, _, _ = Engine._assign(state.surfaces[surface], {"unit": f"u-{i}"})
            if chosen is not None:
                served[chosen.name] = served.get(chosen.name, 0) + 1
    expected = shares(experiments)
    # d-last loses a-first's 0.4 and the layer's 0.5 + 0.25, as independent draws.
    assert expected == pytest.approx(
        {"a-first": 0.4, "b-layered": 0.3, "c-layered": 0.15, "d-last": 0.12, "e-other": 0.3}
    )
    for name, share in expected.items():
        assert served.get(name, 0) / units == pytest.approx(share, abs=0.012), name
