"""Find a project, read every file in it, and check it as a whole.

``load_project`` reads ``sameday.yaml`` and the files under ``pipelines/``, ``results/``,
``surfaces/``, ``experiments/``, ``metrics/``, ``monitors/`` and ``notifiers/``, interpolates
``${VAR}``, validates each against its model and then checks references between files. Every
problem of the run is gathered into one ``ConfigError`` so a user fixes them all in one pass.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from sameday import registry
from sameday.config._errors import problems_from_validation
from sameday.config.interpolate import interpolate
from sameday.config.located_yaml import Located, read_yaml, yaml_error_problem
from sameday.config.project import ProjectSettings
from sameday.errors import ConfigError, Problem, ProjectNotFound

if TYPE_CHECKING:
    # The models of each kind are imported when a project has files of that kind (Kind.model).
    from sameday.config.experiment import Experiment
    from sameday.config.metric import Metric
    from sameday.config.monitor import Monitor, NotifierSettings
    from sameday.config.pipeline import Pipeline
    from sameday.config.results import ResultSet
    from sameday.config.surface import Surface

    # The backends sit above config: opened through the registry, by name.
    from sameday.events.sink import EventSink
    from sameday.events.source import EventSource
    from sameday.metadata.store import MetadataStore
    from sameday.store.base import ServingStore

PROJECT_FILE = "sameday.yaml"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Kind(Generic[M]):
    """One kind of project file: its folder and its model (``module:Class``).

    The model's module is imported the first time :attr:`model` is read, which the loader does
    only for a kind the project has files of: building the pydantic classes of every kind costs
    a tenth of a second, which a command such as ``sameday publish`` on a project of result
    sets alone would pay for nothing (start-up cost counts: ``docs/benchmarks.md``)."""

    name: str
    folder: str
    where: str

    @cached_property
    def model(self) -> type[M]:
        """The pydantic model of this kind's files."""
        module, _, attribute = self.where.partition(":")
        model: type[M] = getattr(importlib.import_module(module), attribute)
        return model


KINDS: tuple[Kind[Any], ...] = (
    Kind("pipeline", "pipelines", "sameday.config.pipeline:Pipeline"),
    Kind("result_set", "results", "sameday.config.results:ResultSet"),
    Kind("surface", "surfaces", "sameday.config.surface:Surface"),
    Kind("experiment", "experiments", "sameday.config.experiment:Experiment"),
    Kind("metric", "metrics", "sameday.config.metric:Metric"),
    Kind("monitor", "monitors", "sameday.config.monitor:Monitor"),
    Kind("notifier", "notifiers", "sameday.config.monitor:NotifierSettings"),
)


