"""Fixtures of the monitor tests: a project on each metadata backend, and runs and snapshots
recorded at chosen times."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from sameday.config import Project, load_project
from sameday.metadata import MetadataStore, RunRecord
from sameday.metadata.models import RunRow, SnapshotRow

Edit = Callable[..., Project]


@pytest.fixture(params=["sqlite", "postgres"])
def metadata_url(request: pytest.FixtureRequest) -> str:
    """An empty metadata database: a SQLite file, then a fresh PostgreSQL database."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def meta(metadata_url: str) -> Iterator[MetadataStore]:
    """A migrated metadata store on each backend in turn."""
    with MetadataStore.open(metadata_url) as store:
        yield store


@pytest.fixture
def metadata(meta: MetadataStore) -> MetadataStore:
    """The same store, by the name the alerting tests use."""
    return meta


@pytest.fixture
def project(project_dir: Path, metadata_url: str) -> Edit:
    """``project(pipeline={...}, popular={...}, experiment={...})``: the scaffolded project on
    the metadata database, with fields added to the ``daily`` pipeline, the ``popular`` result
    set and the ``home-personal`` experiment."""

    def edit(
        *,
        pipeline: dict[str, Any] | None = None,
        popular: dict[str, Any] | None = None,
        experiment: dict[str, Any] | None = None,
    ) -> Project:
        settings = yaml.safe_load((project_dir / "sameday.yaml").read_text())
        settings.setdefault("storage", {})["metadata"] = metadata_url
        (project_dir / "sameday.yaml").write_text(yaml.safe_dump(settings))
        for path, extra in (
            ("pipelines/daily.yaml", pipeline),
            ("results/popular.yaml", popular),
            ("experiments/home-personal.yaml", experiment),
        ):
            if extra:
                data = yaml.safe_load((project_dir / path).read_text())
                (project_dir / path).write_text(yaml.safe_dump(data | extra))
        return load_project(project_dir)

    return edit


def at(url: str, table: Any, key: Any, **times: datetime) -> None:
    """Set the times of one row (the store stamps them with the clock)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.update(table).where(key).values(**times))
    finally:
        engine.dispose()


def run(
    meta: MetadataStore,
    url: str,
    start: datetime,
    end: datetime | None,
    status: str = "succeeded",
    pipeline: str = "daily",
) -> RunRecord:
    """A run of ``pipeline`` from ``start`` to ``end`` (``None``: still running)."""
    record = meta.create_run(pipeline, {})
    if end is not None:
        meta.finish_run(record.id, status)
    at(url, RunRow, RunRow.id == record.id, started_at=start, ended_at=end)
    return meta.get_run(record.id)


def live_snapshot(
    meta: MetadataStore,
    url: str,
    name: str,
    version: str,
    published: datetime,
    rows: int = 10,
    keys: int = 2,
) -> None:
    """A live snapshot of result set ``name`` published at ``published``."""
    meta.create_snapshot(
        name,
        version,
        content_hash="h",
        rows=rows,
        keys=keys,
        schema={},
        source="s",
        run_id=None,
        store_url="sqlite://",
    )
    meta.set_live(name, version)
    at(
        url,
        SnapshotRow,
        SnapshotRow.version == version,
        published_at=published,
        created_at=published,
    )


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    """``make_project(datasets, jobs=None, settings=None, **fields)``: a project in
    ``tmp_path/proj`` with one pipeline ``daily`` declaring ``datasets`` (and ``fields``)."""

    def make(
        datasets: dict[str, Any],
        jobs: list[dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Project:
        root = tmp_path / "proj"
        (root / "pipelines").mkdir(parents=True, exist_ok=True)
        meta = f"sqlite:///{tmp_path / 'run-meta.db'}"
        document = {"name": "t", "storage": {"metadata": meta}, **(settings or {})}
        (root / "sameday.yaml").write_text(yaml.safe_dump(document))
        pipeline = {
            "name": "daily",
            "datasets": datasets,
            "jobs": jobs or [{"name": "noop", "command": "true"}],
            **fields,
        }
        (root / "pipelines" / "daily.yaml").write_text(yaml.safe_dump(pipeline))
        return load_project(root)

    return make
