"""Fixtures of the dashboard's tests: one seeded project per session, copied for each test that
changes it, and test clients over the dashboard."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sameday.ui.access import Access
from sameday.ui.app import create_ui
from sameday.ui.state import Dashboard
from tests.ui.seed import Seeded, seed

READ_KEY = "read-key-0123456789"
ADMIN_KEY = "admin-key-9876543210"


@pytest.fixture(scope="session")
def seeded_once(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The seeded project, built once per session: never change it (use ``seeded``)."""
    return seed(tmp_path_factory.mktemp("ui") / "shop")


@pytest.fixture
def seeded(seeded_once: Seeded, tmp_path: Path) -> Seeded:
    """A copy of the seeded project of this test's own, to change at will."""
    root = tmp_path / "shop"
    shutil.copytree(seeded_once.root, root)
    return Seeded(root, seeded_once.failed_run, seeded_once.succeeded_run, seeded_once.personal)


@pytest.fixture
def dashboard(seeded: Seeded) -> Iterator[Dashboard]:
    """The dashboard of the test's copy of the seeded project."""
    dash = Dashboard(seeded.root, recheck=0.0)
    try:
        yield dash
    finally:
        dash.close()


Clients = Callable[..., TestClient]


@pytest.fixture
def clients(dashboard: Dashboard) -> Iterator[Clients]:
    """``clients(read_key=..., admin_key=..., host=...)``: a test client of the dashboard with
    those keys (none: open on loopback), addressed to ``host``."""
    made: list[TestClient] = []

    def make(
        *, read_key: str | None = None, admin_key: str | None = None, host: str = "localhost"
    ) -> TestClient:
        app = create_ui(dashboard, Access(read_key=read_key, admin_key=admin_key))
        client = TestClient(app, base_url=f"http://{host}", follow_redirects=False)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in a page."""
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def sign_in(client: TestClient, key: str) -> None:
    """Trade ``key`` for a session cookie, as the login form does."""
    answer = client.post("/login", data={"key": key, "next": "/"})
    assert answer.status_code == 303, answer.text
