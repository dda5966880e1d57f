"""``model:`` and ``python:`` on arms and surfaces: what loads, and what ``validate`` refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.config.scoring import MODEL_REF
from sameday.errors import ConfigError, InvalidModelRef
from sameday.models.refs import parse_ref

ARMS = """arms:
  - name: control
    result_set: popular
  - name: personal
    result_set: personal
"""


def experiment_with(project_dir: Path, arm_lines: str, design: str = "ab") -> Path:
    """The starter experiment with ``arm_lines`` added to its second arm."""
    file = project_dir / "experiments" / "home-personal.yaml"
    text = file.read_text().replace("design: ab", f"design: {design}")
    assert ARMS in text
    file.write_text(text.replace(ARMS, ARMS + arm_lines))
    return file


def problems(project_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ={})
    return [str(problem) for problem in info.value.problems]


def test_a_model_arm_and_a_python_surface_load(project_dir: Path) -> None:
    experiment_with(
        project_dir,
        "    model: ranker@champion\n    timeout_ms: 15\n    candidates: 50\n"
        "    features: [{table: popular}]\n",
    )
    surface = project_dir / "surfaces" / "home.yaml"
    surface.write_text(surface.read_text() + "python: recs.rank:score\n")
    project = load_project(project_dir, environ={})
    arm = project.experiments["home-personal"].arms[1]
    assert (arm.scorer, arm.timeout_ms, arm.candidates) == ("ranker@champion", 15.0, 50)
    assert project.surfaces["home"].scorer == "python:recs.rank:score"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("    model: ranker@@champion\n", "'ranker@@champion' is not a model reference: write"),
        ("    model: ranker/0\n", "versions are numbered from 1"),
        ("    model: models:/ranker\n", "is not a model reference"),
        ("    python: recs.rank\n", "is not a Python scorer: write 'package.module:function'"),
        (
            "    model: ranker@champion\n    python: recs.rank:score\n",
            "give 'model' or 'python', not both",
        ),
        ("    timeout_ms: 10\n", "timeout_ms: only with a scorer; add 'model: NAME@ALIAS'"),
        ("    inline: false\n", "inline: only with a scorer"),
        ("    model: ranker\n    timeout_ms: 0\n", "greater than 0"),
    ],
)
def test_bad_scorers_are_refused_at_their_line(project_dir: Path, lines: str, message: str) -> None:
    experiment_with(project_dir, lines)
    (problem,) = problems(project_dir)
    assert message in problem
    # file:line:column of the second arm (from line 12 of the starter file) or of its field
    assert re.search(r"experiments/home-personal\.yaml:1\d:\d+: arms\[1\]", problem), problem


def test_an_unknown_feature_table_is_named(project_dir: Path) -> None:
    experiment_with(project_dir, "    model: ranker@champion\n    features: [{table: popularr}]\n")
    (problem,) = problems(project_dir)
    assert "experiments/home-personal.yaml:" in problem
    assert "no result set named 'popularr'; did you mean 'popular'?" in problem


def test_an_interleaved_arm_cannot_be_scored(project_dir: Path) -> None:
    experiment_with(project_dir, "    model: ranker@champion\n", design="interleave")
    (problem,) = problems(project_dir)
    assert "arm personal: a model or python scorer re-ranks one arm's list" in problem


@pytest.mark.parametrize(
    "text",
    ["ranker", "ranker/3", "ranker@champion", "models:/ranker/3", "models:/r@a", "bad@@", "x/0"],
)
def test_the_config_and_the_registry_read_references_alike(text: str) -> None:
    try:
        parse_ref(text)
        parsed = True
    except InvalidModelRef:
        parsed = False
    match = MODEL_REF.match(text)
    accepted = match is not None and not (
        match["mlflow"] and not (match["version"] or match["alias"])
    )
    accepted = accepted and not (match is not None and match["version"] == "0")
    assert parsed == accepted
