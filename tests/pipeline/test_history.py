"""``sameday.pipeline.history``: recent runs and their log files, for ``sameday runs`` and
``sameday logs`` (which only print them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.errors import NotFound
from sameday.pipeline.history import list_runs, run_logs
from sameday.pipeline.runner import Runner, plan_run


def _project(tmp_path: Path) -> Path:
    (tmp_path / "sameday.yaml").write_text("name: p\n")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "p.yaml").write_text(
        "name: p\njobs:\n  - {name: a, command: echo out-a}\n  - {name: b, command: echo out-b}\n"
    )
    return tmp_path


def test_runs_and_their_logs(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path), environ={})
    assert list_runs(project) == []
    with project.open_metadata() as store:
        plan, _ = plan_run(project, "p", store)
        Runner(project, store, stream_output=False).run(plan)
    (record,) = list_runs(project, "p")
    assert record.status == "succeeded" and list_runs(project, "other") == []
    attempts = run_logs(project, record.id[:-1])  # a unique prefix is enough
    assert sorted(a.job for a in attempts) == ["a", "b"]
    (only_b,) = run_logs(project, record.id, "b", attempt=1)
    assert Path(str(only_b.log_path)).read_text() == "out-b\n"
    with pytest.raises(NotFound, match=r"no job 'zz' \(jobs: a, b\)"):
        run_logs(project, record.id, "zz")
    with pytest.raises(NotFound, match=r"no log of run .* job a attempt 2"):
        run_logs(project, record.id, "a", attempt=2)
