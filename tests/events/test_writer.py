"""The batched writer: cheap hand-over, batches, tickets, the bound, outages and recovery."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from sameday.errors import EventRejected, EventsUnavailable
from sameday.events import (
    EventSink,
    EventWriter,
    Exposure,
    MemorySink,
    Outcome,
    SQLiteSink,
    open_sink,
)
from tests.events.factories import exposure, outcome


class GatedSink(MemorySink):
    """A memory sink whose writes wait for ``gate``, recording each batch's size."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batches: list[int] = []

    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        self.entered.set()
        self.gate.wait(10)
        self.batches.append(len(batch))
        return super().write_exposures(batch)


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


@pytest.fixture
def memory() -> MemorySink:
    return MemorySink()


@pytest.fixture
def writer(memory: MemorySink) -> Iterator[EventWriter]:
    with EventWriter(memory, flush_interval=0.02, retry_max=0.05) as w:
        yield w


def test_flush_commits_everything_logged_before_it(writer: EventWriter, memory: MemorySink) -> None:
    for i in range(25):
        writer.log_exposure(exposure(i))
    writer.flush(5)
    assert [e.request_id for e in memory.read_exposures()] == [f"req-{i:05d}" for i in range(25)]
    stats = writer.stats()
    assert (stats.written, stats.queued, stats.dropped, stats.sink_down) == (25, 0, 0, False)


def test_an_outcome_ticket_resolves_after_its_commit(
    writer: EventWriter, memory: MemorySink
) -> None:
    ticket = writer.log_outcomes([outcome(0), outcome(1)])
    ticket.wait(5)
    assert ticket.done()
    assert len(list(memory.read_outcomes())) == 2
    writer.log_outcomes([]).wait(0)  # nothing to wait for


def test_partial_batches_are_committed_by_time(writer: EventWriter, memory: MemorySink) -> None:
    writer.log_exposure(exposure(0))
    eventually(lambda: len(list(memory.read_exposures())) == 1, timeout=2)


def test_batches_hold_at_most_max_batch_records() -> None:
    sink = GatedSink()
    sink.gate.set()
    with EventWriter(sink, batch_size=5, max_batch=10, flush_interval=1.0) as w:
        for i in range(35):
            w.log_exposure(exposure(i))
        w.flush(5)
    assert sum(sink.batches) == 35 and max(sink.batches) <= 10


def test_async_callers_wait_without_blocking_the_loop(writer: EventWriter) -> None:
    async def main() -> None:
        await writer.log_outcomes([outcome(0)]).wait_async(5)

    asyncio.run(main())


def test_a_wait_that_runs_out_of_time_says_so() -> None:
    sink = GatedSink()
    with EventWriter(sink, flush_interval=0.01) as w:
        w.log_exposure(exposure(0))
        ticket = w.ticket()
        with pytest.raises(EventsUnavailable, match=r"within 0\.05 s"):
            ticket.wait(0.05)

        async def main() -> None:
            await ticket.wait_async(0.05)

        with pytest.raises(EventsUnavailable, match=r"within 0\.05 s"):
            asyncio.run(main())
        sink.gate.set()
        ticket.wait(5)


def test_beyond_the_bound_new_exposures_drop_and_outcomes_are_refused() -> None:
    sink = GatedSink()
    with EventWriter(sink, batch_size=5, max_batch=5, max_queued=10, flush_interval=10.0) as w:
        for i in range(5):
            w.log_exposure(exposure(i))
        assert sink.entered.wait(5)  # the flusher holds a batch of 5 inside the sink
        for i in range(5, 17):
            w.log_exposure(exposure(i))  # 10 fit in the queue, the 2 newest are dropped
        with pytest.raises(EventsUnavailable, match="buffer is full"):
            w.log_outcomes([outcome(0)])
        stats = w.stats()
        assert (stats.queued, stats.dropped, stats.rejected) == (15, 2, 1)
        sink.gate.set()
        w.flush(5)
    assert [e.request_id for e in sink.read_exposures()] == [f"req-{i:05d}" for i in range(15)]


def test_sink_down_fails_tickets_refuses_outcomes_then_recovers(
    writer: EventWriter, memory: MemorySink
) -> None:
    memory.available = False
    ticket = writer.log_outcomes([outcome(0), outcome(1)])
    with pytest.raises(EventsUnavailable, match="switched off"):
        ticket.wait(5)
    writer.log_exposure(exposure(0))  # queued, not lost
    with pytest.raises(EventsUnavailable, match="unavailable"):
        writer.log_outcomes([outcome(2)])
    down = writer.stats()
    assert down.sink_down and down.failed_flushes >= 1 and down.rejected == 1
    assert down.last_error is not None and "switched off" in down.last_error

    memory.available = True
    eventually(lambda: not writer.stats().sink_down)
    writer.log_outcomes([outcome(0), outcome(1)]).wait(5)  # the client resends: no duplicates
    writer.flush(5)
    assert [o.event_id for o in memory.read_outcomes()] == ["evt-00000", "evt-00001"]
    assert [e.request_id for e in memory.read_exposures()] == ["req-00000"]
    assert writer.stats().written == 5 and writer.stats().dropped == 0


