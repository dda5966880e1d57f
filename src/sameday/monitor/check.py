"""The two seams of monitoring: a check evaluates, a notifier delivers.

A check never notifies and never decides whether an alert is new: it says what it sees, now, as
:class:`Finding`\\ s (one per subject it looked at, healthy ones included, so an open incident can
resolve). The alerting layer turns findings into incidents (one open incident per monitor and
subject), routes them by monitor and severity, and hands alerts to notifiers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.metadata.store import MetadataStore

Status = Literal["ok", "warn", "fail", "learning", "error"]
"""``ok`` healthy; ``warn``/``fail`` unhealthy (a ``fail`` of a blocking check stops a publish);
``learning`` not enough history to judge yet; ``error`` the check itself could not run."""

Severity = Literal["info", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check saw about one subject, with the numbers behind it.

    ``monitor`` names the check (``freshness``, ``drift.personal``); ``subject`` what it is
    about (a pipeline, a result set, an experiment arm). ``summary`` is the one line a person
    reads in an alert; ``evidence`` holds JSON-able values (expected, observed, band, score) so
    an alert explains itself and the history can be charted.
    """

    monitor: str
    subject: str
    status: Status
    summary: str
    severity: Severity = "warning"
    evidence: Mapping[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """Nothing to alert on (``ok`` or still ``learning``)."""
        return self.status in ("ok", "learning")


@dataclass(frozen=True)
class Context:
    """What a check may look at: the project, its metadata store, and the time of the run."""

    project: Project
    metadata: MetadataStore
    now: datetime


class Check(Protocol):
    """Something that evaluates the loop's health.

    Implementations keep their settings on the instance (built from ``monitors/*.yaml`` or the
    built-in defaults) and do their work in :meth:`evaluate`.
    """

    name: str

    def evaluate(self, context: Context) -> list[Finding]:
        """Look, and say what was seen; raise nothing a bad subject can cause (report it as
        an ``error`` finding instead, so one broken subject never hides the others)."""
        ...


@dataclass(frozen=True, slots=True)
class Alert:
    """A notification about an incident: it opened, is still open, or resolved.

    ``monitor`` is the monitor that saw it (``finding.monitor`` names the check);
    ``delivery_id`` identifies this message in the outbox: it stays the same across retries,
    so a receiver that got it twice can tell.
    """

    kind: Literal["opened", "reminder", "resolved"]
    finding: Finding
    incident_id: int
    opened_at: datetime
    project: str
    monitor: str
    delivery_id: int


class Notifier(Protocol):
    """Delivers alerts somewhere (Slack, a webhook, e-mail)."""

    name: str

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` or raise; the caller retries later and never loses it."""
        ...
