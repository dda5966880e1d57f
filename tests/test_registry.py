"""``sameday.registry``: one table maps every kind of storage and scheme to its backend, and one
error refuses a URL it does not know, wherever the URL was written."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from sameday import registry
from sameday.errors import ConfigError
from sameday.events.postgres import PostgresSink
from sameday.events.sink import open_sink
from sameday.events.source import open_source
from sameday.metadata.store import MetadataStore
from sameday.store.factory import open_store

SECRET = "TOPSECRET"

PAIRS = [(kind, scheme) for kind, table in registry.BACKENDS.items() for scheme in table]


@pytest.mark.parametrize(("kind", "scheme"), PAIRS)
def test_every_kind_and_scheme_resolves_to_an_importable_backend(kind: str, scheme: str) -> None:
    backend = registry.BACKENDS[kind][scheme]
    assert callable(backend.load(f"{kind} test"))
    assert scheme in registry.schemes(kind)


def test_every_kind_has_a_key_an_example_and_a_name() -> None:
    for table in (registry.KEYS, registry.EXAMPLES, registry.WHAT):
        assert set(table) == set(registry.BACKENDS)


def test_the_postgresql_spellings_are_one_set() -> None:
    for kind in ("events", "source"):
        assert set(registry.POSTGRES) <= set(registry.schemes(kind))
    assert "postgres" not in registry.schemes("metadata")  # SQLAlchemy does not know it


def test_resolve_opens_the_named_backend(tmp_path: Path) -> None:
    factory = registry.resolve("serving", f"sqlite:///{tmp_path / 'serving.db'}")
    with factory(f"sqlite:///{tmp_path / 'serving.db'}") as store:
        assert type(store).__name__ == "SQLiteStore"


def test_an_unknown_scheme_names_file_line_key_and_known_schemes() -> None:
    origin = registry.Origin(Path("sameday.yaml"), 12, 3)
    url = f"redsi://:{SECRET}@cache:6379/0"
    with pytest.raises(ConfigError) as caught:
        registry.resolve("serving", url, origin=origin)
    text = "".join(traceback.format_exception(caught.value))
    assert "sameday.yaml:12:3: storage.serving: unsupported serving store URL" in str(caught.value)
    assert "did you mean redis://?" in str(caught.value)
    for scheme in registry.schemes("serving"):
        assert f"{scheme}://" in str(caught.value)
    assert SECRET not in text
    problem = caught.value.problems[0]
    assert (problem.path, problem.line, problem.column) == (Path("sameday.yaml"), 12, 3)
    assert problem.field == "storage.serving"


@pytest.mark.parametrize(
    ("open_", "url"),
    [
        (open_store, f"postgres://app:{SECRET}@db/x"),
        (open_sink, f"mysql://app:{SECRET}@db/x"),
        (open_source, f"redis://:{SECRET}@db/0"),
        (MetadataStore.open, f"postgres://app:{SECRET}@db/x"),
        (PostgresSink, f"mysql://app:{SECRET}@db/x"),
    ],
)
def test_every_opener_refuses_a_bad_scheme_with_the_same_error(open_: object, url: str) -> None:
    assert callable(open_)
    with pytest.raises(ConfigError, match=r"storage\.\w+: unsupported .* URL: ") as caught:
        open_(url)
    assert "://" in str(caught.value)  # the schemes that exist are named
    assert SECRET not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize(
    ("kind", "url", "problem"),
    [
        ("serving", "sqlite:///.sameday/serving.db", None),
        ("serving", "rediss://:pw@cache:6380/2", None),
        ("serving", "memory://", None),
        ("events", "postgres://app@db/x", None),
        ("source", "parquet:///exported", None),
        ("artifacts", ".sameday/artifacts", None),
        ("metadata", "postgresql+psycopg://app@db:5432/x", None),
        ("metadata", "redis://cache/0", "unsupported scheme redis://"),
        ("events", "postgresq://app@db/x", "did you mean postgresql://?"),
        ("events", "parquet:///exported", None),
        ("events", "s3://bucket/events", None),
        ("source", "s3:///events", "names no bucket"),
        ("events", "gs://bucket/events", "unsupported scheme gs://"),
        ("serving", "sqlite://serving.db", "names no file"),
        ("source", "parquet://folder", "names no folder"),
        ("serving", "redis://cache:63x9/0", "cannot parse"),
        ("serving", "redis://cache/zero", "must be a number"),
        ("events", ".sameday/events.db", "is not a URL"),
        ("artifacts", "s4://bucket/x", "unsupported scheme s4://"),
    ],
)
def test_check_knows_each_kinds_schemes(kind: str, url: str, problem: str | None) -> None:
    found = registry.check(kind, url)
    assert found is None if problem is None else problem in str(found)
