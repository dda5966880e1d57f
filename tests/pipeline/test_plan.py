"""``sameday/pipeline/plan.py``: which jobs a run starts, in which order, with what settings."""

from __future__ import annotations

from typing import Any

import pytest

from sameday.config.pipeline import Pipeline
from sameday.errors import PipelineError
from sameday.pipeline.plan import build_plan


def pipeline(jobs: list[dict[str, Any]], **fields: Any) -> Pipeline:
    return Pipeline.model_validate({"name": "p", "jobs": jobs, **fields})


DIAMOND: list[dict[str, Any]] = [
    {"name": "report", "command": "r", "depends_on": ["train", "score"]},
    {"name": "train", "command": "t", "depends_on": ["extract"]},
    {"name": "score", "command": "s", "depends_on": ["extract"]},
    {"name": "extract", "command": "e"},
]


def test_every_job_in_dependency_order() -> None:
    plan = build_plan(pipeline(DIAMOND), {})
    assert [job.name for job in plan.jobs] == ["extract", "train", "score", "report"]
    assert plan.job("report").depends_on == ("train", "score")
    assert plan.done == () and plan.on_failure is None
    with pytest.raises(KeyError):
        plan.job("nope")


def test_only_keeps_the_named_jobs_and_drops_edges_to_the_rest() -> None:
    plan = build_plan(pipeline(DIAMOND), {}, only=["report", "train"])
    assert [job.name for job in plan.jobs] == ["train", "report"]
    assert plan.job("train").depends_on == ()  # extract is assumed done
    assert plan.job("report").depends_on == ("train",)


def test_from_takes_a_job_and_everything_downstream() -> None:
    plan = build_plan(pipeline(DIAMOND), {}, from_job="score")
    assert [job.name for job in plan.jobs] == ["score", "report"]
    assert plan.job("report").depends_on == ("score",)


def test_done_jobs_are_skipped_and_listed() -> None:
    plan = build_plan(pipeline(DIAMOND), {}, done={"extract", "train", "elsewhere"})
    assert [job.name for job in plan.jobs] == ["score", "report"]
    assert plan.done == ("train", "extract")  # in declaration order, known jobs only
    narrowed = build_plan(pipeline(DIAMOND), {}, from_job="score", done={"extract"})
    assert narrowed.done == ()  # extract was not selected anyway


def test_unknown_jobs_get_a_suggestion_or_the_list() -> None:
    with pytest.raises(PipelineError, match=r"has no job 'trian'; did you mean 'train'\?"):
        build_plan(pipeline(DIAMOND), {}, only=["trian"])
    with pytest.raises(PipelineError, match="its jobs are: report, train, score, extract") as err:
        build_plan(pipeline(DIAMOND), {}, from_job="zzz")
    assert (err.value.pipeline, err.value.job) == ("p", "zzz")
    with pytest.raises(PipelineError, match="--only and --from cannot be combined"):
        build_plan(pipeline(DIAMOND), {}, only=["train"], from_job="score")


def test_parameters_reach_commands_and_the_environment() -> None:
    jobs = [
        {
            "name": "train",
            "command": "fit --day {{params.ds}} --v {{ params.model.version }}",
            "env": {"MODE": "job", "ONLY_JOB": "1"},
        }
    ]
    p = pipeline(
        jobs,
        params={"ds": {}, "model.version": {"default": "3"}},
        defaults={"env": {"MODE": "default", "DS": "from-defaults"}},
        on_failure="alert {{params.ds}}",
    )
    plan = build_plan(p, {"ds": "2024-05-01", "model.version": "3"})
    job = plan.job("train")
    assert job.command == "fit --day 2024-05-01 --v 3"
    # Parameters, then defaults.env, then the job's env: the same precedence as on Argo.
    assert job.env == {
        "DS": "from-defaults",
        "MODEL_VERSION": "3",
        "MODE": "job",
        "ONLY_JOB": "1",
        "SAMEDAY_PIPELINE": "p",
    }
    assert plan.env == {
        "DS": "from-defaults",
        "MODEL_VERSION": "3",
        "MODE": "default",
        "SAMEDAY_PIPELINE": "p",
    }
    assert plan.on_failure == "alert 2024-05-01"
    assert plan.params == {"ds": "2024-05-01", "model.version": "3"}


def test_an_unknown_parameter_in_a_command_is_named() -> None:
    p = pipeline([{"name": "a", "command": "run {{params.day}}"}], params={"ds": {}})
    with pytest.raises(PipelineError) as err:
        build_plan(p, {"ds": "2024-05-01"})
    assert str(err.value) == (
        "job 'a' command refers to {{params.day}} but the pipeline has no parameter 'day' "
        "(known: ds); declare it under params:"
    )


def test_jobs_inherit_retries_and_timeout_unless_they_set_their_own() -> None:
    p = pipeline(
        [
            {"name": "a", "command": "x"},
            {"name": "b", "command": "y", "retries": 0, "timeout": "30s"},
        ],
        defaults={"retries": 3, "timeout": "10m"},
    )
    plan = build_plan(p, {})
    assert (plan.job("a").retries.limit, plan.job("a").timeout) == (3, 600.0)
    assert (plan.job("b").retries.limit, plan.job("b").timeout) == (0, 30.0)


def test_outputs_are_carried_to_the_job() -> None:
    p = pipeline(
        [{"name": "a", "command": "x", "outputs": [{"path": "out/a.csv", "publish": "a"}]}]
    )
    (output,) = build_plan(p, {}).job("a").outputs
    assert (output.path, output.publish) == ("out/a.csv", "a")
