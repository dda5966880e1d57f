"""The Parquet event log: local first then shipped, by day, rolled, exactly once on read, on a
local folder and on S3 (moto's server on loopback), read by reports, filled by export."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import httpx
import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from sameday.analysis.source import open_events
from sameday.cli import main
from sameday.errors import ConfigError, StoreUnavailable
from sameday.events import (
    EventQuery,
    EventWriter,
    Exposure,
    Outcome,
    SQLiteSink,
    open_sink,
    open_source,
)
from sameday.events.parquet import ParquetSink, ParquetSource
from tests.analysis._logs import DAY, EXPERIMENT, START, make_project, write_ab_log
from tests.events.factories import T0, exposure, outcome

PORTS = range(17500, 17600)
"""This suite's ports: the S3 server listens on the first free one."""


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def days(records: Sequence[Exposure | Outcome]) -> int:
    return len({time.strftime("%Y-%m-%d", time.gmtime(r.time)) for r in records})


def files(folder: Path, table: str) -> list[Path]:
    return sorted((folder / table).rglob("*.parquet"))


def test_segments_ship_by_size_into_one_file_per_day(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    days = [exposure(i, time=START + (i % 3) * DAY + i) for i in range(300)]
    with open_sink(f"parquet:///{lake}?roll_mb=0.05") as sink:  # a segment every ~100 records
        assert isinstance(sink, ParquetSink)
        for start in range(0, 300, 20):
            assert sink.write_exposures(days[start : start + 20]) == 20
        sink.write_outcomes([outcome(i, time=START + i) for i in range(5)])
        # the full segments were shipped without waiting for close
        eventually(lambda: len({p.stem for p in files(lake, "exposures")}) >= 2)
    assert not list((lake / "_spool").glob("*.db"))  # close shipped the rest
    written = files(lake, "exposures")
    assert {p.parent.name for p in written} == {
        "date=2023-12-09",
        "date=2023-12-10",
        "date=2023-12-11",
    }
    for path in written:
        table = pq.read_table(path)
        day = {time.strftime("%Y-%m-%d", time.gmtime(t)) for t in table["time"].to_pylist()}
        assert path.parent.name == f"date={day.pop()}" and not day
    assert sum(pq.read_table(p).num_rows for p in written) == 300
    with open_sink(f"parquet:///{lake}") as reopened:
        assert list(reopened.read_exposures()) == sorted(days, key=lambda e: e.time)
        assert len(list(reopened.read_outcomes())) == 5


def test_a_quiet_segment_ships_after_roll_seconds(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with open_sink(f"parquet:///{lake}?roll_seconds=0.2") as sink:
        sink.write_exposures([exposure(0)])
        eventually(lambda: len(files(lake, "exposures")) == 1, timeout=5)
        assert list(sink.read_exposures()) == [exposure(0)]


def test_reads_see_the_spool_and_the_files_once(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with ParquetSink.from_url(f"parquet:///{lake}") as sink:
        sink.write_exposures([exposure(i) for i in range(4)])
        assert sink.ship() == 1
        # resent after the first copy was shipped: a new segment takes them again
        assert sink.write_exposures([exposure(i) for i in range(2, 6)]) == 4
        assert sink.write_outcomes([outcome(0), outcome(1)]) == 2
        assert sink.ship() == 1
        sink.write_outcomes([outcome(1), outcome(2)])  # in the spool, one of them shipped
        ids = [e.request_id for e in sink.read_exposures()]
        assert ids == [f"req-{i:05d}" for i in range(6)]
        assert [o.event_id for o in sink.read_outcomes()] == ["evt-00000", "evt-00001", "evt-00002"]
        assert sink.count_exposures("exp-a")["control"].exposures == 1  # req-00000 once
    con = open_events(f"parquet:///{lake}", EventQuery("exp-a", ("click",)))
    try:
        assert con.execute("SELECT count(*) FROM exposures").fetchone() == (3,)  # 0, 2, 4
        assert con.execute("SELECT count(*) FROM outcomes").fetchone() == (3,)
    finally:
        con.close()


@pytest.mark.parametrize("repeated", ["exposures", "outcomes", "neither"])
def test_a_report_reads_each_table_once_whichever_repeats(tmp_path: Path, repeated: str) -> None:
    """The two tables are checked for repeats at the same time (on two threads): a repeat in
    one must be dropped there, and never change the other."""
    lake = tmp_path / "lake"
    with ParquetSink.from_url(f"parquet:///{lake}") as sink:
        sink.write_exposures([exposure(i) for i in range(8)])
        sink.write_outcomes([outcome(i) for i in range(8)])
        assert sink.ship() == 1
        again = range(4, 8)  # resent: a new segment takes them again
        if repeated == "exposures":
            sink.write_exposures([exposure(i) for i in again])
        elif repeated == "outcomes":
            sink.write_outcomes([outcome(i) for i in again])
        sink.ship()
    con = open_events(f"parquet:///{lake}", EventQuery("exp-a", ("click",)))
    try:
        assert con.execute("SELECT count(*) FROM exposures").fetchone() == (4,)  # 0, 2, 4, 6
        assert con.execute("SELECT count(*) FROM outcomes").fetchone() == (8,)
    finally:
        con.close()


def test_a_failed_check_on_its_thread_is_reported(tmp_path: Path) -> None:
    """Exposures without ids: the check, on its thread, fails, and the caller is told."""
    (tmp_path / "exposures").mkdir()
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 1.0 AS time, 'u' AS unit, 'exp-a' AS experiment, 'control' AS arm, "
            f"'home' AS surface) TO '{tmp_path / 'exposures' / 'a.parquet'}'"
        )
        con.execute(
            f"COPY (SELECT 'e' AS event_id, 'click' AS name) TO '{tmp_path}/outcomes.parquet'"
        )
    with pytest.raises(StoreUnavailable, match="request_id"):
        open_events(f"parquet:///{tmp_path}", EventQuery("exp-a", ("click",)))


def test_a_segment_shipped_again_replaces_its_files(tmp_path: Path) -> None:
    lake, spool, kept = tmp_path / "lake", tmp_path / "spool", tmp_path / "kept"
    url = f"parquet:///{lake}?spool={spool}"
    with open_sink(url) as sink:
        sink.write_exposures([exposure(i) for i in range(10)])
        shutil.copytree(spool, kept)  # what a SIGKILL now would leave on disk
        assert sink.ship() == 1
    first = files(lake, "exposures")
    # as if the process had died after writing the files and before deleting the segment
    shutil.rmtree(spool)
    shutil.copytree(kept, spool)
    with open_sink(url) as restarted:  # ships what it finds in the spool
        eventually(lambda: not list(spool.glob("*.db")))
        assert len(list(restarted.read_exposures())) == 10
    assert files(lake, "exposures") == first
    with duckdb.connect() as con:
        query = f"SELECT count(*) FROM read_parquet('{lake}/exposures/**/*.parquet')"
        assert con.execute(query).fetchone() == (10,)  # replaced, not added


def test_a_segment_killed_while_created_or_broken_holds_up_no_other(tmp_path: Path) -> None:
    lake, spool = tmp_path / "lake", tmp_path / "spool"
    spool.mkdir()
    (spool / "00000000000000000001-1-aaaaaaaa.db").touch()  # killed before its tables existed
    (spool / "00000000000000000002-1-bbbbbbbb.db").write_bytes(b"not a database" * 100)
    with ParquetSink.from_url(f"parquet:///{lake}?spool={spool}") as sink:
        sink.write_exposures([exposure(0)])
        with pytest.raises(StoreUnavailable, match=r"bbbbbbbb\.db: file is not a database"):
            sink.ship()
        with pytest.raises(StoreUnavailable, match="bbbbbbbb"):  # reads skip nothing silently
            list(sink.read_exposures())
    # the good segment was shipped, the empty one removed, the broken one kept for a person
    assert [pq.read_table(p)["request_id"].to_pylist() for p in files(lake, "exposures")] == [
        ["req-00000"]
    ]
    assert [p.name for p in spool.glob("*.db")] == ["00000000000000000002-1-bbbbbbbb.db"]


def test_tidying_never_takes_the_lock_of_a_segment_being_created(tmp_path: Path) -> None:
    import fcntl

    from sameday.events._spool import Spool

    spool = Spool(tmp_path / "spool")
    lock = spool.folder / "00000000000000000001-1-aaaaaaaa.lock"
    left = spool.folder / "00000000000000000000-1-cccccccc.lock"  # a crash's leftover
    left.touch()
    (spool.folder / ".00000000000000000002-1-dddddddd.lock.tmp").touch()  # killed before rename
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # its writer holds it and is about to create the database
        spool.tidy()
        assert [p.name for p in spool.folder.iterdir()] == [lock.name]
    finally:
        os.close(fd)


CHILD = r"""
import sys, time
from sameday.events import EventWriter, Exposure, Outcome, open_sink

writer = EventWriter(open_sink(sys.argv[1]), flush_interval=0.005)
round = 0
while True:  # until killed: log, acknowledge, report the acknowledged ids, keep going
    ids = [f"{round}-{k}" for k in range(20)]
    for i in ids:
        writer.log_exposure(Exposure(request_id="r" + i, time=time.time(), unit="u" + i,
                                     surface="home", items=("a", "b"), experiment="x", arm="a"))
    if round % 2:
        writer.flush(10)  # exposures are acknowledged by a flush ...
    else:  # ... or by the ticket of outcomes logged after them
        events = [Outcome(event_id="e" + i, unit="u" + i, name="click", time=time.time())
                  for i in ids]
        writer.log_outcomes(events).wait(10)
    for k in range(50):  # more records, never acknowledged: in flight when the kill comes
        writer.log_exposure(Exposure(request_id=f"x{round}-{k}", time=time.time(), unit="u",
                                     surface="home", items=(), experiment="x", arm="a"))
    print(round, flush=True)
    round += 1
"""


def test_acknowledged_events_survive_sigkill_and_are_read_once(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    url = f"parquet:///{lake}?roll_mb=0.05&roll_seconds=0.5"  # ships while it runs
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[int] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) == 40:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        _, stderr = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, stderr
    assert acknowledged == list(range(40))
    assert files(lake, "exposures"), "nothing was shipped before the kill"
    assert list((lake / "_spool").glob("*.db")), "nothing was left to ship after the kill"

    # restart: the new process ships what the dead one left; a client that got no answer for
    # the last outcomes resends them (the first copy was committed), which must not double them
    with EventWriter(open_sink(url)) as writer:
        resent = [
            Outcome(event_id=f"e38-{k}", unit=f"u38-{k}", name="click", time=T0) for k in range(20)
        ]
        writer.log_outcomes(resent).wait(10)
        writer.sink.close()
    assert not list((lake / "_spool").glob("*.db"))

    con = open_events(f"parquet:///{lake}", EventQuery("x", ("click",)))
    try:
        exposures = Counter(
            r[0] for r in con.execute("SELECT request_id FROM exposures").fetchall()
        )
        outcomes = Counter(r[0] for r in con.execute("SELECT unit FROM outcomes").fetchall())
    finally:
        con.close()
    assert max(exposures.values()) == 1 and max(outcomes.values()) == 1
    for round in acknowledged:
        assert {f"r{round}-{k}" for k in range(20)} <= set(exposures), f"round {round} lost"
    with open_sink(url) as reader:
        events = Counter(o.event_id for o in reader.read_outcomes())
    assert max(events.values()) == 1
    for round in acknowledged[::2]:
        assert {f"e{round}-{k}" for k in range(20)} <= set(events), f"round {round} lost"


def free_port() -> int:
    """The first port of :data:`PORTS` that nothing listens on."""
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError(f"no free port in {PORTS}")


def test_a_killed_server_loses_no_acknowledged_event(project_dir: Path) -> None:
    from tests.serve.test_shutdown import publish_and_apply, start_server

    settings = project_dir / "sameday.yaml"
    url = "parquet:///.sameday/lake?roll_seconds=60"  # all in the spool at the kill
    settings.write_text(settings.read_text().replace("sqlite:///.sameday/events.db", url))
    publish_and_apply(project_dir)
    port = free_port()
    served: list[str] = []
    sent: list[dict[str, str]] = []
    server = start_server(project_dir, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for round in range(6):
                for k in range(10):
                    unit, request = f"user-{k}", f"r{round}-{k}"
                    answer = http.post(
                        "/v1/recommend/home", json={"unit": unit, "request_id": request}
                    )
                    assert answer.status_code == 200, answer.text
                    served.append(request)
                events = [
                    {
                        "event_id": f"e{round}-{k}",
                        "unit": f"user-{k}",
                        "name": "click",
                        "request_id": f"r{round}-{k}",
                    }
                    for k in range(10)
                ]
                # 200: these events, and every exposure served before them, are durable
                assert http.post("/v1/events", json={"events": events}).status_code == 200
                sent += events
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
    lake = project_dir / ".sameday" / "lake"
    assert list((lake / "_spool").glob("*.db")), "the kill left nothing in the spool"

    server = start_server(project_dir, port)  # ships what the killed server left
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            resent = {"events": sent[-10:]}  # a client that got no answer resends
            assert http.post("/v1/events", json=resent).status_code == 200
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stderr is not None:
            server.stderr.close()
    assert not list((lake / "_spool").glob("*.db"))  # all shipped
    with open_sink(f"parquet:///{lake}") as sink:
        exposures = Counter(e.request_id for e in sink.read_exposures())
        events = Counter(o.event_id for o in sink.read_outcomes())
    assert set(served) <= set(exposures) and max(exposures.values()) == 1
    assert {e["event_id"] for e in sent} == set(events) and max(events.values()) == 1


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, in a thread, on the first free port of :data:`PORTS`."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """A fresh bucket on the S3 server, with credentials in the environment as in production."""
    import fsspec

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    name = f"events-{request.node.name.replace('_', '-')[:40].lower()}-{os.getpid()}"
    fs = fsspec.filesystem("s3", endpoint_url=s3_endpoint, skip_instance_cache=True)
    fs.mkdir(name)
    return name


def test_s3_round_trip(tmp_path: Path, s3_endpoint: str, bucket: str) -> None:
    url = f"s3://{bucket}/log?endpoint_url={s3_endpoint}&spool={tmp_path / 'spool'}"
    records = [exposure(i, time=START + i * DAY / 2) for i in range(6)]
    with open_sink(url) as sink:
        assert isinstance(sink, ParquetSink)
        sink.write_exposures(records)
        sink.write_outcomes([outcome(i, time=START + i * DAY / 2) for i in range(6)])
        assert sink.ship() == 1
        sink.write_exposures(records[:2])  # a resend, shipped on close
    import fsspec

    fs = fsspec.filesystem("s3", endpoint_url=s3_endpoint, skip_instance_cache=True)
    keys = fs.glob(f"{bucket}/log/exposures/*/*.parquet")
    assert sorted({key.split("/")[3] for key in keys}) == [
        "date=2023-12-09",
        "date=2023-12-10",
        "date=2023-12-11",
    ]
    assert not [key for key in fs.find(bucket) if key.endswith(".tmp")]
    with open_sink(url) as reader:
        assert list(reader.read_exposures()) == records
        assert len(list(reader.read_outcomes(experiment="exp-a"))) == 3
    source = open_source(url)
    assert isinstance(source, ParquetSource)
    con = open_events(source, EventQuery("exp-b", ("click",)))
    try:
        assert con.execute("SELECT count(*) FROM exposures").fetchone() == (3,)
    finally:
        con.close()


def test_s3_down_keeps_records_in_the_spool_until_it_is_back(
    tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    spool = tmp_path / "spool"
    down = f"s3://{bucket}-missing/log?endpoint_url={s3_endpoint}&spool={spool}"
    with open_sink(down) as sink:
        sink.write_exposures([exposure(0)])  # acknowledged: it is in the spool
        with pytest.raises(StoreUnavailable, match="cannot write"):
            sink.ship()
    assert len(list(spool.rglob("*.db"))) == 1
    import fsspec

    fsspec.filesystem("s3", endpoint_url=s3_endpoint, skip_instance_cache=True).mkdir(
        f"{bucket}-missing"
    )
    with open_sink(down) as back:
        eventually(lambda: not list(spool.rglob("*.db")))
        assert [e.request_id for e in back.read_exposures()] == ["req-00000"]


def report_json(runner: CliRunner, project: Path, events: str) -> dict[str, object]:
    result = runner.invoke(
        main, ["report", "test", "--format", "json", "--events", events, "--project", str(project)]
    )
    assert result.exit_code == 0, result.output
    found: dict[str, object] = orjson.loads(result.output)
    found.pop("generated")  # the time of the report: all else must match
    return found


def test_report_on_the_parquet_log_equals_report_on_sqlite(
    tmp_path: Path, runner: CliRunner
) -> None:
    project = make_project(tmp_path, EXPERIMENT)
    log = project / ".sameday" / "events.db"
    write_ab_log(log, units=400, rate={"control": 0.8, "personal": 1.0}, days=3, seed=3)
    with SQLiteSink(log) as sqlite, open_sink(f"parquet:///{project / 'sunk'}") as sink:
        exposures, outcomes = list(sqlite.read_exposures()), list(sqlite.read_outcomes())
        half = len(exposures) // 2
        sink.write_exposures(exposures[:half])
        sink.write_outcomes(outcomes)
        assert isinstance(sink, ParquetSink)
        sink.ship()
        sink.write_exposures(exposures[half - 50 :])  # 50 sent twice, in two segments
    exported = runner.invoke(
        main, ["events", "export", "--to", "parquet:///lake", "--project", str(project)]
    )
    assert exported.exit_code == 0, exported.output
    assert (
        f"Exported {len(exposures):,} exposures and {len(outcomes):,} outcomes" in exported.output
    )
    theirs = report_json(runner, project, f"sqlite:///{log}")
    assert report_json(runner, project, "parquet:///sunk") == theirs
    assert report_json(runner, project, "parquet:///lake") == theirs


def test_export_round_trip_with_filters(
    tmp_path: Path, runner: CliRunner, project_dir: Path
) -> None:
    source = tmp_path / "events.db"
    with SQLiteSink(source) as sqlite:
        sqlite.write_exposures([exposure(i, time=T0 + i * DAY / 4) for i in range(40)])
        sqlite.write_outcomes([outcome(i, time=T0 + i * DAY / 4) for i in range(40)])
        since, until = T0 + 2 * DAY, T0 + 8 * DAY
        want_exposures = list(sqlite.read_exposures(experiment="exp-a", since=since, until=until))
        want_outcomes = list(sqlite.read_outcomes(experiment="exp-a", since=since, until=until))
    args = [
        "events", "export", "--from", f"sqlite:///{source}",
        "--to", f"parquet:///{tmp_path / 'out'}",
        "--experiment", "exp-a", "--since", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since)),
        "--until", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(until)),
        "--json", "--project", str(project_dir),
    ]  # fmt: skip
    for _ in range(2):  # twice: still read once
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.output) == {
            "exposures": len(want_exposures),
            "outcomes": len(want_outcomes),
            "files": days(want_exposures) + days(want_outcomes),  # a file per day and table
        }
    with open_sink(f"parquet:///{tmp_path / 'out'}") as parquet:
        assert list(parquet.read_exposures()) == want_exposures
        assert list(parquet.read_outcomes()) == want_outcomes
    refused = runner.invoke(
        main, ["events", "export", "--to", "sqlite:///x.db", "--project", str(project_dir)]
    )
    assert refused.exit_code == 2 and "not a Parquet event log" in refused.output


def test_urls_are_checked_and_resolved_against_the_project(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import parse_qsl

    from sameday.config import load_project

    with pytest.raises(ConfigError, match="unknown option 'roll'"):
        open_sink("parquet:///lake?roll=5")
    with pytest.raises(ConfigError, match="roll_seconds must be a positive number"):
        open_sink("parquet:///lake?roll_seconds=-1")
    with pytest.raises(ConfigError, match="names no bucket"):
        open_sink("s3:///prefix")

    def spool(url: str) -> str:
        return dict(parse_qsl(url.partition("?")[2]))["spool"]

    settings = project_dir / "sameday.yaml"
    url = "parquet:///.sameday/lake?roll_mb=8"
    settings.write_text(settings.read_text().replace("sqlite:///.sameday/events.db", url))
    monkeypatch.chdir(tmp_path)  # not the project: relative paths must not land here
    project = load_project(project_dir)
    assert project.url(url) == f"parquet:///{project_dir}/.sameday/lake?roll_mb=8"
    assert spool(project.url("s3://b/p?spool=sp")) == str(project_dir / "sp")
    assert spool(project.url("s3://b/p")) == str(project_dir / ".sameday" / "spool")
    with project.open_event_sink() as sink:
        assert isinstance(sink, ParquetSink)
        sink.write_exposures([exposure(0)])
    assert files(project_dir / ".sameday" / "lake", "exposures")
    assert not (tmp_path / ".sameday").exists()
