"""``sameday db``: upgrade, downgrade and current on a project, or on a URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sameday.cli.db import COMMANDS, db
from sameday.errors import MigrationError
from sameday.metadata.models import SCHEMA_REVISION


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sameday.yaml").write_text("name: demo\n")
    return tmp_path


def invoke(runner: CliRunner, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(db, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_exports_the_group() -> None:
    assert [db] == COMMANDS


def test_upgrade_current_downgrade_on_the_project_database(
    runner: CliRunner, project: Path
) -> None:
    where = ("--project", str(project))
    code, out = invoke(runner, "current", *where, "--json")
    assert code == 0
    assert json.loads(out) == {
        "url": f"sqlite:///{project / '.sameday' / 'metadata.db'}",
        "revision": None,
        "head": SCHEMA_REVISION,
        "known": True,
        "up_to_date": False,
    }
    assert not (project / ".sameday").exists()

    code, out = invoke(runner, "upgrade", *where)
    assert code == 0 and f"to {SCHEMA_REVISION}" in out
    assert (project / ".sameday" / "metadata.db").is_file()
    code, out = invoke(runner, "upgrade", *where)
    assert "already at revision" in out

    code, out = invoke(runner, "current", *where)
    assert code == 0 and "up to date" in out

    code, out = invoke(runner, "downgrade", "base", *where, input="n\n")
    assert code == 1 and "Aborted" in out
    code, out = invoke(runner, "downgrade", "base", "--yes", *where, "--json")
    assert code == 0
    assert json.loads(out)["after"] is None and json.loads(out)["changed"] is True

    code, out = invoke(runner, "current", *where)
    assert "empty (no sameday schema)" in out and "run 'sameday db upgrade'" in out


def test_url_overrides_the_project(runner: CliRunner, postgres_url: str, project: Path) -> None:
    code, out = invoke(runner, "upgrade", "--url", postgres_url, "--json")
    assert code == 0 and json.loads(out)["after"] == SCHEMA_REVISION
    code, out = invoke(runner, "current", "--url", postgres_url, "--project", str(project))
    assert "up to date" in out
    assert not (project / ".sameday").exists()


def test_bad_revision_is_a_migration_error(runner: CliRunner, project: Path) -> None:
    with pytest.raises(MigrationError, match="Known revisions"):
        invoke(runner, "upgrade", "--revision", "0042", "--project", str(project))
