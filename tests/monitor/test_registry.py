"""The registry builds every check a monitor file may name."""

from __future__ import annotations

from pathlib import Path

from sameday.config import load_project
from sameday.config.monitor import CHECK_NAMES, Monitor
from sameday.monitor import registry
from sameday.monitor.check import Check


def test_every_check_name_has_a_factory_and_back() -> None:
    assert set(registry.BUILTIN) == set(CHECK_NAMES)


def test_factories_build_checks_named_after_their_entry(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    for name in CHECK_NAMES:
        checks = registry.factory(name)(project, Monitor(name="m"))
        assert checks and all(check.name.split(".")[0] == name for check in checks)


def test_checks_for_follows_the_monitor_and_the_moment(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    everything = registry.checks_for(project, Monitor(name="m"))

    def families(checks: list[Check]) -> list[str]:  # "freshness.deadline" -> "freshness"
        return list(dict.fromkeys(check.name.split(".")[0] for check in checks))

    assert families(everything) == list(CHECK_NAMES)
    after_run = registry.checks_for(project, Monitor(name="m"), after="run")
    assert families(after_run) == [n for n in CHECK_NAMES if "run" in registry.BUILTIN[n].after]
    assert registry.checks_for(project, Monitor(name="m", checks=[]), after=None) == []
