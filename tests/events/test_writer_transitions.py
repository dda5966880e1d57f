"""The event writer logs each change of its state once: the event log down and back (a real
PostgreSQL behind a TCP proxy), the buffer full and with room again."""

from __future__ import annotations

import logging

import pytest

from sameday.errors import EventsUnavailable
from sameday.events.postgres import PostgresSink
from sameday.events.writer import EventWriter
from tests.events.factories import exposure, outcome
from tests.events.pgproxy import SwitchableProxy
from tests.events.test_writer import eventually


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    found = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "sameday.events"]
    caplog.clear()
    return found


def test_the_event_log_down_and_back_and_a_full_buffer_are_each_logged_once(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sameday.events")
    proxy = SwitchableProxy(("127.0.0.1", 5432))
    sink = PostgresSink(postgres_url.replace(":5432", f":{proxy.port}"), connect_timeout=2)
    try:
        with EventWriter(
            sink, batch_size=5, max_batch=5, max_queued=20, flush_interval=0.01, retry_max=0.05
        ) as writer:
            writer.log_outcomes([outcome(0)]).wait(10)
            assert lines(caplog) == []
            proxy.down()
            for index in range(60):  # 20 wait in the buffer, 5 in the batch: the rest drop
                writer.log_exposure(exposure(index))
            with pytest.raises(EventsUnavailable):
                writer.log_outcomes([outcome(1)])
            eventually(lambda: writer.stats().sink_down, timeout=10)
            eventually(lambda: writer.stats().failed_flushes >= 3, timeout=10)
            logged = lines(caplog)
            assert [level for level, _ in logged] == ["WARNING", "WARNING"]
            full, down = sorted(logged, key=lambda line: line[1])
            assert full[1].startswith("event buffer full (20 records waiting for ")
            assert "new exposures are dropped and outcomes refused with a 503" in full[1]
            assert down[1].startswith("event log PostgresSink(")
            assert "unavailable (" in down[1] and "buffering exposures" in down[1]
            proxy.up = True
            eventually(lambda: not writer.stats().sink_down, timeout=10)
            writer.flush(10)
            back, room = lines(caplog)
            assert back[0] == "INFO" and " is back after " in back[1]
            assert room[0] == "INFO" and room[1].startswith("event buffer has room again")
        assert writer.stats().dropped >= 35
    finally:
        sink.close()
        proxy.close()
