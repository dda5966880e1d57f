"""Fixtures of the metadata tests: one URL per backend, and an open store on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sameday.metadata import MetadataStore


@pytest.fixture(params=["sqlite", "postgres"])
def backend_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend in turn: a SQLite file, then a fresh PostgreSQL db."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def store(backend_url: str) -> Iterator[MetadataStore]:
    """A store opened (and so migrated) on each backend in turn."""
    with MetadataStore.open(backend_url) as opened:
        yield opened
