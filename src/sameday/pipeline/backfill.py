"""Backfill: run a pipeline once per date, oldest first, one run after the other.

Runs are sequential on purpose: dates usually build on each other (yesterday's model, a rolling
window), and one run at a time keeps the machine's load what ``--parallel`` says. Each run is an
ordinary run with ``trigger=backfill`` and ``ds`` set to its date, so ``sameday runs`` lists them
and ``--resume`` works on any of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sameday.errors import PipelineError, PipelineFailed, RunCancelled
from sameday.pipeline.params import DS, parse_date
from sameday.pipeline.runner import Runner, find_pipeline, plan_run

MAX_DATES = 3660
"""The longest backfill, in days (ten years): a typo in a year should not start 20,000 runs."""


@dataclass(frozen=True)
class BackfillRun:
    """What happened for one date: ``status`` is succeeded, failed, cancelled or ``not run``."""

    ds: str
    run_id: str | None
    status: str
    message: str | None = None


@dataclass(frozen=True)
class BackfillReport:
    """Every date of a backfill and how its run ended."""

    pipeline: str
    runs: tuple[BackfillRun, ...]

    @property
    def failed(self) -> list[BackfillRun]:
        """The runs that did not succeed (failed, cancelled or never started)."""
        return [run for run in self.runs if run.status != "succeeded"]

    def raise_for_failures(self) -> None:
        """Raise if any date did not succeed.

        Raises:
            RunCancelled: the backfill was cancelled.
            PipelineFailed: a run failed.
        """
        bad = [run for run in self.runs if run.status in ("failed", "cancelled")]
        if not bad:
            return
        last = bad[-1]
        failed = [run.ds for run in self.runs if run.status == "failed"]
        skipped = sum(1 for run in self.runs if run.status == "not run")
        message = f"backfill of {self.pipeline!r}: "
        message += f"runs for {', '.join(failed)} failed" if failed else "cancelled"
        if skipped:
            message += f"; {skipped} later date(s) not run"
        error = RunCancelled if any(run.status == "cancelled" for run in bad) else PipelineFailed
        raise error(message, pipeline=self.pipeline, run_id=last.run_id or "", status=last.status)


def dates_between(start: str, end: str) -> list[date]:
    """Every date from ``start`` to ``end``, both included.

    Raises:
        PipelineError: a date is not ``YYYY-MM-DD``, ``end`` is before ``start``, or the range is
            longer than :data:`MAX_DATES`.
    """
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last < first:
        raise PipelineError(f"--end {end} is before --start {start}: swap them")
    days = (last - first).days + 1
    if days > MAX_DATES:
        raise PipelineError(
            f"{days} dates from {start} to {end} is more than {MAX_DATES}: "
            "split the backfill into shorter ranges"
        )
    return [first + timedelta(days=offset) for offset in range(days)]


def backfill(
    runner: Runner,
    pipeline: str,
    dates: Sequence[date],
    *,
    params: Mapping[str, str] | None = None,
    continue_on_failure: bool = False,
) -> BackfillReport:
    """Run ``pipeline`` for each date in order, with ``ds`` set to it.

    Stops at the first failed run unless ``continue_on_failure``; always stops when cancelled.
    Dates after a stop are reported ``not run``.

    Raises:
        NotFound: no such pipeline.
        PipelineError: the pipeline has no ``ds`` parameter, ``params`` sets ``ds``, or a plan
            cannot be made (checked before the first run starts).
    """
    model = find_pipeline(runner.project, pipeline)
    given = dict(params or {})
    if DS not in model.params:
        raise PipelineError(
            f"pipeline {pipeline!r} has no 'ds' parameter, so a backfill cannot set the date: "
            "declare it under params: (ds: {description: the date processed})",
            pipeline=pipeline,
        )
    if DS in given:
        raise PipelineError(
            "a backfill sets ds from --start/--end: do not pass -p ds=...", pipeline=pipeline
        )
    plans = [
        plan_run(runner.project, pipeline, runner.metadata, params={**given, DS: d.isoformat()})
        for d in dates
    ]
    results: list[BackfillRun] = []
    stopped = False
    for day, (plan, _) in zip(dates, plans, strict=True):
        ds = day.isoformat()
        if stopped:
            results.append(BackfillRun(ds, None, "not run"))
            continue
        try:
            result = runner.run(plan, trigger="backfill")
        except RunCancelled as exc:
            results.append(BackfillRun(ds, exc.run_id, "cancelled", str(exc)))
            stopped = True
        except PipelineFailed as exc:
            results.append(BackfillRun(ds, exc.run_id, "failed", str(exc)))
            stopped = not continue_on_failure
        else:
            results.append(BackfillRun(ds, result.run_id, "succeeded"))
    return BackfillReport(pipeline, tuple(results))
