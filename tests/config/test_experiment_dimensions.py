"""``dimensions:`` of an experiment: the unit attributes its exposures record."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.config.experiment import RESERVED_DIMENSIONS, Experiment
from sameday.errors import ConfigError
from sameday.events.source import EXPOSURE_FIELDS


def _experiment(**fields: object) -> Experiment:
    arms = [{"name": "control", "result_set": "x"}, {"name": "new", "result_set": "y"}]
    return Experiment.model_validate({"name": "t", "surface": "home", "arms": arms, **fields})


def test_declared_dimensions_are_kept_in_order() -> None:
    assert _experiment().dimensions == []
    assert _experiment(dimensions=["platform", "is_new", "activity"]).dimensions == [
        "platform",
        "is_new",
        "activity",
    ]


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        (["platform", "platform"], "repeated: platform"),
        (["arm"], "'arm' is a column of the exposure log"),
        (["params_version"], "'params_version' is written by the server"),
        (["bad-name"], "String should match pattern"),
        (["9lives"], "String should match pattern"),
    ],
)
def test_bad_dimensions_are_refused(dimensions: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _experiment(dimensions=dimensions)


def test_reserved_names_cover_the_servers_own_keys() -> None:
    # what the engine and the event log put in an exposure's extra, or read as columns
    for key in ("params_version", "arms", "ranks", "shared", "drafted", "escaped"):
        assert key in RESERVED_DIMENSIONS
    assert set(EXPOSURE_FIELDS) <= set(RESERVED_DIMENSIONS)


def test_a_project_file_error_points_at_the_line(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    file.write_text(file.read_text() + "dimensions: [platform, surface]\n")
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ={})
    (problem,) = info.value.problems
    assert "home-personal.yaml" in str(problem) and "'surface' is a column" in str(problem)
    file.write_text(file.read_text().replace("platform, surface", "platform, is_new"))
    project = load_project(project_dir, environ={})
    assert project.experiments["home-personal"].dimensions == ["platform", "is_new"]
