"""The strict Argo schema validator: vendored examples pass, unknown keys and wrong types fail."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from tests.conftest import SHARED

from sameday.errors import PipelineError
from sameday.pipeline.argo_schema import (
    INT_OR_STRING,
    ArgoSchema,
    load_schema,
    strict_definitions,
    validate_manifest,
    validator_for,
)

ARGO = SHARED / "vendor" / "argo"
SCHEMA_FILE = ARGO / "schema.json"
EXAMPLES = sorted((ARGO / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> ArgoSchema:
    return load_schema(SCHEMA_FILE)


def _cron() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "nightly"},
        "spec": {
            "schedules": ["0 3 * * *"],
            "workflowSpec": {
                "entrypoint": "main",
                "templates": [
                    {
                        "name": "main",
                        "retryStrategy": {"limit": 2, "backoff": {"duration": "5s", "factor": 2}},
                        "container": {"image": "busybox", "command": ["sh", "-c"], "args": ["ls"]},
                    }
                ],
            },
        },
    }


def test_the_vendored_examples_are_all_there() -> None:
    assert len(EXAMPLES) == 10


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_vendored_example_passes_the_strict_validator(
    schema: ArgoSchema, example: Path
) -> None:
    documents = [doc for doc in yaml.safe_load_all(example.read_text()) if doc is not None]
    assert documents
    for document in documents:
        assert schema.validate(document) == [], document["kind"]


def test_a_valid_manifest_has_no_problems(schema: ArgoSchema) -> None:
    assert schema.validate(_cron()) == []


@pytest.mark.parametrize(
    ("where", "expected_path"),
    [
        ((), "(root)"),
        (("metadata",), "metadata"),
        (("spec",), "spec"),
        (("spec", "workflowSpec"), "spec.workflowSpec"),
        (("spec", "workflowSpec", "templates", 0), "spec.workflowSpec.templates[0]"),
        (
            ("spec", "workflowSpec", "templates", 0, "container"),
            "spec.workflowSpec.templates[0].container",
        ),
        (
            ("spec", "workflowSpec", "templates", 0, "retryStrategy", "backoff"),
            "spec.workflowSpec.templates[0].retryStrategy.backoff",
        ),
    ],
)
def test_an_unknown_key_is_rejected_at_any_depth(
    schema: ArgoSchema, where: tuple[str | int, ...], expected_path: str
) -> None:
    manifest = _cron()
    node: Any = manifest
    for step in where:
        node = node[step]
    node["colour"] = "blue"
    assert schema.validate(manifest) == [
        f"{expected_path}: Additional properties are not allowed ('colour' was unexpected)"
    ]


def test_the_deprecated_singular_schedule_is_rejected(schema: ArgoSchema) -> None:
    manifest = _cron()
    manifest["spec"]["schedule"] = manifest["spec"].pop("schedules")[0]
    assert schema.validate(manifest) == [
        "spec: 'schedules' is a required property",
        "spec: Additional properties are not allowed ('schedule' was unexpected)",
    ]


def test_a_wrong_type_is_reported_with_its_path(schema: ArgoSchema) -> None:
    manifest = _cron()
    manifest["spec"]["startingDeadlineSeconds"] = "soon"
    manifest["spec"]["workflowSpec"]["templates"][0]["container"]["args"] = "ls"
    assert schema.validate(manifest) == [
        "spec.startingDeadlineSeconds: 'soon' is not of type 'integer'",
        "spec.workflowSpec.templates[0].container.args: 'ls' is not of type 'array'",
    ]


def test_int_or_string_accepts_both_only_because_it_is_widened(schema: ArgoSchema) -> None:
    manifest = _cron()
    assert schema.validate(manifest) == []  # limit: 2, factor: 2 are integers
    template = manifest["spec"]["workflowSpec"]["templates"][0]
    template["retryStrategy"]["limit"] = "2"
    assert schema.validate(manifest) == []
    template["retryStrategy"]["limit"] = 2.5
    assert schema.validate(manifest) == [
        "spec.workflowSpec.templates[0].retryStrategy.limit: 2.5 is not of type 'integer', 'string'"
    ]

    raw = json.loads(SCHEMA_FILE.read_text())
    as_published = Draft202012Validator(
        {"definitions": raw["definitions"], "$ref": f"#/definitions/{INT_OR_STRING}"}
    )
    assert not as_published.is_valid(2)


def test_strict_definitions_copy_and_tighten_without_touching_the_input() -> None:
    raw = json.loads(SCHEMA_FILE.read_text())
    before = copy.deepcopy(raw)
    strict = strict_definitions(raw)
    assert raw == before
    assert strict[INT_OR_STRING]["type"] == ["integer", "string"]
    with_properties = [d for d in strict.values() if "properties" in d]
    assert with_properties
    assert all(d["additionalProperties"] is False for d in with_properties)
    labels = strict["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["labels"]
    assert labels["additionalProperties"] == {"type": "string"}  # maps stay open


def test_an_unknown_kind_is_a_problem_not_a_crash(schema: ArgoSchema) -> None:
    assert schema.validate({"kind": "Pod"}) == [
        "kind: expected one of ClusterWorkflowTemplate, CronWorkflow, Workflow, "
        "WorkflowEventBinding, WorkflowTemplate, got 'Pod'"
    ]
    with pytest.raises(PipelineError, match="unknown Argo manifest kind 'Pod'"):
        schema.validator_for("Pod")


def test_module_functions_accept_a_path_a_dict_or_a_schema(schema: ArgoSchema) -> None:
    manifest = _cron()
    manifest["spec"]["colour"] = "blue"
    raw = json.loads(SCHEMA_FILE.read_text())
    for source in (schema, SCHEMA_FILE, str(SCHEMA_FILE), raw):
        assert validate_manifest(manifest, source) == [
            "spec: Additional properties are not allowed ('colour' was unexpected)"
        ]
    assert validator_for("CronWorkflow", schema) is schema.validator_for("CronWorkflow")
    assert load_schema(SCHEMA_FILE) is schema


def test_an_unreadable_schema_says_what_to_download(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"download api/jsonschema/schema\.json"):
        load_schema(tmp_path / "missing.json")
    not_a_schema = tmp_path / "other.json"
    not_a_schema.write_text('{"type": "object"}')
    with pytest.raises(PipelineError, match="has no 'definitions'"):
        load_schema(not_a_schema)
