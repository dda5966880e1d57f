"""``sameday.logs``: text or JSON lines, credentials scrubbed from every logger, and a server's
log that drops lines rather than block when nobody reads its stderr."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator

import orjson
import pytest
from click.testing import CliRunner

from sameday import logs
from sameday.cli import main


@pytest.fixture
def restore() -> Iterator[list[object]]:
    """Undo every ``logs.configure`` a test made."""
    undo: list[object] = []
    yield undo
    for step in reversed(undo):
        step()  # type: ignore[operator]


def test_json_lines_carry_the_record_and_its_fields(
    restore: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    restore.append(logs.configure("json", "info"))
    logging.getLogger("sameday.serve").info(
        "result set %s: serving snapshot %s", "popular", "v2", extra={"fields": {"version": "v2"}}
    )
    logging.getLogger("sameday.serve").debug("below the level: not written")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    entry = orjson.loads(lines[0])
    assert entry["level"] == "info" and entry["logger"] == "sameday.serve"
    assert entry["message"] == "result set popular: serving snapshot v2"
    assert entry["version"] == "v2"
    assert entry["time"].endswith("Z") and entry["time"][10] == "T"


def test_a_traceback_stays_inside_its_json_line(
    restore: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    restore.append(logs.configure("json", "warning"))
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        logging.getLogger("sameday.serve").exception("refreshing failed")
    (line,) = capsys.readouterr().err.splitlines()
    entry = orjson.loads(line)
    assert entry["level"] == "error" and "RuntimeError: a bug" in entry["traceback"]


def test_text_lines_quote_values_that_could_forge_a_field_or_a_line(
    restore: list[object], capsys: pytest.CaptureFixture[str]
) -> None:
    restore.append(logs.configure("text", "info"))
    forged = "x degraded=false\nINFO fake line"
    fields = {"status": 200, "request_id": forged, "degraded": True, "arm": None}
    logging.getLogger("sameday.access").info("GET /v1/recommend/home", extra={"fields": fields})
    (line,) = capsys.readouterr().err.splitlines()
    assert " INFO sameday.access: GET /v1/recommend/home status=200 " in line
    assert line.endswith(" degraded=true")
    assert 'request_id="x degraded=false\\nINFO fake line"' in line
    assert "arm=" not in line  # a missing value is left out, not written as None


@pytest.mark.parametrize("name", ["sameday.events", "sameday.serve", "httpx", "other"])
def test_passwords_are_scrubbed_from_every_logger(
    restore: list[object], capsys: pytest.CaptureFixture[str], name: str
) -> None:
    restore.append(logs.configure("json", "warning"))
    logging.getLogger(name).warning(
        "event log unavailable: %s", "connection to postgresql://app:hunter2@db:5432/x failed"
    )
    out = capsys.readouterr().err
    assert "hunter2" not in out and "postgresql://app:***@db:5432/x" in out


def test_configure_replaces_its_own_handler_and_undo_restores_the_level(
    restore: list[object],
) -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    undo_first = logs.configure("text", "debug")
    undo_second = logs.configure("json", "error")
    ours = [h for h in root.handlers if isinstance(h, logs.LineHandler)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, logs.JsonFormatter)
    assert root.level == logging.ERROR
    undo_second()
    undo_first()
    assert root.level == level and root.handlers == handlers


@pytest.mark.parametrize(("format", "level"), [("xml", "info"), ("json", "verbose")])
def test_an_unknown_format_or_level_is_refused(format: str, level: str) -> None:
    with pytest.raises(ValueError, match="must be one of"):
        logs.configure(format, level)


class _StalledOutput:
    """An output the test holds: each write is recorded, then waits until :attr:`release` is
    set (a log collector that stopped reading); ``OSError`` if it never is (a failed test must
    not hang the suite)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.batches: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.batches.append(data)
        self.entered.set()
        if not self.release.wait(timeout=20):
            raise OSError("the test never released the output")

    def lines(self) -> list[str]:
        return b"".join(self.batches).decode().splitlines()


