"""The loader: located errors, strictness, interpolation, all problems at once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sameday.config import load_project
from sameday.config.loader import KINDS, Kind, find_project
from sameday.errors import ConfigError, ProjectNotFound


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def problems(project_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ={})
    return [str(p) for p in info.value.problems]


def test_scaffolded_project_loads(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    assert project.name == "proj"
    assert set(project.pipelines) == {"daily"}
    assert set(project.result_sets) == {"popular", "personal"}
    assert project.surfaces["home"].fallbacks == ["popular"]
    assert project.experiments["home-personal"].weights == [0.5, 0.5]
    assert project.metrics["ctr"].window == 86400.0
    assert project.pipelines["daily"].defaults.retries.backoff.max == 60.0


def test_find_project_walks_up(project_dir: Path) -> None:
    assert find_project(project_dir / "pipelines") == project_dir.resolve()


def test_no_project_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound, match="sameday init"):
        load_project(tmp_path)


def test_yaml_syntax_error_is_located(project_dir: Path) -> None:
    file = project_dir / "metrics" / "ctr.yaml"
    edit(file, "type: proportion", "type: [proportion")
    (message,) = problems(project_dir)
    assert re.match(r".*metrics/ctr\.yaml:\d+:\d+: invalid YAML: ", message), message


def test_unknown_key_suggests_the_right_one(project_dir: Path) -> None:
    file = project_dir / "pipelines" / "daily.yaml"
    edit(
        file,
        "    depends_on: [extract]\n    command: python3 jobs/popular.py",
        "    dependancies: [extract]\n    command: python3 jobs/popular.py",
    )
    line = line_of(file, "dependancies")
    (message,) = problems(project_dir)
    assert f"pipelines/daily.yaml:{line}:5: jobs[1].dependancies: unknown key" in message
    assert "did you mean 'depends_on'?" in message


def test_wrong_type_is_located_and_says_what_was_expected(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    edit(file, "coverage: 1.0", "coverage: lots")
    line = line_of(file, "coverage: lots")
    (message,) = problems(project_dir)
    assert f"experiments/home-personal.yaml:{line}:11: coverage:" in message
    assert "valid number" in message and "'lots'" in message


def test_missing_result_set_reference(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    edit(file, "    result_set: personal", "    result_set: personl")
    line = line_of(file, "result_set: personl")
    (message,) = problems(project_dir)
    assert f"home-personal.yaml:{line}:17: arms[1].result_set: no result set named 'personl'" in (
        message
    )
    assert "did you mean 'personal'?" in message


def test_missing_environment_variable(project_dir: Path) -> None:
    file = project_dir / "sameday.yaml"
    edit(file, "${SAMEDAY_ADMIN_KEY:-}", "${SAMEDAY_ADMIN_KEY}")
    line = line_of(file, "${SAMEDAY_ADMIN_KEY}")
    (message,) = problems(project_dir)
    assert f"sameday.yaml:{line}:12: serve.api_keys.admin: environment variable" in message
    assert "SAMEDAY_ADMIN_KEY is not set" in message


def test_environment_variables_are_interpolated(project_dir: Path) -> None:
    edit(project_dir / "sameday.yaml", "${SAMEDAY_ADMIN_KEY:-}", "${SAMEDAY_ADMIN_KEY}")
    project = load_project(project_dir, environ={"SAMEDAY_ADMIN_KEY": "s3cret"})
    assert project.settings.serve.api_keys.admin == "s3cret"
    assert project.settings.serve.api_keys.serving == ""


def test_all_problems_are_reported_at_once(project_dir: Path) -> None:
    edit(project_dir / "metrics" / "ctr.yaml", "type: proportion", "type: share")
    edit(project_dir / "surfaces" / "home.yaml", "n: 10", "n: 10\ncolour: blue")
    edit(project_dir / "experiments" / "home-personal.yaml", "surface: home", "surface: homepage")
    found = problems(project_dir)
    assert len(found) == 3, found
    assert any("metrics/ctr.yaml" in p and "type" in p for p in found)
    assert any("unknown key 'colour'" in p for p in found)
    assert any("no surface named 'homepage'" in p for p in found)


def test_reference_to_a_broken_file_is_not_reported_twice(project_dir: Path) -> None:
    edit(project_dir / "results" / "popular.yaml", "max_items: 50", "max_items: many")
    found = problems(project_dir)
    assert len(found) == 1 and "max_items" in found[0], found


def test_missing_required_key_points_at_the_mapping(project_dir: Path) -> None:
    file = project_dir / "metrics" / "ctr.yaml"
    file.write_text("name: ctr\nevent: click\n")
    (message,) = problems(project_dir)
    assert "metrics/ctr.yaml:1:1: missing required key 'type'" in message


def test_name_defaults_to_the_file_name(project_dir: Path) -> None:
    file = project_dir / "metrics" / "ctr.yaml"
    edit(file, "name: ctr\n", "")
    assert "ctr" in load_project(project_dir, environ={}).metrics


def test_duplicate_names_across_files(project_dir: Path) -> None:
    (project_dir / "metrics" / "ctr2.yaml").write_text("name: ctr\ntype: proportion\nevent: x\n")
    (message,) = problems(project_dir)
    assert "ctr2.yaml:1:7: name: metric 'ctr' is already declared" in message


def test_duplicate_yaml_keys_are_an_error(project_dir: Path) -> None:
    edit(project_dir / "metrics" / "ctr.yaml", "type: proportion", "type: proportion\ntype: mean")
    (message,) = problems(project_dir)
    assert "duplicate key 'type'" in message


def test_yaml_no_is_a_string_not_false(project_dir: Path) -> None:
    file = project_dir / "surfaces" / "home.yaml"
    edit(
        file,
        "n: 10",
        "n: 10\nrules:\n  - name: norway\n    when: {country: no}\n    result_set: popular",
    )
    rule = load_project(project_dir, environ={}).surfaces["home"].rules[0]
    assert rule.when == {"country": "no"}


def test_a_key_typo_does_not_hide_a_bad_cron(project_dir: Path) -> None:
    pipeline = project_dir / "pipelines" / "daily.yaml"
    edit(pipeline, "name: daily\n", "name: daily\ndescripton: nightly\n")
    edit(pipeline, 'cron: "0 3 * * *"', 'cron: "0 25 * * *"')
    edit(pipeline, "timezone: UTC", "timezone: Mars")
    found = problems(project_dir)
    assert any("unknown key 'descripton'; did you mean 'description'?" in m for m in found)
    assert any("schedule.cron: hour 25 is out of range 0-23" in m for m in found)
    assert any("schedule.timezone: unknown timezone 'Mars'" in m for m in found)
    assert len(found) == 3


def test_a_bad_design_does_not_hide_the_rest_of_the_experiment(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    edit(file, "design: ab", "design: abx")
    edit(file, "surface: home", "surface: hom")
    edit(file, "primary: [ctr]", "primary: [ctrr]")
    edit(file, "    result_set: popular\n", "    result_set: popular\n    weight: 0.6\n")
    edit(file, "    result_set: personal\n", "    result_set: personal\n    weight: 0.6\n")
    found = problems(project_dir)
    assert any(
        "design: no design named 'abx'; did you mean 'ab'? (designs: ab, bandit, interleave)" in m
        for m in found
    )
    assert any("arms: arm weights must sum to 1, they sum to 1.2" in m for m in found)
    assert any("surface: no surface named 'hom'; did you mean 'home'?" in m for m in found)
    assert any(
        "metrics.primary[0]: no metric named 'ctrr'; did you mean 'ctr'?" in m for m in found
    )
    assert len(found) == 4


def test_objects_with_a_bad_field_still_answer_references(project_dir: Path) -> None:
    """A surface whose n is wrong still exists: the experiment naming it is not told otherwise,
    and a bad running experiment is left out of the traffic check rather than guessed at."""
    edit(project_dir / "surfaces" / "home.yaml", "n: 10", "n: ten")
    file = project_dir / "experiments" / "home-personal.yaml"
    edit(file, "phase: draft", "phase: running")
    second = project_dir / "experiments" / "second.yaml"
    second.write_text(
        file.read_text().replace("name: home-personal", "name: second")
        + "layer: {name: home, range: [0.5, 1], colour: red}\n"
    )
    found = problems(project_dir)
    assert len(found) == 2, found
    assert any("home.yaml" in m and "n: Input should be a valid integer" in m for m in found)
    assert any("layer.colour: unknown key 'colour'" in m for m in found)


def test_cron_shortcuts_are_accepted(project_dir: Path) -> None:
    pipeline = project_dir / "pipelines" / "daily.yaml"
    edit(pipeline, 'cron: "0 3 * * *"', "cron: '@daily'")
    assert load_project(project_dir, environ={}).pipelines["daily"].schedule is not None
    edit(pipeline, "cron: '@daily'", "cron: '@dayly'")
    (message,) = problems(project_dir)
    assert "schedule.cron: '@dayly' is not a cron shortcut" in message
    assert "did you mean '@daily'?" in message


def test_quoted_numbers_are_text_and_the_error_says_so(project_dir: Path) -> None:
    surface = project_dir / "surfaces" / "home.yaml"
    edit(surface, "n: 10", 'n: "10"')
    (message,) = problems(project_dir)
    assert "home.yaml:7:4: n: Input should be a valid integer (got '10')" in message
    assert "write numbers and true/false without quotes" in message


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_any_one_bad_field_is_reported_without_breaking_the_other_checks(
    project_dir: Path, kind: Kind[Any]
) -> None:
    """Objects built from the rest of a file meet every cross-file check: none may trip on the
    field that failed (a required one is left unset)."""
    folder = project_dir / kind.folder
    if kind.name == "notifier":  # the scaffold declares none: it would send alerts nowhere
        folder.mkdir()
        (folder / "team.yaml").write_text(
            "webhook: {url: 'https://alerts.example.com/hook', secret: 0123456789abcdef}\n"
        )
    file = sorted(folder.glob("*.yaml"))[0]
    original = yaml.safe_load(file.read_text())
    for field in kind.model.model_fields:
        if field == "name":
            continue
        file.write_text(yaml.safe_dump({**original, field: [[1]]}))
        found = problems(project_dir)
        assert any(f": {field}" in message for message in found), (field, found)
    file.write_text(yaml.safe_dump(original))
    load_project(project_dir, environ={})
