"""``pip install sameday`` runs the local loop; every extra is named when it is missing.

The import graph of the package is read from its source (every ``import``, also inside functions),
so a new import of an undeclared library fails here rather than on a user's machine. A fresh
virtualenv per test would be too slow: the missing extras are simulated by hiding the module
(``sys.modules[name] = None`` makes ``import name`` fail, as on a machine without it).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from click.testing import CliRunner

from sameday._extras import OPTIONAL
from sameday.errors import MissingDependency

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def dist_name(requirement: str) -> str:
    """``uvicorn[standard]>=0.29`` → ``uvicorn``, normalised as PEP 503 does."""
    name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def installed() -> dict[str, list[str]]:
    """``packages_distributions()``, read once: it reads every installed distribution's file
    list, seconds each time in a venv with the dev extra (MLflow alone brings a hundred)."""
    return packages_distributions()


def provided(requirements: list[str]) -> set[str]:
    """The top-level modules the distributions in ``requirements`` install."""
    dists = {dist_name(r) for r in requirements}
    return {
        module
        for module, owners in installed().items()
        if any(dist_name(owner) in dists for owner in owners)
    }


def module_file(name: str) -> Path | None:
    base = SRC.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _guarded(node: ast.AST) -> bool:
    """A ``with extra(...)`` block, or a ``try`` that handles ImportError: the import is optional
    and its failure becomes a message naming the extra."""
    if isinstance(node, ast.With):
        return any(
            isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Name)
            and item.context_expr.func.id == "extra"
            for item in node.items
        )
    if isinstance(node, ast.Try):
        return any(
            handler.type is not None and "ImportError" in ast.unparse(handler.type)
            for handler in node.handlers
        )
    return False


def imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Every module ``path`` imports, and whether the import is guarded (see ``_guarded``)."""

    def visit(node: ast.AST, guarded: bool) -> Iterator[tuple[str, bool]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, guarded
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, guarded
            for alias in node.names:  # `from sameday.x import y` may name a submodule
                yield f"{node.module}.{alias.name}", guarded
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.Try) and child in node.handlers:
                yield from visit(child, guarded)  # the fallback itself is not guarded
            else:
                yield from visit(child, guarded or _guarded(node))

    yield from visit(ast.parse(path.read_text()), False)


def third_party(name: str) -> str | None:
    top = name.split(".")[0]
    return None if top == "sameday" or top in sys.stdlib_module_names else top


BEHIND_A_FACTORY = {
    ("sameday.store.redis_cluster", "sameday.store.redis"): "the cluster store is a Redis store: "
    "it needs redis-py itself, and is opened through the registry, which names the extra",
}
"""Unguarded imports of an optional backend that only run after a guarded import succeeded."""


def behind_a_factory(importer: str, imported: str) -> bool:
    return any(
        importer == user and (imported == backend or imported.startswith(backend + "."))
        for user, backend in BEHIND_A_FACTORY
    )


