"""Monitor passes end to end: findings → incidents → the outbox → real receivers.

Each test runs against SQLite and PostgreSQL metadata. A receiver that is down or hangs leaves
the alert in the outbox, the pass returns within its timeout, and a later pass delivers it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from sameday.config import load_project
from sameday.config.loader import Project
from sameday.errors import NotFound, StoreUnavailable
from sameday.metadata import MetadataStore
from sameday.monitor.alerts import deliver, notifiers_of, retry_delay
from sameday.monitor.check import Context, Finding
from sameday.monitor.notifiers import verify_signature
from sameday.monitor.run import CHECK_SUBJECT, evaluate, run_after, run_every, run_monitors
from tests.monitor.receivers import free_port, hanging_receiver, http_receiver

SECRET = "hmac-key-0123456789-abcdef"


def with_webhook(project_dir: Path, url: str, timeout: str = "2s") -> Project:
    (project_dir / "notifiers").mkdir(exist_ok=True)
    (project_dir / "notifiers" / "hook.yaml").write_text(
        f"webhook: {{url: '${{HOOK_URL}}', secret: '${{HOOK_SECRET}}', timeout: {timeout}}}\n"
    )
    return load_project(project_dir, environ={"HOOK_URL": url, "HOOK_SECRET": SECRET})


def fail_daily(metadata: MetadataStore, status: str = "failed") -> None:
    run = metadata.create_run("daily", {})
    metadata.finish_run(run.id, status, f"pipeline 'daily' {status}")


def kinds(bodies: list[bytes]) -> list[str]:
    return [orjson.loads(body)["kind"] for body in bodies]


def test_a_failure_is_told_once_then_resolved(project_dir: Path, metadata: MetadataStore) -> None:
    with http_receiver() as receiver:
        receiver.answer = lambda h, b: 200 if verify_signature(SECRET, b, h) else 401
        project = with_webhook(project_dir, receiver.url)
        fail_daily(metadata)
        first = run_monitors(project, metadata)
        assert first.exit_code == 1 and len(first.delivery.sent) == 1
        assert run_monitors(project, metadata).delivery.sent == ()  # still open: no storm
        fail_daily(metadata, "succeeded")
        last = run_monitors(project, metadata)
        assert last.exit_code == 0 and len(last.delivery.sent) == 1
    bodies = [body for _, _, body in receiver.requests]
    assert kinds(bodies) == ["opened", "resolved"]
    opened = orjson.loads(bodies[0])
    assert (opened["monitor"], opened["check"], opened["subject"]) == ("health", "runs", "daily")
    assert opened["severity"] == "critical" and opened["project"] == project.name
    assert metadata.incidents() == [] and last.pending == 0


def test_a_receiver_that_is_down_loses_nothing(project_dir: Path, metadata: MetadataStore) -> None:
    port = free_port()
    project = with_webhook(project_dir, f"http://127.0.0.1:{port}/hook")
    fail_daily(metadata)
    report = run_monitors(project, metadata)
    assert report.delivery.sent == () and len(report.delivery.failed) == 1
    assert "could not be reached" in report.delivery.errors["hook"]
    (waiting,) = metadata.notifications(pending_only=True)
    assert waiting.attempts == 1 and "could not be reached" in (waiting.last_error or "")
    assert waiting.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)

    again = run_monitors(project, metadata)  # too early for a retry: nothing is tried
    assert again.delivery.failed == () and again.pending == 1

    later = datetime.now(UTC) + timedelta(seconds=retry_delay(1) + 1)
    with http_receiver(port) as receiver:
        delivery = deliver(metadata, notifiers_of(project), now=lambda: later)
    assert delivery.sent == (waiting.id,)
    assert kinds([body for _, _, body in receiver.requests]) == ["opened"]
    (sent,) = metadata.notifications()
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)


def test_a_hanging_receiver_costs_one_timeout_per_pass(
    project_dir: Path, metadata: MetadataStore
) -> None:
    (project_dir / "pipelines" / "weekly.yaml").write_text(
        "schedule: {cron: '0 4 * * 1'}\njobs: [{name: a, command: 'true'}]\n"
    )
    with hanging_receiver() as port:
        project = with_webhook(project_dir, f"http://127.0.0.1:{port}/hook", timeout="0.5s")
        fail_daily(metadata)
        run = metadata.create_run("weekly", {})
        metadata.finish_run(run.id, "failed", "boom")
        started = time.monotonic()
        report = run_monitors(project, metadata)
        elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed  # two alerts, one timeout: the second is not tried
    assert len(report.delivery.failed) == 1 and report.pending == 2
    assert "did not answer within 0.5s" in report.delivery.errors["hook"]


def test_the_budget_bounds_a_pass(project_dir: Path, metadata: MetadataStore) -> None:
    with http_receiver() as receiver:
        project = with_webhook(project_dir, receiver.url)
        fail_daily(metadata)
        report = run_monitors(project, metadata, budget=0)
    assert report.delivery.sent == () and receiver.requests == [] and report.pending == 1


def test_without_monitor_files_the_default_monitor_runs_every_check(
    project_dir: Path, metadata: MetadataStore
) -> None:
    (project_dir / "monitors" / "health.yaml").unlink()
    project = load_project(project_dir, environ={})
    fail_daily(metadata)
    report = run_monitors(project, metadata)
    assert [run.monitor for run in report.monitors] == ["default"]
    # every built-in check ran: the failed run, and the durations of a pipeline with one run
    assert [f.monitor for f in report.findings] == ["runs", "freshness.duration"]
    assert report.findings[1].status == "learning"
    (incident,) = metadata.incidents()
    assert incident.monitor == "default" and metadata.notifications() == []  # no notifier


def test_routes_send_by_severity(project_dir: Path, metadata: MetadataStore) -> None:
    with http_receiver() as receiver:
        with_webhook(project_dir, receiver.url)
        (project_dir / "monitors" / "health.yaml").write_text(
            "notify: [{to: [hook], severity: critical}]\n"
        )
        project = load_project(
            project_dir, environ={"HOOK_URL": receiver.url, "HOOK_SECRET": SECRET}
        )
        fail_daily(metadata, "cancelled")  # a warning: below the route's severity
        assert run_monitors(project, metadata).delivery.sent == ()
        fail_daily(metadata, "failed")  # critical: sent
        assert len(run_monitors(project, metadata).delivery.sent) == 1


def test_muted_then_told_when_the_mute_ends(project_dir: Path, metadata: MetadataStore) -> None:
    with http_receiver() as receiver:
        project = with_webhook(project_dir, receiver.url)
        until = datetime.now(UTC) + timedelta(seconds=2)
        metadata.mute("health", until=until)
        fail_daily(metadata)
        report = run_monitors(project, metadata)
        assert report.monitors[0].outcome.muted and receiver.requests == []
        time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)
        assert len(run_monitors(project, metadata).delivery.sent) == 1


def test_only_names_declared_monitors(project_dir: Path, metadata: MetadataStore) -> None:
    project = load_project(project_dir, environ={})
    with pytest.raises(NotFound, match=r"no monitor named 'healht' \(declared: health\)"):
        run_monitors(project, metadata, only=["healht"])


class Broken:
    """A check whose data source fails (as a dataset behind a dead connection would)."""

    name = "broken"

    def evaluate(self, context: Context) -> list[Finding]:
        raise ConnectionError("postgresql://u:hunter2@db/x refused")


class Sloppy:
    """A check that returns a finding it should not."""

    name = "sloppy"

    def evaluate(self, context: Context) -> list[Finding]:
        return [Finding("sloppy", "x", "bad", "s"), Finding("sloppy", "y", "ok", "s")]  # type: ignore[arg-type]


def test_a_check_that_raises_is_an_error_finding_without_secrets(
    project_dir: Path, metadata: MetadataStore
) -> None:
    project = load_project(project_dir, environ={})
    context = Context(project=project, metadata=metadata, now=datetime.now(UTC))
    (finding,) = evaluate(Broken(), context)
    assert (finding.subject, finding.status) == (CHECK_SUBJECT, "error")
    assert "ConnectionError" in finding.summary and "hunter2" not in finding.summary
    bad, good = evaluate(Sloppy(), context)
    assert bad.status == "error" and "status 'bad' is not one of" in bad.summary
    assert good.status == "ok"


def test_run_after_never_raises(
    project_dir: Path, metadata: MetadataStore, caplog: pytest.LogCaptureFixture
) -> None:
    project = load_project(project_dir, environ={})
    fail_daily(metadata)
    report = run_after(project, metadata, "run", "daily")
    assert report is not None and [f.status for f in report.findings] == ["fail"]
    assert run_after(project, metadata, "publish", "popular") is not None  # runs has no say
    closed = MetadataStore.open("sqlite://")
    closed.close()
    with caplog.at_level(logging.WARNING, logger="sameday.monitor"):
        assert run_after(project, closed, "run", "daily") is None
    assert "monitors after the run of daily did not run" in caplog.text


def test_run_every_keeps_going_until_stopped() -> None:
    stop = threading.Event()
    seen: list[str] = []

    def once() -> object:
        seen.append("pass")
        if len(seen) == 2:
            raise StoreUnavailable("metadata database is unavailable")
        if len(seen) == 3:
            stop.set()  # as Ctrl-C does between passes
        return len(seen)

    errors: list[str] = []
    passes = run_every(
        0.01,
        once,  # type: ignore[arg-type]
        stop=stop,
        on_report=lambda report: None,
        on_error=lambda exc: errors.append(str(exc)),
    )
    assert passes == 3 and errors == ["metadata database is unavailable"]


def test_a_pipeline_run_runs_the_monitors_at_its_end(
    project_dir: Path, metadata: MetadataStore
) -> None:
    from sameday.errors import PipelineFailed
    from sameday.pipeline.runner import Runner, plan_run

    (project_dir / "pipelines" / "daily.yaml").write_text(
        "jobs: [{name: extract, command: 'exit 3'}]\n"
    )
    project = load_project(project_dir, environ={})
    plan, _ = plan_run(project, "daily", metadata)
    with pytest.raises(PipelineFailed):
        Runner(project, metadata, parallel=1).run(plan)
    (incident,) = metadata.incidents()
    assert (incident.monitor, incident.check, incident.subject) == ("health", "runs", "daily")
    assert incident.finding_status == "fail"
