"""Which files each job receives, from which upstream job, decided from the pipeline file alone.

A job declares the paths it reads (``inputs``) and writes (``outputs``). Each input is served by
the outputs of the job's upstream jobs (``depends_on``, transitively) it covers, and otherwise by
the project's own files (its image on Argo). The same resolution drives the three places where a
job runs apart from the others:

- the Argo compiler turns each :class:`Artifact` into an input artifact whose key is the one the
  producing job's output artifact was stored under (``{{workflow.name}}/<job>/<path>``);
- ``sameday run --isolated`` copies the same files into the job's fresh folder;
- ``sameday validate`` reports an input nobody provides, or one that a job which is not upstream
  writes (it would race), at the input's line in the pipeline file.

An output's *artifact path* is the output itself, or for a glob (``out/als/*.parquet``) the folder
before the wildcard: a folder can be carried as a whole, a wildcard cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sameday.config.loader import Project
from sameday.config.pipeline import Job, Pipeline
from sameday.config.project_files import (
    inside,
    is_glob,
    matches,
    normalise,
    present,
    project_files,
    static_prefix,
)
from sameday.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Artifact:
    """Files a job receives from an upstream job: ``path`` as ``job`` stored it."""

    job: str
    path: str


FindingKind = Literal["invalid", "not_upstream", "nowhere", "undeclared", "catalogue"]


@dataclass(frozen=True)
class Finding:
    """A problem of a pipeline's inputs or outputs, at ``where`` in its file.

    ``kind``: ``invalid`` (a path outside the project, a glob with no folder before it),
    ``not_upstream`` (written by a job that is not upstream), ``nowhere`` (neither written upstream
    nor in the project), and the strict ones, ``undeclared`` and ``catalogue``.
    """

    where: PathKey
    message: str
    kind: FindingKind = "invalid"


class Dataflow:
    """The resolved inputs of every job of a pipeline.

    Args:
        pipeline: the pipeline.
        project_files: returns the project's files as its image holds them (see
            :func:`sameday.config.project_files.project_files`); called at most once, and only
            when an input is not served by an upstream job, since listing them may run git.

    Attributes:
        ancestors: each job's upstream jobs, transitively.
        outputs: each job's outputs, normalised (invalid ones are left out and reported).
        artifacts: what each job receives from upstream jobs.
        from_project: each job's inputs that only the project's files serve.
        findings: every problem found, located in the pipeline file.
    """

    def __init__(
        self, pipeline: Pipeline, project_files: Callable[[], Collection[str]] | None = None
    ) -> None:
        self.pipeline = pipeline
        self.findings: list[Finding] = []
        self.artifacts: dict[str, list[Artifact]] = {}
        self.from_project: dict[str, list[str]] = {}
        self.ancestors = _ancestors(pipeline)
        self.outputs: dict[str, list[str]] = {}
        self._list_files = project_files
        self._files: Collection[str] | None = None
        for index, job in enumerate(pipeline.jobs):
            self.outputs[job.name] = []
            for k, output in enumerate(job.outputs):
                where: PathKey = ("jobs", index, "outputs", k, "path")
                path = self._normalised(output.path, where)
                if path is not None and not self.artifact_path(path):
                    message = (
                        f"output {path!r} has a wildcard in its first part: put the files in a "
                        "folder (out/*.csv), which is what is carried to the next jobs"
                    )
                    self.findings.append(Finding(where, message))
                elif path is not None:
                    self.outputs[job.name].append(path)
        for index, job in enumerate(pipeline.jobs):
            self._resolve(index, job)

    @property
    def project_files(self) -> Collection[str]:
        """The project's files (listed on first use; empty when no lister was given)."""
        if self._files is None:
            self._files = self._list_files() if self._list_files is not None else ()
        return self._files

    def __repr__(self) -> str:
        return f"Dataflow(pipeline={self.pipeline.name!r}, findings={len(self.findings)})"

    def artifact_path(self, output: str) -> str:
        """Where an output is stored from: itself, or the folder before its wildcard."""
        return static_prefix(output) if is_glob(output) else output

    def producers(self, path: str) -> list[tuple[str, str]]:
        """(job, output artifact path) of every job whose outputs hold ``path`` or lie in it."""
        found = []
        for job, outputs in self.outputs.items():
            for output in outputs:
                stored = self.artifact_path(output)
                if stored and (inside(path, stored) or inside(stored, path)):
                    found.append((job, stored))
        return found

    def _normalised(self, path: str, where: PathKey) -> str | None:
        try:
            return normalise(path)
        except ValueError as exc:
            self.findings.append(Finding(where, str(exc)))
            return None

    def _resolve(self, index: int, job: Job) -> None:
        artifacts: list[Artifact] = []
        from_project: list[str] = []
        for k, raw in enumerate(job.inputs):
            where: PathKey = ("jobs", index, "inputs", k)
            path = self._normalised(raw, where)
            if path is None:
                continue
            served = self._served(job.name, path)
            if served:
                artifacts.extend(served)
                continue
            others = sorted({j for j, _ in self._covering(path, exclude=job.name)})
            if others:
                message = _not_upstream(job.name, path, others)
                self.findings.append(Finding(where, message, "not_upstream"))
                continue
            if present(path, self.project_files):
                from_project.append(path)
                continue
            self.findings.append(Finding(where, _nowhere(job.name, path), "nowhere"))
        self.artifacts[job.name] = _deduplicated(artifacts)
        self.from_project[job.name] = from_project

    def _served(self, name: str, path: str) -> list[Artifact]:
        ancestors = self.ancestors[name]
        return [Artifact(j, p) for j, p in self._covering(path) if j in ancestors]

    def _covering(self, path: str, exclude: str | None = None) -> list[tuple[str, str]]:
        """(job, path to fetch) for each output that provides some of the input ``path``."""
        found: list[tuple[str, str]] = []
        for job, outputs in self.outputs.items():
            if job == exclude:
                continue
            for output in outputs:
                stored = self.artifact_path(output)
                fetched = _overlap(path, stored)
                if fetched is not None:
                    found.append((job, fetched))
        return found


