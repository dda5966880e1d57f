"""A publish killed with SIGKILL mid-load leaves the previous snapshot live and readable.

A subprocess publishes a result set with the ``SAMEDAY_TEST_CHUNK_DELAY`` hook (a pause after
each loaded chunk) and reports every chunk on stdout; the test kills it after a given number of
chunks, checks that readers still get the previous snapshot in full, and that the next publish
succeeds and clears the debris.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sameday.config import Project
from sameday.results import publish, snapshots
from sameday.results.encode import CHUNK_KEYS
from sameday.results.publish import CHUNK_DELAY_ENV
from sameday.store import open_store
from tests.results.conftest import MakeProject, write_parquet

KEYS = CHUNK_KEYS * 4

SCRIPT = """
import sys
from sameday.config import load_project
from sameday.results import publish

def report(done, total):
    print(done, flush=True)

publish(load_project(sys.argv[1]), "recs", progress=report)
print("done", flush=True)
"""


def records(top: str) -> list[dict[str, object]]:
    return [
        {"user": f"u{k:05d}", "item": item, "score": score}
        for k in range(KEYS)
        for item, score in ((top, 1.0), ("common", 0.5))
    ]


def check_all_lists(project: Project, top: str) -> None:
    with open_store(project.url(project.settings.storage.serving)) as store:
        keys = [f"u{k:05d}" for k in range(KEYS)]
        lists = store.get_many("recs", keys)
    assert all(lists[key][0].item == top and len(lists[key]) == 2 for key in keys)


@pytest.fixture(params=["sqlite", "redis"])
def serving(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else str(request.getfixturevalue("redis_url"))


def test_sigkill_mid_load_keeps_the_previous_snapshot(
    make_project: MakeProject, serving: str | None, tmp_path: Path
) -> None:
    project = make_project(serving=serving, records=records("old"), retention=2)
    live = publish(project, "recs").version
    write_parquet(project.root / "out" / "recs.parquet", records("new"))
    script = tmp_path / "publish.py"
    script.write_text(SCRIPT)
    env = {**os.environ, CHUNK_DELAY_ENV: "0.2"}
    for chunks in (1, 3):
        child = subprocess.Popen(
            [sys.executable, str(script), str(project.root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        assert child.stdout is not None
        for _ in range(chunks):
            assert child.stdout.readline().strip().isdigit()
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        check_all_lists(project, "old")
        assert [s.version for s in snapshots(project, "recs") if s.status == "live"] == [live]

    result = publish(project, "recs")
    check_all_lists(project, "new")
    statuses = {s.version: s.status for s in snapshots(project, "recs", include_deleted=True)}
    assert statuses == {result.version: "live", live: "retired"}
    with open_store(project.url(project.settings.storage.serving)) as store:
        assert sorted(store.versions("recs")) == sorted([result.version, live])
    if serving is not None:  # Redis keeps partial loads until the next publish clears them
        assert result.repaired
