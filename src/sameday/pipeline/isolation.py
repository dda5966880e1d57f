"""``sameday run --isolated``: each job in a fresh folder, as each Argo task runs in its own pod.

A job's folder holds the project's files as its image would (see ``sameday.config.project_files``)
and the inputs it declares, copied from what its upstream jobs stored; nothing else. After the job,
its declared outputs are stored under ``<run logs>/artifacts/<job>/<path>`` — the same layout as
the artifact keys on Argo, ``{{workflow.name}}/<job>/<path>`` — and a declared output it did not
write fails it. A job that reads a file it did not declare fails as it would on a cluster; the
failure then names the path, found in the job's log ("No such file or directory: 'out/als.npy'"),
and the job that writes it.

Publishing happens in the job's folder too, so a result set's catalogue check sees what the job
saw, while the storage URLs still lead to the project's databases."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from sameday.config.dataflow import Artifact, Dataflow
from sameday.config.loader import Project
from sameday.config.pipeline import Pipeline
from sameday.config.project_files import inside, is_glob, normalise, project_files
from sameday.errors import IsolationError

_MISSING = (
    re.compile(r"No such file or directory: '([^']+)'"),
    re.compile(r"can't open file '([^']+)'"),
    re.compile(r"""([^\s:'"]+): (?:\[Errno 2\] )?No such file or directory"""),
    re.compile(r"cannot open '?([^\s:']+)'?"),
)
_LOG_TAIL = 64 * 1024  # the end of a log holds the error


class Isolation:
    """The folders of one isolated run and the store of what its jobs wrote.

    Args:
        project: the project whose files each folder starts with.
        pipeline: the pipeline run.
        store: where the jobs' outputs are kept, ``<store>/<job>/<path>``.
        work: where each attempt's folder is made, ``<work>/<job>.<attempt>``.
        earlier: the stores of the runs a resumed run continues, newest first, searched for
            the outputs of jobs this run does not run again.
    """

    def __init__(
        self,
        project: Project,
        pipeline: Pipeline,
        store: Path,
        work: Path,
        earlier: Sequence[Path] = (),
    ) -> None:
        self.project = project
        self.files = sorted(project_files(project.root))
        self.flow = Dataflow(pipeline, lambda: self.files)
        self.store = store
        self.work = work
        self.earlier = list(earlier)

    def __repr__(self) -> str:
        return f"Isolation(store={str(self.store)!r}, work={str(self.work)!r})"

    def prepare(self, job: str, attempt: int) -> Path:
        """A fresh folder for an attempt of ``job``: the project's files and its inputs.

        Raises:
            IsolationError: an upstream job did not store an input this job declares.
        """
        folder = self.work / f"{job}.{attempt}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for relative in self.files:
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.project.root / relative, target)
        for artifact in self.flow.artifacts.get(job, []):
            source = self._stored(artifact)
            if source is None:
                raise IsolationError(
                    f"job {job!r} reads {artifact.path!r} from job {artifact.job!r}, which did "
                    "not store it in this run (it did not run, or failed): run the pipeline "
                    "without --only/--from, or --resume a run where it succeeded",
                    job=job,
                )
            _copy(source, folder / artifact.path)
        return folder

    def collect(self, job: str, folder: Path) -> None:
        """Store the declared outputs of ``job`` from its folder.

        Raises:
            IsolationError: a declared output is not there.
        """
        for output in self.flow.outputs.get(job, []):
            stored = self.flow.artifact_path(output)
            present = any(folder.glob(output)) if is_glob(output) else (folder / output).exists()
            if not present:
                raise IsolationError(
                    f"job {job!r} declares the output {output!r} but did not write it: fix the "
                    "command, or the path in outputs",
                    job=job,
                )
            target = self.store / job / stored
            if target.exists() or target.is_symlink():
                _remove(target)
            _copy(folder / stored, target)

    def discard(self, folder: Path) -> None:
        """Remove an attempt's folder (kept when the attempt failed, to look into)."""
        shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        """Remove the run's work folder when no failed attempt's folder was kept in it."""
        with contextlib.suppress(OSError):
            self.work.rmdir()

    def diagnose(self, job: str, folder: Path, log: Path) -> str:
        """Why ``job`` probably failed in its folder: the missing path it read, or its inputs."""
        try:
            with open(log, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - _LOG_TAIL))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        for path in _missing_paths(text, folder):
            explained = self._explain(job, path)
            if explained is not None:
                return f"{explained} (its folder is kept: {folder})"
        declared = [a.path for a in self.flow.artifacts.get(job, [])]
        declared += self.flow.from_project.get(job, [])
        inputs = ", ".join(repr(p) for p in declared) or "none"
        return (
            f"job {job!r} failed in a folder holding only the project's files and its declared "
            f"inputs ({inputs}); if it reads a file another job writes, add it to its inputs "
            f"(its folder is kept: {folder})"
        )

    def _stored(self, artifact: Artifact) -> Path | None:
        for store in (self.store, *self.earlier):
            candidate = store / artifact.job / artifact.path
            if candidate.exists():
                return candidate
        return None

    def _explain(self, job: str, path: str) -> str | None:
        writers = sorted({w for w, _ in self.flow.producers(path) if w != job})
        if writers:
            upstream = writers[0] in self.flow.ancestors.get(job, set())
            also = "" if upstream else f", and {writers[0]!r} to its depends_on"
            return (
                f"job {job!r} read {path!r}, which job {writers[0]!r} writes, but does not "
                f"declare it: add {path!r} to the inputs of {job!r}{also}"
            )
        if (self.project.root / path).exists():
            return (
                f"job {job!r} read {path!r}, which is in your project folder but not in its "
                "image (ignored, or under data/, out/, .sameday/): add it to the project, or "
                "declare it as an output of the job that writes it"
            )
        if any(inside(path, f) or inside(f, path) for f in self.files):
            return None  # a project file: the cause lies elsewhere
        return (
            f"job {job!r} read {path!r}, which no job declares as an output and the project "
            "does not hold"
        )


def _missing_paths(text: str, folder: Path) -> list[str]:
    """Project paths the log says were missing, last mention first."""
    found: list[tuple[int, str]] = []
    for pattern in _MISSING:
        for match in pattern.finditer(text):
            raw = match.group(1)
            candidate = Path(raw)
            if candidate.is_absolute():
                try:
                    raw = str(candidate.relative_to(folder))
                except ValueError:
                    continue
            try:
                found.append((match.start(), normalise(raw)))
            except ValueError:
                continue
    return list(dict.fromkeys(path for _, path in sorted(found, reverse=True)))


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
