"""Running monitors: once (for cron or a CronWorkflow), every few minutes, or after a run.

One pass evaluates every check of every monitor, records the findings as incidents (queueing
notifications), and then delivers what the outbox holds. A check that raises becomes an
``error`` finding of its own: one broken check never hides the others, and never stops the
pass. The pass's outcome is a :class:`Report`; its :attr:`Report.exit_code` is 1 when any
finding is ``fail`` or ``error`` (something is broken, or cannot be checked), 0 otherwise:
warnings are alerted on, but do not fail a scheduled job.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, get_args

from sameday.config.monitor import DEFAULT_MONITOR, Monitor
from sameday.errors import NotFound, SamedayError
from sameday.metadata import Outcome
from sameday.monitor import registry
from sameday.monitor.alerts import BUDGET, Delivery, deliver, notifiers_of, record
from sameday.monitor.check import Check, Context, Finding, Severity, Status
from sameday.urls import scrub

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.metadata.store import MetadataStore

log = logging.getLogger("sameday.monitor")

FAILING: tuple[str, ...] = ("fail", "error")
"""Finding statuses that make a pass exit 1."""


def monitors_of(project: Project) -> dict[str, Monitor]:
    """The project's monitors, or the one ``default`` monitor when it declares none."""
    return dict(project.monitors) or {DEFAULT_MONITOR: Monitor(name=DEFAULT_MONITOR)}


@dataclass(frozen=True)
class MonitorRun:
    """One monitor's part of a pass: what its checks found and what that changed."""

    monitor: str
    findings: tuple[Finding, ...]
    outcome: Outcome


@dataclass(frozen=True)
class Report:
    """One pass over the monitors: findings, incident changes, deliveries."""

    at: datetime
    monitors: tuple[MonitorRun, ...]
    delivery: Delivery
    pending: int
    """Notifications still waiting in the outbox after this pass (to be retried)."""

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the pass, monitor by monitor."""
        return [finding for run in self.monitors for finding in run.findings]

    @property
    def exit_code(self) -> int:
        """1 when any finding is ``fail`` or ``error``, else 0."""
        return 1 if any(f.status in FAILING for f in self.findings) else 0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (``sameday monitor run --json``)."""
        return {
            "at": self.at.isoformat(),
            "healthy": self.exit_code == 0,
            "monitors": [
                {
                    "monitor": run.monitor,
                    "findings": [
                        {
                            "check": f.monitor,
                            "subject": f.subject,
                            "status": f.status,
                            "severity": f.severity,
                            "summary": f.summary,
                            "evidence": dict(f.evidence),
                        }
                        for f in run.findings
                    ],
                    "opened": list(run.outcome.opened),
                    "resolved": list(run.outcome.resolved),
                    "queued": list(run.outcome.queued),
                    "muted": list(run.outcome.muted),
                }
                for run in self.monitors
            ],
            "delivery": {
                "sent": list(self.delivery.sent),
                "failed": list(self.delivery.failed),
                "errors": dict(self.delivery.errors),
                "pending": self.pending,
            },
        }


def run_monitors(
    project: Project,
    metadata: MetadataStore,
    *,
    only: Sequence[str] = (),
    after: registry.Moment | None = None,
    budget: float = BUDGET,
    now: datetime | None = None,
) -> Report:
    """Run every monitor (or those named in ``only``) once, record, and deliver.

    Args:
        after: run only the checks worth running after this moment (``run``, ``publish``).
        budget: seconds the delivery of notifications may take in this pass.
        now: the time the checks judge at and incidents are stamped with (default: the
            clock; a simulation replaying days passes its own).

    Raises:
        NotFound: ``only`` names a monitor the project does not declare.
    """
    monitors = monitors_of(project)
    unknown = [name for name in only if name not in monitors]
    if unknown:
        raise NotFound(
            f"no monitor named {', '.join(map(repr, unknown))} (declared: "
            f"{', '.join(sorted(monitors))}): check the name, or add monitors/<name>.yaml"
        )
    now = now or datetime.now(UTC)
    runs = []
    for name, monitor in monitors.items():
        if only and name not in only:
            continue
        checks = registry.checks_for(project, monitor, after=after)
        if not checks:
            continue
        context = Context(project=project, metadata=metadata, now=now)
        findings: list[Finding] = []
        complete: list[str] = []
        for check in checks:
            found = evaluate(check, context)
            findings.extend(found)
            if not any(f.status == "error" and f.subject == CHECK_SUBJECT for f in found):
                complete.append(check.name)
        outcome = record(metadata, project, monitor, findings, complete=complete, now=now)
        runs.append(MonitorRun(name, tuple(findings), outcome))
    delivery = deliver(metadata, notifiers_of(project), budget=budget)
    pending = len(metadata.notifications(pending_only=True))
    return Report(now, tuple(runs), delivery, pending)


