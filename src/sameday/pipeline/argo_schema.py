"""Check Argo manifests against Argo's own JSON Schema, strictly.

Argo publishes ``api/jsonschema/schema.json`` with every release. Used as it is, it lets two
kinds of mistakes through, so :func:`strict_definitions` tightens it:

- every object definition that lists ``properties`` and says nothing about
  ``additionalProperties`` gets ``additionalProperties: false``: a misspelt or outdated key
  (``schedule`` instead of ``schedules``, ``dependencies`` in the wrong place) is an error instead
  of being silently dropped by the API server;
- ``IntOrString`` is declared as a plain string there, though Kubernetes and Argo accept an
  integer too (``retryStrategy.limit: 3``); it is widened to integer-or-string.

The schema is an argument, never a file sameday ships: pass the schema of the Argo version you
deploy to (``sameday compile PIPELINE --schema schema.json``). ``jsonschema`` is needed only
here, so it is imported when a validator is built.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sameday.errors import PipelineError

KIND_DEFINITIONS = {
    kind: f"io.argoproj.workflow.v1alpha1.{kind}"
    for kind in (
        "ClusterWorkflowTemplate",
        "CronWorkflow",
        "Workflow",
        "WorkflowEventBinding",
        "WorkflowTemplate",
    )
}
"""The manifest kinds Argo's schema describes, and the definition that describes each."""

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


def strict_definitions(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema["definitions"]`` with unknown keys rejected and IntOrString widened."""
    definitions: dict[str, Any] = copy.deepcopy(dict(schema["definitions"]))
    definitions[INT_OR_STRING] = {
        "description": "An integer or a string (Kubernetes IntOrString).",
        "type": ["integer", "string"],
    }
    for definition in definitions.values():
        if "properties" in definition and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    return definitions


class ArgoSchema:
    """Strict validators for each Argo manifest kind, built once from one schema document.

    Args:
        schema: the parsed ``schema.json`` of an Argo release.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._definitions = strict_definitions(schema)
        self._validators: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"ArgoSchema(definitions={len(self._definitions)})"

    def validator_for(self, kind: str) -> Any:
        """A ``jsonschema`` Draft 2020-12 validator for manifests of ``kind``.

        Raises:
            PipelineError: ``kind`` is not an Argo manifest kind, or jsonschema is missing.
        """
        if kind not in self._validators:
            definition = KIND_DEFINITIONS.get(kind)
            if definition is None or definition not in self._definitions:
                known = ", ".join(sorted(KIND_DEFINITIONS))
                raise PipelineError(f"unknown Argo manifest kind {kind!r}: expected one of {known}")
            validator_class = _validator_class()
            root = {"definitions": self._definitions, "$ref": f"#/definitions/{definition}"}
            self._validators[kind] = validator_class(root)
        return self._validators[kind]

    def validate(self, manifest: Mapping[str, Any]) -> list[str]:
        """Every problem of ``manifest`` as ``"path: message"``, sorted; empty when it is valid."""
        kind = manifest.get("kind")
        if not isinstance(kind, str) or kind not in KIND_DEFINITIONS:
            known = ", ".join(sorted(KIND_DEFINITIONS))
            return [f"kind: expected one of {known}, got {kind!r}"]
        errors = self.validator_for(kind).iter_errors(manifest)
        return sorted(f"{_path(error.json_path)}: {error.message}" for error in errors)


@functools.lru_cache(maxsize=4)
def load_schema(path: Path | str) -> ArgoSchema:
    """The strict schema read from ``path`` (cached: the file is about 600 kB).

    Raises:
        PipelineError: the file is missing or is not JSON.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PipelineError(
            f"cannot read the Argo JSON Schema {path}: {exc}; download api/jsonschema/schema.json "
            "of your Argo release"
        ) from exc
    if not isinstance(document, dict) or "definitions" not in document:
        raise PipelineError(f"{path} is not Argo's JSON Schema: it has no 'definitions'")
    return ArgoSchema(document)


def validator_for(kind: str, schema: ArgoSchema | Mapping[str, Any] | Path | str) -> Any:
    """A strict validator for ``kind`` from ``schema`` (an :class:`ArgoSchema`, dict or path)."""
    return _schema(schema).validator_for(kind)


def validate_manifest(
    manifest: Mapping[str, Any], schema: ArgoSchema | Mapping[str, Any] | Path | str
) -> list[str]:
    """Every problem of ``manifest`` under the strict ``schema``, as ``"path: message"``."""
    return _schema(schema).validate(manifest)


def _schema(schema: ArgoSchema | Mapping[str, Any] | Path | str) -> ArgoSchema:
    if isinstance(schema, ArgoSchema):
        return schema
    if isinstance(schema, Path | str):
        return load_schema(schema)
    return ArgoSchema(schema)


def _validator_class() -> Any:
    try:
        from jsonschema import Draft202012Validator
    except ImportError as exc:  # pragma: no cover - jsonschema is installed with sameday[argo]
        raise PipelineError(
            "checking Argo manifests needs jsonschema: pip install 'sameday[argo]'"
        ) from exc
    return Draft202012Validator


def _path(json_path: str) -> str:
    """``$.spec.templates[0]`` as ``spec.templates[0]``; the document itself as ``(root)``."""
    return json_path.removeprefix("$").removeprefix(".") or "(root)"
