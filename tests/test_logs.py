"""``sameday.logs``: text or JSON lines, credentials scrubbed from every logger, and a server's
log that drops lines rather than block when nobody reads its stderr."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

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
