"""``sameday ui``: the web dashboard on the project's stores."""

from __future__ import annotations

import gc
import webbrowser
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday.cli._common import project_option
from sameday.errors import UnsafeBind

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from sameday.ui.state import Dashboard


@click.command("ui")
@project_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8100, show_default=True, help="Port.")
@click.option("--open", "open_browser", is_flag=True, help="Open the dashboard in a browser.")
@click.option("--log-level", default="warning", show_default=True, help="uvicorn's log level.")
def ui(project_dir: Path | None, host: str, port: int, open_browser: bool, log_level: str) -> None:
    """Serve the web dashboard: the morning page, pipelines and runs, result sets and
    snapshots, experiments (and their wall), monitors and alerts, models, lineage.

    serve.api_keys.read opens the pages, serve.api_keys.admin the actions too (rollback,
    resume, stop, conclude, mute, promote a model or roll its alias back). With neither set it
    listens on localhost only, where whoever opens it may act.
    """
    import uvicorn

    from sameday.cli.serve import _check_free
    from sameday.config import find_project
    from sameday.ui.access import Access, check_bind
    from sameday.ui.app import create_ui
    from sameday.ui.state import Dashboard
    from sameday.urls import scrub_logs

    dash = Dashboard(find_project(project_dir))
    keys = dash.project().settings.serve.api_keys
    try:
        check_bind(host, keys.read, keys.admin)
        _check_free(host, port)
        access = Access(read_key=keys.read or None, admin_key=keys.admin or None)
        app = create_ui(dash, access)
        # The project's objects live as long as the server: out of the collector's sight, full
        # collections stay short (as for `sameday serve`); with a thousand experiments they
        # otherwise cost a page 100 ms now and then.
        gc.collect()
        gc.freeze()
        scrub_logs()
        url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/"
        who = "anyone on this machine, as admin" if access.open else "the read or admin key"
        click.echo(f"sameday dashboard of {dash.project().name} on {url} (open to {who})", err=True)
        if open_browser:
            webbrowser.open(url)
        uvicorn.run(app, host=host, port=port, log_level=log_level)
    finally:
        dash.close()


def needs_admin_key(admin_key: str | None) -> None:
    """``sameday serve --ui`` serves the dashboard behind the admin key: refuse without one.

    Raises:
        UnsafeBind: no admin key is set.
    """
    if not admin_key:
        raise UnsafeBind(
            "--ui serves the dashboard behind the admin key, and none is set: set "
            "serve.api_keys.admin in sameday.yaml as ${SAMEDAY_ADMIN_KEY} and export it, or "
            "run 'sameday ui' (open on localhost) instead"
        )


def mount_dashboard(app: ASGIApp, root: Path, admin_key: str) -> tuple[ASGIApp, Dashboard]:
    """``app`` with the dashboard of the project at ``root`` under ``/ui``, opened by the
    admin key alone (``sameday serve --ui``); the dashboard is returned to be closed."""
    from sameday.ui.access import Access
    from sameday.ui.app import create_ui, with_ui
    from sameday.ui.state import Dashboard

    dash = Dashboard(root)
    return with_ui(app, create_ui(dash, Access(read_key=None, admin_key=admin_key))), dash


COMMANDS = [ui]
