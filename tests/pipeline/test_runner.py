"""The local runner against real subprocesses and a real SQLite metadata store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sameday.config import Pipeline, Project, load_project
from sameday.config.pipeline import Output
from sameday.errors import PipelineError, PipelineFailed, RunCancelled
from sameday.metadata import MetadataStore
from sameday.metadata.records import AttemptEntry
from sameday.pipeline.journal import Journal
from sameday.pipeline.plan import PlannedJob
from sameday.pipeline.run_events import JobChanged, JobOutput, RunEvent, RunFinished, RunStarted
from sameday.pipeline.runner import Runner, RunResult, plan_run
from sameday.pipeline.scheduler import backoff


def write_project(root: Path, pipeline: dict[str, Any]) -> Project:
    """A project in ``root`` with one pipeline and its metadata in ``root/meta.db``."""
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    settings = {"name": "t", "storage": {"metadata": "sqlite:///meta.db"}}
    (root / "sameday.yaml").write_text(yaml.safe_dump(settings))
    (root / "pipelines" / f"{pipeline['name']}.yaml").write_text(yaml.safe_dump(pipeline))
    return load_project(root)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    with MetadataStore.open(f"sqlite:///{tmp_path / 'meta.db'}") as opened:
        yield opened


def execute(
    project: Project,
    store: MetadataStore,
    *,
    parallel: int = 2,
    events: list[RunEvent] | None = None,
    **options: Any,
) -> RunResult:
    plan, resumed_from = plan_run(project, "p", store, **options)
    observer = events.append if events is not None else None
    runner = Runner(project, store, parallel=parallel, observer=observer, grace=0.3)
    return runner.run(
        plan, trigger="resume" if resumed_from else "manual", resumed_from=resumed_from
    )


def failed_run(project: Project, store: MetadataStore, **options: Any) -> PipelineFailed:
    with pytest.raises(PipelineFailed) as info:
        execute(project, store, **options)
    return info.value


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_dead(pid: int, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def statuses(store: MetadataStore, run_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for attempt in store.attempts(run_id):
        found.setdefault(attempt.job, []).append(attempt.status)
    return found


def test_retries_wait_with_exponential_backoff(tmp_path: Path, store: MetadataStore) -> None:
    command = (
        "n=$(($(cat count 2>/dev/null || echo 0) + 1)); echo $n > count; "
        "python3 -c 'import time; print(time.time())' >> times; test $n -ge 3"
    )
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "jobs": [
                {
                    "name": "flaky",
                    "command": command,
                    "retries": {"limit": 3, "backoff": {"delay": 0.2, "factor": 2}},
                }
            ],
        },
    )
    result = execute(project, store)
    assert result.status == "succeeded"
    attempts = store.attempts(result.run_id, "flaky")
    assert [(a.attempt, a.status, a.exit_code) for a in attempts] == [
        (1, "failed", 1),
        (2, "failed", 1),
        (3, "succeeded", 0),
    ]
    assert attempts[0].log_path.endswith(f"{result.run_id}/flaky.1.log")
    times = [float(line) for line in (tmp_path / "times").read_text().split()]
    assert times[1] - times[0] >= 0.2
    assert times[2] - times[1] >= 0.4
    assert times[2] - times[0] < 2.0


def test_backoff_grows_by_factor_and_is_capped() -> None:
    from sameday.config.pipeline import Retries

    retries = Retries.model_validate({"limit": 5, "backoff": {"delay": 1, "factor": 3, "max": 5}})
    job = PlannedJob("j", "true", {}, (), retries, None, ())
    assert [backoff(job, n) for n in (1, 2, 3, 4)] == [1.0, 3.0, 5.0, 5.0]


def test_timeout_kills_the_whole_process_group(tmp_path: Path, store: MetadataStore) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "jobs": [
                {
                    "name": "slow",
                    "timeout": 0.4,
                    "retries": {"limit": 1, "backoff": {"delay": 0}},
                    "command": "sleep 30 & echo $! >> grandchildren; wait",
                }
            ],
        },
    )
    started = time.monotonic()
    error = failed_run(project, store)
    assert time.monotonic() - started < 3.0
    assert statuses(store, error.run_id) == {"slow": ["timed_out", "timed_out"]}
    reason = store.attempts(error.run_id)[0].reason or ""
    assert "timed out after 0.4s" in reason
    pids = [int(p) for p in (tmp_path / "grandchildren").read_text().split()]
    assert len(pids) == 2
    assert all(wait_dead(pid) for pid in pids)


def test_resume_reruns_only_what_did_not_succeed(tmp_path: Path, store: MetadataStore) -> None:
    def job(name: str, command: str = "", deps: tuple[str, ...] = ()) -> dict[str, Any]:
        return {"name": name, "depends_on": list(deps), "command": f"echo {name} >> ran; {command}"}

    project = write_project(
        tmp_path,
        {
            "name": "p",
            "fail_fast": False,
            "params": {"ds": {}},
            "jobs": [job("a"), job("b", "test -f fixed", ("a",)), job("d", deps=("b",)), job("c")],
        },
    )
    first = failed_run(project, store, params={"ds": "2024-03-01"})
    assert store.job_statuses(first.run_id) == {
        "a": "succeeded",
        "b": "failed",
        "c": "succeeded",
        "d": "skipped",
    }

    second = failed_run(project, store, resume=first.run_id[:-2])
    run = store.get_run(second.run_id)
    assert (run.trigger, run.resumed_from) == ("resume", first.run_id)
    assert run.params == {"ds": "2024-03-01"}
    assert store.job_statuses(second.run_id) == {
        "a": "skipped",
        "b": "failed",
        "c": "skipped",
        "d": "skipped",
    }

    (tmp_path / "fixed").touch()
    third = execute(project, store, resume=second.run_id)
    assert third.jobs == {"a": "skipped", "c": "skipped", "b": "succeeded", "d": "succeeded"}
    ran = (tmp_path / "ran").read_text().split()
    # The first run ran a, c and b (c may start after b); each resume ran only b, then d.
    assert sorted(ran[:3]) == ["a", "b", "c"] and ran.index("a") < ran.index("b")
    assert ran[3:] == ["b", "b", "d"]
    with pytest.raises(PipelineError, match="nothing to resume"):
        plan_run(project, "p", store, resume=third.run_id)


def test_only_and_from_select_jobs(tmp_path: Path, store: MetadataStore) -> None:
    jobs = [
        {"name": "a", "command": "echo a >> ran"},
        {"name": "b", "command": "echo b >> ran", "depends_on": ["a"]},
        {"name": "c", "command": "echo c >> ran", "depends_on": ["b"]},
        {"name": "x", "command": "echo x >> ran"},
    ]
    project = write_project(tmp_path, {"name": "p", "jobs": jobs})
    only = execute(project, store, only=["b", "x"])
    assert sorted(only.jobs) == ["b", "x"]
    assert set(statuses(store, only.run_id)) == {"b", "x"}
    downstream = execute(project, store, from_job="b")
    assert list(downstream.jobs) == ["b", "c"]
    assert (tmp_path / "ran").read_text().split()[-2:] == ["b", "c"]
    with pytest.raises(PipelineError, match="did you mean 'b'"):
        plan_run(project, "p", store, only=["bb"])
    with pytest.raises(PipelineError, match="cannot be combined"):
        plan_run(project, "p", store, only=["a"], from_job="b")


def test_two_slots_run_two_jobs_at_once(tmp_path: Path, store: MetadataStore) -> None:
    """Each job stamps its own start and end; with two slots the two intervals overlap.

    No wall-time bound, so a loaded machine cannot fail it: a serial runner starts the second
    job only after the first has ended, so its intervals are disjoint however slow the machine
    (the one-slot run below shows the check tells the two apart).
    """
    command = "date +%s.%N >> {0}.t; sleep 0.6; date +%s.%N >> {0}.t"
    jobs = [{"name": name, "command": command.format(name)} for name in ("one", "two")]
    project = write_project(tmp_path, {"name": "p", "jobs": jobs})

    stamps = [tmp_path / "one.t", tmp_path / "two.t"]

    def intervals(parallel: int) -> tuple[list[float], list[float]]:
        """The [start, end] each job wrote, from a fresh run with ``parallel`` slots."""
        for path in stamps:
            path.unlink(missing_ok=True)
        execute(project, store, parallel=parallel)
        one, two = ([float(t) for t in path.read_text().split()] for path in stamps)
        return one, two

    one, two = intervals(parallel=2)
    assert one[0] < two[1] and two[0] < one[1], f"intervals {one} and {two} must overlap"
    one, two = intervals(parallel=1)
    assert one[1] <= two[0] or two[1] <= one[0], f"one slot overlapped {one} and {two}"


class Batches:
    """A store that keeps each ``record_attempts`` call, to see what the journal batches."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, int, str]]] = []

    def record_attempts(self, run_id: str, entries: list[AttemptEntry]) -> None:
        assert run_id == "run-1"
        self.calls.append([(e.job, e.attempt, e.status) for e in entries])