CHECK_SUBJECT = "(check)"
"""The subject of the ``error`` finding of a check that could not run at all."""

_STATUSES = get_args(Status)
_SEVERITIES = get_args(Severity)


def evaluate(check: Check, context: Context) -> list[Finding]:
    """``check.evaluate(context)``, with anything it raises or returns malformed turned into
    an ``error`` finding of the check (messages scrubbed of credentials)."""
    try:
        findings = list(check.evaluate(context))
    except Exception as exc:
        reason = scrub(f"{type(exc).__name__}: {exc}")
        log.warning("check %s could not run: %s", check.name, reason)
        return [
            Finding(
                check.name,
                CHECK_SUBJECT,
                "error",
                f"check {check.name} could not run: {reason}",
                "warning",
            )
        ]
    checked: list[Finding] = []
    for finding in findings:
        problem = _malformed(finding)
        if problem is None:
            checked.append(finding)
        else:
            summary = f"check {check.name} reported a malformed finding on "
            summary += f"{finding.subject!r}: {problem}"
            checked.append(Finding(finding.monitor, finding.subject, "error", summary, "warning"))
    return checked


def _malformed(finding: Finding) -> str | None:
    if finding.status not in _STATUSES:
        return f"status {finding.status!r} is not one of {', '.join(_STATUSES)}"
    if finding.severity not in _SEVERITIES:
        return f"severity {finding.severity!r} is not one of {', '.join(_SEVERITIES)}"
    try:
        json.dumps(dict(finding.evidence), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"evidence is not JSON: {exc}"
    return None


def run_after(
    project: Project, metadata: MetadataStore, moment: registry.Moment, subject: str
) -> Report | None:
    """Run the checks worth running after ``moment`` (``run`` or ``publish``) of ``subject``.

    Called at the end of every pipeline run and publish. It never raises and never makes its
    caller fail: monitoring trouble is logged (on ``sameday.monitor``) and ``None`` returned.
    Its checks look at every subject, not only ``subject``: incidents elsewhere resolve too.
    """
    try:
        report = run_monitors(project, metadata, after=moment, budget=BUDGET / 4)
    except Exception as exc:
        log.warning(
            "monitors after the %s of %s did not run: %s",
            moment,
            subject,
            scrub(f"{type(exc).__name__}: {exc}"),
        )
        return None
    failing = [f for f in report.findings if f.status in FAILING]
    if failing:  # info: the alerts tell people; a run's own output stays its own
        log.info("after the %s of %s: %s", moment, subject, "; ".join(f.summary for f in failing))
    return report


def run_every(
    interval: float,
    once: Callable[[], Report],
    *,
    stop: threading.Event,
    on_report: Callable[[Report], None],
    on_error: Callable[[SamedayError], None],
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Call ``once`` every ``interval`` seconds until ``stop`` is set; return how many passes ran.

    A pass is never cut short: setting ``stop`` (Ctrl-C) ends the wait that follows it. A pass
    that fails with a sameday error (the database is down, a project file was broken by an
    edit) is reported to ``on_error`` and the loop goes on: a monitor that stops at the first
    hiccup is not one.
    """
    passes = 0
    while not stop.is_set():
        started = clock()
        try:
            on_report(once())
        except SamedayError as exc:
            on_error(exc)
        passes += 1
        stop.wait(max(0.0, interval - (clock() - started)))
    return passes
