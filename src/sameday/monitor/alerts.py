"""From findings to alerts: incidents, routing, and the outbox that delivers them.

:func:`record` routes each finding of a monitor run (the monitor's ``notify`` routes, by check
and severity) and folds them into incidents in one transaction of the metadata store, which
also queues the notifications an opening, a reminder or a resolution calls for (see
:func:`sameday.metadata.MetadataStore.observe_alerts` for the rules). Nothing is sent there.

:func:`deliver` then sends what is due from the outbox. Every attempt is recorded; a failure
leaves the notification pending with its error and a next attempt after a growing wait (30 s,
1 min, 2 min, ... at most an hour), so a receiver that is down for a day gets everything once
it is back, and a run never loses an alert. The whole pass has a time budget and each receiver
its own timeout; a receiver that failed once in a pass is not tried again in that pass, so a
dead one costs one timeout per run, however many alerts wait for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from sameday.metadata import Notification, Observation, Outcome
from sameday.monitor.check import Alert, Finding, Notifier, Severity, Status
from sameday.monitor.notifiers import DeliveryFailed, build_notifier

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.config.monitor import Monitor
    from sameday.metadata.store import MetadataStore

log = logging.getLogger("sameday.monitor")

FIRST_RETRY = 30.0
"""Seconds before the first retry of a failed delivery; the wait doubles after each failure."""
LONGEST_WAIT = 3600.0
"""The wait between two attempts never grows past this."""
BUDGET = 60.0
"""Seconds one delivery pass may take; what is left waits for the next run."""


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based)."""
    return min(LONGEST_WAIT, FIRST_RETRY * 2.0 ** max(0, attempts - 1))


def record(
    metadata: MetadataStore,
    project: Project,
    monitor: Monitor,
    findings: Sequence[Finding],
    *,
    complete: Sequence[str],
    now: datetime | None = None,
) -> Outcome:
    """Fold one run of ``monitor`` into its incidents and queue the notifications it calls for.

    Args:
        complete: the checks that ran to the end; their open incidents on subjects they no
            longer report are resolved.
    """
    declared = sorted(project.notifiers)
    observations = [
        Observation(
            check=finding.monitor,
            subject=finding.subject,
            status=finding.status,
            severity=finding.severity,
            summary=finding.summary,
            evidence=dict(finding.evidence),
            notifiers=monitor.notifiers_for(finding.monitor, finding.severity, declared),
        )
        for finding in findings
    ]
    return metadata.observe_alerts(
        monitor.name,
        observations,
        complete=complete,
        remind_after=timedelta(seconds=monitor.remind_after),
        project=project.name,
        now=now,
    )


@dataclass(frozen=True)
class Delivery:
    """What one delivery pass did: ids of notifications sent and failed, and how many wait."""

    sent: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    """Notifier name → the error of its failed attempt in this pass (no secrets)."""


def alert_of(notification: Notification) -> Alert:
    """The alert a queued notification carries, as it was when it was queued."""
    payload = notification.payload
    finding = Finding(
        monitor=payload["check"],
        subject=payload["subject"],
        status=cast(Status, payload["status"]),
        summary=payload["summary"],
        severity=cast(Severity, payload["severity"]),
        evidence=payload.get("evidence", {}),
    )
    return Alert(
        kind=notification.kind,
        finding=finding,
        incident_id=notification.incident_id,
        opened_at=datetime.fromisoformat(payload["opened_at"]),
        project=payload["project"],
        monitor=payload["monitor"],
        delivery_id=notification.id,
    )


def notifiers_of(project: Project) -> dict[str, Notifier]:
    """The project's notifiers, by name."""
    return {name: build_notifier(settings) for name, settings in project.notifiers.items()}


def deliver(
    metadata: MetadataStore,
    notifiers: Mapping[str, Notifier],
    *,
    budget: float = BUDGET,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    clock: Callable[[], float] = time.monotonic,
) -> Delivery:
    """Send what is due in the outbox, within ``budget`` seconds; record every attempt.

    Notifications are taken with a lease a little longer than the budget, so another run going
    at the same time never sends them too, and a run that dies mid-pass leaves them to the next.
    """
    deadline = clock() + budget
    lease = timedelta(seconds=budget + 30.0)
    due = metadata.claim_notifications(lease=lease, now=now())
    sent: list[int] = []
    failed: list[int] = []
    errors: dict[str, str] = {}
    for notification in due:
        name = notification.notifier
        if name in errors or clock() >= deadline:
            continue  # leased: the next run takes it once the lease ends
        error = _send(notifiers, notification)
        if error is None:
            metadata.finish_notification(notification.id, now=now())
            sent.append(notification.id)
            continue
        errors[name] = error
        at = now()
        wait = timedelta(seconds=retry_delay(notification.attempts + 1))
        metadata.finish_notification(notification.id, error=error, retry_at=at + wait, now=at)
        failed.append(notification.id)
        log.warning(
            "alert %s to %s not delivered, retrying later: %s", notification.id, name, error
        )
    return Delivery(tuple(sent), tuple(failed), errors)


def _send(notifiers: Mapping[str, Notifier], notification: Notification) -> str | None:
    """Send one notification; the error (without secrets) if it failed."""
    notifier = notifiers.get(notification.notifier)
    if notifier is None:
        known = ", ".join(sorted(notifiers)) or "none"
        return (
            f"notifier {notification.notifier!r} is not declared in notifiers/ (declared: "
            f"{known}): declare it again to deliver what waits for it"
        )
    try:
        notifier.send(alert_of(notification))
    except DeliveryFailed as exc:
        return str(exc)
    except Exception as exc:  # a notifier bug must not stop the others, nor lose the alert
        # Only the type: the text of an unexpected error may quote a webhook URL.
        return f"notifier {notification.notifier!r} failed unexpectedly: {type(exc).__name__}"
    return None
