"""What one run will do: which jobs, in which order, with which commands and environment.

A plan is computed before anything starts, so ``sameday run --dry-run`` shows exactly what a real
run executes. Selection rules:

* ``only``: just the named jobs; ``from_job``: that job and everything downstream of it (the two
  cannot be combined);
* ``done``: jobs that already succeeded (``--resume``) are left out;
* a dependency outside the selection counts as satisfied — its output is assumed to be there.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sameday.config.pipeline import EnvValue, Output, Pipeline, Retries
from sameday.errors import PipelineError
from sameday.pipeline.dag import downstream, topological_order
from sameday.pipeline.params import param_env, substitute


@dataclass(frozen=True)
class PlannedJob:
    """A job ready to start: parameters substituted, settings inherited from ``defaults``.

    ``env`` holds only what the pipeline adds (parameters, then ``defaults.env``, then the job's
    ``env``, as on Argo, and ``SAMEDAY_PIPELINE``); the runner puts it over the current
    environment and adds ``SAMEDAY_RUN_ID``, ``SAMEDAY_JOB`` and ``SAMEDAY_ATTEMPT``.
    """

    name: str
    command: str
    env: Mapping[str, str]
    depends_on: tuple[str, ...]
    retries: Retries
    timeout: float | None
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class Plan:
    """The jobs of one run in a valid start order, and what the run skips."""

    pipeline: Pipeline
    params: Mapping[str, str]
    jobs: tuple[PlannedJob, ...]
    done: tuple[str, ...]
    on_failure: str | None
    env: Mapping[str, str]
    """Pipeline-wide environment (defaults and parameters), as ``on_failure`` sees it."""

    def job(self, name: str) -> PlannedJob:
        """The planned job called ``name``."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)


def build_plan(
    pipeline: Pipeline,
    params: Mapping[str, str],
    *,
    only: Sequence[str] = (),
    from_job: str | None = None,
    done: Collection[str] = (),
) -> Plan:
    """The plan of a run of ``pipeline`` with resolved ``params``.

    Raises:
        PipelineError: an unknown job name, ``only`` combined with ``from_job``, or a command that
            refers to an unknown parameter.
    """
    edges = {job.name: list(job.depends_on) for job in pipeline.jobs}
    for name in [*only, *([from_job] if from_job else [])]:
        _check_job_name(pipeline, name)
    if only and from_job:
        raise PipelineError(
            "--only and --from cannot be combined: use --only for a fixed set of jobs, or --from "
            "for a job and everything downstream of it",
            pipeline=pipeline.name,
        )
    selected = set(edges)
    if only:
        selected = set(only)
    elif from_job:
        selected = downstream(edges, [from_job])
    skipped_done = tuple(name for name in edges if name in selected and name in done)
    selected -= set(done)

    # The same precedence as on Argo: parameters, then defaults.env, then the job's env.
    shared: dict[str, EnvValue] = {
        **param_env(params),
        **pipeline.defaults.env,
        "SAMEDAY_PIPELINE": pipeline.name,
    }
    shared_env = _literal(shared)
    jobs: list[PlannedJob] = []
    for name in topological_order(edges):
        if name not in selected:
            continue
        job = pipeline.job(name)
        where = f"job {name!r}"
        jobs.append(
            PlannedJob(
                name=name,
                command=substitute(job.command, params, where=f"{where} command"),
                env=_literal({**shared, **job.env}),
                depends_on=tuple(dep for dep in job.depends_on if dep in selected),
                retries=job.retries or pipeline.defaults.retries,
                timeout=job.timeout if job.timeout is not None else pipeline.defaults.timeout,
                outputs=tuple(job.outputs),
            )
        )
    on_failure = None
    if pipeline.on_failure is not None:
        on_failure = substitute(pipeline.on_failure, params, where="on_failure")
    return Plan(
        pipeline=pipeline,
        params=dict(params),
        jobs=tuple(jobs),
        done=skipped_done,
        on_failure=on_failure,
        env=shared_env,
    )


def _literal(env: Mapping[str, EnvValue]) -> dict[str, str]:
    """The values written in the file. One from a Kubernetes Secret is not set locally: the job
    sees the variable of that name from the environment ``sameday run`` started in."""
    return {name: value for name, value in env.items() if isinstance(value, str)}


def _check_job_name(pipeline: Pipeline, name: str) -> None:
    names = [job.name for job in pipeline.jobs]
    if name in names:
        return
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"its jobs are: {', '.join(names)}"
    raise PipelineError(
        f"pipeline {pipeline.name!r} has no job {name!r}; {hint}", pipeline=pipeline.name, job=name
    )