def reachable(start: list[str]) -> dict[str, set[str]]:
    """Third-party modules imported without a guard by ``start`` and every sameday module they
    import without a guard, each with the sameday modules that import it."""
    seen: set[str] = set()
    found: dict[str, set[str]] = {}
    todo = list(start)
    while todo:
        name = todo.pop()
        path = module_file(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        for imported, guarded in imports(path):
            if guarded:
                continue
            top = third_party(imported)
            if top is not None:
                found.setdefault(top, set()).add(name)
            elif imported.startswith("sameday") and not behind_a_factory(name, imported):
                todo.append(imported)
                parent = imported.rpartition(".")[0]
                todo.append(parent)
    return found


LOCAL_LOOP = [
    f"sameday.cli.{path.stem}"
    for path in (SRC / "sameday" / "cli").glob("*.py")
    if path.stem != "__init__"
] + ["sameday.cli"]


def test_the_base_install_covers_every_import_of_the_commands() -> None:
    base = provided(PYPROJECT["dependencies"])
    missing = {
        module: sorted(users)
        for module, users in reachable(LOCAL_LOOP).items()
        if module not in base
    }
    assert not missing, f"imported by the commands but not a base dependency: {missing}"


def test_every_import_is_declared_and_optional_ones_name_their_extra() -> None:
    base = provided(PYPROJECT["dependencies"])
    extras = PYPROJECT["optional-dependencies"]
    backends: set[str] = set()  # sameday modules that need an optional library to import
    sites: list[tuple[str, str, bool]] = []  # (importer, sameday module, guarded)
    for path in (SRC / "sameday").rglob("*.py"):
        if "template" in path.parts:
            continue  # the scaffolded project's own jobs
        name = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for imported, guarded in imports(path):
            top = third_party(imported)
            if top is None:
                if imported.startswith("sameday"):
                    sites.append((name, imported, guarded))
                continue
            if top in base:
                continue
            assert top in OPTIONAL, f"{path}: {top} is neither a base dependency nor optional"
            assert top in provided(extras[OPTIONAL[top]]), f"{top} is not in [{OPTIONAL[top]}]"
            if not guarded:
                backends.add(name)
    for importer, imported, guarded in sites:
        if imported in backends and not behind_a_factory(importer, imported):
            assert guarded, f"{importer} imports {imported} (an optional backend) without a guard"


def test_test_only_libraries_stay_out_of_the_runtime() -> None:
    extras = PYPROJECT["optional-dependencies"]
    runtime = PYPROJECT["dependencies"] + [
        r for name, reqs in extras.items() if name != "dev" for r in reqs
    ]
    assert "statsmodels" not in {dist_name(r) for r in runtime}
    assert "statsmodels" in {dist_name(r) for r in PYPROJECT["optional-dependencies"]["dev"]}
    everything = runtime + PYPROJECT["optional-dependencies"]["dev"]
    assert "httpx2" not in {dist_name(r) for r in everything}


@pytest.fixture
def without(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Hide a library (and the sameday modules that import it) for one test."""

    def hide(library: str, *users: str) -> None:
        monkeypatch.setitem(sys.modules, library, None)  # type: ignore[arg-type]
        for user in users:
            monkeypatch.delitem(sys.modules, user, raising=False)

    return hide


def one_line_naming(exc: BaseException, extra: str) -> None:
    message = str(exc)
    assert "\n" not in message
    assert f"pip install 'sameday[{extra}]'" in message


def test_a_redis_store_without_redis_names_the_extra(without) -> None:  # type: ignore[no-untyped-def]
    from sameday.store.factory import open_store

    without("redis", "sameday.store.redis")
    with pytest.raises(MissingDependency) as caught:
        open_store("redis://:pw@127.0.0.1:6379/0")
    one_line_naming(caught.value, "redis")
    assert "pw" not in str(caught.value)


def test_a_postgres_event_log_without_psycopg_names_the_extra(without) -> None:  # type: ignore[no-untyped-def]
    from sameday.events.sink import open_sink

    without("psycopg", "sameday.events.postgres")
    with pytest.raises(MissingDependency) as caught:
        open_sink("postgresql://app@127.0.0.1:5432/x")
    one_line_naming(caught.value, "postgres")


def test_a_parquet_event_log_on_s3_without_s3fs_names_the_extra(without) -> None:  # type: ignore[no-untyped-def]
    from sameday.events.sink import open_sink

    without("fsspec")
    with pytest.raises(MissingDependency) as caught:
        open_sink("s3://bucket/events?spool=/nonexistent")
    one_line_naming(caught.value, "s3")


def test_a_postgres_metadata_database_without_psycopg_names_the_extra(without) -> None:  # type: ignore[no-untyped-def]
    from sameday.metadata.store import MetadataStore

    without("psycopg")
    with pytest.raises(MissingDependency) as caught:
        MetadataStore.open("postgresql+psycopg://app@127.0.0.1:5432/x")
    one_line_naming(caught.value, "postgres")


def test_publish_to_redis_without_redis_is_one_line(  # type: ignore[no-untyped-def]
    without, runner: CliRunner, project_dir: Path
) -> None:
    from sameday.cli import main

    settings = project_dir / "sameday.yaml"
    text = settings.read_text().replace(
        "serving: ${SAMEDAY_SERVING_URL:-sqlite:///.sameday/serving.db}",
        "serving: redis://127.0.0.1:6379/0",
    )
    settings.write_text(text)
    (project_dir / "out").mkdir()
    rows = "".join(f"*,item-{i},{i}\n" for i in range(12))
    (project_dir / "out" / "popular.csv").write_text("key,item,score\n" + rows)
    without("redis", "sameday.store.redis")
    result = runner.invoke(main, ["publish", "popular", "--project", str(project_dir)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "pip install 'sameday[redis]'" in line


@pytest.mark.parametrize("library", ["implicit", "threadpoolctl"])
def test_the_demo_without_its_extra_says_so_before_starting(  # type: ignore[no-untyped-def]
    without, tmp_path: Path, library: str
) -> None:
    from sameday.demo import DemoSettings, run_demo

    without(library)
    folder = tmp_path / "demo"
    with pytest.raises(MissingDependency) as caught:
        run_demo(DemoSettings(folder=folder), observer=None)  # type: ignore[arg-type]
    one_line_naming(caught.value, "demo")
    assert not folder.exists()  # nothing was started