def test_a_refused_record_is_dropped_alone(tmp_path: Path) -> None:
    with SQLiteSink(tmp_path / "e.db") as sink, EventWriter(sink) as w:
        w.log_exposure(exposure(0))
        w.log_exposure(exposure(1, extra={"not json": object()}))
        w.log_exposure(exposure(2))
        with pytest.raises(EventRejected, match="'unit' must be a non-empty string"):
            w.log_outcomes([outcome(0), outcome(1, unit=None), outcome(2)])
        w.log_outcomes([outcome(0), outcome(2)]).wait(5)
        w.flush(5)
        assert [e.request_id for e in sink.read_exposures()] == ["req-00000", "req-00002"]
        assert [o.event_id for o in sink.read_outcomes()] == ["evt-00000", "evt-00002"]
        stats = w.stats()
        assert (stats.written, stats.dropped) == (4, 1)
        assert stats.last_error is not None and "EventRejected" in stats.last_error


class PickySink(MemorySink):
    """Refuses any batch holding an exposure of unit ``bad``; counts write calls."""

    calls = 0

    def write_exposures(self, batch: Sequence[Exposure]) -> int:
        self.calls += 1
        if any(e.unit == "bad" for e in batch):
            raise EventRejected("unit 'bad' is refused")
        return super().write_exposures(batch)


def test_refused_records_are_found_by_bisection() -> None:
    sink = PickySink()
    records = [exposure(i, unit="bad" if i in (17, 900) else "ok") for i in range(1000)]
    with EventWriter(sink, batch_size=2000, flush_interval=10.0) as w:  # one batch
        for record in records:
            w.log_exposure(record)
        w.flush(5)  # the others are stored: nothing to retry
        assert w.stats().dropped == 2
    assert len(list(sink.read_exposures())) == 998
    assert sink.calls < 50  # about 2 * 2 * log2(1000), not 1000


def test_close_commits_what_is_queued_and_refuses_later_records(memory: MemorySink) -> None:
    w = EventWriter(memory, flush_interval=10.0)
    for i in range(3):
        w.log_exposure(exposure(i))
    w.close()
    w.close()  # once is enough
    assert len(list(memory.read_exposures())) == 3
    w.log_exposure(exposure(3))
    with pytest.raises(EventsUnavailable, match="closed"):
        w.log_outcomes([outcome(0)])
    with pytest.raises(EventsUnavailable, match="closed"):
        w.flush(1)
    assert (w.stats().dropped, w.stats().rejected) == (1, 1)


def test_close_with_the_sink_down_reports_what_is_lost(memory: MemorySink) -> None:
    memory.available = False
    w = EventWriter(memory, flush_interval=0.01, retry_max=0.02)
    w.log_exposure(exposure(0))
    w.log_exposure(exposure(1))
    ticket = w.ticket()
    with pytest.raises(EventsUnavailable, match="2 records could not be written"):
        w.close(timeout=0.2)
    assert w.stats().dropped == 2
    with pytest.raises(EventsUnavailable):
        ticket.wait(0)


def test_log_exposure_costs_microseconds_at_most(memory: MemorySink) -> None:
    records = [exposure(i) for i in range(20_000)]
    with EventWriter(memory) as w:
        start = time.perf_counter()
        for record in records:
            w.log_exposure(record)
        per_call = (time.perf_counter() - start) / len(records)
    assert per_call < 5e-6, f"log_exposure took {per_call * 1e9:.0f} ns a call"


def test_postgres_unreachable_is_reported_and_outcomes_refused() -> None:
    from sameday.events.postgres import PostgresSink

    url = "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"
    with PostgresSink(url) as sink, EventWriter(sink, flush_interval=0.01, retry_max=0.05) as w:
        with pytest.raises(EventsUnavailable, match=r"127\.0\.0\.1:1/nowhere is unreachable"):
            w.log_outcomes([outcome(0)]).wait(10)
        with pytest.raises(EventsUnavailable, match="unavailable"):
            w.log_outcomes([outcome(1)])
        stats = w.stats()
        assert stats.sink_down and stats.last_error and "hunter2" not in stats.last_error
        with pytest.raises(EventsUnavailable, match="could not be written"):
            w.close(timeout=0.1)


