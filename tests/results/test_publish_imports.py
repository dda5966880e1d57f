"""Import budget of a publish: a whole ``sameday publish`` is timed against a bare script
(issue 15), and pandas (through pyarrow's conversions) and SQLAlchemy (through the metadata
models) were half of its CPU. A publish into a project whose metadata file exists loads neither."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.results.conftest import MakeProject

SCRIPT = """
import sys
from sameday.config import load_project
from sameday.results import publish

result = publish(load_project(sys.argv[1]), "recs", run_id="run-1")
assert result.version is not None
print(" ".join(sorted(m for m in ("pandas", "sqlalchemy", "rich.progress") if m in sys.modules)))
"""


def _publish_loads(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_publish_loads_neither_pandas_nor_sqlalchemy(make_project: MakeProject) -> None:
    project = make_project()
    assert _publish_loads(project.root) == "sqlalchemy"  # the first creates the metadata file
    assert _publish_loads(project.root) == ""
    assert _publish_loads(project.root) == ""  # with a profile to compare and retention to run