def _overlap(wanted: str, stored: str) -> str | None:
    """The part of the stored artifact ``stored`` that the input ``wanted`` needs, if any."""
    if not stored:
        return None
    if not is_glob(wanted):
        if inside(wanted, stored):
            return wanted  # a file or sub-folder of what was stored
        if inside(stored, wanted):
            return stored  # the input folder holds what was stored
        return None
    prefix = static_prefix(wanted)
    parts = stored.split("/")
    if any(matches(wanted, "/".join(parts[:depth])) for depth in range(1, len(parts) + 1)):
        return stored
    if prefix and inside(prefix, stored):
        return prefix  # the glob's matches all lie in the stored folder: fetch their folder
    return None


def _deduplicated(artifacts: Iterable[Artifact]) -> list[Artifact]:
    """Each artifact once, leaving out those held by a folder already fetched from the same job."""
    unique = list(dict.fromkeys(artifacts))
    return [
        a
        for a in unique
        if not any(o.job == a.job and o.path != a.path and inside(a.path, o.path) for o in unique)
    ]


def _ancestors(pipeline: Pipeline) -> dict[str, set[str]]:
    edges = {job.name: list(job.depends_on) for job in pipeline.jobs}
    found: dict[str, set[str]] = {}
    for name in edges:
        seen: set[str] = set()
        stack = list(edges[name])
        while stack:
            current = stack.pop()
            if current in seen or current not in edges:
                continue
            seen.add(current)
            stack.extend(edges[current])
        found[name] = seen - {name}
    return found


def _not_upstream(job: str, path: str, writers: list[str]) -> str:
    names = ", ".join(repr(w) for w in writers)
    return (
        f"job {job!r} reads {path!r}, which job {names} writes, but is not upstream of {job!r}: "
        f"add {writers[0]!r} to depends_on, or the two run at the same time"
    )


def _nowhere(job: str, path: str) -> str:
    return (
        f"job {job!r} reads {path!r}, which no upstream job declares in its outputs and the "
        "project's image does not hold (data/, out/ and ignored files are not in it): declare "
        "it as an output of the job that writes it, or add the file to the project"
    )


# Strict checks: what can be decided from the commands' text.