def test_postgres_outage_then_recovery(postgres_url: str) -> None:
    from sameday.events.postgres import PostgresSink
    from tests.events.pgproxy import SwitchableProxy

    proxy = SwitchableProxy(("127.0.0.1", 5432))
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    sink: EventSink = PostgresSink(url, connect_timeout=2)
    try:
        with EventWriter(sink, flush_interval=0.01, retry_max=0.1) as w:
            w.log_outcomes([outcome(0)]).wait(10)
            proxy.down()
            w.log_exposure(exposure(1))
            eventually(lambda: w.stats().sink_down, timeout=10)
            with pytest.raises(EventsUnavailable):
                w.log_outcomes([outcome(1)])
            proxy.up = True
            eventually(lambda: not w.stats().sink_down, timeout=10)
            w.log_outcomes([outcome(1)]).wait(10)
        assert [o.event_id for o in sink.read_outcomes()] == ["evt-00000", "evt-00001"]
        assert [e.request_id for e in sink.read_exposures()] == ["req-00001"]
    finally:
        sink.close()
        proxy.close()


def test_outcome_is_a_record_not_a_ticket() -> None:
    assert Outcome(event_id="e", unit="u", name="click", time=0.0).value == 1.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "u\x00x"}, "unit"),
        ({"event_id": "e\ud800"}, "event_id"),
        ({"item": "i\x00"}, "item"),
        ({"name": ""}, "name"),
        ({"value": float("nan")}, "value"),
        ({"time": float("inf")}, "time"),
    ],
)
def test_an_outcome_no_log_can_store_is_refused_before_it_is_queued(
    memory: MemorySink, changes: dict[str, object], field: str
) -> None:
    with EventWriter(memory) as w:
        with pytest.raises(EventRejected, match=rf"outcome 1 \(event_id .*\): '{field}'") as info:
            w.log_outcomes([outcome(0), outcome(1, **changes), outcome(2)])
        assert info.value.field == field and info.value.event_ids == (
            outcome(1, **changes).event_id,
        )
        assert w.stats().queued == 0
        w.log_outcomes([outcome(3)]).wait(5)  # the next batch is unaffected
    assert [o.event_id for o in memory.read_outcomes()] == ["evt-00003"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_refused_record_fails_no_other_batch(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'e.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with open_sink(url) as sink, EventWriter(sink, flush_interval=10.0) as w:
        w.log_exposure(exposure(0))
        w.log_exposure(exposure(1, extra={"not json": object()}))  # refused by every sink
        first = w.log_outcomes([outcome(0), outcome(1)])  # committed in the same batch
        second = w.log_outcomes([outcome(2)])
        first.wait(5)
        second.wait(5)
        w.flush(5)
        assert [e.request_id for e in sink.read_exposures()] == ["req-00000"]
        assert [o.event_id for o in sink.read_outcomes()] == ["evt-00000", "evt-00001", "evt-00002"]
        assert w.stats().dropped == 1
    assert "dropped exposure 'req-00001'" in caplog.text


class PickyOutcomes(MemorySink):
    """Refuses any batch holding an outcome of unit ``bad`` (as a database might)."""

    def write_outcomes(self, batch: Sequence[Outcome]) -> int:
        if any(o.unit == "bad" for o in batch):
            raise EventRejected("unit 'bad' is refused")
        return super().write_outcomes(batch)


def test_a_refused_outcome_fails_its_own_ticket_only_and_says_not_to_resend() -> None:
    sink = PickyOutcomes()
    with EventWriter(sink, flush_interval=10.0) as w:
        mixed = w.log_outcomes([outcome(0), outcome(1, unit="bad"), outcome(2)])
        clean = w.log_outcomes([outcome(3)])
        with pytest.raises(EventRejected, match=r"'evt-00001'.*do not resend") as info:
            mixed.wait(5)
        assert info.value.event_ids == ("evt-00001",)
        clean.wait(5)
    assert [o.event_id for o in sink.read_outcomes()] == ["evt-00000", "evt-00002", "evt-00003"]


def test_an_exposure_whose_ids_cannot_be_stored_is_logged_escaped_and_flagged(
    sink: EventSink, caplog: pytest.LogCaptureFixture
) -> None:
    with EventWriter(sink) as w:
        w.log_exposure(exposure(0, unit="a\x00b", hash_value="a\x00b"))
        w.log_exposure(exposure(1, unit="lone \ud800 \\", request_id="req-\x001"))
        w.log_exposure(exposure(2))
        w.flush(5)
        assert w.stats().dropped == 0
    stored = {e.request_id: e for e in sink.read_exposures()}
    assert sorted(stored) == ["req-00000", "req-00002", "req-\\x001"]
    first, second = stored["req-00000"], stored["req-\\x001"]
    assert (first.unit, first.hash_value) == ("a\\x00b", "a\\x00b")
    assert first.extra["escaped"] == ["unit", "hash_value"]
    assert second.unit == "lone \\ud800 \\\\" and second.extra["escaped"] == ["request_id", "unit"]
    assert "escaped" not in stored["req-00002"].extra
    assert "cannot be stored" in caplog.text and "'a\\x00b'" in caplog.text