def test_journal_writes_one_entry_per_attempt_per_batch() -> None:
    batches = Batches()
    journal = Journal(batches, "run-1", interval=60)
    before = time.monotonic()
    journal.start("a", 1, "a.1.log")
    assert journal.due_at is not None and before + 60 <= journal.due_at
    journal.start("b", 1, "b.1.log")
    journal.finish("a", 1, "failed", 1, "exit code 1")
    journal.skip("c", "upstream job 'x' failed")
    assert len(journal) == 3
    journal.write()
    assert not journal and journal.due_at is None
    journal.start("a", 2, "a.2.log")
    journal.finish("b", 1, "succeeded", 0, None)
    journal.write()
    journal.write()  # nothing queued: no call
    assert batches.calls == [
        [("a", 1, "failed"), ("b", 1, "running"), ("c", 1, "skipped")],
        [("a", 2, "running"), ("b", 1, "succeeded")],
    ]


def test_attempt_times_are_when_jobs_ran_not_when_written(
    tmp_path: Path, store: MetadataStore
) -> None:
    job = {"name": "stamp", "command": "sleep 0.1; date +%s.%N > stamp.t; sleep 0.1"}
    project = write_project(tmp_path, {"name": "p", "jobs": [job]})
    before = time.time()
    result = execute(project, store)
    stamp = float((tmp_path / "stamp.t").read_text())
    (attempt,) = store.attempts(result.run_id)
    assert attempt.ended_at is not None
    assert before <= attempt.started_at.timestamp() < stamp < attempt.ended_at.timestamp()


