"""Checks that span files: names that must exist, graphs without cycles, layers without overlap."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from sameday.config._yaml import Located, PathKey
from sameday.config.loader import Project
from sameday.errors import Problem
from sameday.pipeline.dag import find_cycle


def check_references(project: Project) -> list[Problem]:
    """Every cross-file and graph problem in a project whose files are each valid on their own."""
    from sameday.pipeline.dataflow import check_project

    problems: list[Problem] = []
    problems += _check_pipelines(project)
    problems += check_project(project)  # inputs and outputs: what each job's pod receives
    problems += _check_surfaces(project)
    problems += _check_experiments(project)
    problems += _check_layers(project)
    return problems


_KIND_WORDS = {"job": "job", "result_set": "result set", "surface": "surface", "metric": "metric"}
_FOLDERS = {"result_set": "results", "surface": "surfaces", "metric": "metrics", "job": "pipelines"}


def _missing(
    project: Project, source: Located, path: PathKey, kind: str, name: str, known: Iterable[str]
) -> list[Problem]:
    """A "no such X" problem, unless the file declaring X exists but failed to load."""
    if (kind, name) in project.broken:
        return []
    names = sorted(known)
    message = f"no {_KIND_WORDS[kind]} named {name!r}"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        message += f"; did you mean {close[0]!r}?"
    elif names:
        message += f" (declared: {', '.join(names)})"
    else:
        message += f": declare it in {_FOLDERS[kind]}/{name}.yaml"
    return [source.problem(path, message)]


def _check_pipelines(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    for name, pipeline in project.pipelines.items():
        source = project.sources[("pipeline", name)]
        seen: dict[str, int] = {}
        for index, job in enumerate(pipeline.jobs):
            if job.name in seen:
                problems.append(
                    source.problem(
                        ("jobs", index, "name"),
                        f"job name {job.name!r} is used twice (first at jobs[{seen[job.name]}])",
                    )
                )
            seen.setdefault(job.name, index)
            for dep_index, dep in enumerate(job.depends_on):
                if dep not in seen and all(dep != other.name for other in pipeline.jobs):
                    problems += _missing(
                        project,
                        source,
                        ("jobs", index, "depends_on", dep_index),
                        "job",
                        dep,
                        (j.name for j in pipeline.jobs),
                    )
                elif dep == job.name:
                    problems.append(
                        source.problem(
                            ("jobs", index, "depends_on", dep_index),
                            "a job cannot depend on itself",
                        )
                    )
            for out_index, output in enumerate(job.outputs):
                if output.publish is not None and output.publish not in project.result_sets:
                    problems += _missing(
                        project,
                        source,
                        ("jobs", index, "outputs", out_index, "publish"),
                        "result_set",
                        output.publish,
                        project.result_sets,
                    )
        edges = {job.name: [d for d in job.depends_on if d != job.name] for job in pipeline.jobs}
        cycle = find_cycle(edges)
        if cycle:
            first = next(i for i, job in enumerate(pipeline.jobs) if job.name == cycle[0])
            problems.append(
                source.problem(
                    ("jobs", first, "depends_on"), "dependency cycle: " + " -> ".join(cycle)
                )
            )
        if pipeline.schedule is not None:
            if (
                not croniter.is_valid(pipeline.schedule.cron)
                or len(pipeline.schedule.cron.split()) != 5
            ):
                problems.append(
                    source.problem(
                        ("schedule", "cron"),
                        f"{pipeline.schedule.cron!r} is not a five-field cron expression "
                        "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *'",
                    )
                )
            try:
                ZoneInfo(pipeline.schedule.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(
                    source.problem(
                        ("schedule", "timezone"),
                        f"unknown timezone {pipeline.schedule.timezone!r}: use an IANA name "
                        "such as 'UTC', 'Asia/Tokyo' or 'Europe/Paris'",
                    )
                )
    return problems


def _check_surfaces(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    known = project.result_sets
    for name, surface in project.surfaces.items():
        source = project.sources[("surface", name)]
        if surface.n > surface.max_n:
            problems.append(
                source.problem(("n",), f"n ({surface.n}) exceeds max_n ({surface.max_n})")
            )
        refs: list[tuple[PathKey, str]] = [(("result_set",), surface.result_set)]
        refs += [(("fallbacks", i), fb) for i, fb in enumerate(surface.fallbacks)]
        for r, rule in enumerate(surface.rules):
            refs.append((("rules", r, "result_set"), rule.result_set))
            refs += [(("rules", r, "fallbacks", i), fb) for i, fb in enumerate(rule.fallbacks)]
        for path, ref in refs:
            if ref not in known:
                problems += _missing(project, source, path, "result_set", ref, known)
    return problems


def _check_experiments(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    for name, experiment in project.experiments.items():
        source = project.sources[("experiment", name)]
        if experiment.surface not in project.surfaces:
            problems += _missing(
                project, source, ("surface",), "surface", experiment.surface, project.surfaces
            )
        for a, arm in enumerate(experiment.arms):
            arm_refs: list[tuple[PathKey, str]] = [(("arms", a, "result_set"), arm.result_set)]
            fallbacks = arm.fallbacks or []
            arm_refs += [(("arms", a, "fallbacks", i), fb) for i, fb in enumerate(fallbacks)]
            for path, ref in arm_refs:
                if ref not in project.result_sets:
                    problems += _missing(
                        project, source, path, "result_set", ref, project.result_sets
                    )
        for group in ("primary", "secondary", "guardrails"):
            for i, metric in enumerate(getattr(experiment.metrics, group)):
                if metric not in project.metrics:
                    problems += _missing(
                        project, source, ("metrics", group, i), "metric", metric, project.metrics
                    )
    return problems


def _check_layers(project: Project) -> list[Problem]:
    """Running experiments in one layer must hold disjoint slices of it."""
    problems: list[Problem] = []
    running = [
        e for e in project.experiments.values() if e.phase == "running" and e.layer is not None
    ]
    for i, first in enumerate(running):
        for second in running[i + 1 :]:
            assert first.layer is not None and second.layer is not None
            if first.layer.name != second.layer.name:
                continue
            (a0, a1), (b0, b1) = first.layer.range, second.layer.range
            if a0 < b1 and b0 < a1:
                source = project.sources[("experiment", second.name)]
                problems.append(
                    source.problem(
                        ("layer", "range"),
                        f"running experiments {first.name!r} {list(first.layer.range)} and "
                        f"{second.name!r} {list(second.layer.range)} overlap in layer "
                        f"{first.layer.name!r}: give them disjoint ranges, or stop one",
                    )
                )
    return problems
