"""Fixtures of the pipeline tests: a scaffolded project made ready for a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

STORAGE = {
    "SAMEDAY_METADATA_URL": "postgresql+psycopg://sameday:TOPSECRET-pg-8f2c@pg.internal/sameday",
    "SAMEDAY_SERVING_URL": "redis://:TOPSECRET-redis-41d9@redis.internal:6379/0",
    "SAMEDAY_EVENTS_URL": "postgresql+psycopg://sameday:TOPSECRET-pg-8f2c@pg.internal/events",
    "SAMEDAY_ARTIFACTS_URL": "s3://recsys-artifacts/sameday",
}
"""Shared storage a cluster's pods could reach, with passwords no manifest may hold."""
IMAGE = "registry.example.com/team/proj:0.1.0"


@pytest.fixture
def cluster_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The storage variables set as an operator sets them before compiling."""
    for name, value in STORAGE.items():
        monkeypatch.setenv(name, value)
    return dict(STORAGE)


@pytest.fixture
def cluster_project(project_dir: Path, cluster_env: dict[str, str]) -> Path:
    """The scaffolded project with an image and its storage variables set."""
    settings = project_dir / "sameday.yaml"
    text = settings.read_text()
    commented = "    # image: registry.example.com/team/proj:0.1.0\n"
    assert commented in text
    settings.write_text(text.replace(commented, f"    image: {IMAGE}\n"))
    return project_dir
