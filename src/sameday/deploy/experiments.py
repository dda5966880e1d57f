"""``sameday experiments``: the applied experiments, each with its share of its surface."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sameday.config.experiment import Experiment
from sameday.config.loader import Project
from sameday.config.traffic import shares


@dataclass(frozen=True)
class AppliedExperiment:
    """One applied experiment as the running servers see it.

    ``share`` is the part of its surface's requests (those matching its targeting) it is
    served: its layer slice times its coverage, less what experiments tried before it on the
    same surface take; ``None`` when it is not running.
    """

    name: str
    surface: str
    design: str
    phase: str
    arms: tuple[str, ...]
    winner: str | None
    share: float | None
    applied_at: datetime


def applied_experiments(project: Project) -> list[AppliedExperiment]:
    """The experiments last applied (``sameday apply``) to ``project``'s metadata database."""
    with project.open_metadata() as metadata:
        applied = metadata.applied("experiment")
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
        )
        for o in applied
    ]
