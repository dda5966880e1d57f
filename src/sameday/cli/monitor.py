"""Commands that watch the loop: ``monitor run`` and ``alerts`` (list, mute, unmute)."""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from sameday.cli._common import echo_json, json_option, project_option
from sameday.cli._monitor_score import score

if TYPE_CHECKING:
    from sameday.config.loader import Project
    from sameday.metadata import Notification
    from sameday.metadata.store import MetadataStore
    from sameday.monitor.run import Report


@contextmanager
def _open(project_dir: Path | None) -> Iterator[tuple[Project, MetadataStore]]:
    from sameday.config import load_project
    from sameday.metadata.store import MetadataStore

    project = load_project(project_dir)
    url = project.url(project.settings.storage.metadata)
    with MetadataStore.open(url, migrate=True) as store:
        yield project, store


def _seconds(value: str, what: str) -> float:
    from sameday.config.monitor import read_duration  # the config layer costs ~0.3 s to import

    try:
        return read_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None


@click.group("monitor")
def monitor() -> None:
    """Run the project's monitors (monitors/*.yaml, or the built-in default)."""


@monitor.command("run")
@click.option(
    "--monitor",
    "only",
    multiple=True,
    metavar="NAME",
    help="Run only this monitor (repeatable; default: every one).",
)
@click.option(
    "--every",
    metavar="DURATION",
    default=None,
    help="Keep running, one pass every DURATION (30s, 5m, 1h) until Ctrl-C.",
)
@json_option
@project_option
def run(only: tuple[str, ...], every: str | None, as_json: bool, project_dir: Path | None) -> None:
    """Run every monitor once: check, record incidents, send the alerts that are due.

    Exits 1 when any check finds a failure or cannot run, 0 otherwise (warnings are alerted
    but do not fail). With --every it keeps going, one pass every DURATION, and Ctrl-C (or
    SIGTERM) stops it cleanly after the pass under way, with exit code 0. --json prints one JSON
    object per pass (one line each with --every).
    """
    from sameday.monitor.run import run_every, run_monitors

    if every is None:
        with _open(project_dir) as (project, store):
            report = run_monitors(project, store, only=only)
        _print_report(report, as_json, compact=False)
        raise SystemExit(report.exit_code)

    interval = _seconds(every, "'--every'")

    def once() -> Report:
        with _open(project_dir) as (project, store):  # re-read: files may change meanwhile
            return run_monitors(project, store, only=only)

    stop = threading.Event()
    with _stop_on_signals(stop):
        run_every(
            interval,
            once,
            stop=stop,
            on_report=lambda report: _print_report(report, as_json, compact=True),
            on_error=lambda exc: click.secho(f"error: {exc}", fg="red", err=True),
        )
    click.echo("stopped", err=True)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set ``stop`` instead of interrupting a pass half-way."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


_MARKS = {"ok": "ok", "learning": "learning", "warn": "WARN", "fail": "FAIL", "error": "ERROR"}
_COLOURS = {"warn": "yellow", "fail": "red", "error": "red"}


def _print_report(report: Report, as_json: bool, *, compact: bool) -> None:
    if as_json:
        if compact:
            click.echo(orjson.dumps(report.as_dict()).decode())
        else:
            echo_json(report.as_dict())
        return
    click.echo(f"monitor pass at {report.at:%Y-%m-%d %H:%M:%S} UTC")
    for run in report.monitors:
        counts: dict[str, int] = {}
        for finding in run.findings:
            counts[finding.status] = counts.get(finding.status, 0) + 1
        shown = ", ".join(f"{n} {status}" for status, n in counts.items()) or "nothing to check"
        click.echo(f"{run.monitor}: {shown}")
        for finding in run.findings:
            if finding.healthy:
                continue
            mark = click.style(f"{_MARKS[finding.status]:<5}", fg=_COLOURS.get(finding.status))
            click.echo(f"  {mark} {finding.monitor:<12} {finding.subject:<16} {finding.summary}")
        outcome = run.outcome
        click.echo(
            f"  incidents: {len(outcome.opened)} opened, {len(outcome.resolved)} resolved"
            + (f", {len(outcome.muted)} muted" if outcome.muted else "")
        )
    delivery = report.delivery
    click.echo(
        f"alerts: {len(delivery.sent)} sent, {len(delivery.failed)} failed, "
        f"{report.pending} waiting to be retried"
    )
    for name, error in delivery.errors.items():
        click.secho(f"  {name}: {error}", fg="yellow")


