"""``sameday/pipeline/journal.py``: attempt records queued, merged and written in batches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sameday.errors import MetadataError
from sameday.metadata import MetadataStore
from sameday.pipeline.journal import Journal


@pytest.fixture
def store(sqlite_url: str) -> Iterator[MetadataStore]:
    with MetadataStore.open(sqlite_url) as opened:
        yield opened


def test_an_attempt_that_ends_before_a_write_is_written_once_and_final(
    store: MetadataStore,
) -> None:
    run = store.create_run("p", {})
    journal = Journal(store, run.id)
    journal.start("a", 1, "/logs/a.1.log")
    time.sleep(0.01)
    finishing = datetime.now(UTC)
    journal.finish("a", 1, "succeeded", 0, None)
    assert len(journal) == 1  # the finish replaced the unwritten start
    assert store.attempts(run.id) == []  # nothing is written until asked
    journal.write()
    (attempt,) = store.attempts(run.id)
    assert (attempt.job, attempt.attempt, attempt.status, attempt.exit_code) == (
        "a",
        1,
        "succeeded",
        0,
    )
    assert attempt.started_at.replace(tzinfo=UTC) < finishing  # stamped at the start
    assert attempt.ended_at is not None and attempt.ended_at.replace(tzinfo=UTC) >= finishing
    assert attempt.log_path == "/logs/a.1.log" and len(journal) == 0


def test_a_written_start_is_updated_by_its_finish(store: MetadataStore) -> None:
    run = store.create_run("p", {})
    journal = Journal(store, run.id)
    journal.start("a", 1, "a.1.log")
    journal.write()
    (running,) = store.attempts(run.id)
    assert running.status == "running" and running.ended_at is None
    journal.finish("a", 1, "failed", 3, "exit 3")
    journal.start("a", 2, "a.2.log")
    journal.write()
    first, second = store.attempts(run.id)
    assert (first.status, first.exit_code, first.reason) == ("failed", 3, "exit 3")
    assert first.started_at == running.started_at  # stamped when it started, not when written
    assert (second.attempt, second.status) == (2, "running")


def test_a_skip_is_attempt_one_without_a_log(store: MetadataStore) -> None:
    run = store.create_run("p", {})
    journal = Journal(store, run.id)
    journal.skip("b", "a failed")
    journal.write()
    (skipped,) = store.attempts(run.id)
    assert (skipped.attempt, skipped.status, skipped.log_path, skipped.reason) == (
        1,
        "skipped",
        "",
        "a failed",
    )
    assert store.job_statuses(run.id) == {"b": "skipped"}


def test_the_first_queued_record_sets_when_to_write(store: MetadataStore) -> None:
    run = store.create_run("p", {})
    journal = Journal(store, run.id, interval=5.0)
    assert journal.due_at is None
    before = time.monotonic()
    journal.start("a", 1, "a.1.log")
    due = journal.due_at
    assert due is not None and before + 5.0 <= due <= time.monotonic() + 5.0
    journal.start("b", 1, "b.1.log")
    assert journal.due_at == due  # later records wait for the same batch
    journal.write()
    assert journal.due_at is None
    journal.write()  # nothing queued: no transaction, no error
    assert len(store.attempts(run.id)) == 2


def test_records_stay_queued_when_the_store_fails(sqlite_url: str) -> None:
    with MetadataStore.open(sqlite_url) as opened:
        run = opened.create_run("p", {})
    closed = MetadataStore.open(sqlite_url)
    closed.close()
    journal = Journal(closed, run.id)
    journal.start("a", 1, "a.1.log")
    with pytest.raises(MetadataError):
        journal.write()
    assert len(journal) == 1 and journal.due_at is not None
    with MetadataStore.open(sqlite_url) as reopened:
        journal.metadata = reopened
        journal.write()
        assert [a.job for a in reopened.attempts(run.id)] == ["a"]


def test_finishing_an_attempt_that_never_started_is_a_bug() -> None:
    journal = Journal(None, "run")
    with pytest.raises(KeyError):
        journal.finish("a", 1, "succeeded", 0, None)
    assert repr(journal) == "Journal(run_id='run', queued=0)"
