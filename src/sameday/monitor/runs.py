"""The ``runs`` check: did the latest run of every pipeline succeed?

A failed run is a ``fail`` (critical): its output was not published, and whatever reads it is
now a day older. A cancelled one is a ``warn``: someone stopped it, and may have meant to.
Runs still going are skipped: the latest *finished* run is what tells. A pipeline that never
finished a run is ``learning``. Late and unusually long runs are the freshness checks' business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sameday.monitor.check import Context, Finding

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.config.monitor import Monitor

HISTORY = 20
"""Runs read per pipeline: enough to count a streak of failures behind the latest one."""


@dataclass(frozen=True)
class RunsCheck:
    """One finding per pipeline of the project, about its latest finished run."""

    name: str = "runs"

    def evaluate(self, context: Context) -> list[Finding]:
        """Read each pipeline's latest runs from the metadata store."""
        findings = []
        for pipeline in sorted(context.project.pipelines):
            runs = context.metadata.list_runs(pipeline, limit=HISTORY)
            finished = [run for run in runs if run.ended_at is not None]
            if not finished:
                findings.append(
                    Finding(self.name, pipeline, "learning", f"{pipeline}: no finished run yet")
                )
                continue
            latest = finished[0]
            evidence: dict[str, Any] = {
                "run_id": latest.id,
                "status": latest.status,
                "ended_at": latest.ended_at.isoformat() if latest.ended_at else None,
                "message": latest.message,
            }
            if latest.status == "succeeded":
                summary = f"{pipeline}: the latest run {latest.id} succeeded"
                findings.append(Finding(self.name, pipeline, "ok", summary, "info", evidence))
            elif latest.status == "cancelled":
                summary = f"{pipeline}: the latest run {latest.id} was cancelled"
                findings.append(Finding(self.name, pipeline, "warn", summary, "warning", evidence))
            else:
                streak = next(
                    (i for i, run in enumerate(finished) if run.status != "failed"), len(finished)
                )
                evidence["failed_in_a_row"] = streak
                summary = (
                    f"{pipeline}: the latest run {latest.id} failed"
                    + (f" ({streak} failed runs in a row)" if streak > 1 else "")
                    + f": {latest.message or 'no message'}"
                )
                findings.append(Finding(self.name, pipeline, "fail", summary, "critical", evidence))
        return findings


def builtin_checks(project: Project, monitor: Monitor) -> list[RunsCheck]:
    """The ``runs`` check (it has no settings)."""
    return [RunsCheck()]
