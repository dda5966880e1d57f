"""``sameday serve``: the HTTP service on the project's storage."""

from __future__ import annotations

import gc
import ipaddress
import logging
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from sameday.cli._common import LogOptions, project_option
from sameday.errors import PortInUse, UnsafeBind
from sameday.logs import LEVELS
from sameday.logs import configure as configure_logs

log = logging.getLogger("sameday.serve")

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from sameday.config import Project

KEY_SETTINGS = {
    "serving": "serve.api_keys.serving (SAMEDAY_SERVING_KEY)",
    "admin": "serve.api_keys.admin (SAMEDAY_ADMIN_KEY)",
}
"""Each API key's setting, and the variable the scaffolded sameday.yaml reads it from."""
GC_YOUNG = 5000
"""Allocations between two young-generation collections in a server (Python's default: 700);
see :meth:`Run.serve`."""


def check_bind(host: str, serving_key: str | None, admin_key: str | None) -> None:
    """Refuse a public (non-loopback) address unless both keys are set: a server others can reach
    must neither serve nor log for anyone, nor let anyone reload it.

    Raises:
        UnsafeBind: naming each missing key's setting and environment variable.
    """
    if _is_loopback(host):
        return
    missing = [
        KEY_SETTINGS[name]
        for name, key in (("serving", serving_key), ("admin", admin_key))
        if not key
    ]
    if missing:
        raise UnsafeBind(
            f"refusing to listen on {host} without {' and '.join(missing)}: set "
            f"{'them' if len(missing) > 1 else 'it'} in sameday.yaml as ${{ENV_VAR}} and export "
            "the variable, or listen on 127.0.0.1"
        )


