"""Replicas: separate servers sharing one Redis serving store and one PostgreSQL event log.

Two ``sameday serve`` processes and one ``sameday serve --workers 2`` (four serving processes in
all) run on the same project: the metadata database and the event log in PostgreSQL, the serving
store in Redis. They must agree on every unit's arm, pick up an apply and a publish within the
refresh interval, and log each exposure exactly once, however often a request is retried on
another replica; the rows in PostgreSQL are counted to prove it.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from tests.serve.servers import Server, start_all, use_storage
from tests.serve.test_server_process import publish_and_apply

UNITS = [f"user-{u}" for u in range(30)] + [f"guest-{u}" for u in range(20)]
"""Units with a personal list (``user-*``) and without one (served the fallback)."""


HTTP = httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
"""Every request on a connection of its own, so any worker of a server may answer it."""


def served(server: Server, unit: str, request_id: str | None = None) -> dict:
    """One answer of ``server`` for ``unit``, on a connection of its own (any worker)."""
    params = {"unit": unit} | ({"request_id": request_id} if request_id else {})
    response = HTTP.get(f"{server.base}/v1/recommend/home", params=params)
    assert response.status_code == 200, response.text
    answer: dict = response.json()
    return answer


def wait_for(servers: list[Server], check: str, timeout: float = 15) -> set[str]:
    """Ask every replica until each answers with the experiment running and ``check`` first in
    the lists; with several workers, until every worker has (the request-id prefix tells which
    process answered). Returns the process prefixes seen."""
    pending = {server.base: server for server in servers}
    prefixes: dict[str, set[str]] = defaultdict(set)
    workers = {server.base: 2 if "--workers" in server.process.args else 1 for server in servers}
    deadline = time.monotonic() + timeout
    while pending:
        assert time.monotonic() < deadline, f"not picked up by {sorted(pending)}"
        for base, server in list(pending.items()):
            answer = served(server, "user-1")
            if answer["experiment"] == "home-personal" and answer["items"][0]["item"].startswith(
                check
            ):
                prefixes[base].add(answer["request_id"][:12])
                if len(prefixes[base]) == workers[base]:
                    del pending[base]
    return {prefix for seen in prefixes.values() for prefix in seen}


@pytest.fixture
def replicas(project_dir: Path, redis_url: str, postgres_url: str) -> Iterator[list[Server]]:
    """Three servers (the third with two workers) on one project: metadata and events in
    PostgreSQL, lists in Redis; stopped afterwards unless the test stopped them."""
    use_storage(project_dir, metadata=postgres_url, serving=redis_url, events=postgres_url)
    publish_and_apply(project_dir, "v1")
    servers = start_all(project_dir, (), (), ("--workers", "2"))
    try:
        yield servers
    finally:
        for server in servers:
            if not server.stopped:
                server.stop()


def test_replicas_agree_pick_up_changes_and_log_each_exposure_once(
    replicas: list[Server], project_dir: Path, postgres_url: str
) -> None:
    for server in replicas:  # before the apply: no experiment anywhere
        assert served(server, "user-1")["experiment"] is None

    experiment = project_dir / "experiments" / "home-personal.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    applied = time.monotonic()
    publish_and_apply(project_dir, "v2")
    processes = wait_for(replicas, "v2")
    lag = time.monotonic() - applied
    assert len(processes) == 4  # two replicas, and the two workers of the third
    assert lag < 10, f"an apply and a publish took {lag:.1f}s to reach every replica"

    answers: dict[str, dict] = {}  # request id -> the answer, as first served
    arms: dict[str, set[str]] = defaultdict(set)
    for unit in UNITS:
        for index, server in enumerate(replicas):
            rid = f"r-{unit}-{index}"
            answer = served(server, unit, rid)
            answers[rid] = answer
            arms[unit].add(answer["arm"])
            # the client retries the same request on the next replica (as after a timeout or
            # a failover): the same arm and list, and the log must keep one row. (On a starved
            # machine a read may miss serve.read_deadline: that answer is degraded, from the
            # last-known-good fallback list, and says so.)
            retry = served(replicas[(index + 1) % len(replicas)], unit, rid)
            assert retry["arm"] == answer["arm"]
            if not (retry["degraded"] or answer["degraded"]):
                assert retry["items"] == answer["items"]
    for unit in UNITS:  # a unit gets one arm, whichever replica or worker it asks
        assert len(arms[unit]) == 1, (unit, arms[unit])
    assert {arm for unit_arms in arms.values() for arm in unit_arms} == {"control", "personal"}
    unnamed = {served(server, unit)["request_id"] for server in replicas for unit in UNITS[:10]}
    assert len(unnamed) == 3 * 10  # request ids a server makes are unique across processes

    for server in replicas:
        assert server.stop() == 0  # drained: every worker flushed its buffer to PostgreSQL
    conninfo = "postgresql://" + postgres_url.partition("://")[2]
    with psycopg.connect(conninfo) as db:
        total, distinct = db.execute(
            "SELECT count(*), count(DISTINCT request_id) FROM exposures WHERE request_id LIKE 'r-%'"
        ).fetchone()
        ours = dict(
            db.execute(
                "SELECT request_id, arm FROM exposures WHERE request_id LIKE 'r-%'"
            ).fetchall()
        )
        logged = {
            row[0]
            for row in db.execute(
                "SELECT request_id FROM exposures WHERE request_id = ANY(%s)", (sorted(unnamed),)
            )
        }
        split = db.execute(
            "SELECT unit FROM exposures WHERE experiment = 'home-personal' "
            "GROUP BY unit HAVING count(DISTINCT arm) > 1"
        ).fetchall()
    assert total == distinct == len(answers) == len(UNITS) * len(replicas)
    assert ours == {rid: answer["arm"] for rid, answer in answers.items()}
    assert logged == unnamed
    assert split == []
