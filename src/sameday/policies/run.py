"""Bandit operations on a project, as ``sameday bandit`` runs them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sameday.config.experiment import Experiment
from sameday.errors import NotFound
from sameday.policies.update import UpdateResult, update_experiment

if TYPE_CHECKING:
    from sameday.metadata import MetadataStore
    from sameday.metadata.records import BanditParamsRecord


def update_project_bandit(project_dir: Path | None, name: str) -> UpdateResult:
    """Update the applied bandit ``name`` from the project's event log.

    Raises:
        NotFound: no experiment ``name`` is applied.
        NotABandit: it is not a bandit.
    """
    from sameday.config import load_project

    project = load_project(project_dir)
    with project.open_metadata() as metadata, project.open_event_sink() as sink:
        experiment = _applied_experiment(metadata, name)
        return update_experiment(experiment, metadata, sink)


def project_bandit_history(
    project_dir: Path | None, name: str, limit: int
) -> list[BanditParamsRecord]:
    """The newest ``limit`` parameter snapshots of bandit ``name``."""
    from sameday.config import load_project

    project = load_project(project_dir)
    with project.open_metadata() as metadata:
        return metadata.bandit_history(name, limit)


def _applied_experiment(metadata: MetadataStore, name: str) -> Experiment:
    for applied in metadata.applied("experiment"):
        if applied.name == name:
            return Experiment.model_validate(applied.spec)
    raise NotFound(
        f"no applied experiment {name!r}: add it to experiments/ and run sameday apply first"
    )
