"""Alert incidents, the notification outbox and mutes, on real SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from sameday.metadata import MetadataStore, Observation

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
REMIND = timedelta(hours=4)


def seen(
    status: str, subject: str = "daily", notifiers: tuple[str, ...] = ("slack",)
) -> Observation:
    return Observation(
        check="runs",
        subject=subject,
        status=status,
        severity="critical" if status == "fail" else "warning",
        summary=f"{subject}: {status}",
        evidence={"status": status},
        notifiers=notifiers,
    )


def observe(
    store: MetadataStore, *items: Observation, at: datetime, complete: tuple[str, ...] = ()
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    outcome = store.observe_alerts(
        "nightly", items, complete=complete, remind_after=REMIND, project="shop", now=at
    )
    return outcome.opened, outcome.resolved, outcome.queued, outcome.muted


def kinds(store: MetadataStore) -> list[tuple[str, str]]:
    return [(n.kind, n.notifier) for n in store.notifications()]


def test_one_incident_per_problem_notified_on_open_reminder_and_resolve(
    store: MetadataStore,
) -> None:
    opened, _, queued, _ = observe(store, seen("fail"), at=T0)
    assert len(opened) == 1 and len(queued) == 1
    for hours in (1, 2, 3):  # still failing, before remind_after: nothing new
        again = observe(store, seen("fail"), at=T0 + hours * HOUR)
        assert again == ((), (), (), ())
    assert [i.id for i in store.incidents()] == list(opened)
    assert kinds(store) == [("opened", "slack")]

    _, _, reminded, _ = observe(store, seen("fail"), at=T0 + 4 * HOUR)
    assert len(reminded) == 1
    observe(store, seen("fail"), at=T0 + 5 * HOUR)  # reminder interval restarts
    # Whoever heard of the problem hears it is over, whatever routing says of an "ok".
    _, resolved, told, _ = observe(store, seen("ok", notifiers=()), at=T0 + 6 * HOUR)
    assert resolved == opened and len(told) == 1
    assert kinds(store) == [("opened", "slack"), ("reminder", "slack"), ("resolved", "slack")]
    assert store.incidents() == []
    (incident,) = store.incidents(include_resolved=True)
    assert incident.status == "resolved" and incident.resolved_at == T0 + 6 * HOUR
    assert incident.opened_at == T0 and incident.finding_status == "fail"

    reopened, _, _, _ = observe(store, seen("warn"), at=T0 + 7 * HOUR)
    assert reopened and reopened != opened  # a new problem is a new incident
    payload = store.notifications()[-1].payload
    assert payload["kind"] == "opened" and payload["status"] == "warn"
    assert payload["project"] == "shop" and payload["monitor"] == "nightly"
    assert payload["evidence"] == {"status": "warn"}


def test_a_rising_severity_is_told_at_once(store: MetadataStore) -> None:
    observe(store, seen("warn"), at=T0)
    observe(store, seen("warn"), at=T0 + HOUR)  # same severity: quiet
    worse = seen("fail", notifiers=("slack", "pager"))
    _, _, queued, _ = observe(store, worse, at=T0 + 2 * HOUR)
    assert len(queued) == 2
    assert kinds(store) == [("opened", "slack"), ("reminder", "slack"), ("reminder", "pager")]
    (incident,) = store.incidents()
    assert (incident.severity, incident.finding_status) == ("critical", "fail")
    assert observe(store, seen("warn"), at=T0 + 3 * HOUR)[2] == ()  # falling: quiet


def test_healthy_and_learning_open_nothing(store: MetadataStore) -> None:
    assert observe(store, seen("ok"), seen("learning", "weekly"), at=T0) == ((), (), (), ())
    assert store.incidents(include_resolved=True) == []


def test_every_routed_notifier_gets_its_own_message(store: MetadataStore) -> None:
    observe(store, seen("fail", notifiers=("slack", "email", "slack")), at=T0)
    assert kinds(store) == [("opened", "slack"), ("opened", "email")]


def test_without_notifiers_the_incident_waits_to_be_told(store: MetadataStore) -> None:
    opened, _, queued, _ = observe(store, seen("fail", notifiers=()), at=T0)
    assert opened and queued == ()
    observe(store, seen("fail"), at=T0 + HOUR)  # a route appears: told now, as "opened"
    assert kinds(store) == [("opened", "slack")]


def test_resolving_an_untold_incident_tells_nobody(store: MetadataStore) -> None:
    observe(store, seen("fail", notifiers=()), at=T0)
    _, resolved, queued, _ = observe(store, seen("ok"), at=T0 + HOUR)
    assert resolved and queued == ()


def test_muted_incidents_are_recorded_but_not_told_until_the_mute_ends(
    store: MetadataStore,
) -> None:
    store.mute("runs", subject="daily", until=T0 + 2 * HOUR, reason="migration", now=T0)
    opened, _, queued, muted = observe(store, seen("fail"), seen("fail", "weekly"), at=T0)
    assert len(opened) == 2 and len(queued) == 1 and len(muted) == 1
    assert [n.payload["subject"] for n in store.notifications()] == ["weekly"]
    observe(store, seen("fail"), seen("fail", "weekly"), at=T0 + 2 * HOUR)  # mute has ended
    assert [(n.kind, n.payload["subject"]) for n in store.notifications()] == [
        ("opened", "weekly"),
        ("opened", "daily"),
    ]


def test_mutes_match_monitor_check_and_check_family(store: MetadataStore) -> None:
    store.mute("nightly", until=T0 + HOUR, now=T0)  # the monitor: every check in it
    assert observe(store, seen("fail"), at=T0)[3]
    minute = timedelta(minutes=1)
    store.unmute("nightly", now=T0 + minute)  # ended early
    store.mute("drift", until=T0 + 2 * HOUR, now=T0)
    family = Observation("drift.personal", "personal", "warn", "warning", "s", {}, ("slack",))
    assert observe(store, family, at=T0 + 2 * minute)[3]
    other = Observation("drifter", "x", "warn", "warning", "s", {}, ("slack",))
    assert not observe(store, other, at=T0 + 3 * minute)[3]


def test_unmute_ends_only_the_exact_mute(store: MetadataStore) -> None:
    store.mute("runs", until=T0 + HOUR, now=T0)
    store.mute("runs", subject="daily", until=T0 + HOUR, now=T0)
    assert [m.subject for m in store.unmute("runs", subject="daily", now=T0)] == ["daily"]
    assert [(m.monitor, m.subject) for m in store.mutes(now=T0)] == [("runs", None)]
    assert len(store.mutes(include_ended=True, now=T0)) == 2
    with pytest.raises(ValueError, match="must end in the future"):
        store.mute("runs", until=T0, now=T0)


def test_a_complete_check_resolves_subjects_it_no_longer_reports(store: MetadataStore) -> None:
    observe(store, seen("fail"), seen("fail", "gone"), at=T0)
    observe(store, seen("fail"), at=T0 + HOUR)  # check did not finish: nothing resolved
    assert len(store.incidents()) == 2
    _, resolved, _, _ = observe(store, seen("fail"), at=T0 + HOUR, complete=("runs",))
    assert len(resolved) == 1
    assert [i.subject for i in store.incidents()] == ["daily"]
    family = Observation("drift.gone", "gone", "warn", "warning", "s", {}, ())
    observe(store, family, at=T0 + 2 * HOUR)
    _, resolved, _, _ = observe(store, at=T0 + 3 * HOUR, complete=("drift",))
    assert len(resolved) == 1  # the check "drift" finished and no longer reports drift.gone


def test_outbox_claims_each_due_row_once_and_retries_failures(store: MetadataStore) -> None:
    observe(store, seen("fail"), seen("fail", "weekly"), at=T0)
    lease = timedelta(minutes=5)
    first = store.claim_notifications(lease=lease, now=T0)
    assert [n.payload["subject"] for n in first] == ["daily", "weekly"]
    assert store.claim_notifications(lease=lease, now=T0) == []  # leased

    sent = store.finish_notification(first[0].id, now=T0)
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 1, T0)
    failed = store.finish_notification(
        first[1].id, error="connection refused", retry_at=T0 + HOUR, now=T0
    )
    assert (failed.status, failed.attempts, failed.last_error) == (
        "pending",
        1,
        "connection refused",
    )
    assert store.claim_notifications(lease=lease, now=T0 + 30 * timedelta(minutes=1)) == []
    (again,) = store.claim_notifications(lease=lease, now=T0 + HOUR)
    assert again.id == failed.id
    assert [n.id for n in store.notifications(pending_only=True)] == [failed.id]


def test_a_crashed_sender_lease_expires(store: MetadataStore) -> None:
    observe(store, seen("fail"), at=T0)
    (taken,) = store.claim_notifications(lease=timedelta(minutes=5), now=T0)
    (retaken,) = store.claim_notifications(lease=timedelta(minutes=5), now=T0 + HOUR)
    assert retaken.id == taken.id


def test_concurrent_claims_never_share_a_row(store: MetadataStore) -> None:
    observe(store, *(seen("fail", f"p{i}") for i in range(20)), at=T0)

    def claim(_: int) -> list[int]:
        return [n.id for n in store.claim_notifications(lease=HOUR, limit=20, now=T0)]

    with ThreadPoolExecutor(4) as pool:
        claims = [i for batch in pool.map(claim, range(4)) for i in batch]
    assert sorted(claims) == sorted(n.id for n in store.notifications())


def test_concurrent_runs_keep_one_open_incident(store: MetadataStore) -> None:
    def run(_: int) -> None:
        observe(store, seen("fail"), at=T0)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(run, range(4)))
    assert len(store.incidents(include_resolved=True)) == 1
    assert len(store.notifications()) == 1


def test_bad_observations_are_refused_before_writing(store: MetadataStore) -> None:
    with pytest.raises(ValueError, match="finding status 'broken'"):
        observe(store, seen("fail"), seen("broken", "x"), at=T0)
    with pytest.raises(TypeError, match="JSON"):
        bad = Observation("runs", "x", "fail", "critical", "s", {"when": T0}, ())
        observe(store, bad, at=T0)
    assert store.incidents(include_resolved=True) == []


def test_the_database_refuses_two_open_incidents(store: MetadataStore) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from sameday.metadata._alerts import IncidentRow

    observe(store, seen("fail"), at=T0)
    row = IncidentRow(
        monitor="nightly",
        check_name="runs",
        subject="daily",
        status="open",
        finding_status="fail",
        severity="critical",
        summary="duplicate",
        evidence={},
        opened_at=T0,
        last_seen_at=T0,
    )
    engine = sa.create_engine(store._url)
    try:
        with Session(engine) as session, pytest.raises(sa.exc.IntegrityError):
            session.add(row)
            session.commit()
    finally:
        engine.dispose()
    with pytest.raises(ValueError, match="no notification with id 10000"):
        store.finish_notification(10_000, now=T0)