_ASSIGNMENT = re.compile(r"^-{1,2}[A-Za-z0-9_-]+=")


def mentioned_paths(command: str) -> list[str]:
    """Words of ``command`` that look like project paths (``--out=out/x.csv`` gives its value)."""
    import shlex  # only strict checks read commands; a load of a project need not import it

    try:
        words = shlex.split(command, comments=True)
    except ValueError:  # an unbalanced quote: fall back on blanks
        words = command.split()
    found = []
    for word in words:
        word = _ASSIGNMENT.sub("", word)
        if not word or word.startswith("-") or "$" in word or "{{" in word:
            continue
        try:
            found.append(normalise(word))
        except ValueError:
            continue
    return found


def strict_findings(
    flow: Dataflow, *, catalogues: Mapping[str, str | None] | None = None
) -> list[Finding]:
    """What ``sameday validate --strict`` adds: reads visible in commands, files publishing needs.

    A command that names a path another job writes (``python x.py out/als.npy``) must declare it
    in ``inputs``; naming a folder that holds declared inputs or outputs is enough. A published
    result set's catalogue file must reach the publication: publishing sees the job's inputs and
    outputs and the project's files.

    Args:
        flow: the resolved pipeline.
        catalogues: result set name → its ``checks.catalogue.path`` (``None`` without one).
    """
    findings: list[Finding] = []
    for index, job in enumerate(flow.pipeline.jobs):
        declared = _declared(flow, job)
        for path in mentioned_paths(job.command):
            writers = sorted({w for w, _ in flow.producers(path) if w != job.name})
            if not writers or any(inside(d, path) or inside(path, d) for d in declared):
                continue
            findings.append(
                Finding(
                    ("jobs", index, "command"),
                    f"job {job.name!r} names {path!r} in its command, which job "
                    f"{writers[0]!r} writes, but does not declare it: add {path!r} to its "
                    "inputs (on Argo and with --isolated the job sees only what it declares)",
                    "undeclared",
                )
            )
        for k, output in enumerate(job.outputs):
            catalogue = (catalogues or {}).get(output.publish) if output.publish else None
            if catalogue is None:
                continue
            try:
                wanted = normalise(catalogue)
            except ValueError:
                continue
            if any(inside(wanted, d) for d in declared if not is_glob(d)) or present(
                wanted, flow.project_files
            ):
                continue
            findings.append(
                Finding(
                    ("jobs", index, "outputs", k, "publish"),
                    f"result set {output.publish!r} is checked against the catalogue {wanted!r}, "
                    f"which job {job.name!r} neither reads nor writes and the project does not "
                    f"hold: add {wanted!r} to the job's inputs",
                    "catalogue",
                )
            )
    return findings


def _declared(flow: Dataflow, job: Job) -> list[str]:
    paths = [a.path for a in flow.artifacts.get(job.name, [])]
    paths += flow.from_project.get(job.name, [])
    paths += [flow.artifact_path(o) for o in flow.outputs.get(job.name, [])]
    for raw in job.inputs:
        try:
            paths.append(normalise(raw))
        except ValueError:
            continue
    return paths


def check_project(project: Project, *, strict: bool = False) -> list[Problem]:
    """Every input and output problem of the project's pipelines, located in their files.

    Args:
        strict: add :func:`strict_findings` (``sameday validate --strict``).
    """
    listed: list[frozenset[str]] = []

    def files() -> frozenset[str]:
        if not listed:
            listed.append(project_files(project.root))
        return listed[0]

    catalogues = {
        name: result.checks.catalogue.path if result.checks.catalogue else None
        for name, result in project.result_sets.items()
    }
    problems: list[Problem] = []
    for name, pipeline in project.pipelines.items():
        if ("pipeline", name) in project.partial:
            continue  # a field failed to load: its own problem is reported, its flow cannot be
        if not any(job.inputs or job.outputs for job in pipeline.jobs):
            continue
        source = project.sources[("pipeline", name)]
        flow = Dataflow(pipeline, files)
        findings = list(flow.findings)
        if strict:
            findings += strict_findings(flow, catalogues=catalogues)
        problems += [source.problem(f.where, f.message) for f in findings]
    return problems