def test_failure_skips_downstream_and_keeps_other_branches(
    tmp_path: Path, store: MetadataStore
) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "fail_fast": False,
            "jobs": [
                {"name": "bad", "command": "exit 4"},
                {"name": "after", "command": "true", "depends_on": ["bad"]},
                {"name": "later", "command": "true", "depends_on": ["after"]},
                {"name": "other", "command": "sleep 0.2"},
                {"name": "next", "command": "true", "depends_on": ["other"]},
            ],
        },
    )
    error = failed_run(project, store, parallel=1)
    assert store.job_statuses(error.run_id) == {
        "bad": "failed",
        "after": "skipped",
        "later": "skipped",
        "other": "succeeded",
        "next": "succeeded",
    }
    assert store.get_run(error.run_id).status == "failed"
    assert "bad failed; skipped: after, later" in str(error)
    skipped = store.attempts(error.run_id, "later")[0]
    assert skipped.reason == "upstream job 'bad' failed"


def test_fail_fast_lets_running_jobs_finish_and_skips_the_rest(
    tmp_path: Path, store: MetadataStore
) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "fail_fast": True,
            "jobs": [
                {"name": "bad", "command": "sleep 0.1; exit 1"},
                {"name": "slow", "command": "sleep 0.4; echo done > slow.txt"},
                {"name": "after-slow", "command": "true", "depends_on": ["slow"]},
                {"name": "queued", "command": "true"},
            ],
        },
    )
    error = failed_run(project, store, parallel=2)
    assert statuses(store, error.run_id) == {
        "bad": ["failed"],
        "slow": ["succeeded"],
        "after-slow": ["skipped"],
        "queued": ["skipped"],
    }
    assert (tmp_path / "slow.txt").exists()


def test_on_failure_runs_once_with_the_failed_jobs(tmp_path: Path, store: MetadataStore) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "fail_fast": False,
            "params": {"ds": {"default": "2024-01-02"}},
            "on_failure": 'echo "$SAMEDAY_FAILED_JOBS $SAMEDAY_RUN_ID {{params.ds}}" >> hook',
            "jobs": [
                {"name": "x", "command": "exit 1"},
                {"name": "y", "command": "exit 2"},
                {"name": "z", "command": "true"},
            ],
        },
    )
    error = failed_run(project, store)
    failed, run_id, ds = (tmp_path / "hook").read_text().split()
    assert sorted(failed.split(",")) == ["x", "y"]  # in the order they failed, which may vary
    assert (run_id, ds) == (error.run_id, "2024-01-02")
    assert statuses(store, error.run_id)["on_failure"] == ["succeeded"]
    execute(project, store, only=["z"])
    assert len((tmp_path / "hook").read_text().splitlines()) == 1


def test_output_goes_to_one_log_per_attempt_and_to_the_observer(
    tmp_path: Path, store: MetadataStore
) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "jobs": [
                {
                    "name": "talk",
                    "retries": {"limit": 1, "backoff": {"delay": 0}},
                    "command": "echo out $SAMEDAY_ATTEMPT; echo err >&2; test $SAMEDAY_ATTEMPT = 2",
                }
            ],
        },
    )
    events: list[RunEvent] = []
    result = execute(project, store, events=events)
    assert (result.log_dir / "talk.1.log").read_text() == "out 1\nerr\n"
    assert (result.log_dir / "talk.2.log").read_text() == "out 2\nerr\n"
    lines = [(e.attempt, e.line) for e in events if isinstance(e, JobOutput)]
    assert lines == [(1, "out 1"), (1, "err"), (2, "out 2"), (2, "err")]
    changes = [(e.state, e.attempt) for e in events if isinstance(e, JobChanged)]
    assert changes == [("running", 1), ("retrying", 1), ("running", 2), ("succeeded", 2)]
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)


