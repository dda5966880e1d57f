"""Fixtures of the monitor tests: metadata on each backend, and a project to watch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sameday.metadata import MetadataStore


@pytest.fixture(params=["sqlite", "postgres"])
def metadata(request: pytest.FixtureRequest) -> Iterator[MetadataStore]:
    """A migrated metadata store on each backend in turn."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    with MetadataStore.open(url) as store:
        yield store
