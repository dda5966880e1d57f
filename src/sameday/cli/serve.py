"""``sameday serve``: the HTTP service on the project's storage."""

from __future__ import annotations

import gc
import ipaddress
import socket
from pathlib import Path

import click

from sameday.cli._common import project_option
from sameday.errors import SamedayError


class UnsafeBind(SamedayError, ValueError):
    """Refusing to listen beyond localhost without an API key."""

    exit_code = 2


class PortInUse(SamedayError, OSError):
    """The address to listen on is taken (or not ours to take)."""


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
            raise PortInUse(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; stop the server using "
                "it, or pass --port N (or set serve.port in sameday.yaml)"
            ) from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@project_option
@click.option("--host", default=None, help="Address to listen on (default: serve.host).")
@click.option("--port", type=int, default=None, help="Port (default: serve.port).")
@click.option("--log-level", default="warning", show_default=True, help="uvicorn's log level.")
def serve(project_dir: Path | None, host: str | None, port: int | None, log_level: str) -> None:
    """Serve recommendations over HTTP (GET/POST /v1/recommend/SURFACE, POST /v1/events).

    Picks up `sameday apply` and newly published snapshots within serve.refresh_interval, with
    no restart. With no API key configured it listens on localhost only.
    """
    import uvicorn

    from sameday.config import load_project
    from sameday.serve.app import create_app
    from sameday.serve.client import Client

    project = load_project(project_dir)
    settings = project.settings.serve
    bind = host or settings.host
    keys = settings.api_keys
    if not (keys.serving or keys.admin) and not _is_loopback(bind):
        raise UnsafeBind(
            f"refusing to listen on {bind} with no API key: set serve.api_keys.serving and "
            "serve.api_keys.admin in sameday.yaml (as ${ENV_VAR}s), or listen on 127.0.0.1"
        )
    listen = port or settings.port
    _check_free(bind, listen)
    client = Client.from_project(project.root)
    app = create_app(client, serving_key=keys.serving or None, admin_key=keys.admin or None)
    # Everything built so far (config, compiled state, connections) lives as long as the server:
    # move it out of the collector's sight so full collections stay short and do not show up
    # as latency spikes.
    gc.collect()
    gc.freeze()
    surfaces = len(client.state.surfaces)
    waiting = "" if surfaces else " (none applied yet: run 'sameday apply'; picked up live)"
    click.echo(
        f"sameday serving {surfaces} surface(s){waiting} on http://{bind}:{listen}", err=True
    )
    store_error = client.engine.cache.store_error
    if store_error is not None:
        click.echo(
            f"warning: serving store unreachable ({store_error}): answering from fallbacks, "
            "flagged degraded, until it answers (GET /readyz tells)",
            err=True,
        )
    try:
        uvicorn.run(app, host=bind, port=listen, log_level=log_level, access_log=False)
    finally:
        client.close()


COMMANDS = [serve]
