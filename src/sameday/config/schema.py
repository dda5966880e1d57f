"""JSON Schema of every project file kind, for editors (yaml-language-server) and CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sameday._version import __version__
from sameday.config.loader import KINDS
from sameday.config.project import ProjectSettings

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(kind: str) -> str:
    """The file each kind's schema is written to: ``project`` → ``sameday.schema.json``."""
    return "sameday.schema.json" if kind == "project" else f"{kind}.schema.json"


def schemas() -> dict[str, dict[str, Any]]:
    """Each file kind's JSON Schema (draft 2020-12), keyed by kind name."""
    out = {"project": _finish(ProjectSettings.model_json_schema(), "project")}
    for kind in KINDS:
        schema = kind.model.model_json_schema()
        # The loader takes a missing `name` from the file name, so the schema must not require it.
        schema["required"] = [key for key in schema.get("required", []) if key != "name"]
        out[kind.name] = _finish(schema, kind.name)
    return out


def _close_maps(node: Any) -> None:
    """Maps with a key pattern refuse other keys, as the loader does (pydantic leaves them open)."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for child in node.values():
            _close_maps(child)
    elif isinstance(node, list):
        for child in node:
            _close_maps(child)


def _finish(schema: dict[str, Any], kind: str) -> dict[str, Any]:
    _close_maps(schema)
    where = "sameday.yaml" if kind == "project" else f"{kind} file"
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://sameday.dev/schema/{__version__}/{schema_file_name(kind)}",
        **schema,
        "description": (schema.get("description") or "").strip() + f"\n\nsameday {where}.",
    }


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every kind's schema into ``out_dir``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, schema in schemas().items():
        path = out_dir / schema_file_name(kind)
        path.write_text(json.dumps(schema, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
