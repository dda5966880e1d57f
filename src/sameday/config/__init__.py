"""Typed models of every project file, the loader that locates errors, and JSON Schema export.

The models are imported on first use (PEP 562 ``__getattr__``): loading a project imports only
the models of the kinds of files it has (see ``loader.Kind``), so ``from sameday.config import
load_project`` must not import them all (start-up cost counts: ``docs/benchmarks.md``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from sameday.config.loader import KINDS, PROJECT_FILE, Project, find_project, load_project

if TYPE_CHECKING:
    from sameday.config.experiment import Experiment
    from sameday.config.metric import Metric
    from sameday.config.pipeline import Pipeline
    from sameday.config.project import ProjectSettings
    from sameday.config.results import ResultSet
    from sameday.config.surface import Surface

_MODELS = {
    "Experiment": "sameday.config.experiment",
    "Metric": "sameday.config.metric",
    "Pipeline": "sameday.config.pipeline",
    "ProjectSettings": "sameday.config.project",
    "ResultSet": "sameday.config.results",
    "Surface": "sameday.config.surface",
}

__all__ = [
    "KINDS",
    "PROJECT_FILE",
    "Experiment",
    "Metric",
    "Pipeline",
    "Project",
    "ProjectSettings",
    "ResultSet",
    "Surface",
    "find_project",
    "load_project",
]


def __getattr__(name: str) -> Any:
    """A model named in ``__all__``, imported now."""
    if name in _MODELS:
        return getattr(importlib.import_module(_MODELS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
