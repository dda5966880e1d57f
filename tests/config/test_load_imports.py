"""Import budget of loading a project: the models of a kind are imported only when the project
has files of that kind (``loader.Kind.model``), so a command on a project of result sets alone,
such as ``sameday publish`` (timed as a whole process against a bare script, issue 15), does not
build the pydantic classes of experiments, metrics, surfaces and monitors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from sameday.config import load_project

project = load_project(sys.argv[1])
models = ("experiment", "metric", "monitor", "surface", "results")
print(" ".join(m for m in models if f"sameday.config.{m}" in sys.modules))
"""


def _models_loaded(root: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_only_the_models_of_the_kinds_a_project_has_are_imported(tmp_path: Path) -> None:
    (tmp_path / "sameday.yaml").write_text("name: p\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "recs.yaml").write_text(
        "name: recs\nsource: {path: recs.parquet}\ncolumns: {key: user_id, item: item_id}\n"
    )
    (tmp_path / "experiments").mkdir()  # an empty folder imports nothing either
    assert _models_loaded(tmp_path) == "results"
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "ctr.yaml").write_text("name: ctr\ntype: proportion\nevent: click\n")
    assert _models_loaded(tmp_path) == "metric results"


def test_loading_pipelines_needs_neither_git_nor_a_shell_parser(tmp_path: Path) -> None:
    """``subprocess`` (to list files with git) and ``shlex`` (strict checks of commands) are
    imported when used: a pipeline whose inputs its upstream jobs serve needs neither."""
    (tmp_path / "sameday.yaml").write_text("name: p\n")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "daily.yaml").write_text(
        "name: daily\njobs:\n"
        "  - {name: a, command: python3 a.py, outputs: [{path: out/a.csv}]}\n"
        "  - {name: b, command: python3 b.py, depends_on: [a], inputs: [out/a.csv]}\n"
    )
    script = (
        "import sys\nfrom sameday.config import load_project\n"
        "assert load_project(sys.argv[1]).pipelines\n"
        "print(' '.join(m for m in ('subprocess', 'shlex') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_the_models_are_still_importable_from_the_package() -> None:
    import sameday.config
    from sameday.config import Experiment, Metric, Pipeline, ProjectSettings, ResultSet, Surface

    assert Experiment.__name__ == "Experiment"
    assert {Metric, Pipeline, ProjectSettings, ResultSet, Surface} <= {
        getattr(sameday.config, name) for name in sameday.config.__all__
    }
