"""``sameday experiments``: the applied experiments, each with its share of its surface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sameday.config.experiment import Experiment
from sameday.config.loader import Project
from sameday.config.traffic import shares
from sameday.metadata import ExperimentStop


@dataclass(frozen=True)
class AppliedExperiment:
    """One applied experiment as the running servers see it.

    ``share`` is the part of its surface's requests (those matching its targeting) it is
    served: its layer slice times its coverage, less what experiments tried before it on the
    same surface take; ``None`` when it is not running. ``stopped_by`` says why a health check
    stopped it (``health: {auto_stop: true}``), until a person acknowledges the stop.
    """

    name: str
    surface: str
    design: str
    phase: str
    arms: tuple[str, ...]
    winner: str | None
    share: float | None
    applied_at: datetime
    stopped_by: dict[str, Any] | None = None
    """The health check's stop not yet acknowledged: ``cause``, ``summary``, ``stopped_at``
    and ``evidence`` (``None``: none)."""


def applied_experiments(project: Project) -> list[AppliedExperiment]:
    """The experiments last applied (``sameday apply``) to ``project``'s metadata database."""
    with project.open_metadata() as metadata:
        applied = metadata.applied("experiment")
        stops: dict[str, ExperimentStop] = {}
        for stop in metadata.experiment_stops(open_only=True):  # newest first
            stops.setdefault(stop.experiment, stop)
    share = shares(Experiment.model_validate(o.spec) for o in applied)
    return [
        AppliedExperiment(
            name=o.name,
            surface=o.spec["surface"],
            design=o.spec["design"],
            phase=o.spec["phase"],
            arms=tuple(a["name"] for a in o.spec["arms"]),
            winner=o.spec.get("winner"),
            share=share.get(o.name),
            applied_at=o.applied_at,
            stopped_by=_stop(stops.get(o.name)) if o.spec["phase"] == "stopped" else None,
        )
        for o in applied
    ]


def _stop(stop: ExperimentStop | None) -> dict[str, Any] | None:
    if stop is None:
        return None
    return {
        "cause": stop.cause,
        "summary": stop.summary,
        "stopped_at": stop.stopped_at.isoformat(),
        "evidence": stop.evidence,
    }