def test_commands_see_params_and_run_environment(tmp_path: Path, store: MetadataStore) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "params": {"ds": {}, "model-name": {"default": "als"}},
            "defaults": {"env": {"LEVEL": "default", "KEEP": "yes"}},
            "jobs": [
                {
                    "name": "show",
                    "env": {"LEVEL": "job"},
                    "command": "echo {{params.model-name}} $MODEL_NAME $DS $LEVEL $KEEP "
                    "$SAMEDAY_JOB $SAMEDAY_ATTEMPT $SAMEDAY_PIPELINE $SAMEDAY_RUN_ID "
                    "$(pwd) > env.txt",
                }
            ],
        },
    )
    result = execute(project, store, params={"ds": "2024-05-01", "model-name": "knn"})
    assert (tmp_path / "env.txt").read_text().split() == [
        "knn",
        "knn",
        "2024-05-01",
        "job",
        "yes",
        "show",
        "1",
        "p",
        result.run_id,
        str(tmp_path),
    ]


def test_publisher_runs_after_success_and_its_failure_fails_the_job(
    tmp_path: Path, store: MetadataStore
) -> None:
    job = {"name": "make", "command": "echo k,i > out.csv"}
    project = write_project(tmp_path, {"name": "p", "jobs": [job]})
    # Declaring the result set would need a results/ file; the runner only needs the name.
    outputs = [{"path": "out.csv"}, {"path": "out.csv", "publish": "popular"}]
    project.pipelines["p"] = Pipeline.model_validate(
        {"name": "p", "jobs": [{**job, "outputs": outputs}]}
    )
    calls: list[tuple[str | None, Path, str]] = []
    plan, _ = plan_run(project, "p", store)
    result = Runner(
        project, store, publisher=lambda output, *a: calls.append((output.publish, *a))
    ).run(plan)
    assert calls == [("popular", tmp_path / "out.csv", result.run_id)]

    def refuse(output: Output, source: Path, run_id: str) -> None:
        raise ValueError(f"{output.publish} has no rows")

    with pytest.raises(PipelineFailed) as info:
        Runner(project, store, publisher=refuse).run(plan)
    attempt = store.attempts(info.value.run_id, "make")[0]
    assert (attempt.status, attempt.exit_code) == ("failed", 0)
    assert attempt.reason == "ValueError: popular has no rows"


def test_cancel_stops_every_job_and_records_the_run_cancelled(
    tmp_path: Path, store: MetadataStore
) -> None:
    project = write_project(
        tmp_path,
        {
            "name": "p",
            "jobs": [
                {"name": "a", "command": "sleep 30 & echo $! >> pids; wait"},
                {
                    "name": "b",
                    "command": "trap '' TERM; echo $$ >> pids; sleep 30 & wait; sleep 30",
                },
                {"name": "c", "command": "true", "depends_on": ["a"]},
            ],
        },
    )
    plan, _ = plan_run(project, "p", store)
    runner = Runner(project, store, parallel=2, grace=0.3)
    timer = threading.Timer(0.5, runner.cancel)
    timer.start()
    started = time.monotonic()
    with pytest.raises(RunCancelled) as info:
        runner.run(plan)
    timer.join()
    assert time.monotonic() - started < 3.0
    assert info.value.exit_code == 130
    assert store.get_run(info.value.run_id).status == "cancelled"
    assert statuses(store, info.value.run_id) == {
        "a": ["cancelled"],
        "b": ["cancelled"],
        "c": ["skipped"],
    }
    assert all(wait_dead(int(pid)) for pid in (tmp_path / "pids").read_text().split())


def test_a_value_from_a_kubernetes_secret_is_read_from_the_local_environment(
    tmp_path: Path, store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE_TOKEN", "from-my-shell")
    monkeypatch.setenv("REGION", "from-my-shell-too")
    pipeline = {
        "name": "p",
        "defaults": {"env": {"REGION": "eu", "LEVEL": "info"}},
        "jobs": [
            {
                "name": "show",
                "command": 'echo "$WAREHOUSE_TOKEN $REGION $LEVEL" > seen.txt',
                "env": {
                    "WAREHOUSE_TOKEN": {"secret": "warehouse", "key": "token"},
                    "REGION": {"secret": "geo", "key": "region"},  # replaces the default's value
                },
            }
        ],
    }
    project = write_project(tmp_path, pipeline)
    execute(project, store)
    assert (tmp_path / "seen.txt").read_text() == "from-my-shell from-my-shell-too info\n"