def _until(done: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether ``done()`` came true within ``seconds`` (the writer thread writes every
    ``FLUSH_INTERVAL``; the deadline only bounds a failing test)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def stalled(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[logs.LineHandler, _StalledOutput]]:
    """A background handler writing to a :class:`_StalledOutput`, holding 100 lines at most."""
    monkeypatch.setattr(logs, "MAX_WAITING", 100)
    output = _StalledOutput()
    handler = logs.LineHandler(background=True, output=output)
    handler.setFormatter(logs.TextFormatter())
    handler.addFilter(logs._Scrub())
    try:
        yield handler, output
    finally:
        output.release.set()
        handler.close()


def test_a_stalled_output_drops_lines_and_never_blocks_the_caller(
    stalled: tuple[logs.LineHandler, _StalledOutput],
) -> None:
    """The writer thread is held inside its output (the test decides when it returns): the
    caller's lines wait up to ``MAX_WAITING``, later ones are dropped and counted, no call
    waits for the output; once it drains, the waiting lines come out in order, then how many
    were dropped, and nothing more is lost."""
    handler, output = stalled
    logger = logging.getLogger("sameday.test-stalled")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.warning("first")  # a warning wakes the writer at once: it stalls writing it
        assert output.entered.wait(timeout=10)
        slowest = 0.0
        for index in range(250):  # records and the access log's direct lines alike
            started = time.perf_counter()
            if index % 2:
                logger.info("line %03d", index)
            else:
                assert handler.put("sameday.test-stalled", f"line {index:03d}", {}, time.time())
            slowest = max(slowest, time.perf_counter() - started)
        assert slowest < 1.0, f"a log call waited {slowest:.2f}s for a stalled output"
        assert handler.dropped == 150 and len(output.batches) == 1  # the output still stalls

        output.release.set()
        assert _until(lambda: len(output.lines()) == 102)
        first, *kept, notice = output.lines()
        assert first.endswith(" WARNING sameday.test-stalled: first")
        assert [line.split(": ", 1)[1] for line in kept] == [f"line {i:03d}" for i in range(100)]
        assert " WARNING sameday.logs: 150 log line(s) dropped: stderr was not read" in notice
        assert notice.endswith(" dropped=150") and handler.dropped == 0

        for index in range(100):  # a drained output: every line arrives, none is dropped
            logger.info("after %03d", index)
        assert _until(lambda: len(output.lines()) == 202)
        after = [line.split(": ", 1)[1] for line in output.lines()[102:]]
        assert after == [f"after {i:03d}" for i in range(100)] and handler.dropped == 0
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_lines_an_output_refuses_are_counted_and_told_once_it_takes_them() -> None:
    """An output that raises ``OSError`` (stderr closed): its batch counts as dropped, and the
    next batch it takes says so."""
    taken: list[bytes] = []
    refused = threading.Event()

    def closed_once(data: bytes) -> None:
        if not refused.is_set():
            refused.set()
            raise OSError("stderr closed")
        taken.append(data)

    handler = logs.LineHandler(background=True, output=closed_once)
    handler.setFormatter(logs.TextFormatter())
    record = {"name": "sameday.serve", "levelno": logging.WARNING, "levelname": "WARNING"}
    try:
        handler.handle(logging.makeLogRecord({**record, "msg": "lost"}))  # wakes the writer
        assert refused.wait(timeout=10)
        handler.handle(logging.makeLogRecord({**record, "msg": "kept"}))
        assert _until(lambda: bool(taken))
        kept, notice = b"".join(taken).decode().splitlines()
        assert kept.endswith(" WARNING sameday.serve: kept")
        assert " 1 log line(s) dropped: " in notice and notice.endswith(" dropped=1")
    finally:
        handler.close()


def test_an_output_needs_the_writer_thread() -> None:
    with pytest.raises(ValueError, match="give background=True"):
        logs.LineHandler(output=lambda data: None)


def test_the_cli_logs_as_its_options_and_variables_say(runner: CliRunner) -> None:

    @main.command("log-something", hidden=True)
    def log_something() -> None:
        logging.getLogger("sameday.test").info("informative")
        logging.getLogger("sameday.test").warning("worrying")

    try:
        plain = runner.invoke(main, ["log-something"])
        assert plain.exit_code == 0, plain.output
        lines = plain.stderr.splitlines()
        assert len(lines) == 1 and lines[0].endswith(" WARNING sameday.test: worrying")
        json = runner.invoke(main, ["--log-format", "json", "--log-level", "info", "log-something"])
        entries = [orjson.loads(line) for line in json.stderr.splitlines()]
        assert [e["message"] for e in entries] == ["informative", "worrying"]
        env = {"SAMEDAY_LOG_FORMAT": "json", "SAMEDAY_LOG_LEVEL": "ERROR"}
        assert runner.invoke(main, ["log-something"], env=env).stderr == ""
        bad = runner.invoke(main, ["log-something"], env={"SAMEDAY_LOG_FORMAT": "xml"})
        assert bad.exit_code == 2 and "'xml' is not one of 'text', 'json'" in bad.stderr
    finally:
        main.commands.pop("log-something")
    assert not [h for h in logging.getLogger().handlers if isinstance(h, logs.LineHandler)]


def test_the_timestamp_is_utc_with_milliseconds() -> None:
    assert logs.timestamp(0.25) == "1970-01-01T00:00:00.250Z"
    assert logs.timestamp(86_400 + 59.5) == "1970-01-02T00:00:59.500Z"


@pytest.mark.parametrize("formatter", [logs.JsonFormatter(), logs.TextFormatter()])
def test_a_line_put_directly_is_the_line_its_record_would_make(
    formatter: logs.LineFormatter,
) -> None:
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w")
    handler = logs.LineHandler(background=True, stream=stream)
    handler.setFormatter(formatter)
    handler.addFilter(logs._Scrub())
    fields = {"status": 200, "request_id": "a b", "degraded": False, "arm": None}
    record = logging.makeLogRecord(
        {"name": "sameday.access", "levelno": logging.INFO, "levelname": "INFO"}
        | {"msg": "GET /v1/recommend/home", "created": 1_700_000_000.25, "fields": fields}
    )
    try:
        handler.handle(record)
        assert handler.put("sameday.access", "GET /v1/recommend/home", fields, record.created)
        handler.flush()
        first, second = os.read(read_end, 1 << 16).decode().splitlines()
        assert first == second and "2023-11-14T22:13:20.250Z" in first
    finally:
        handler.close()
        stream.close()
        os.close(read_end)


def test_lines_are_put_directly_only_where_nothing_else_would_see_the_record(
    restore: list[object],
) -> None:
    access = logging.getLogger("sameday.access")
    root = logging.getLogger()
    saved = list(root.handlers)
    for handler in saved:  # pytest's capture handlers
        root.removeHandler(handler)
    try:
        restore.append(logs.configure("json", "info"))
        (ours,) = root.handlers
        assert logs.sole_handler(access) is ours
        other = logging.NullHandler()
        logging.getLogger("sameday").addHandler(other)
        assert logs.sole_handler(access) is None  # someone else listens on the way
        logging.getLogger("sameday").removeHandler(other)
        access.addFilter(logging.Filter("nothing"))
        assert logs.sole_handler(access) is None  # a filter of its own
        access.filters.clear()
        parents = logging.Filter("nothing")  # as sameday.urls.scrub_logs puts on "sameday"
        logging.getLogger("sameday").addFilter(parents)
        try:  # a parent's filter does not see a child's records (logging's rule)
            assert logs.sole_handler(access) is ours
        finally:
            logging.getLogger("sameday").removeFilter(parents)
        assert not ours.put("sameday.access", "x", {}, 0.0)  # written inline: no writer thread
    finally:
        for handler in saved:
            root.addHandler(handler)