def _check_free(host: str, port: int) -> None:
    """Bind ``host:port`` once, as uvicorn will, so a taken port is reported before start-up.

    Raises:
        PortInUse: the bind failed; the message says what to do.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _in_use(host, port, exc) from exc


def _in_use(host: str, port: int, exc: OSError) -> PortInUse:
    return PortInUse(
        f"cannot listen on {host}:{port}: {exc.strerror or exc}; stop the server using it, or "
        "pass --port N (or set serve.port in sameday.yaml)"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _drained(signum: int, frame: FrameType | None) -> None:
    """SIGTERM once uvicorn has drained (or before it started): exit through the ``finally``
    that flushes the event log, with status 0 as the shutdown was asked for."""
    raise SystemExit(0)


@click.command("serve")
@project_option
@click.option("--host", default=None, help="Address to listen on (default: serve.host).")
@click.option("--port", type=int, default=None, help="Port (default: serve.port).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    envvar="SAMEDAY_WORKERS",
    default=1,
    show_default=True,
    help="Server processes sharing the port, supervised: one that dies is restarted "
    "[env: SAMEDAY_WORKERS].",
)
@click.option(
    "--log-level",
    type=click.Choice(list(LEVELS), case_sensitive=False),
    default=None,
    help="The same as 'sameday --log-level' [default: info].",
)
@click.option(
    "--access-log-sample",
    type=click.FloatRange(0, 1, min_open=True),
    envvar="SAMEDAY_ACCESS_LOG_SAMPLE",
    default=1.0,
    show_default=True,
    help="Share of ordinary requests written to the access log (errors and degraded answers "
    "always are) [env: SAMEDAY_ACCESS_LOG_SAMPLE].",
)
@click.option(
    "--ui", "dashboard", is_flag=True, help="Also serve the dashboard under /ui (admin key)."
)
@click.pass_context
def serve(
    ctx: click.Context,
    project_dir: Path | None,
    host: str | None,
    port: int | None,
    workers: int,
    log_level: str | None,
    access_log_sample: float,
    dashboard: bool,
) -> None:
    """Serve recommendations over HTTP (GET/POST /v1/recommend/SURFACE, POST /v1/events).

    Picks up `sameday apply` and newly published snapshots within serve.refresh_interval, with
    no restart. Listening beyond localhost needs both API keys (serving and admin).

    With --workers N, a supervisor binds the port and forks N server processes that share it,
    each with its own connections; it restarts one that dies, and SIGTERM drains them all.
    The storage must be shared (not memory://).

    Logs at info by default: an access line per request on the sameday.access logger, and
    each state change (store or event log down and back, configuration or snapshot picked up);
    `sameday --log-format json serve` writes them as JSON lines.
    """
    from sameday.config import load_project
    from sameday.urls import scrub_logs

    options = ctx.find_root().obj
    given = options if isinstance(options, LogOptions) else LogOptions("text", None)
    level = (log_level or given.level or "info").lower()
    # A supervisor forks: it must hold no thread then, so its own lines are written inline.
    ctx.call_on_close(configure_logs(given.format, level, background=workers == 1))
    project = load_project(project_dir)
    settings = project.settings.serve
    bind = host or settings.host
    keys = settings.api_keys
    check_bind(bind, keys.serving, keys.admin)
    if dashboard:
        from sameday.cli.ui import needs_admin_key

        needs_admin_key(keys.admin)
    listen = port or settings.port
    scrub_logs()
    run = Run(project, bind, listen, level, given.format, access_log_sample, dashboard)
    if workers == 1:
        _check_free(bind, listen)
        run.serve()
        return
    from sameday.serve.workers import Supervisor, check_shareable
    from sameday.serve.workers import listen as listen_on

    check_shareable(project.settings.storage.serving, project.settings.storage.events)
    try:
        sock = listen_on(bind, listen)
    except OSError as exc:
        raise _in_use(bind, listen, exc) from exc
    Run.preload()
    log.info("sameday supervising %d workers on http://%s:%d", workers, bind, listen)
    with sock:
        Supervisor(sock, workers, run.serve_worker).run()


@dataclass(frozen=True)
class Run:
    """What one server process needs to serve: the CLI's options, resolved (a worker process
    builds everything else itself, after the fork)."""

    project: Project
    host: str
    port: int
    level: str
    log_format: str
    access_log_sample: float
    dashboard: bool

    @staticmethod
    def preload() -> None:
        """Import the server's code before forking (no state, no connection, no thread): each
        worker then starts, and a dead one is replaced, without importing it again, and the
        workers share those pages of memory until they write to them."""
        import uvicorn  # noqa: F401

        import sameday.serve.app
        import sameday.serve.client
        import sameday.serve.server  # noqa: F401

    def serve_worker(self, sock: socket.socket) -> None:
        """A worker of ``--workers N``: its own log writer, then :meth:`serve` on ``sock``;
        SIGINT drains as SIGTERM does (the supervisor's second signal makes uvicorn cancel)."""
        configure_logs(self.log_format, self.level, background=True)
        signal.signal(signal.SIGINT, _drained)
        self.serve([sock])

    def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Open the project's storage, build the app and run uvicorn until SIGTERM, then flush
        the event log (on ``sockets`` when given, else on ``host:port``)."""
        import uvicorn

        from sameday.serve.app import create_app
        from sameday.serve.client import Client
        from sameday.serve.server import server_config

        project = self.project
        settings = project.settings.serve
        keys = settings.api_keys
        client = Client.from_project(project.root)
        app: ASGIApp = create_app(
            client,
            serving_key=keys.serving or None,
            admin_key=keys.admin or None,
            max_body=settings.max_body,
            body_timeout=settings.body_timeout,
            access_log_sample=self.access_log_sample,
        )
        pages = None
        if self.dashboard and keys.admin:
            from sameday.cli.ui import mount_dashboard

            app, pages = mount_dashboard(app, project.root, keys.admin)
        # Everything built so far (config, compiled state, connections) lives as long as the
        # server: move it out of the collector's sight so full collections stay short and do not
        # show up as latency spikes.
        gc.collect()
        gc.freeze()
        # Each request leaves an exposure waiting in the event writer's queue for up to
        # flush_interval: with the default threshold (700 allocations) a young collection ran
        # every few hundred requests and walked those records each time; at 5,000 most are
        # written and freed before one runs (docs/benchmarks.md, "Serving", fifth pass).
        gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
        surfaces = len(client.state.surfaces)
        waiting = "" if surfaces else " (none applied yet: run 'sameday apply'; picked up live)"
        log.info(
            "sameday serving %d surface(s)%s on http://%s:%d",
            surfaces,
            waiting,
            self.host,
            self.port,
        )
        config = server_config(
            app,
            self.host,
            self.port,
            log_level=self.level,
            shutdown_timeout=settings.shutdown_timeout,
        )
        # uvicorn drains on SIGTERM, then raises the signal again under the handler it found:
        # the default one would kill the process before `client.close()` flushes the event buffer.
        signal.signal(signal.SIGTERM, _drained)
        try:
            uvicorn.Server(config).run(sockets=sockets)
        finally:
            client.close()
            if pages is not None:
                pages.close()


COMMANDS = [serve]
