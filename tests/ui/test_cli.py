"""``sameday ui`` and ``sameday serve --ui`` through the CLI, and the dashboard mounted under
``/ui`` of another app."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from sameday.cli import main
from sameday.ui.access import Access
from sameday.ui.app import create_ui, with_ui
from sameday.ui.state import Dashboard
from tests.ui.conftest import ADMIN_KEY


def test_ui_refuses_a_public_address_without_a_key(runner: CliRunner, project_dir: Path) -> None:
    env = {"SAMEDAY_ADMIN_KEY": "", "SAMEDAY_SERVING_KEY": ""}
    args = ["ui", "--project", str(project_dir), "--host", "0.0.0.0"]
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 2, result.output
    assert "refusing to open the dashboard on 0.0.0.0 without a key" in result.output


def test_serve_ui_needs_the_admin_key(runner: CliRunner, project_dir: Path) -> None:
    env = {"SAMEDAY_ADMIN_KEY": "", "SAMEDAY_SERVING_KEY": ""}
    result = runner.invoke(main, ["serve", "--ui", "--project", str(project_dir)], env=env)
    assert result.exit_code == 2, result.output
    assert "--ui serves the dashboard behind the admin key" in result.output


def test_the_dashboard_mounted_under_ui_keeps_its_links_and_cookie_there(
    dashboard: Dashboard,
) -> None:
    async def api(request: Request) -> PlainTextResponse:
        return PlainTextResponse("api")

    app = with_ui(
        Starlette(routes=[Route("/v1/x", api)]),
        create_ui(dashboard, Access(read_key=None, admin_key=ADMIN_KEY)),
    )
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        assert client.get("/v1/x").text == "api"
        assert client.get("/ui").headers["location"] == "/ui/"
        assert client.get("/ui/runs").headers["location"].startswith("/ui/login?next=%2Fui%2Fruns")
        signed = client.post("/ui/login", data={"key": ADMIN_KEY, "next": "/ui/runs"})
        assert signed.headers["location"] == "/ui/runs"
        assert "Path=/ui/" in signed.headers["set-cookie"]
        page = client.get("/ui/runs").text
        assert 'href="/ui/results"' in page and 'href="/ui/assets/ui.css"' in page
        assert client.get("/ui/assets/ui.js").status_code == 200
