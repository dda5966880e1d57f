"""The exported JSON Schemas accept what the loader accepts and reject what it rejects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sameday.config.loader import KINDS
from sameday.config.schema import schema_file_name, schemas, write_schemas

FOLDERS = {kind.folder: kind.name for kind in KINDS}


def kind_of(file: Path, root: Path) -> str:
    return "project" if file.name == "sameday.yaml" else FOLDERS[file.relative_to(root).parts[0]]


def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = schemas()[kind]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def project_files(root: Path) -> list[Path]:
    files = [root / "sameday.yaml"]
    for folder in FOLDERS:
        files += sorted((root / folder).glob("*.yaml"))
    return files


def test_every_scaffolded_file_is_accepted(project_dir: Path) -> None:
    files = project_files(project_dir)
    assert len(files) == 9
    for file in files:
        document = yaml.safe_load(file.read_text())
        errors = list(validator(kind_of(file, project_dir)).iter_errors(document))
        assert not errors, f"{file}: {errors[0].message}"


def test_scaffolded_files_point_editors_at_their_schema(project_dir: Path) -> None:
    for file in project_files(project_dir):
        first = file.read_text().splitlines()[0]
        kind = kind_of(file, project_dir)
        assert first.startswith("# yaml-language-server: $schema="), file
        target = (file.parent / first.split("=", 1)[1]).resolve()
        assert target == (project_dir / "schemas" / schema_file_name(kind)).resolve()
        assert target.is_file()


BROKEN: list[tuple[str, dict[str, Any]]] = [
    ("pipeline", {"name": "daily", "jobs": [{"name": "a", "command": "x", "dependancies": []}]}),
    ("pipeline", {"name": "daily", "jobs": []}),
    ("pipeline", {"name": "Daily", "jobs": [{"name": "a", "command": "x"}]}),
    ("pipeline", {"name": "d", "jobs": [{"name": "a", "command": "x", "timeout": "soon"}]}),
    (
        "experiment",
        {
            "surface": "home",
            "coverage": "lots",
            "arms": [{"name": "a", "result_set": "x"}, {"name": "b", "result_set": "y"}],
        },
    ),
    ("experiment", {"surface": "home", "arms": [{"name": "a", "result_set": "x"}]}),
    (
        "experiment",
        {
            "surface": "home",
            "design": "mab",
            "arms": [{"name": "a", "result_set": "x"}, {"name": "b", "result_set": "y"}],
        },
    ),
    ("metric", {"type": "share", "event": "click"}),
    ("result_set", {"source": {"path": "x"}, "max_items": "many"}),
    ("surface", {"result_set": "x", "colour": "blue"}),
    ("project", {"name": "p", "storage": {"metdata": "sqlite:///x"}}),
]


@pytest.mark.parametrize(("kind", "document"), BROKEN)
def test_broken_files_are_rejected(kind: str, document: dict[str, Any]) -> None:
    assert list(validator(kind).iter_errors(document))


def test_write_schemas(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        schema_file_name(kind) for kind in ["project", *FOLDERS.values()]
    )


SHORTHANDS: list[tuple[str, dict[str, Any]]] = [
    ("pipeline", {"jobs": [{"name": "a", "command": "x", "retries": 1}]}),
    ("pipeline", {"defaults": {"retries": 3}, "jobs": [{"name": "a", "command": "x"}]}),
    ("pipeline", {"jobs": [{"name": "a", "command": "x", "retries": 2.0, "timeout": "15m"}]}),
    ("pipeline", {"schedule": {"cron": "@daily"}, "jobs": [{"name": "a", "command": "x"}]}),
]


@pytest.mark.parametrize(("kind", "document"), SHORTHANDS)
def test_shorthand_forms_the_loader_takes_are_in_the_schema(
    kind: str, document: dict[str, Any]
) -> None:
    assert not list(validator(kind).iter_errors(document))


def test_keys_outside_a_maps_key_pattern_are_refused() -> None:
    document = {"params": {"bad key": {}}, "jobs": [{"name": "a", "command": "x"}]}
    assert list(validator("pipeline").iter_errors(document))