@dataclass
class Project:
    """A loaded, valid project: its settings and every declared object, by name."""

    root: Path
    settings: ProjectSettings
    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    result_sets: dict[str, ResultSet] = field(default_factory=dict)
    surfaces: dict[str, Surface] = field(default_factory=dict)
    experiments: dict[str, Experiment] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    monitors: dict[str, Monitor] = field(default_factory=dict)
    notifiers: dict[str, NotifierSettings] = field(default_factory=dict, repr=False)
    sources: dict[tuple[str, str], Located] = field(default_factory=dict, repr=False)
    broken: set[tuple[str, str]] = field(default_factory=set, repr=False)
    """(kind, file stem) of files that failed to load: references to them are not reported."""
    partial: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    """(kind, name) → top-level fields that failed, for objects built from the rest of their
    file so cross-file checks still run; only ever set in a load that raises ``ConfigError``."""

    @property
    def name(self) -> str:
        """The project's name from ``sameday.yaml``."""
        return self.settings.name

    def path(self, relative: str) -> Path:
        """A path written in a project file, resolved against the project root."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    def url(self, url: str) -> str:
        """A storage URL with a relative SQLite or Parquet path resolved against the project
        root, and so the spool of a Parquet event log (``?spool=``; a log on object storage
        gets the project's ``.sameday/spool`` when it names none)."""
        for prefix in ("sqlite:///", "parquet:///"):
            if (
                url.startswith(prefix)
                and not url.startswith(prefix + "/")
                and ":memory:" not in url
            ):
                url = prefix + str(self.root / url[len(prefix) :])
        if url.startswith(("parquet:", "s3:")):
            base, _, query = url.partition("?")
            options = parse_qsl(query, keep_blank_values=True)
            if url.startswith("s3:") and "spool" not in dict(options):
                options.append(("spool", ".sameday/spool"))
            if options:
                url = f"{base}?" + urlencode(
                    [(k, str(self.path(v)) if k == "spool" else v) for k, v in options]
                )
        return url

    def open_metadata(self, *, migrate: bool = True) -> MetadataStore:
        """The metadata store at ``storage.metadata`` (see ``MetadataStore.open``: with
        ``migrate`` an older schema is upgraded, without it refused)."""
        store: MetadataStore = self._open(
            "metadata", self.settings.storage.metadata, migrate=migrate
        )
        return store

    def open_serving_store(self) -> ServingStore:
        """The serving store at ``storage.serving``."""
        store: ServingStore = self._open("serving", self.settings.storage.serving)
        return store

    def open_event_sink(self) -> EventSink:
        """The event sink at ``storage.events``, to log exposures and outcomes."""
        sink: EventSink = self._open("events", self.settings.storage.events)
        return sink

    def open_event_source(self, url: str | None = None) -> EventSource:
        """The event source at ``storage.events``, or at ``url`` (``--events``, e.g. an
        exported ``parquet:///folder``), to read the log for a report."""
        if url is None:
            source: EventSource = self._open("source", self.settings.storage.events)
        else:  # given on the command line: no place in sameday.yaml to point at
            source = self._open("source", url, origin=registry.Origin())
        return source

    def _open(
        self, kind: str, url: str, *, origin: registry.Origin | None = None, **options: Any
    ) -> Any:
        """Open ``url`` through :mod:`sameday.registry`, which imports the backend on use (the
        backends sit in layers above ``config``); a refusal names ``sameday.yaml:line:col``."""
        where = self._origin(kind) if origin is None else origin
        return registry.open_url(kind, self.url(url), origin=where, **options)

    def _origin(self, kind: str) -> registry.Origin:
        """Where ``kind``'s URL is written in ``sameday.yaml`` (the file alone when defaulted)."""
        located = self.sources.get(("project", self.name))
        if located is None:
            return registry.Origin()
        key = tuple(registry.KEYS[kind].split("."))
        line, column = located.position(key)
        return registry.Origin(located.file, line, column)

    def collection(self, kind: str) -> dict[str, Any]:
        """The dictionary holding objects of ``kind`` ("pipeline", "surface", ...)."""
        collections: dict[str, dict[str, Any]] = {
            "pipeline": self.pipelines,
            "result_set": self.result_sets,
            "surface": self.surfaces,
            "experiment": self.experiments,
            "metric": self.metrics,
            "monitor": self.monitors,
            "notifier": self.notifiers,
        }
        return collections[kind]


def find_project(start: Path | str | None = None) -> Path:
    """The folder holding ``sameday.yaml``: ``start`` or its nearest parent that has one.

    Raises:
        ProjectNotFound: when no folder up to the filesystem root has a ``sameday.yaml``.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise ProjectNotFound(
        f"no {PROJECT_FILE} in {here} or any parent folder: run 'sameday init' to create a "
        "project, or pass --project DIR"
    )


def load_project(
    start: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> Project:
    """Load and check the project at ``start`` (or above it).

    Args:
        start: the project folder or any folder inside it; the current directory by default.
        environ: variables for ``${VAR}`` interpolation; ``os.environ`` by default.

    Raises:
        ProjectNotFound: no ``sameday.yaml`` was found.
        ConfigError: with every problem found, each located as ``file:line:column``.
    """
    from sameday.config.references import check_references

    root = find_project(start)
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    settings_file = root / PROJECT_FILE
    settings, settings_source, _ = _read(settings_file, ProjectSettings, env, problems, root)
    project = Project(root=root, settings=settings or ProjectSettings(name="invalid"))
    if settings_source is not None:
        project.sources[("project", project.name)] = settings_source

    for kind in KINDS:
        folder = root / kind.folder
        if not folder.is_dir():
            continue
        files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        if not files:
            continue
        collection = project.collection(kind.name)
        for file in files:
            obj, source, failed = _read(
                file, kind.model, env, problems, root, default_name=file.stem
            )
            if obj is None or source is None:
                project.broken.add((kind.name, file.stem))
                continue
            name = obj.name
            if name in collection:
                first = project.sources[(kind.name, name)]
                problems.append(
                    source.problem(
                        ("name",),
                        f"{kind.name} {name!r} is already declared in "
                        f"{first.file}; names must be unique",
                    )
                )
                continue
            collection[name] = obj
            project.sources[(kind.name, name)] = source
            if failed:
                project.partial[(kind.name, name)] = failed

    problems.extend(check_references(project))
    if problems:
        raise ConfigError(problems)
    return project


def _read(
    file: Path,
    model: type[M],
    environ: Mapping[str, str],
    problems: list[Problem],
    root: Path,
    *,
    default_name: str | None = None,
) -> tuple[M | None, Located | None, frozenset[str]]:
    """Read, interpolate and validate one file, adding its problems to ``problems``.

    Returns the object (built from its valid fields when some failed), where it was read, and
    the top-level fields that failed (empty when the object is whole).
    """
    shown = _relative(file, root)
    nothing: tuple[None, None, frozenset[str]] = (None, None, frozenset())
    try:
        located = read_yaml(file)
    except FileNotFoundError:
        problems.append(Problem(shown, None, None, "file not found"))
        return nothing
    except UnicodeDecodeError as exc:
        problems.append(Problem(shown, None, None, f"not UTF-8 text: {exc.reason}"))
        return nothing
    except yaml.YAMLError as exc:
        problems.append(yaml_error_problem(shown, exc))
        return nothing
    located.file = shown
    if located.value is None:
        located.value = {}
    if not isinstance(located.value, dict):
        problems.append(
            located.problem((), f"expected a mapping of keys, got {type(located.value).__name__}")
        )
        return nothing
    missing = interpolate(located, environ)
    if missing:
        problems.extend(missing)
        return nothing
    data = dict(located.value)
    if default_name is not None and "name" not in data:
        data["name"] = default_name
    try:
        return _validate_interpolated(model, data, located), located, frozenset()
    except ValidationError as exc:
        problems.extend(problems_from_validation(located, model, exc))
        failed = frozenset(str(error["loc"][0]) for error in exc.errors() if error["loc"])
        salvaged = _salvage(model, data, failed)
        return (salvaged, located, failed) if salvaged is not None else nothing


def validate_document(model: type[M], data: dict[str, Any]) -> M:
    """Validate one file's content as the JSON Schema reads it.

    Models are strict, and JSON Schema counts ``2.0`` as an integer: whole floats are read as
    ints first (float fields take ints), so ``retries: 2.0`` passes in the editor and here.

    Raises:
        ValidationError: with every problem pydantic found.
    """
    return model.model_validate(_whole_numbers(data))


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _validate_interpolated(model: type[M], data: dict[str, Any], located: Located) -> M:
    """:func:`validate_document`, reading a number or boolean field set by ``${VAR}`` as one.

    The environment only holds text, so ``port: ${PORT}`` arrives as ``"8000"``; the strict
    models refuse text where a number belongs. Only fields whose whole value was interpolated
    are converted, and only where the model asked for a number or a boolean, so ``n: "5"``
    written in the file stays an error and a numeric password stays text.
    """
    try:
        return validate_document(model, data)
    except ValidationError as exc:
        converted = False
        for error in exc.errors():
            path = tuple(error["loc"])
            text = error.get("input")
            if path not in located.templates or not isinstance(text, str):
                continue
            value = _scalar(error["type"], text.strip())
            if value is not None:
                _set(data, path, value)
                converted = True
        if not converted:
            raise
    return validate_document(model, data)


def _scalar(kind: str, text: str) -> int | float | bool | None:
    """``text`` as the number or boolean a strict field of ``kind`` wants, or ``None``."""
    if kind == "bool_type" and text.lower() in {"true", "false"}:
        return text.lower() == "true"
    if kind in {"int_type", "float_type"} and _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if number.is_integer() and kind == "int_type" else number
    return None


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    return value


def _salvage(model: type[M], data: dict[str, Any], failed: frozenset[str]) -> M | None:
    """The object built from the fields that passed, so checks across files still run on it.

    One bad field must not hide the other problems of a file. The fields in ``failed`` are left
    unset (required ones) or at their defaults: checks must skip them (``Project.partial``).
    Without a valid name there is nothing to refer to, hence nothing to build.
    """
    if "name" in failed or "name" not in data:
        return None
    values = {
        name: TypeAdapter(info.rebuild_annotation()).validate_python(data[name])
        for name, info in model.model_fields.items()
        if name in data and name not in failed
    }
    return model.model_construct(**values)


def _relative(file: Path, root: Path) -> Path:
    """Show a file relative to the working directory when inside it, else as given."""
    try:
        return file.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return file
