"""Experiments a health check stopped: the decision, its evidence, and who acknowledged it.

A running experiment that opts in (``health: {auto_stop: true}``) is stopped by the monitors
when its split breaks, a guardrail is harmed or an arm loses its traffic. Stopping changes the
*applied* spec's phase to ``stopped`` (servers stop assigning units at their next refresh and
serve the surface's default) and adds a row here, in one transaction, so the stop and its
reason are never seen apart. The project files still say ``running``: ``sameday apply``
refuses to run the test again until a person sets ``phase: stopped`` in its file, which
acknowledges the stop (``cleared_at``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from sameday.metadata._applied import lock_applied, spec_hash
from sameday.metadata._checks import check_json
from sameday.metadata.models import NAME, AppliedObjectRow, Base


class ExperimentStopRow(Base):
    """``experiment_stops``: one row per stop a health check made."""

    __tablename__ = "experiment_stops"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    experiment: Mapped[str] = mapped_column(sa.String(NAME), index=True)
    cause: Mapped[str] = mapped_column(sa.String(NAME))
    summary: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[dict[str, Any]]
    stopped_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]


@dataclass(frozen=True)
class ExperimentStop:
    """A stop made by a health check.

    ``cause`` names the check that failed (``health.srm``, ``health.guardrail``,
    ``health.traffic``), ``summary`` says what it saw in one line, ``evidence`` holds its
    numbers (JSON). ``cleared_at`` is when a person acknowledged it (``None``: not yet).
    """

    id: int
    experiment: str
    cause: str
    summary: str
    evidence: dict[str, Any]
    stopped_at: datetime
    cleared_at: datetime | None

    def refusal(self) -> str:
        """Why ``apply`` will not run the experiment again while this stop is open."""
        return (
            f"experiment {self.experiment!r} was stopped by its health check at "
            f"{self.stopped_at:%Y-%m-%d %H:%M} UTC ({self.cause}: {self.summary}); its file still "
            "says 'phase: running'. Fix the cause, set 'phase: stopped' in its file and apply to "
            "acknowledge the stop; then 'phase: running' runs it again"
        )


def _record(row: ExperimentStopRow) -> ExperimentStop:
    return ExperimentStop(
        id=row.id,
        experiment=row.experiment,
        cause=row.cause,
        summary=row.summary,
        evidence=dict(row.evidence),
        stopped_at=row.stopped_at,
        cleared_at=row.cleared_at,
    )


def stop(
    session: Session,
    experiment: str,
    *,
    cause: str,
    summary: str,
    evidence: dict[str, Any],
    now: datetime,
) -> ExperimentStop | None:
    """Set the applied experiment's phase to ``stopped`` and record why.

    Returns ``None`` (and changes nothing) when the experiment is not applied as running: an
    apply or another monitor pass got there first.
    """
    check_json(evidence, f"evidence of the stop of {experiment!r}")
    lock_applied(session)  # the lock apply takes: a stop and an apply never interleave
    query = sa.select(AppliedObjectRow).where(
        AppliedObjectRow.kind == "experiment", AppliedObjectRow.name == experiment
    )
    row = session.execute(query).scalar_one_or_none()
    if row is None or row.spec.get("phase") != "running":
        return None
    spec = {**row.spec, "phase": "stopped"}
    row.spec = spec
    row.spec_hash = spec_hash(spec)
    row.applied_at = now
    stopped = ExperimentStopRow(
        experiment=experiment,
        cause=cause,
        summary=summary,
        evidence=evidence,
        stopped_at=now,
        cleared_at=None,
    )
    session.add(stopped)
    session.flush()
    return _record(stopped)


def stops(
    session: Session, experiment: str | None = None, *, open_only: bool = False
) -> list[ExperimentStop]:
    """The stops, newest first; of one experiment, or only those not acknowledged yet."""
    query = sa.select(ExperimentStopRow).order_by(
        ExperimentStopRow.stopped_at.desc(), ExperimentStopRow.id.desc()
    )
    if experiment is not None:
        query = query.where(ExperimentStopRow.experiment == experiment)
    if open_only:
        query = query.where(ExperimentStopRow.cleared_at.is_(None))
    return [_record(row) for row in session.execute(query).scalars()]


def clear(session: Session, experiments: Iterable[str], now: datetime) -> int:
    """Acknowledge the open stops of ``experiments``; return how many there were."""
    names = list(experiments)
    if not names:
        return 0
    result = session.execute(
        sa.update(ExperimentStopRow)
        .where(ExperimentStopRow.experiment.in_(names), ExperimentStopRow.cleared_at.is_(None))
        .values(cleared_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