@click.group("alerts", invoke_without_command=True)
@click.option("--all", "include_resolved", is_flag=True, help="Resolved incidents too.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@json_option
@project_option
@click.pass_context
def alerts(
    ctx: click.Context,
    include_resolved: bool,
    limit: int,
    as_json: bool,
    project_dir: Path | None,
) -> None:
    """List open incidents (--all: resolved ones too), active mutes and undelivered alerts.

    --json adds each incident's alert history: every message, to whom, and when it was sent.

    Mute and unmute with `sameday alerts mute MONITOR --until 4h` and `sameday alerts unmute`.
    """
    if ctx.invoked_subcommand is not None:
        return
    with _open(project_dir) as (_, store):
        incidents = store.incidents(include_resolved=include_resolved, limit=limit)
        mutes = store.mutes()
        pending = store.notifications(pending_only=True)
        told = {i.id: store.notifications(incident_id=i.id) for i in incidents} if as_json else {}
    if as_json:
        echo_json(
            {
                "incidents": [
                    {
                        **dataclasses.asdict(incident),
                        "notifications": [_sent(n) for n in told[incident.id]],
                    }
                    for incident in incidents
                ],
                "mutes": [dataclasses.asdict(mute) for mute in mutes],
                "undelivered": [_undelivered(n) for n in pending],
            }
        )
        return
    if not incidents:
        click.echo("no open incidents" if not include_resolved else "no incidents")
    for incident in incidents:
        state = "OPEN" if incident.status == "open" else "resolved"
        colour = "red" if incident.status == "open" else None
        since = incident.opened_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            click.style(f"{state:<8}", fg=colour)
            + f" #{incident.id:<5} {incident.severity:<8} {incident.monitor}/{incident.check} "
            f"{incident.subject}  since {since}: {incident.summary}"
        )
    for mute in mutes:
        what = mute.monitor + (f" on {mute.subject}" if mute.subject else "")
        why = f" ({mute.reason})" if mute.reason else ""
        click.echo(f"muted    {what} until {mute.until:%Y-%m-%d %H:%M} UTC by {mute.actor}{why}")
    if pending:
        click.secho(
            f"{len(pending)} alert(s) not delivered yet; the next `sameday monitor run` retries "
            f"them (last error: {pending[-1].last_error or 'not tried yet'})",
            fg="yellow",
        )


def _sent(notification: Notification) -> dict[str, Any]:
    """One message of an incident's history: what, to whom, and whether it arrived."""
    return {
        "kind": notification.kind,
        "notifier": notification.notifier,
        "status": notification.status,
        "created_at": notification.created_at,
        "sent_at": notification.sent_at,
        "attempts": notification.attempts,
    }


def _undelivered(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "incident": notification.incident_id,
        "kind": notification.kind,
        "notifier": notification.notifier,
        "attempts": notification.attempts,
        "next_attempt_at": notification.next_attempt_at,
        "last_error": notification.last_error,
    }


def _until(value: str) -> datetime:
    """A duration from now (``4h``) or a time (``2026-12-04T09:00``, UTC unless it says)."""
    try:
        return datetime.now(UTC) + timedelta(seconds=_seconds(value, "'--until'"))
    except click.BadParameter:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration (4h, 2d) nor a time (2026-12-04T09:00)",
            param_hint="'--until'",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@alerts.command("mute")
@click.argument("monitor_name", metavar="MONITOR")
@click.option("--subject", default=None, help="Only this subject (a pipeline, a result set).")
@click.option(
    "--until",
    "until_text",
    required=True,
    metavar="WHEN",
    help="A duration from now (4h, 2d) or a time (2026-12-04T09:00, UTC unless given).",
)
@click.option("--reason", default=None, help="Why, for whoever wonders later.")
@json_option
@project_option
def mute(
    monitor_name: str,
    subject: str | None,
    until_text: str,
    reason: str | None,
    as_json: bool,
    project_dir: Path | None,
) -> None:
    """Hold back alerts of MONITOR (a monitor's or a check's name) until a time.

    Incidents are still recorded; an incident still open when the mute ends is sent then.
    """
    until = _until(until_text)
    if until <= datetime.now(UTC):
        raise click.BadParameter("the mute would already be over", param_hint="'--until'")
    with _open(project_dir) as (_, store):
        record = store.mute(monitor_name, subject=subject, until=until, reason=reason)
    if as_json:
        echo_json(dataclasses.asdict(record))
        return
    what = monitor_name + (f" on {subject}" if subject else "")
    click.echo(f"muted {what} until {record.until:%Y-%m-%d %H:%M} UTC")


@alerts.command("unmute")
@click.argument("monitor_name", metavar="MONITOR")
@click.option("--subject", default=None, help="The subject the mute was set for.")
@json_option
@project_option
def unmute(monitor_name: str, subject: str | None, as_json: bool, project_dir: Path | None) -> None:
    """End the mutes of MONITOR (and --subject) now."""
    from sameday.errors import NotFound

    with _open(project_dir) as (_, store):
        ended = store.unmute(monitor_name, subject=subject)
        if not ended:
            active = ", ".join(
                m.monitor + (f" --subject {m.subject}" if m.subject else "") for m in store.mutes()
            )
            raise NotFound(
                f"no active mute of {monitor_name!r}"
                + (f" on {subject!r}" if subject else "")
                + f" (active: {active or 'none'}); `sameday alerts` lists them"
            )
    if as_json:
        echo_json([dataclasses.asdict(m) for m in ended])
        return
    click.echo(f"unmuted {monitor_name}" + (f" on {subject}" if subject else ""))


monitor.add_command(score)  # `sameday monitor score FILE.csv`: the detector on one series

COMMANDS = [monitor, alerts]
