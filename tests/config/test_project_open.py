"""``Project.open_*``: a loaded project opens its own storage through the registry, with
relative paths taken from the project, and a URL that cannot be opened is refused at the place in
``sameday.yaml`` where it is written."""

from __future__ import annotations

import traceback
from pathlib import Path

import duckdb
import pytest

from sameday.config import load_project
from sameday.errors import ConfigError
from sameday.events.source import EventQuery
from sameday.events.sqlite import SQLiteSink, SQLiteSource
from sameday.store.sqlite import SQLiteStore


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_a_project_opens_its_storage_under_its_own_folder(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the project: relative paths must not land here
    project = load_project(project_dir)
    with project.open_metadata() as metadata:
        assert metadata.list_runs() == []
    assert (project_dir / ".sameday" / "metadata.db").is_file()
    with project.open_serving_store() as store:
        assert isinstance(store, SQLiteStore)
        assert Path(store.path) == project_dir / ".sameday" / "serving.db"
    with project.open_event_sink() as sink:
        assert isinstance(sink, SQLiteSink)
        assert sink.path == project_dir / ".sameday" / "events.db"
    with project.open_event_source() as source:
        assert isinstance(source, SQLiteSource)
        source.load(duckdb.connect(), EventQuery("exp", ()))  # reads the file the sink made
    assert not (tmp_path / ".sameday").exists()


def test_a_url_the_backend_refuses_names_its_place_in_sameday_yaml(
    project_dir: Path, redis_url: str
) -> None:
    secret = "TOPSECRET"
    server = redis_url.partition("://")[2].rpartition("/")[0]
    bad = f"redis://:{secret}@{server}/3?socket_timeout=soon"
    old = "serving: ${SAMEDAY_SERVING_URL:-sqlite:///.sameday/serving.db}"
    edit(project_dir / "sameday.yaml", old, f"serving: {bad}")
    project = load_project(project_dir)  # the scheme and port are fine: validate passes
    line = line_of(project_dir / "sameday.yaml", "serving:")
    with pytest.raises(ConfigError) as caught:
        project.open_serving_store()
    message = str(caught.value)
    assert f"sameday.yaml:{line}:" in message
    assert "storage.serving: unsupported serving store URL" in message
    assert secret not in "".join(traceback.format_exception(caught.value))


def test_a_misspelled_scheme_is_refused_at_load_with_the_schemes_that_exist(
    project_dir: Path,
) -> None:
    edit(
        project_dir / "sameday.yaml",
        "events: ${SAMEDAY_EVENTS_URL:-sqlite:///.sameday/events.db}",
        "events: postgresq://app:TOPSECRET@db/x",
    )
    line = line_of(project_dir / "sameday.yaml", "events:")
    with pytest.raises(ConfigError) as caught:
        load_project(project_dir)
    message = str(caught.value)
    assert f"sameday.yaml:{line}:" in message and "storage.events" in message
    assert "did you mean postgresql://?" in message
    assert "sqlite://, postgresql://, postgresql+psycopg://, postgres://, memory://" in message
    assert "TOPSECRET" not in message
