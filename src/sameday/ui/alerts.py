"""Monitors and alerts: each monitor's state, open and past incidents with what was sent about
them, and muting (the same records ``sameday alerts`` and ``sameday alerts mute`` use).

A mute holds back notifications only; incidents are still recorded, and one still open when the
mute ends is sent then (see :mod:`sameday.metadata.store`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sameday.config.monitor import Monitor
from sameday.errors import NotFound
from sameday.metadata import Incident, Mute, Notification
from sameday.ui.state import Dashboard

HISTORY = 100
"""Incidents shown, open ones included."""
DURATIONS = {"1h": 3600, "4h": 4 * 3600, "1d": 86400, "3d": 3 * 86400, "1w": 7 * 86400}
"""The mute lengths the dashboard offers."""


@dataclass(frozen=True)
class MonitorState:
    """A declared monitor: its open incidents and whether it is muted."""

    monitor: Monitor
    open: int
    worst: str | None
    muted_until: datetime | None


@dataclass(frozen=True)
class AlertsPage:
    """Monitors, incidents (open first) and the mutes in force."""

    monitors: list[MonitorState]
    open: list[Incident]
    history: list[Incident]
    mutes: list[Mute]


@dataclass(frozen=True)
class IncidentPage:
    """One incident and every message about it."""

    incident: Incident
    notifications: list[Notification]
    mutes: list[Mute]


def alerts_page(dash: Dashboard) -> AlertsPage:
    """The monitors and alerts page."""
    project = dash.project()
    now = dash.now()
    incidents = dash.meta.incidents(include_resolved=True, limit=HISTORY)
    mutes = dash.meta.mutes(now=now)
    opened = [i for i in incidents if i.status == "open"]
    monitors: list[MonitorState] = []
    for name, monitor in sorted(project.monitors.items()):
        mine = [i for i in opened if i.monitor == name]
        severities = {i.severity for i in mine}
        worst = next((s for s in ("critical", "warning", "info") if s in severities), None)
        until = [m.until for m in mutes if m.monitor == name and m.subject is None]
        monitors.append(MonitorState(monitor, len(mine), worst, max(until) if until else None))
    return AlertsPage(monitors, opened, [i for i in incidents if i.status != "open"], mutes)


def incident_page(dash: Dashboard, incident_id: int) -> IncidentPage:
    """One incident with its notifications and the mutes that cover it.

    Raises:
        NotFound: no incident with this id among the newest ones.
    """
    found = [
        i for i in dash.meta.incidents(include_resolved=True, limit=None) if i.id == incident_id
    ]
    if not found:
        raise NotFound(f"no incident {incident_id}")
    incident = found[0]
    mutes = [
        m
        for m in dash.meta.mutes(now=dash.now())
        if m.covers(incident.monitor, incident.check, incident.subject)
    ]
    return IncidentPage(incident, dash.meta.notifications(incident_id=incident_id), mutes)


def mute(
    dash: Dashboard,
    name: str,
    subject: str | None,
    duration: str,
    reason: str | None,
    *,
    actor: str,
) -> Mute:
    """Hold back alerts of monitor or check ``name`` (on ``subject``) for ``duration``.

    Raises:
        ValueError: an unknown duration or an empty name.
    """
    if duration not in DURATIONS:
        raise ValueError(f"mute for one of {', '.join(DURATIONS)}, not {duration!r}")
    if not name.strip():
        raise ValueError("name the monitor or check to mute")
    until = dash.now() + timedelta(seconds=DURATIONS[duration])
    return dash.meta.mute(
        name.strip(), subject=subject or None, until=until, reason=reason or None, actor=actor
    )


def unmute(dash: Dashboard, name: str, subject: str | None) -> list[Mute]:
    """End the mutes of ``name`` (and ``subject``) now.

    Raises:
        NotFound: no such mute is in force.
    """
    ended = dash.meta.unmute(name, subject=subject or None, now=dash.now())
    if not ended:
        raise NotFound(f"no active mute of {name!r}" + (f" on {subject!r}" if subject else ""))
    return ended
