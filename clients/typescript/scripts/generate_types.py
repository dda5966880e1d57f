"""Write ``src/types.ts`` from sameday's OpenAPI document, so the TypeScript client is typed by the
same document the server publishes at ``/openapi.json``.

Usage (from the repository root, with sameday importable)::

    python clients/typescript/scripts/generate_types.py          # rewrite src/types.ts
    python clients/typescript/scripts/generate_types.py --check  # exit 1 if it is stale

Covers the JSON Schema the document uses: ``$ref``, ``type`` (one or a list), ``properties`` and
``required``, ``additionalProperties``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``
(unions) and ``allOf`` (intersections); anything else is ``unknown``, never a guess.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

TARGET = Path(__file__).resolve().parent.parent / "src" / "types.ts"
HEADER = (
    "// Generated from sameday's OpenAPI document by scripts/generate_types.py: do not edit.\n"
    "// Regenerate: python clients/typescript/scripts/generate_types.py\n"
)


def name_of(ref: str) -> str:
    """The TypeScript name of ``#/components/schemas/X`` (or ``#/$defs/X``)."""
    return re.sub(r"\W", "_", ref.rsplit("/", 1)[-1])


def comment(text: str | None, indent: str) -> str:
    if not text:
        return ""
    safe = text.replace("*/", "*\\/")
    return f"{indent}/** {safe} */\n"


def key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_$][\w$]*", name) else json.dumps(name)


def ts(schema: Any, indent: str = "") -> str:
    """The TypeScript type of a JSON Schema."""
    if not isinstance(schema, dict):
        return "unknown"
    if "$ref" in schema:
        return name_of(schema["$ref"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    for word, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " & ")):
        if word in schema:
            return joiner.join(wrap(ts(part, indent)) for part in schema[word])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(wrap(ts({**schema, "type": one}, indent)) for one in kind)
    if kind in ("integer", "number"):
        return "number"
    if kind in ("string", "boolean", "null"):
        return str(kind)
    if kind == "array":
        return f"{wrap(ts(schema.get('items'), indent))}[]"
    if kind == "object" or "properties" in schema:
        return obj(schema, indent)
    return "unknown"


def wrap(text: str) -> str:
    return f"({text})" if (" | " in text or " & " in text) and not text.startswith("{") else text


def obj(schema: dict[str, Any], indent: str) -> str:
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not properties:
        value = ts(extra, indent) if isinstance(extra, dict) else "unknown"
        return f"{{ [key: string]: {value} }}"
    required = set(schema.get("required", []))
    inner = indent + "  "
    lines = ["{\n"]
    for name, prop in properties.items():
        optional = "" if name in required else "?"
        description = prop.get("description") if isinstance(prop, dict) else None
        lines.append(comment(description, inner))
        lines.append(f"{inner}{key(name)}{optional}: {ts(prop, inner)};\n")
    if isinstance(extra, dict):
        lines.append(f"{inner}[key: string]: unknown;\n")
    lines.append(f"{indent}}}")
    return "".join(lines)


def render(document: dict[str, Any]) -> str:
    """``src/types.ts`` for an OpenAPI document: one exported type per component schema."""
    schemas: dict[str, Any] = dict(document.get("components", {}).get("schemas", {}))
    schemas.update(document.get("$defs", {}))
    parts = [HEADER]
    for name in sorted(schemas):
        schema = schemas[name]
        parts.append("\n" + comment(schema.get("description"), ""))
        body = ts(schema)
        if body.startswith("{\n"):
            parts.append(f"export interface {name_of(name)} {body}\n")
        else:
            parts.append(f"export type {name_of(name)} = {body};\n")
    return "".join(parts)


def document() -> dict[str, Any]:
    """The document the server publishes when API keys are set (the one with every answer)."""
    from sameday.serve.openapi import openapi_spec

    return openapi_spec(secured=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if src/types.ts is stale")
    args = parser.parse_args(argv)
    text = render(document())
    if args.check:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(
                f"{TARGET} is stale: sameday's OpenAPI document changed; run "
                "python clients/typescript/scripts/generate_types.py and commit the result",
                file=sys.stderr,
            )
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
