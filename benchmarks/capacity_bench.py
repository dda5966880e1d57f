"""Capacity on paper, from measurements: what serving 10 million daily users takes.

Run: ``.venv/bin/python benchmarks/capacity_bench.py`` (about three minutes; needs Debian's
``wrk``, ``redis-server`` and PostgreSQL on loopback). Options: ``--seconds`` per wrk run,
``--redis-url`` (an empty database to use instead of the ``redis-server`` the benchmark starts
on a port of ``--ports``; only the keys it wrote are deleted after), ``--postgres-url`` (a
server where a scratch database may be created and dropped), ``--ports`` (a range to bind
servers in), ``--rounds``, ``--daily-users``, ``--requests-per-user``, ``--peak-factor``,
``--outcomes-per-request``, ``--retention-days``, ``--utilisation``.

It measures, and prints as markdown tables (``docs/scaling.md`` holds a run and reads them):

1. **Per-replica throughput.** ``sameday serve`` (one process, as a replica runs) with the
   scaffold's A/B experiment on ``home`` (20,000 users x 20 items, exposures logged to the
   embedded SQLite event log), on the embedded SQLite store and on Redis, both servers up,
   ``--rounds`` alternating wrk runs (``-t1 -c32``, each request for a random unit):
   requests/s, p50, p99, and the server's CPU time per request (``/proc/<pid>/stat``), which a
   loaded machine disturbs far less than requests/s; the replica count uses both.
2. **Store operations and bytes per request** (Redis): a second wrk run goes through a TCP
   proxy in this process that parses the RESP commands the server sends and counts bytes both
   ways; divided by the requests wrk completed. Reads of concurrent requests share round trips
   (``sameday.serve.batching``), so these are figures under load.
3. **HTTP bytes per request**: one request and its whole response, on a raw socket, for 200
   random units (mean).
4. **Redis memory per list**: ``MEMORY USAGE`` of the live version's hash (every field
   sampled) divided by its fields, and the encoded list's size (``HSTRLEN``).
5. **Bytes per exposure and per outcome in each event sink**: the exposures the SQLite run
   logged (real ones, as served) and one click per exposure are written, in batches of 1,000,
   into a fresh SQLite file per table (``VACUUM``-ed, minus an empty file), a scratch PostgreSQL
   database (``pg_total_relation_size``: table, indexes and TOAST) and a Parquet log (the
   files' sizes after shipping).

Then the arithmetic for ``--daily-users`` users making ``--requests-per-user`` requests a day,
every assumption named in the output. Figures come from one run on a shared machine: the
throughput moves by tens of percent with the load (printed), the byte counts do not. (One file
of ~600 lines on purpose: the measurements and the arithmetic that uses them stay together.)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _servers import cpu_seconds, start_redis, stop

USERS, ITEMS, N = 20_000, 20, 10


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Ports:
    """Hands out free ports from an inclusive range (servers bind only there)."""

    def __init__(self, text: str) -> None:
        low, high = (int(part) for part in text.split("-"))
        self._candidates = iter(range(low, high + 1))

    def next(self) -> int:
        for port in self._candidates:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise SystemExit("no free port left in --ports")


def make_project(root: Path, serving_url: str, memory_limit: str | None = None) -> Path:
    """The scaffold's project with its A/B experiment running and USERS x ITEMS lists
    (``memory_limit``: its ``serve.memory_limit``; ``"0"`` reads the store for every request,
    as a replica does when the live snapshots do not fit in its memory)."""
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.metadata import MetadataStore
    from sameday.results import publish
    from sameday.scaffold import init_project

    init_project(root)
    settings = root / "sameday.yaml"
    text = settings.read_text().replace("sqlite:///.sameday/serving.db", serving_url)
    if memory_limit is not None:
        text = text.replace("serve:\n", f"serve:\n  memory_limit: {memory_limit}\n", 1)
    settings.write_text(text)
    experiment = root / "experiments" / "home-personal.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    out = root / "out"
    out.mkdir()
    with (out / "personal.csv").open("w") as handle:
        handle.write("user,item,score\n")
        for user in range(USERS):
            for rank in range(ITEMS):
                handle.write(f"user-{user},item-{(user * 7 + rank) % 5000},{ITEMS - rank}\n")
    (out / "popular.csv").write_text(
        "key,item,score\n" + "".join(f"*,item-{i},{100 - i}\n" for i in range(50))
    )
    project = load_project(root, environ={})
    for name in ("personal", "popular"):
        publish(project, name, force=True)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)
    return root


def serve(project: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    import httpx

    process = subprocess.Popen(
        [sys.executable, "-m", "sameday", "serve", "--project", str(project), "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"sameday serve exited early ({project})")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("sameday serve did not get ready")


def wrk(port: int, seconds: int, folder: Path, pid: int) -> dict[str, float]:
    """Requests/s, completed requests, p50 and p99 (ms) of ``wrk -t1 -c32`` over random units,
    and the server's CPU milliseconds per request (process ``pid``): on a shared machine wrk's
    requests/s moves with the load, the CPU a request costs much less."""
    script = folder / "random_unit.lua"
    script.write_text(
        'math.randomseed(42)\nrequest = function()\n  return wrk.format("GET", '
        f'"/v1/recommend/home?unit=user-" .. math.random(0, {USERS - 1}) .. "&n={N}")\nend\n'
    )
    base = f"http://127.0.0.1:{port}"
    args = ["wrk", "-t1", "-c32", "--latency", "-s", str(script)]
    subprocess.run([*args, "-d2s", base], capture_output=True, check=True)  # warm-up
    cpu = cpu_seconds(pid)
    out = subprocess.run([*args, f"-d{seconds}s", base], capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed:
        raise SystemExit(f"{failed.group(1)} failed responses:\n{out}")

    def ms(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": requests,
        "p50": ms("50"),
        "p99": ms("99"),
        "cpu_ms": 1000 * cpu / requests,
    }


def http_bytes(port: int, samples: int = 200) -> tuple[float, float]:
    """Mean bytes of a request (as wrk sends it) and of its whole response."""
    import random

    rng = random.Random(7)
    sent, received = [], []
    for _ in range(samples):
        unit = f"user-{rng.randrange(USERS)}"
        request = (
            f"GET /v1/recommend/home?unit={unit}&n={N} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        if b" 200 " not in data.split(b"\r\n", 1)[0]:
            raise SystemExit(f"unexpected response: {data[:200]!r}")
        # wrk keeps connections open: it sends no "Connection: close" and gets none back
        sent.append(len(request) - len("Connection: close\r\n"))
        received.append(len(data) - len("connection: close\r\n"))
    return statistics.mean(sent), statistics.mean(received)


class CountingProxy:
    """A TCP proxy to Redis that counts bytes both ways and the commands clients send.

    Clients send RESP arrays of bulk strings (``*N`` then ``$len`` and the bytes, N times);
    the parser below reads exactly that, which is all redis-py writes."""

    def __init__(self, upstream: tuple[str, int], port: int) -> None:
        self.upstream, self.port = upstream, port
        self.commands: Counter[str] = Counter()
        self.bytes_up = self.bytes_down = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def reset(self) -> None:
        self.commands.clear()
        self.bytes_up = self.bytes_down = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)

        async def down() -> None:
            while data := await up_reader.read(65536):
                self.bytes_down += len(data)
                writer.write(data)
                await writer.drain()
            writer.close()

        task = asyncio.ensure_future(down())
        buffer = b""
        while data := await reader.read(65536):
            self.bytes_up += len(data)
            up_writer.write(data)
            buffer = self._parse(buffer + data)
            await up_writer.drain()
        up_writer.close()
        await task

    def _parse(self, buffer: bytes) -> bytes:
        """Count every complete command in ``buffer``; return the incomplete rest."""
        while buffer.startswith(b"*"):
            end = buffer.find(b"\r\n")
            if end < 0:
                return buffer
            count, at, name = int(buffer[1:end]), end + 2, ""
            for index in range(count):
                stop = buffer.find(b"\r\n", at)
                if stop < 0:
                    return buffer
                size = int(buffer[at + 1 : stop])
                if len(buffer) < stop + 2 + size + 2:
                    return buffer
                if index == 0:
                    name = buffer[stop + 2 : stop + 2 + size].decode().upper()
                at = stop + 2 + size + 2
            self.commands[name] += 1
            buffer = buffer[at:]
        return buffer


def redis_memory(url: str) -> tuple[float, float, int]:
    """Bytes of Redis memory per stored list, bytes of an encoded list, and lists stored."""
    import redis

    client = redis.Redis.from_url(url)
    live = client.get("sameday:{personal}:live")
    if live is None:
        raise SystemExit("no live version of 'personal' in Redis")
    key = f"sameday:{{personal}}:v:{live.decode()}"
    fields = int(client.hlen(key))
    memory = int(client.memory_usage(key, samples=0) or 0)
    names = [f"user-{u}" for u in range(0, USERS, 97)]
    encoded = statistics.mean(int(client.hstrlen(key, name)) for name in names)
    client.close()
    return memory / fields, encoded, fields


def sink_bytes(
    events_db: Path, postgres_url: str, folder: Path
) -> tuple[dict[str, tuple[float, float]], dict[str, int]]:
    """Bytes per exposure and per outcome in each sink (see the module docstring), and how many
    of each were written."""
    from sameday.events.records import Outcome
    from sameday.events.sqlite import SQLiteSink

    with SQLiteSink(events_db) as logged:
        exposures = list(logged.read_exposures())
    outcomes = [
        Outcome(
            event_id=f"evt-{index:09d}",
            unit=e.unit,
            name="click",
            time=e.time + 30.0,
            request_id=e.request_id,
            item=e.items[0] if e.items else None,
        )
        for index, e in enumerate(exposures)
    ]
    counts = {"exposures": len(exposures), "outcomes": len(outcomes)}
    if not exposures:
        raise SystemExit("the serving run logged no exposures")

    def fill(sink: Any, table: str) -> None:
        records = exposures if table == "exposures" else outcomes
        for start in range(0, len(records), 1000):
            batch = records[start : start + 1000]
            if table == "exposures":
                sink.write_exposures(batch)
            else:
                sink.write_outcomes(batch)

    results: dict[str, tuple[float, float]] = {}
    sizes = {}
    for table in ("exposures", "outcomes"):
        empty, full = folder / f"empty-{table}.db", folder / f"full-{table}.db"
        for path, filled in ((empty, False), (full, True)):
            with SQLiteSink(path) as sink:
                if filled:
                    fill(sink, table)
            _vacuum(path)
        sizes[table] = (full.stat().st_size - empty.stat().st_size) / counts[table]
    results["SQLite (one file per table, VACUUM-ed)"] = (sizes["exposures"], sizes["outcomes"])
    results["PostgreSQL (pg_total_relation_size)"] = _postgres_bytes(postgres_url, fill, counts)
    results["Parquet (local folder, shipped files)"] = _parquet_bytes(folder, fill, counts)
    return results, counts


def _vacuum(path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode = DELETE")
    db.execute("VACUUM")
    db.close()


def _postgres_bytes(url: str, fill: Any, counts: dict[str, int]) -> tuple[float, float]:
    import psycopg

    from sameday.events.postgres import PostgresSink

    name = f"sameday_capacity_{os.getpid()}"
    admin_url = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    target = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        with PostgresSink(target) as sink:
            for table in ("exposures", "outcomes"):
                fill(sink, table)
        with psycopg.connect(target, autocommit=True) as db:
            db.execute("VACUUM ANALYZE")
            per = {
                table: int(
                    db.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[0]  # type: ignore[index]
                )
                / counts[table]
                for table in ("exposures", "outcomes")
            }
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return per["exposures"], per["outcomes"]


def _parquet_bytes(folder: Path, fill: Any, counts: dict[str, int]) -> tuple[float, float]:
    from sameday.events.parquet import ParquetSink

    lake = folder / "lake"
    with ParquetSink.from_url(f"parquet:///{lake}") as sink:
        for table in ("exposures", "outcomes"):
            fill(sink, table)
        sink.ship()
    per = []
    for table in ("exposures", "outcomes"):
        files = list((lake / table).rglob("*.parquet"))
        per.append(sum(f.stat().st_size for f in files) / counts[table])
    return per[0], per[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--ports", default="18300-18399")
    parser.add_argument("--daily-users", type=float, default=10e6)
    parser.add_argument("--requests-per-user", type=float, default=20)
    parser.add_argument("--peak-factor", type=float, default=3.0)
    parser.add_argument("--outcomes-per-request", type=float, default=0.1)
    parser.add_argument("--retention-days", type=int, default=90)
    parser.add_argument("--utilisation", type=float, default=0.6)
    parser.add_argument(
        "--memory-limit",
        default=None,
        help="serve.memory_limit of both servers (0: a store read per request, as when the "
        "live snapshots do not fit in a replica's memory)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    import redis

    ports = Ports(args.ports)
    own_redis = None
    if args.redis_url is None:
        own_redis, args.redis_url = start_redis(ports.next())
    redis_client = redis.Redis.from_url(args.redis_url)
    if redis_client.dbsize():  # never flush a database something else may be using
        raise SystemExit(f"{args.redis_url} is not empty: give --redis-url an empty database")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    loads = [loadavg()]
    with tempfile.TemporaryDirectory(prefix="sameday-capacity-") as tmp:
        folder = Path(tmp)
        sqlite_url = "sqlite:///.sameday/serving.db"
        sqlite_project = make_project(folder / "sqlite", sqlite_url, args.memory_limit)
        redis_project = make_project(folder / "redis", args.redis_url, args.memory_limit)
        projects = {"SQLite (embedded)": sqlite_project, "Redis": redis_project}
        servers = {}
        try:
            for store, project in projects.items():
                port = ports.next()
                servers[store] = (port, serve(project, port, env))
            rounds: dict[str, list[dict[str, float]]] = {store: [] for store in projects}
            for number in range(args.rounds):  # alternating, so a busy spell hits both
                order = list(projects) if number % 2 == 0 else list(reversed(projects))
                for store in order:
                    port, process = servers[store]
                    rounds[store].append(wrk(port, args.seconds, folder, process.pid))
                loads.append(loadavg())
            request_bytes, response_bytes = http_bytes(servers["SQLite (embedded)"][0])
        finally:
            for _, process in servers.values():
                stop(process)
        serving = {
            store: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            for store, runs in rounds.items()
        }
        host, _, rest = args.redis_url.removeprefix("redis://").partition(":")
        redis_port, _, db = rest.partition("/")
        proxy_port = ports.next()
        (redis_project / "sameday.yaml").write_text(
            (redis_project / "sameday.yaml")
            .read_text()
            .replace(args.redis_url, f"redis://{host}:{proxy_port}/{db}")
        )
        with CountingProxy((host, int(redis_port)), proxy_port) as proxy:
            port = ports.next()
            process = serve(redis_project, port, env)
            try:
                proxy.reset()
                counted = wrk(port, max(3, args.seconds // 2), folder, process.pid)
                commands, up, down = Counter(proxy.commands), proxy.bytes_up, proxy.bytes_down
            finally:
                stop(process)
        per_list, encoded, lists = redis_memory(args.redis_url)
        events_db = sqlite_project / ".sameday" / "events.db"
        sinks, written = sink_bytes(events_db, args.postgres_url, folder)
    for key in redis_client.scan_iter(match="sameday:*", count=1000):
        redis_client.delete(key)
    redis_client.close()
    if own_redis is not None:
        stop(own_redis)
    loads.append(loadavg())
    report(args, rounds, serving, counted, commands, up, down, request_bytes, response_bytes)
    report_storage(args, per_list, encoded, lists, sinks, serving, counted, commands, up, down)
    print(
        f"\nEvent sinks measured on {written['exposures']:,} exposures (as served during the "
        f"SQLite run, {N} items each) and {written['outcomes']:,} outcomes (a click each)."
    )
    print(f"\nload average (1, 5, 15 min) before and after each stage: {' | '.join(loads)}")


def report(
    args: argparse.Namespace,
    rounds: dict[str, list[dict[str, float]]],
    serving: dict[str, dict[str, float]],
    counted: dict[str, float],
    commands: Counter[str],
    up: int,
    down: int,
    request_bytes: float,
    response_bytes: float,
) -> None:
    print(
        f"## Per replica (one `sameday serve` process; wrk -t1 -c32 -d{args.seconds}s, "
        f"{args.rounds} alternating rounds)\n"
    )
    print("| store | round | req/s | p50 ms | p99 ms | server CPU ms a request |")
    print("|---|---|---|---|---|---|")
    for store, runs in rounds.items():
        for number, r in enumerate(runs, 1):
            print(
                f"| {store} | {number} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} "
                f"| {r['cpu_ms']:.3f} |"
            )
    print("\n| store | median req/s | median CPU ms a request | req/s per core (1000 / CPU ms) |")
    print("|---|---|---|---|")
    for store, r in serving.items():
        print(f"| {store} | {r['rps']:,.0f} | {r['cpu_ms']:.3f} | {1000 / r['cpu_ms']:,.0f} |")
    requests = counted["requests"]
    print(f"\n## Per request ({requests:,.0f} requests counted through the proxy)\n")
    print("| quantity | per request |")
    print("|---|---|")
    for name, count in commands.most_common():
        print(f"| Redis `{name}` commands | {count / requests:.3f} |")
    print(f"| Redis commands, all | {sum(commands.values()) / requests:.3f} |")
    print(f"| Redis bytes sent by the server (requests to Redis) | {up / requests:,.0f} |")
    print(f"| Redis bytes received by the server (replies) | {down / requests:,.0f} |")
    print(f"| HTTP request bytes (as wrk sends it) | {request_bytes:,.0f} |")
    print(f"| HTTP response bytes (headers and body, {N} items) | {response_bytes:,.0f} |")


def report_storage(
    args: argparse.Namespace,
    per_list: float,
    encoded: float,
    lists: int,
    sinks: dict[str, tuple[float, float]],
    serving: dict[str, dict[str, float]],
    counted: dict[str, float],
    commands: Counter[str],
    up: int,
    down: int,
) -> None:
    print(f"\n## Storage ({ITEMS} items a list; {lists:,} lists in the hash)\n")
    print(f"Redis: {per_list:,.0f} bytes of memory per list (encoded list {encoded:,.0f} bytes)\n")
    print("| event sink | bytes per exposure | bytes per outcome |")
    print("|---|---|---|")
    for sink, (exposure, outcome) in sinks.items():
        print(f"| {sink} | {exposure:,.0f} | {outcome:,.0f} |")
    daily = args.daily_users * args.requests_per_user
    average = daily / 86_400
    peak = average * args.peak_factor
    outcomes = daily * args.outcomes_per_request
    print(
        f"\n## At {args.daily_users:,.0f} daily users x {args.requests_per_user:g} requests\n\n"
        f"Assumptions: peak = {args.peak_factor:g}x the daily average; replicas run at "
        f"{args.utilisation:.0%} of their measured throughput; {args.outcomes_per_request:g} "
        f"outcome events per request; every daily user has a personal list; events kept "
        f"{args.retention_days} days.\n"
    )
    print("| quantity | value |")
    print("|---|---|")
    print(f"| requests a day | {daily:,.0f} |")
    print(f"| requests/s, average / peak | {average:,.0f} / {peak:,.0f} |")
    for store, r in serving.items():
        per_core = 1000 / r["cpu_ms"]
        on_a_core = math.ceil(peak / (per_core * args.utilisation))
        as_measured = math.ceil(peak / (r["rps"] * args.utilisation))
        print(
            f"| replicas at peak, {store} store: one core each ({per_core:,.0f} req/s) / as "
            f"measured here ({r['rps']:,.0f} req/s) | {on_a_core} / {as_measured} |"
        )
    requests = counted["requests"]
    ops = sum(commands.values()) / requests
    print(f"| Redis commands/s at peak ({ops:.3f} a request) | {peak * ops:,.0f} |")
    print(
        f"| Redis network at peak, in / out (MB/s) | {peak * up / requests / 1e6:,.1f} / "
        f"{peak * down / requests / 1e6:,.1f} |"
    )
    memory = args.daily_users * per_list
    print(
        f"| Redis memory for the lists (GB), live / during a publish (two versions) | "
        f"{memory / 1e9:,.1f} / {2 * memory / 1e9:,.1f} |"
    )
    print(f"| exposures a day / outcomes a day | {daily:,.0f} / {outcomes:,.0f} |")
    for sink, (exposure, outcome) in sinks.items():
        per_day = daily * exposure + outcomes * outcome
        print(
            f"| event log, {sink}: GB a day / over {args.retention_days} days | "
            f"{per_day / 1e9:,.1f} / {per_day * args.retention_days / 1e12:,.2f} TB |"
        )


if __name__ == "__main__":
    main()
