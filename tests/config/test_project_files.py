"""The project's files as its image holds them, and the path patterns jobs declare."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sameday.config.project_files import (
    IgnoreRules,
    matches,
    normalise,
    present,
    project_files,
    static_prefix,
)


def _tree(root: Path, *files: str) -> None:
    for relative in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)


def test_a_dockerignore_decides_what_the_image_holds(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        "sameday.yaml",
        "jobs/train.py",
        "jobs/__pycache__/train.cpython-311.pyc",
        "data/interactions.csv",
        "out/als.csv",
        "notes/keep.md",
        "notes/draft.md",
        ".sameday/metadata.db",
        ".git/HEAD",
    )
    (tmp_path / ".dockerignore").write_text(
        "# what the jobs write\ndata/\n/out\n**/__pycache__/\nnotes/*.md\n!notes/keep.md\n"
    )
    assert project_files(tmp_path) == {
        ".dockerignore",
        "sameday.yaml",
        "jobs/train.py",
        "notes/keep.md",
    }


def test_without_a_dockerignore_git_decides(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _tree(tmp_path, "sameday.yaml", "jobs/a.py", "data/x.csv", "scratch.txt", ".sameday/m.db")
    (tmp_path / ".gitignore").write_text("data/\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "sameday.yaml"], check=True)
    # tracked, and untracked files git does not ignore; never .sameday/
    assert project_files(tmp_path) == {".gitignore", "sameday.yaml", "jobs/a.py", "scratch.txt"}
    (tmp_path / "sameday.yaml").unlink()  # deleted but still in the index: not in an image
    assert "sameday.yaml" not in project_files(tmp_path)


def test_outside_git_the_gitignore_decides_and_matches_at_any_depth(tmp_path: Path) -> None:
    _tree(tmp_path, "a/data/x", "data/y", "keep/z.py", "keep/z.pyc", "deep/out/w")
    (tmp_path / ".gitignore").write_text("data/\n*.pyc\n/deep/out/\n")
    assert project_files(tmp_path) == {".gitignore", "keep/z.py"}


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("out/*.csv", "out/a.csv", True),
        ("out/*.csv", "out/x/a.csv", False),
        ("out/**/*.csv", "out/x/y/a.csv", True),
        ("out/**/*.csv", "out/a.csv", True),
        ("data/?.npz", "data/a.npz", True),
        ("data/[ab].npz", "data/c.npz", False),
        ("data/[!ab].npz", "data/c.npz", True),
    ],
)
def test_glob_matching(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


def test_paths_are_normalised_and_must_stay_in_the_project() -> None:
    assert normalise("./out//als.csv") == "out/als.csv"
    assert normalise("data/") == "data"
    for bad in ("/etc/passwd", "../x", "out/../../x", "~/x", "."):
        with pytest.raises(ValueError):
            normalise(bad)
    assert static_prefix("out/als/*.parquet") == "out/als"
    assert static_prefix("*.csv") == ""


def test_present_covers_files_folders_and_globs() -> None:
    files = ["jobs/a.py", "jobs/b.py", "jobs/lib/c.py", "sameday.yaml"]
    assert present("jobs", files) == ["jobs/a.py", "jobs/b.py", "jobs/lib/c.py"]
    assert present("jobs/a.py", files) == ["jobs/a.py"]
    assert present("jobs/*.py", files) == ["jobs/a.py", "jobs/b.py"]
    assert present("jobs/*", files) == ["jobs/a.py", "jobs/b.py", "jobs/lib/c.py"]
    assert present("data", files) == []


def test_ignore_rules_exclude_what_lies_in_an_excluded_folder() -> None:
    rules = IgnoreRules(["build/", "!build/keep"], gitignore=False)
    assert rules.excluded("build", is_dir=True)
    assert rules.excluded("build/deep/x.txt")
    assert not rules.excluded("src/build.py")
    assert "2 patterns" in repr(rules)
