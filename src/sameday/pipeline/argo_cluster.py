"""Compile a project's pipeline for a cluster: shared storage, secrets kept out, fallbacks shown.

:func:`compile_argo` turns one pipeline into manifests; :func:`compile_project` adds what only the
whole project can tell, before anything reaches ``kubectl apply``:

- **storage every pod can share.** Each Argo task is its own pod, so a SQLite file or a local
  folder for the metadata, the serving store, the event log or the artifacts would be a private
  copy per pod: publishing "succeeds" into a file that vanishes with the pod. The storage URLs are
  checked as they resolve here (after ``${VAR}`` interpolation); ``allow_local_storage`` skips it.
- **no secret in a manifest.** The pods read every ``${VAR}`` of the storage URLs from the
  storage Secret (``orchestrator.argo.storage_secret``, one key per variable) instead of a
  value written into the manifest; a pipeline value interpolated from a variable that holds a
  storage URL or an API key, or whose name says it is secret, is refused.
- **fallbacks made visible.** Every ``${VAR:-default}`` the manifests would fall back to is listed,
  located in its file: defaults baked in because the variable is unset here, and the storage
  defaults the pods use if their Secret's key is empty.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from sameday.config.loader import PROJECT_FILE, Project
from sameday.config.located_yaml import Located, PathKey, dotted, read_yaml
from sameday.config.project_files import project_files
from sameday.errors import PipelineError
from sameday.pipeline.argo import Manifest, compile_argo, render
from sameday.pipeline.runner import find_pipeline

STORAGE_FIELDS = ("metadata", "serving", "events", "artifacts")
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
"""``${VAR}`` and ``${VAR:-default}`` as ``sameday.config`` interpolates them (``$${`` escapes)."""
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE|_KEY$|_DSN$")
_SHORTEST_SECRET = 6  # shorter values occur in manifests by chance ("admin", "redis")
_LOCAL_SCHEMES = ("", "file", "memory", "local")


@dataclass(frozen=True)
class Fallback:
    """A ``${VAR:-default}`` whose default the compiled manifests (or their pods) would use."""

    file: str
    line: int | None
    column: int | None
    field: str
    variable: str
    default: str
    where: Literal["manifest", "pods"]
    """``manifest``: unset here, so the default is written into the manifests; ``pods``: a storage
    URL the pods read from the Secret, falling back to the default if its key is empty."""

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        if self.where == "manifest":
            what = f"${self.variable} is not set here, so the manifests use {self.default!r}"
        else:
            what = (
                f"the pods read ${self.variable} from the storage Secret and use "
                f"{self.default!r} if its value there is empty"
            )
        return f"{place}: {self.field}: {what}"


@dataclass(frozen=True)
class Compiled:
    """The manifests of a pipeline, and what they fall back to."""

    manifests: list[Manifest]
    fallbacks: list[Fallback]
    storage_env: list[str]
    """The variables every pod reads from the storage Secret."""


def compile_project(
    project: Project,
    pipeline: str,
    *,
    allow_local_storage: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Compiled:
    """The Argo manifests of the project's pipeline ``pipeline``, checked for a cluster.

    Args:
        project: the loaded project (with ``${VAR}`` resolved from ``environ``).
        pipeline: the pipeline's name.
        allow_local_storage: compile even when a storage URL is SQLite or a local folder.
        environ: the variables the project was loaded with; ``os.environ`` by default.

    Raises:
        NotFound: no such pipeline.
        PipelineError: every reason the manifests cannot run on a cluster (local storage, no
            image, a secret that would be written into them, anything ``compile_argo`` refuses),
            each with what to do.
    """
    env = os.environ if environ is None else environ
    model = find_pipeline(project, pipeline)
    settings_file = _raw(project.root, project.root / PROJECT_FILE)
    pipeline_file = _raw(project.root, _pipeline_file(project, model.name))
    storage_vars = list(
        dict.fromkeys(
            name
            for field in STORAGE_FIELDS
            for name, _ in _references(settings_file, ("storage", field))
        )
    )
    problems: list[str] = []
    if not allow_local_storage:
        problems += _local_storage(project, settings_file, env)
    manifests: list[Manifest] = []
    try:
        manifests = compile_argo(
            model,
            project.settings.orchestrator.argo,
            project_name=project.name,
            storage_env=storage_vars,
            project_files=project_files(project.root),
        )
    except PipelineError as exc:
        problems.append(str(exc))
    if manifests:
        problems += _leaks(render(manifests), project, settings_file, pipeline_file, env)
    if problems:
        raise PipelineError(
            f"cannot compile pipeline {model.name!r} for Argo:\n"
            + "\n".join(f"- {p}" for p in problems),
            pipeline=model.name,
        )
    fallbacks = _fallbacks(settings_file, pipeline_file, env)
    return Compiled(manifests, fallbacks, storage_vars)


def is_local(url: str) -> bool:
    """Whether a storage URL names something only one machine sees: SQLite, a file, a folder."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return scheme.startswith("sqlite") or scheme in _LOCAL_SCHEMES


def _raw(root: Path, path: Path) -> Located:
    """A project file as written, before interpolation, named from the project's folder."""
    located = read_yaml(path)
    located.file = path.relative_to(root)
    if located.value is None:
        located.value = {}
    return located


def _pipeline_file(project: Project, name: str) -> Path:
    folder = project.root / "pipelines"
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        value = read_yaml(path).value
        if isinstance(value, dict) and value.get("name", path.stem) == name:
            return path
    raise PipelineError(f"pipeline {name!r}: its file is gone from {folder}", pipeline=name)


def _strings(value: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _node(located: Located, path: PathKey) -> Any:
    node = located.value
    for step in path:
        held = (isinstance(node, dict) and step in node) or (
            isinstance(node, list) and isinstance(step, int) and step < len(node)
        )
        if not held:
            return None
        node = node[step]
    return node


def _references(located: Located, under: PathKey) -> Iterator[tuple[str, str | None]]:
    """(variable, default or ``None``) of each ``${VAR}`` in the strings under ``under``."""
    for _, text in _strings(_node(located, under), under):
        for match in _REFERENCE.finditer(text):
            if match.group(1):
                yield match.group(1), match.group(2)


def _local_storage(project: Project, settings: Located, env: Mapping[str, str]) -> list[str]:
    storage = project.settings.storage
    secret = project.settings.orchestrator.argo.storage_secret
    lines = []
    for field in STORAGE_FIELDS:
        value = getattr(storage, field)
        if not is_local(value):
            continue
        line, column = settings.position(("storage", field))
        unset = [name for name, _ in _references(settings, ("storage", field)) if not env.get(name)]
        why = f" (${', $'.join(unset)} not set here)" if unset else ""
        lines.append(f"  {settings.file}:{line}:{column}: storage.{field} is {value!r}{why}")
    if not lines:
        return []
    return [
        "storage the pods cannot share: each Argo task runs in its own pod, and a SQLite file "
        "or a local folder in one pod is invisible to the others\n"
        + "\n".join(lines)
        + "\n  Point them at PostgreSQL (metadata, events), Redis (serving) and s3:// "
        f"(artifacts): write them as ${{VAR}}, set the variables here to the URLs the pods get "
        f"from Secret {secret!r} (one key per variable), or pass --allow-local-storage"
    ]


def _secret_values(
    project: Project, settings: Located, pipeline: Located, env: Mapping[str, str]
) -> dict[str, str]:
    """value → variable, for every variable whose value must not appear in a manifest."""
    names = {name for f in STORAGE_FIELDS for name, _ in _references(settings, ("storage", f))}
    names |= {name for name, _ in _references(settings, ("serve", "api_keys"))}
    names |= {
        name
        for located in (settings, pipeline)
        for name, _ in _references(located, ())
        if _SECRET_NAME.search(name)
    }
    values = {env[name]: name for name in names if len(env.get(name, "")) >= _SHORTEST_SECRET}
    for field in STORAGE_FIELDS:
        url = getattr(project.settings.storage, field)
        if url != _node(settings, ("storage", field)) and not is_local(url):
            values.setdefault(url, f"storage.{field}")
            password = _password(url)
            if password is not None and len(password) >= _SHORTEST_SECRET:
                values.setdefault(password, f"the password of storage.{field}")
    return values


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _leaks(
    text: str, project: Project, settings: Located, pipeline: Located, env: Mapping[str, str]
) -> list[str]:
    problems = []
    reported: list[str] = []
    secrets = _secret_values(project, settings, pipeline, env)
    for value, source in sorted(secrets.items(), key=lambda item: -len(item[0])):
        if value not in text or any(value in longer for longer in reported):
            continue
        reported.append(value)
        places = [
            f"{pipeline.file}:{line}:{column} ({dotted(path)})"
            for path, found in _strings(pipeline.value)
            if f"${{{source}" in found
            for line, column in [pipeline.position(path)]
        ]
        where = f" from {', '.join(places)}" if places else ""
        problems.append(
            f"the manifests would hold the value of {source}{where} in clear text: read it from "
            "a Kubernetes Secret instead (env: {NAME: {secret: SECRET, key: KEY}}, or env_from)"
        )
    return problems


def _fallbacks(settings: Located, pipeline: Located, env: Mapping[str, str]) -> list[Fallback]:
    found: list[Fallback] = []
    for located, under in ((settings, ("storage",)), (settings, ("orchestrator", "argo"))):
        for path, text in _strings(_node(located, under), under):
            for match in _REFERENCE.finditer(text):
                name, default = match.group(1), match.group(2)
                if not name or default is None:
                    continue
                pods = under == ("storage",)
                if pods or not env.get(name):
                    line, column = located.position(path)
                    where: Literal["manifest", "pods"] = "pods" if pods else "manifest"
                    found.append(
                        Fallback(
                            str(located.file), line, column, dotted(path), name, default, where
                        )
                    )
    for path, text in _strings(pipeline.value):
        for match in _REFERENCE.finditer(text):
            name, default = match.group(1), match.group(2)
            if name and default is not None and not env.get(name):
                line, column = pipeline.position(path)
                found.append(
                    Fallback(
                        str(pipeline.file), line, column, dotted(path), name, default, "manifest"
                    )
                )
    return found
