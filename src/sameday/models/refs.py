"""Model references: the one spelling of "which model" every command and setting accepts.

``NAME`` (the newest version), ``NAME/3`` (version 3), ``NAME@champion`` (whatever the alias
points at now), and MLflow's own ``models:/NAME/3`` and ``models:/NAME@champion``, which are
resolved in the MLflow registry of the project's tracking server rather than in sameday's.
Names follow the project's object names (letters, digits, ``-`` and ``_``), aliases too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sameday.config.scoring import MODEL_NAME, MODEL_REF
from sameday.errors import InvalidModelRef

_REF = MODEL_REF  # one spelling: the config refuses what this refuses, at the file's line
NAME_PATTERN = re.compile(rf"^{MODEL_NAME}$")
"""What a model name or an alias looks like."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed reference: a name and at most one of ``version`` and ``alias``.

    ``mlflow`` is true for ``models:/…`` references, looked up in MLflow's registry.
    """

    name: str
    version: int | None = None
    alias: str | None = None
    mlflow: bool = False

    def __str__(self) -> str:
        prefix = "models:/" if self.mlflow else ""
        if self.version is not None:
            return f"{prefix}{self.name}/{self.version}"
        if self.alias is not None:
            return f"{prefix}{self.name}@{self.alias}"
        return f"{prefix}{self.name}"


def parse_ref(text: str) -> ModelRef:
    """Read ``NAME``, ``NAME/3``, ``NAME@alias``, ``models:/NAME/3`` or ``models:/NAME@alias``.

    Raises:
        InvalidModelRef: anything else, with the accepted forms.
    """
    match = _REF.match(text.strip())
    if match is None or (match["mlflow"] and not (match["version"] or match["alias"])):
        raise InvalidModelRef(
            f"{text!r} is not a model reference: write NAME, NAME/VERSION, NAME@ALIAS, "
            "models:/NAME/VERSION or models:/NAME@ALIAS (names: letters, digits, '.', '-', '_')"
        )
    version = int(match["version"]) if match["version"] else None
    if version == 0:
        raise InvalidModelRef(f"{text!r}: versions are numbered from 1")
    return ModelRef(match["name"], version, match["alias"], bool(match["mlflow"]))


def check_name(text: str, what: str = "model name") -> str:
    """``text`` if it is a valid model name or alias, else :class:`InvalidModelRef`."""
    if not NAME_PATTERN.match(text) or text.isdigit():
        raise InvalidModelRef(
            f"{what} {text!r} is not valid: letters, digits, '.', '-' and '_', starting with a "
            "letter or digit, not only digits, at most 100 characters"
        )
    return text
