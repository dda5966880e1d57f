"""``applied_experiments``: what ``sameday experiments`` lists, as a library function."""

from __future__ import annotations

from pathlib import Path

from sameday.config import load_project
from sameday.deploy.apply import apply_project, plan_project
from sameday.deploy.experiments import applied_experiments


def test_applied_experiments_lists_what_apply_wrote(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    assert applied_experiments(project) == []
    assert not plan_project(project).empty  # opens and closes the project's metadata itself
    assert apply_project(project).applied
    (row,) = applied_experiments(project)
    spec = project.experiments["home-personal"]
    assert (row.name, row.surface, row.design, row.phase) == (
        "home-personal",
        spec.surface,
        spec.design,
        "draft",
    )
    assert row.arms == tuple(a.name for a in spec.arms)
    assert row.winner is None and row.applied_at is not None
    assert plan_project(project).empty
