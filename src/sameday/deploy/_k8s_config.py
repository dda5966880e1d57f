"""The server's view of ``sameday.yaml`` in a pod, and the checks it must pass there.

``sameday serve`` reads nothing but ``sameday.yaml``, and of it only ``name``, ``storage``
(``metadata``, ``serving``, ``events``) and ``serve``: surfaces and experiments come from the
metadata database, where ``sameday apply`` put them. So the ConfigMap holds exactly those keys,
as written (``${VAR}`` kept): applying an experiment, or changing a pipeline, never restarts a
server, and a variable the server does not read needs no Secret.

Every ``${VAR}`` left in it is resolved in the pod from a Secret: the ``serve.kubernetes.secret``
(key = the variable's name) unless ``serve.kubernetes.env`` names another. Those references are
required unless marked ``optional``, so a forgotten key stops the pod from starting
(``CreateContainerConfigError``) instead of letting a ``${VAR:-sqlite:///...}`` default put the
event log in a file that vanishes with the pod.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sameday.config.interpolate import variables
from sameday.config.kubernetes import KubernetesServe, SecretKey
from sameday.config.loader import PROJECT_FILE, Project, find_project, load_project
from sameday.config.located_yaml import Located, read_yaml
from sameday.errors import ConfigError, Problem
from sameday.registry import DEFERRED

SERVER_STORAGE = ("metadata", "serving", "events")
SHARED_SCHEMES = (
    *("redis", "rediss", "redis+cluster", "rediss+cluster"),
    *("postgresql", "postgresql+psycopg", "postgres"),
)
_FROM_SECRET = DEFERRED  # stands for a value only the Secret knows
HEADER = (
    "# Written by `sameday compile --target k8s` from the project's sameday.yaml: the settings\n"
    "# `sameday serve` reads. Edit sameday.yaml and compile again.\n"
)


@dataclass(frozen=True)
class ServerConfig:
    """What the pod reads: its ``sameday.yaml`` text and where each of its variables comes from."""

    text: str
    env: dict[str, SecretKey]


def load_server_project(
    start: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> Project:
    """Load the project to compile its server: the variables its pods read from Secrets need
    not be set here, and are not read from ``environ`` if they are (their fallback, or a
    placeholder, stands in), so the manifests are the same on any machine.

    Raises:
        ProjectNotFound, ConfigError: as :func:`~sameday.config.load_project`.
    """
    env = dict(os.environ if environ is None else environ)
    root = find_project(start)
    try:
        raw = read_yaml(root / PROJECT_FILE).value
    except (yaml.YAMLError, UnicodeDecodeError):
        raw = None  # the loader reports it, located
    if isinstance(raw, dict):
        for text in _strings(_server_part(raw)):
            for name, fallback in variables(text):
                env[name] = fallback or _FROM_SECRET
    return load_project(root, environ=env)


def server_config(project: Project, settings: KubernetesServe, *, secret: str) -> ServerConfig:
    """The ``sameday.yaml`` of the server's pods, and the Secret key behind each ``${VAR}`` in it
    (plus the extra ones ``settings.env`` names).

    Raises:
        ConfigError: the file changed since it was loaded and no longer parses.
    """
    kept = _server_part(_raw(project).value)
    env = {
        name: settings.env.get(name, SecretKey(secret=secret, key=name))
        for text in _strings(kept)
        for name, _ in variables(text)
    }
    env.update(settings.env)
    body = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=4096)
    return ServerConfig(text=HEADER + body, env=dict(sorted(env.items())))


def _server_part(raw: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``sameday.yaml`` the server reads, as written."""
    kept: dict[str, Any] = {"name": raw.get("name")}
    storage = raw.get("storage") or {}
    if any(key in storage for key in SERVER_STORAGE):
        kept["storage"] = {key: storage[key] for key in SERVER_STORAGE if key in storage}
    serve = {key: value for key, value in (raw.get("serve") or {}).items() if key != "kubernetes"}
    if serve:
        kept["serve"] = serve
    return kept


def check_server_config(
    project: Project, config: ServerConfig, *, replicas: int, allow_local_storage: bool
) -> None:
    """Refuse settings that would break on a cluster, each located in ``sameday.yaml``.

    - storage the pods cannot share (a SQLite file, a local Redis socket, ``memory://``) for the
      metadata, serving store or event log: each pod would keep its own, lost with it. Allowed
      with ``allow_local_storage`` for a single replica only;
    - no API key: the server listens on the pod's address and refuses to without one.

    Raises:
        ConfigError: listing every such problem and what to do about it.
    """
    located = _raw(project)
    raw = located.value
    problems: list[Problem] = []
    storage = raw.get("storage") or {}
    for key in SERVER_STORAGE:
        where = ("storage", key)
        written = storage.get(key, f"sqlite:///.sameday/{key}.db")
        url = _in_pod(str(written), config.env)
        if url.startswith(_FROM_SECRET) or url.partition("://")[0].lower() in SHARED_SCHEMES:
            continue
        if allow_local_storage and replicas == 1:
            continue
        if allow_local_storage:
            message = (
                f"{url!r} is storage only one pod can use, and this deployment may run "
                f"{replicas} replicas: set serve.kubernetes.replicas to 1 and "
                "serve.kubernetes.autoscaling.enabled to false, or use Redis and PostgreSQL"
            )
        else:
            message = (
                f"{url!r} would be a store inside each pod, lost when it stops and not shared "
                "between replicas: point it at "
                + ("Redis (redis://host:6379/0)" if key == "serving" else "PostgreSQL")
                + ", e.g. as ${VAR} from a Secret, or pass --allow-local-storage for a single "
                "replica on a volume you mount"
            )
        problems.append(located.problem(where if key in storage else ("storage",), message))
    keys = (raw.get("serve") or {}).get("api_keys") or {}
    if not any(_in_pod(str(keys.get(kind) or ""), config.env) for kind in ("serving", "admin")):
        problems.append(
            located.problem(
                ("serve", "api_keys") if keys else (),
                "no API key: in a pod the server listens beyond localhost, which it refuses to "
                "do without one; set serve.api_keys.serving and .admin as ${VARS}, whose values "
                "come from the Secret",
            )
        )
    if problems:
        raise ConfigError(problems)


def _in_pod(text: str, env: dict[str, SecretKey]) -> str:
    """``text`` as the pod may see it: a required variable is the Secret's (unknown here), an
    optional one may be missing, so its fallback is assumed."""
    for name, fallback in variables(text):
        written = f"${{{name}}}" if fallback is None else f"${{{name}:-{fallback}}}"
        ref = env.get(name)
        value = _FROM_SECRET if ref is not None and not ref.optional else (fallback or "")
        text = text.replace(written, value, 1)
    return text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _raw(project: Project) -> Located:
    file = project.root / PROJECT_FILE
    try:
        located = read_yaml(file)
    except yaml.YAMLError as exc:  # edited since it was loaded
        raise ConfigError([Problem(file, None, None, f"no longer parses: {exc}")]) from exc
    located.file = project.sources[("project", project.name)].file
    return located
