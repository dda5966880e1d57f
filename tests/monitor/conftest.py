"""Fixtures of the monitor tests: a metadata store on each backend, and a project with datasets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sameday.config import Project, load_project
from sameday.metadata import MetadataStore


@pytest.fixture(params=["sqlite", "postgres"])
def metadata(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    """An open (migrated) metadata store on each backend in turn."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with MetadataStore.open(url) as store:
        yield store


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
