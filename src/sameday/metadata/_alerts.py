"""Alert incidents, their notification outbox and mutes, as tables and functions over a session.

An *incident* is one problem of one subject seen by one check of one monitor, from the run that
first saw it until the run that sees it healthy again. The partial unique index
``ux_alert_incidents_one_open`` lets at most one incident per (monitor, check, subject) be open,
so a problem seen on every run of a monitor stays one incident, not an alert storm.

A *notification* is one message about an incident to one notifier. It is written in the same
transaction as the change of the incident that caused it (the outbox pattern), and only then
sent: a receiver that is down, slow or refusing leaves the row ``pending`` with the error and
the time of the next attempt, and a later run sends it. Nothing is ever deleted, so the table is
also the history of what was sent, when and after how many attempts.

A *mute* silences notifications (never the record of incidents) of a monitor or check, and
optionally one subject, until a time.

The state machine of :func:`observe` (when to open, remind and resolve) lives here rather than in
``sameday.monitor`` because it must run inside the transaction that reads the open incidents;
routing (which notifiers get a finding) is decided above and passed in.

The module is longer than most (about 580 lines) because the three tables, their records and
the state machine over them are one concept, and one revision (0004): alerting's stored state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from sameday.metadata._actor import current_actor
from sameday.metadata._checks import check_choice, check_json
from sameday.metadata.models import ID, NAME, Base, _one_of

IncidentStatus = Literal["open", "resolved"]
FindingStatus = Literal["warn", "fail", "error"]
AlertSeverity = Literal["info", "warning", "critical"]
AlertKind = Literal["opened", "reminder", "resolved"]
DeliveryStatus = Literal["pending", "sent"]

INCIDENT_STATUSES: tuple[str, ...] = get_args(IncidentStatus)
FINDING_STATUSES: tuple[str, ...] = get_args(FindingStatus)
SEVERITIES: tuple[str, ...] = get_args(AlertSeverity)
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)

_LOCK_KEY = 0x5A3D_A1E7
"""PostgreSQL advisory lock taken by :func:`observe`: two monitor runs at once queue rather than
race to open the same incident (SQLite write transactions are exclusive already)."""


class IncidentRow(Base):
    """``alert_incidents``: one problem of one subject, open until a check sees it healthy."""

    __tablename__ = "alert_incidents"
    __table_args__ = (
        _one_of("status", INCIDENT_STATUSES, "status"),
        _one_of("finding_status", FINDING_STATUSES, "finding_status"),
        _one_of("severity", SEVERITIES, "severity"),
        sa.Index(
            "ux_alert_incidents_one_open",
            "monitor",
            "check_name",
            "subject",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    monitor: Mapped[str] = mapped_column(sa.String(NAME))
    check_name: Mapped[str] = mapped_column(sa.String(NAME * 2))
    subject: Mapped[str] = mapped_column(sa.String(ID))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    finding_status: Mapped[str] = mapped_column(sa.String(16))
    severity: Mapped[str] = mapped_column(sa.String(16))
    summary: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[dict[str, Any]]
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]


class NotificationRow(Base):
    """``alert_notifications``: the outbox, and the history of every message sent."""

    __tablename__ = "alert_notifications"
    __table_args__ = (
        _one_of("kind", ALERT_KINDS, "kind"),
        _one_of("status", DELIVERY_STATUSES, "status"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alert_incidents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(16))
    notifier: Mapped[str] = mapped_column(sa.String(NAME))
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int]
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class MuteRow(Base):
    """``alert_mutes``: notifications of a monitor or check (and maybe one subject) held back."""

    __tablename__ = "alert_mutes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    monitor: Mapped[str] = mapped_column(sa.String(NAME * 2))
    subject: Mapped[str | None] = mapped_column(sa.String(ID))
    until: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(NAME * 2))
    created_at: Mapped[datetime]


@dataclass(frozen=True)
class Incident:
    """One incident: what is (or was) wrong, since when, and when people were last told."""

    id: int
    monitor: str
    check: str
    subject: str
    status: IncidentStatus
    finding_status: FindingStatus
    severity: AlertSeverity
    summary: str
    evidence: dict[str, Any]
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    notified_at: datetime | None


@dataclass(frozen=True)
class Notification:
    """One message about an incident to one notifier; ``pending`` until it was delivered.

    ``payload`` is the alert as it was when the message was queued (a reminder sent late still
    says what was seen when it was due).
    """

    id: int
    incident_id: int
    kind: AlertKind
    notifier: str
    status: DeliveryStatus
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Mute:
    """Notifications of ``monitor`` (a monitor's or a check's name), for ``subject`` or all of
    them, held back until ``until``."""

    id: int
    monitor: str
    subject: str | None
    until: datetime
    reason: str | None
    actor: str
    created_at: datetime

    def covers(self, monitor: str, check: str, subject: str) -> bool:
        """Whether this mute silences the incident of ``check`` in ``monitor`` on ``subject``.

        The name may be the monitor's, the check's (``drift``), or a check's family prefix
        (``drift`` covers ``drift.personal``).
        """
        named = self.monitor in (monitor, check) or check.startswith(self.monitor + ".")
        return named and self.subject in (None, subject)


@dataclass(frozen=True)
class Observation:
    """What one check saw about one subject in one run, and who would be told about it.

    ``status`` is the finding's status (``ok`` and ``learning`` are healthy); ``notifiers``
    are the names routing chose for this finding's monitor, check and severity (unused for a
    healthy one: a resolution goes to whoever was told of the problem).
    """

    check: str
    subject: str
    status: str
    severity: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    notifiers: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        """Nothing wrong (``ok``) or not yet enough history to say (``learning``)."""
        return self.status in ("ok", "learning")


@dataclass(frozen=True)
class Outcome:
    """What :func:`observe` changed: incidents opened, resolved, and the notifications queued."""

    opened: tuple[int, ...]
    resolved: tuple[int, ...]
    queued: tuple[int, ...]
    muted: tuple[int, ...]
    """Incidents that would have been notified now but are muted."""


def incident_record(row: IncidentRow) -> Incident:
    """The record of an incident row."""
    return Incident(
        id=row.id,
        monitor=row.monitor,
        check=row.check_name,
        subject=row.subject,
        status=cast(IncidentStatus, row.status),
        finding_status=cast(FindingStatus, row.finding_status),
        severity=cast(AlertSeverity, row.severity),
        summary=row.summary,
        evidence=dict(row.evidence),
        opened_at=row.opened_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
        notified_at=row.notified_at,
    )


def notification_record(row: NotificationRow) -> Notification:
    """The record of a notification row."""
    return Notification(
        id=row.id,
        incident_id=row.incident_id,
        kind=cast(AlertKind, row.kind),
        notifier=row.notifier,
        status=cast(DeliveryStatus, row.status),
        payload=dict(row.payload),
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def mute_record(row: MuteRow) -> Mute:
    """The record of a mute row."""
    return Mute(
        id=row.id,
        monitor=row.monitor,
        subject=row.subject,
        until=row.until,
        reason=row.reason,
        actor=row.actor,
        created_at=row.created_at,
    )


def observe(
    session: Session,
    monitor: str,
    observations: Sequence[Observation],
    *,
    complete: Sequence[str],
    remind_after: timedelta,
    project: str,
    now: datetime,
) -> Outcome:
    """Fold one run's observations of ``monitor`` into its incidents and queue notifications.

    - unhealthy, no open incident: open one, and queue ``opened``;
    - unhealthy, open: update what is seen; queue ``opened`` if nobody was told yet (it opened
      while muted, or without notifiers), else ``reminder`` once ``remind_after`` has passed
      since the last message, or at once when the severity rose (a warning that became
      critical may have routes to more people);
    - healthy, open: resolve it, and queue ``resolved`` to every notifier that was told
      anything about it (routes decide who hears of a problem; whoever heard of it hears that
      it is over, whatever the severity of the healthy finding).

    Open incidents of a check in ``complete`` (checks that ran to the end; ``drift`` covers
    ``drift.personal``) whose subject was not observed at all are resolved too: the subject is
    gone (a deleted pipeline), and an incident nobody can close would otherwise stay open for
    ever. A muted incident changes as usual but queues nothing. Observations of one check and
    subject after the first are ignored.
    """
    _lock(session)
    mutes = [mute_record(row) for row in _active_mutes(session, now)]
    open_rows = {
        (row.check_name, row.subject): row
        for row in session.execute(
            sa.select(IncidentRow).where(
                IncidentRow.monitor == monitor, IncidentRow.status == "open"
            )
        ).scalars()
    }
    opened: list[int] = []
    resolved: list[int] = []
    queued: list[int] = []
    muted: list[int] = []
    seen: set[tuple[str, str]] = set()

    def notify(row: IncidentRow, kind: str, notifiers: tuple[str, ...]) -> None:
        if not notifiers:
            return
        if any(m.covers(monitor, row.check_name, row.subject) for m in mutes):
            muted.append(row.id)
            return
        payload = _payload(row, kind, monitor, project, now)
        for name in dict.fromkeys(notifiers):
            notification = NotificationRow(
                incident_id=row.id,
                kind=kind,
                notifier=name,
                status="pending",
                payload=payload,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            session.add(notification)
            session.flush()
            queued.append(notification.id)
        row.notified_at = now

    for item in observations:
        key = (item.check, item.subject)
        if key in seen:
            continue
        seen.add(key)
        _check_observation(item)
        row = open_rows.get(key)
        if item.healthy:
            if row is not None:
                _update(row, item, now)
                row.status, row.resolved_at = "resolved", now
                resolved.append(row.id)
                notify(row, "resolved", _told(session, row.id))
            continue
        if row is None:
            row = IncidentRow(
                monitor=monitor,
                check_name=item.check,
                subject=item.subject,
                status="open",
                opened_at=now,
                resolved_at=None,
                notified_at=None,
                **_seen(item, now),
            )
            session.add(row)
            session.flush()
            opened.append(row.id)
            notify(row, "opened", item.notifiers)
            continue
        rose = SEVERITIES.index(item.severity) > SEVERITIES.index(row.severity)
        _update(row, item, now)
        if row.notified_at is None:
            notify(row, "opened", item.notifiers)
        elif rose or now - row.notified_at >= remind_after:
            notify(row, "reminder", item.notifiers)

    for (check, subject), row in open_rows.items():
        finished = any(check == name or check.startswith(name + ".") for name in complete)
        if finished and (check, subject) not in seen:
            row.status, row.resolved_at, row.last_seen_at = "resolved", now, now
            row.summary = f"{subject}: no longer reported by {check} (resolved)"
            resolved.append(row.id)
            notify(row, "resolved", _told(session, row.id))
    session.flush()
    return Outcome(tuple(opened), tuple(resolved), tuple(queued), tuple(muted))


def _told(session: Session, incident_id: int) -> tuple[str, ...]:
    """The notifiers told anything about an incident, in the order they were first told."""
    names = session.execute(
        sa.select(NotificationRow.notifier)
        .where(NotificationRow.incident_id == incident_id)
        .order_by(NotificationRow.id)
    ).scalars()
    return tuple(dict.fromkeys(names))


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _check_observation(item: Observation) -> None:
    check_choice(item.status, ("ok", "learning", *FINDING_STATUSES), "finding status")
    check_choice(item.severity, SEVERITIES, "severity")
    check_json(item.evidence, f"evidence of {item.check} on {item.subject!r}")


def _seen(item: Observation, now: datetime) -> dict[str, Any]:
    return {
        "finding_status": item.status if item.status in FINDING_STATUSES else "warn",
        "severity": item.severity,
        "summary": item.summary,
        "evidence": dict(item.evidence),
        "last_seen_at": now,
    }


def _update(row: IncidentRow, item: Observation, now: datetime) -> None:
    """Keep the latest look at an open incident (a healthy look keeps the last bad status)."""
    values = _seen(item, now)
    if item.healthy:
        values["finding_status"] = row.finding_status
        values["severity"] = row.severity
    for key, value in values.items():
        setattr(row, key, value)


def _payload(
    row: IncidentRow, kind: str, monitor: str, project: str, now: datetime
) -> dict[str, Any]:
    """The alert as it is now, kept with the notification so it can be sent later as is."""
    return {
        "kind": kind,
        "project": project,
        "monitor": monitor,
        "check": row.check_name,
        "subject": row.subject,
        "status": "ok" if kind == "resolved" else row.finding_status,
        "severity": row.severity,
        "summary": row.summary,
        "evidence": dict(row.evidence),
        "incident": row.id,
        "opened_at": row.opened_at.isoformat(),
        "at": now.isoformat(),
    }


def incidents(session: Session, *, include_resolved: bool, limit: int | None) -> list[Incident]:
    """Open incidents (or all), newest first."""
    query = sa.select(IncidentRow).order_by(IncidentRow.id.desc())
    if not include_resolved:
        query = query.where(IncidentRow.status == "open")
    if limit is not None:
        query = query.limit(limit)
    return [incident_record(row) for row in session.execute(query).scalars()]


def notifications(
    session: Session, *, incident_id: int | None, pending_only: bool, limit: int | None
) -> list[Notification]:
    """Notifications, oldest first: of one incident, or all; only pending ones if asked."""
    query = sa.select(NotificationRow).order_by(NotificationRow.id)
    if incident_id is not None:
        query = query.where(NotificationRow.incident_id == incident_id)
    if pending_only:
        query = query.where(NotificationRow.status == "pending")
    if limit is not None:
        query = query.limit(limit)
    return [notification_record(row) for row in session.execute(query).scalars()]


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int) -> list[Notification]:
    """Pending notifications due by ``now``, oldest first, each leased until ``now + lease``.

    The lease moves ``next_attempt_at`` forward with a compare-and-set per row, so two senders
    running at once never both take a row; a sender that dies mid-send leaves its rows to be
    taken again once the lease ends (delivery is at least once: receivers dedupe by id).
    """
    rows = session.execute(
        sa.select(NotificationRow.id, NotificationRow.next_attempt_at)
        .where(NotificationRow.status == "pending", NotificationRow.next_attempt_at <= now)
        .order_by(NotificationRow.id)
        .limit(limit)
    ).all()
    claimed: list[int] = []
    for row_id, due in rows:
        result = session.execute(  # an UPDATE: a cursor result that knows its rowcount
            sa.update(NotificationRow)
            .where(
                NotificationRow.id == row_id,
                NotificationRow.status == "pending",
                NotificationRow.next_attempt_at == due,
            )
            .values(next_attempt_at=now + lease)
        )
        if cast("sa.CursorResult[Any]", result).rowcount == 1:
            claimed.append(row_id)
    if not claimed:
        return []
    found = session.execute(
        sa.select(NotificationRow)
        .where(NotificationRow.id.in_(claimed))
        .order_by(NotificationRow.id)
    ).scalars()
    return [notification_record(row) for row in found]


def finish_delivery(
    session: Session,
    notification_id: int,
    *,
    error: str | None,
    retry_at: datetime | None,
    now: datetime,
) -> Notification:
    """Record one attempt: sent when ``error`` is ``None``, else pending until ``retry_at``."""
    row = session.get(NotificationRow, notification_id, with_for_update=True)
    if row is None:
        raise ValueError(f"no notification with id {notification_id}")
    row.attempts += 1
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, None
    else:
        if retry_at is None:
            raise ValueError("a failed delivery needs the time of its next attempt")
        row.last_error, row.next_attempt_at = error, retry_at
    session.flush()
    return notification_record(row)


def _active_mutes(session: Session, now: datetime) -> Sequence[MuteRow]:
    return (
        session.execute(sa.select(MuteRow).where(MuteRow.until > now).order_by(MuteRow.id))
        .scalars()
        .all()
    )


def mute(
    session: Session,
    monitor: str,
    subject: str | None,
    *,
    until: datetime,
    reason: str | None,
    actor: str | None,
    now: datetime,
) -> Mute:
    """Hold back notifications of ``monitor`` (and ``subject``, if given) until ``until``."""
    if until <= now:
        raise ValueError(f"a mute must end in the future, not at {until.isoformat()}")
    row = MuteRow(
        monitor=monitor,
        subject=subject,
        until=until,
        reason=reason,
        actor=(actor or current_actor())[: NAME * 2],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return mute_record(row)


def unmute(session: Session, monitor: str, subject: str | None, now: datetime) -> list[Mute]:
    """End the active mutes of exactly ``monitor`` and ``subject`` now; return them as ended."""
    query = sa.select(MuteRow).where(MuteRow.monitor == monitor, MuteRow.until > now)
    query = query.where(
        MuteRow.subject.is_(None) if subject is None else MuteRow.subject == subject
    )
    ended = []
    for row in session.execute(query).scalars():
        row.until = now
        ended.append(mute_record(row))
    session.flush()
    return ended


def mutes(session: Session, now: datetime, *, include_ended: bool) -> list[Mute]:
    """Active mutes (or every mute ever set), oldest first."""
    if include_ended:
        rows = session.execute(sa.select(MuteRow).order_by(MuteRow.id)).scalars().all()
        return [mute_record(row) for row in rows]
    return [mute_record(row) for row in _active_mutes(session, now)]
