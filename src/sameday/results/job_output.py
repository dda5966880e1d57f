"""Publishing a pipeline job's output: the publisher the local runner is given.

The runner (``sameday.pipeline``) knows nothing of result sets or models: when a job declares
an output that names one, it calls the publisher it was handed with ``(output, file,
run_id)``. This module builds that publisher for a project, so every caller that runs
pipelines (the CLI, a backfill, a test) publishes the same way and the snapshot or model
version records the run that produced it.

An output with ``register: NAME`` registers the file or folder as a model version; with a
``gate`` it goes through :func:`gate_and_publish`: the candidate becomes the champion only
if blessed, and the output's ``lists`` (the result sets scored by that model) are published
only then. A refused candidate fails nothing: the job succeeds, the decision and its evidence
join the model's history, and its finding is returned for the alerting layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sameday.config.loader import Project
from sameday.config.pipeline import Output
from sameday.metadata import ModelVersionRecord
from sameday.models.gate import read_metrics
from sameday.models.registry import GateDecision, open_registry


class JobPublisher(Protocol):
    """Publishes a job's output (a result set's file, or a model's bundle); raising fails the
    job."""

    def __call__(
        self, output: Output, source: Path, run_id: str, folder: Path | None = None
    ) -> None:
        """``folder`` is the isolated job's folder (``sameday run --isolated``), which the
        publication sees as the project's; ``None`` is the project itself."""


@dataclass(frozen=True)
class ModelOutcome:
    """What registering a job's model did: the version (``None`` when the gate refused it),
    the gate's decision (``None`` without a gate) and the snapshots published."""

    version: ModelVersionRecord | None
    decision: GateDecision | None
    published: tuple[str, ...]


def job_publisher(project: Project) -> JobPublisher:
    """A publisher of ``project``'s result sets and models, importing the publishing machinery
    (DuckDB, pyarrow) only when a job actually publishes."""

    def publish(output: Output, source: Path, run_id: str, folder: Path | None = None) -> None:
        seen = project if folder is None else publishing_project(project, folder)
        if output.model is not None:
            register_output(seen, output, source, run_id)
            return
        from sameday.results.publish import publish as publish_result

        assert output.publish is not None  # the runner calls for outputs that name one
        publish_result(seen, output.publish, source=source, run_id=run_id)

    return publish


def publishing_project(project: Project, folder: Path) -> Project:
    """The project as a publication from an isolated job's ``folder`` sees it: files from the
    folder, storage from the project (relative SQLite paths and ``.sameday/`` of the project)."""
    storage = project.settings.storage
    absolute = {
        "metadata": project.url(storage.metadata),
        "serving": project.url(storage.serving),
        "events": project.url(storage.events),
        "artifacts": _absolute_folder(project, storage.artifacts),
    }
    settings = project.settings.model_copy(update={"storage": storage.model_copy(update=absolute)})
    state = project.root / ".sameday"
    state.mkdir(exist_ok=True)
    link = folder / ".sameday"
    if not link.exists():
        link.symlink_to(state, target_is_directory=True)  # publish locks live there
    return dataclasses.replace(project, root=folder, settings=settings)


def _absolute_folder(project: Project, value: str) -> str:
    return value if "://" in value else str(project.path(value))


def register_output(project: Project, output: Output, source: Path, run_id: str) -> ModelOutcome:
    """Register (or gate) the model a job wrote, then publish the lists it scored."""
    assert output.model is not None
    lists = {name: project.path(path) for name, path in output.lists.items()}
    metrics_file = project.path(output.metrics) if output.metrics else None
    if output.gate:
        assert metrics_file is not None  # the config requires it with a gate
        return gate_and_publish(
            project,
            output.model,
            source,
            output.gate,
            metrics_file,
            lists=lists,
            loader=output.loader,
            run_id=run_id,
        )
    metrics = read_metrics(metrics_file)[0] if metrics_file is not None else None
    with open_registry(project) as registry:
        version = registry.register(
            output.model,
            source,
            loader=output.loader,
            metrics=metrics,
            run_id=run_id,
            aliases=output.aliases,
        )
    return ModelOutcome(version, None, _publish_lists(project, lists, run_id, version))


def gate_and_publish(
    project: Project,
    name: str,
    source: Path,
    conditions: Sequence[str],
    metrics_file: Path,
    *,
    lists: Mapping[str, Path] | None = None,
    loader: str | None = None,
    run_id: str | None = None,
) -> ModelOutcome:
    """Gate the candidate at ``source`` on the metrics in ``metrics_file``; when blessed it is
    ``name``'s new champion and ``lists`` (result set: file) are published as snapshots.

    Raises:
        GateError: a condition is malformed or a metric is missing (nothing changed).
        ResultCheckFailed: a list failed its checks after the model was crowned; the model
            stays champion (its own evidence passed) and the list is not published.
    """
    candidate, champion = read_metrics(metrics_file)
    with open_registry(project) as registry:
        decision = registry.gate(
            name,
            source,
            conditions,
            candidate,
            champion_metrics=champion,
            loader=loader,
            run_id=run_id,
        )
    if not decision.blessed:
        return ModelOutcome(None, decision, ())
    published = _publish_lists(project, lists or {}, run_id, decision.version)
    return ModelOutcome(decision.version, decision, published)


def _publish_lists(
    project: Project,
    lists: Mapping[str, Path],
    run_id: str | None,
    version: ModelVersionRecord | None,
) -> tuple[str, ...]:
    if not lists:
        return ()
    from sameday.results.publish import publish as publish_result

    reason = f"scored by model {version.ref}" if version is not None else None
    published = []
    for name, path in lists.items():
        result = publish_result(project, name, source=path, run_id=run_id, reason=reason)
        if result.version is not None:
            published.append(result.version)
    return tuple(published)
