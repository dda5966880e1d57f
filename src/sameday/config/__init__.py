"""Typed models of every project file, the loader that locates errors, and JSON Schema export."""

from sameday.config.experiment import Experiment
from sameday.config.loader import KINDS, PROJECT_FILE, Project, find_project, load_project
from sameday.config.metric import Metric
from sameday.config.pipeline import Pipeline
from sameday.config.project import ProjectSettings
from sameday.config.results import ResultSet
from sameday.config.surface import Surface

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
