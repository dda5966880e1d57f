"""``sameday serve`` through the CLI: what it says before the server starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from sameday.cli import main


def test_serve_says_when_its_port_is_taken(runner: CliRunner, project_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["serve", "--project", str(project_dir), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port N" in result.output


def test_serve_refuses_a_public_address_without_api_keys(
    runner: CliRunner, project_dir: Path
) -> None:
    result = runner.invoke(main, ["serve", "--project", str(project_dir), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0 without serve.api_keys.serving" in result.output


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"SAMEDAY_SERVING_KEY": "s-key"}, ["serve.api_keys.admin (SAMEDAY_ADMIN_KEY)"]),
        ({"SAMEDAY_ADMIN_KEY": "a-key"}, ["serve.api_keys.serving (SAMEDAY_SERVING_KEY)"]),
        (
            {},
            [
                "serve.api_keys.serving (SAMEDAY_SERVING_KEY)",
                "serve.api_keys.admin (SAMEDAY_ADMIN_KEY)",
            ],
        ),
    ],
)
def test_a_public_bind_needs_both_keys_and_says_which_is_missing(
    runner: CliRunner, project_dir: Path, env: dict[str, str], missing: list[str]
) -> None:
    env = {"SAMEDAY_SERVING_KEY": "", "SAMEDAY_ADMIN_KEY": "", **env}
    args = ["serve", "--project", str(project_dir), "--host", "0.0.0.0"]
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output
    for setting in missing:
        assert setting in result.output
    assert "s-key" not in result.output and "a-key" not in result.output
