"""No command prints a storage password, whatever goes wrong with the URL that holds it.

Every error path we can trigger from the command line — a mistyped scheme for each storage kind,
an unparseable URL, a server that is not there — is run through the real CLI, and its whole output
and exception chain are searched for the password.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sameday.cli import main

SECRET = "TOPSECRET"
CLOSED_PORT = 1  # nothing listens on port 1 on a development machine or CI runner


def set_storage(project: Path, kind: str, url: str) -> int:
    """Point ``storage.<kind>`` of ``project`` at ``url``; return the line it is on."""
    settings = project / "sameday.yaml"
    lines = settings.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.startswith(f"  {kind}: "):
            lines[number] = f"  {kind}: {url}"
            settings.write_text("\n".join(lines) + "\n")
            return number + 1
    raise AssertionError(f"no storage.{kind} in {settings}")


def write_rows(project: Path) -> None:
    """The rows ``publish popular`` reads, so publish gets as far as opening the stores."""
    out = project / "out"
    out.mkdir(exist_ok=True)
    rows = "\n".join(f"*,item-{i},{20 - i}" for i in range(12))
    (out / "popular.csv").write_text("key,item,score\n" + rows + "\n")


def everything_shown(result: Result) -> str:
    """The output, and the full exception chain with tracebacks if one escaped the CLI."""
    text = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += "".join(traceback.format_exception(result.exception))
    return text


def run(runner: CliRunner, project: Path, *args: str) -> Result:
    return runner.invoke(main, [*args, "--project", str(project)])


COMMANDS = {
    "validate": ("validate",),
    "publish": ("publish", "popular"),
    "report": ("report", "home-personal"),
    "serve": ("serve",),
    "runs": ("runs",),
    "apply": ("apply",),
}

BAD_SCHEMES = [
    ("metadata", f"postgresq://postgres:{SECRET}@127.0.0.1:5432/x", "postgresql"),
    ("serving", f"redsi://:{SECRET}@127.0.0.1:6379/0", "redis"),
    ("events", f"postgresq://postgres:{SECRET}@127.0.0.1:5432/x", "postgresql"),
    ("serving", f"postgresql://postgres:{SECRET}@127.0.0.1:5432/x", None),
]


@pytest.mark.parametrize(("kind", "url", "suggestion"), BAD_SCHEMES)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_mistyped_scheme_is_a_located_error_without_the_password(
    runner: CliRunner, project_dir: Path, kind: str, url: str, suggestion: str | None, command: str
) -> None:
    line = set_storage(project_dir, kind, url)
    write_rows(project_dir)
    result = run(runner, project_dir, *COMMANDS[command])
    shown = everything_shown(result)
    assert SECRET not in shown
    assert result.exit_code != 0
    assert "Traceback" not in shown
    assert re.search(rf"sameday\.yaml:{line}:\d+: storage\.{kind}: unsupported scheme", shown)
    assert ":***@" in shown
    if suggestion:
        assert f"did you mean {suggestion}://?" in shown


UNPARSEABLE = [
    ("serving", f"redis://:{SECRET}@127.0.0.1:port/0", "cannot parse"),
    ("serving", f"redis://:{SECRET}@127.0.0.1:6379/zero", "the Redis database in"),
    ("metadata", f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:port/x", "cannot parse"),
    ("events", f"postgresql://postgres:{SECRET}@[::1/x", "cannot parse"),
]


@pytest.mark.parametrize(("kind", "url", "reason"), UNPARSEABLE)
def test_validate_refuses_an_unparseable_storage_url_without_the_password(
    runner: CliRunner, project_dir: Path, kind: str, url: str, reason: str
) -> None:
    line = set_storage(project_dir, kind, url)
    write_rows(project_dir)
    for command in ("validate", "publish"):
        result = run(runner, project_dir, *COMMANDS[command])
        shown = everything_shown(result)
        assert SECRET not in shown
        assert result.exit_code == 1, shown
        assert re.search(rf"sameday\.yaml:{line}:\d+: storage\.{kind}: {reason}", shown), shown


UNREACHABLE = [
    ("metadata", f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:{CLOSED_PORT}/x", "publish"),
    ("metadata", f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:{CLOSED_PORT}/x", "runs"),
    ("metadata", f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:{CLOSED_PORT}/x", "apply"),
    ("serving", f"redis://:{SECRET}@127.0.0.1:{CLOSED_PORT}/0", "publish"),
    ("events", f"postgresql://postgres:{SECRET}@127.0.0.1:{CLOSED_PORT}/x", "report"),
]


@pytest.mark.parametrize(("kind", "url", "command"), UNREACHABLE)
def test_an_unreachable_server_is_reported_without_the_password(
    runner: CliRunner, project_dir: Path, kind: str, url: str, command: str
) -> None:
    set_storage(project_dir, kind, url)
    write_rows(project_dir)
    result = run(runner, project_dir, *COMMANDS[command])
    shown = everything_shown(result)
    assert SECRET not in shown
    assert result.exit_code == 75  # EX_TEMPFAIL: an outage, worth retrying
    assert "Traceback" not in shown
    assert "127.0.0.1" in shown  # the message still says which server


def test_report_events_option_with_a_bad_url_hides_the_password(
    runner: CliRunner, project_dir: Path
) -> None:
    url = f"postgresq://postgres:{SECRET}@127.0.0.1:5432/x"
    result = run(runner, project_dir, "report", "home-personal", "--events", url)
    shown = everything_shown(result)
    assert result.exit_code == 1
    assert SECRET not in shown
    assert "unsupported scheme postgresq:// in 'postgresq://postgres:***@127.0.0.1:5432/x'" in shown


def test_an_unexpected_error_prints_its_traceback_without_the_password(
    runner: CliRunner, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver error sameday does not translate (a bug) still reaches the user as a traceback,
    for the report, but scrubbed like every other message."""
    import sameday.config

    def broken(*args: object, **kwargs: object) -> None:
        try:
            raise OSError(f'missing "=" after "postgresql://app:{SECRET}@db/x" in conninfo')
        except OSError as exc:
            raise RuntimeError(f"driver failed with password={SECRET}") from exc

    monkeypatch.setattr(sameday.config, "load_project", broken)
    result = run(runner, project_dir, "validate")
    shown = everything_shown(result)
    assert result.exit_code == 1
    assert SECRET not in shown
    assert "Traceback" in shown and "postgresql://app:***@db/x" in shown
    assert "error: unexpected RuntimeError; this is a bug in sameday" in shown
