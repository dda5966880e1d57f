"""Checks that span files: names that must exist, graphs without cycles, layers without overlap."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sameday.config.datasets import check_datasets
from sameday.config.graph import find_cycle
from sameday.config.loader import Project
from sameday.config.located_yaml import Located, PathKey
from sameday.errors import Problem

if TYPE_CHECKING:
    # The experiment model is imported by the loader only for a project that has experiments
    # (see loader.Kind), and config.traffic with it, where experiments are checked.
    from sameday.config.experiment import Experiment
    from sameday.config.scoring import FeatureTable


def check_references(project: Project) -> list[Problem]:
    """Every cross-file and graph problem in a project whose files are each valid on their own."""
    from sameday.config.dataflow import check_project

    problems: list[Problem] = []
    problems += _check_pipelines(project)
    problems += check_project(project)  # inputs and outputs: what each job's pod receives
    problems += _check_surfaces(project)
    problems += _check_experiments(project)
    problems += _check_layers(project)
    problems += _check_traffic(project)
    problems += _check_monitors(project)
    problems += check_datasets(project)
    return problems


_KIND_WORDS = {
    "job": "job",
    "result_set": "result set",
    "surface": "surface",
    "metric": "metric",
    "notifier": "notifier",
}
_FOLDERS = {
    "result_set": "results",
    "surface": "surfaces",
    "metric": "metrics",
    "job": "pipelines",
    "notifier": "notifiers",
}


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
        if "jobs" in project.partial.get(("pipeline", name), ()):
            continue
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
                for result_set in output.lists:
                    if result_set not in project.result_sets:
                        problems += _missing(
                            project,
                            source,
                            ("jobs", index, "outputs", out_index, "lists", result_set),
                            "result_set",
                            result_set,
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
    return problems


def _check_surfaces(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    known = project.result_sets
    for name, surface in project.surfaces.items():
        source = project.sources[("surface", name)]
        failed = project.partial.get(("surface", name), frozenset())
        if not failed & {"n", "max_n"} and surface.n > surface.max_n:
            problems.append(
                source.problem(("n",), f"n ({surface.n}) exceeds max_n ({surface.max_n})")
            )
        refs: list[tuple[PathKey, str]] = []
        if "result_set" not in failed:
            refs.append((("result_set",), surface.result_set))
        if "fallbacks" not in failed:
            refs += [(("fallbacks", i), fb) for i, fb in enumerate(surface.fallbacks)]
        if "features" not in failed:
            refs += _feature_refs((), surface.features)
        for r, rule in enumerate(surface.rules if "rules" not in failed else []):
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
        failed = project.partial.get(("experiment", name), frozenset())
        if "surface" not in failed and experiment.surface not in project.surfaces:
            problems += _missing(
                project, source, ("surface",), "surface", experiment.surface, project.surfaces
            )
        for a, arm in enumerate(experiment.arms if "arms" not in failed else []):
            arm_refs: list[tuple[PathKey, str]] = [(("arms", a, "result_set"), arm.result_set)]
            fallbacks = arm.fallbacks or []
            arm_refs += [(("arms", a, "fallbacks", i), fb) for i, fb in enumerate(fallbacks)]
            arm_refs += _feature_refs(("arms", a), arm.features)
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


def _feature_refs(at: PathKey, tables: list[FeatureTable]) -> list[tuple[PathKey, str]]:
    """The result sets a scorer's feature tables name, with where each is named."""
    return [((*at, "features", i, "table"), table.table) for i, table in enumerate(tables)]


def _check_monitors(project: Project) -> list[Problem]:
    """Every notifier a monitor routes to is declared in ``notifiers/``."""
    problems: list[Problem] = []
    for name, monitor in project.monitors.items():
        if "notify" in project.partial.get(("monitor", name), ()):
            continue
        source = project.sources[("monitor", name)]
        for r, route in enumerate(monitor.notify or []):
            for i, notifier in enumerate(route.to):
                if notifier not in project.notifiers:
                    problems += _missing(
                        project,
                        source,
                        ("notify", r, "to", i),
                        "notifier",
                        notifier,
                        project.notifiers,
                    )
    return problems


def _check_layers(project: Project) -> list[Problem]:
    """Running experiments in one layer must hold disjoint slices of it."""
    if not project.experiments:
        return []
    from sameday.config.traffic import overlap_message, overlaps

    return [
        project.sources[("experiment", second.name)].problem(
            ("layer", "range"), overlap_message(first, second)
        )
        for first, second in overlaps(_whole_experiments(project))
    ]


def _check_traffic(project: Project) -> list[Problem]:
    """Running experiments on one surface must not starve each other (see ``config.traffic``)."""
    if not project.experiments:
        return []
    from sameday.config.traffic import conflicts

    return [
        project.sources[("experiment", conflict.second.name)].problem(
            ("surface",), conflict.message()
        )
        for conflict in conflicts(_whole_experiments(project))
    ]


def _whole_experiments(project: Project) -> list[Experiment]:
    """Experiments that loaded whole: a failed coverage or layer must not be guessed at."""
    return [
        e for name, e in project.experiments.items() if ("experiment", name) not in project.partial
    ]
