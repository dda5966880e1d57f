"""The ``health`` check on synthetic event logs, on SQLite and on PostgreSQL (metadata and log):
a fair split, a split bug, an arm without traffic, a harmed guardrail, and the auto-stop from
the events to the served default."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner

from sameday.analysis.health import HealthCheck
from sameday.cli import main
from sameday.config import Project, load_project
from sameday.deploy import apply as apply_module
from sameday.deploy.apply import apply_project
from sameday.errors import ApplyRefused
from sameday.events import Exposure, Outcome, open_sink
from sameday.monitor.check import Context, Finding
from sameday.monitor.run import run_monitors
from sameday.monitor.status import status
from sameday.results import publish
from sameday.serve.client import Client

EXPERIMENT = "home-personal"
Setup = Callable[..., Project]


@pytest.fixture(params=["sqlite", "postgres"])
def setup(request: pytest.FixtureRequest, project_dir: Path) -> Setup:
    """``setup(**health)``: the scaffolded project running ``home-personal`` with ``health``
    settings, its lists published and the project applied; metadata and event log in SQLite
    files, or both in one fresh PostgreSQL database."""

    def make(**health: Any) -> Project:
        if request.param == "postgres":
            url = str(request.getfixturevalue("postgres_url"))
            settings = yaml.safe_load((project_dir / "sameday.yaml").read_text())
            settings["storage"] = {**settings.get("storage", {}), "metadata": url, "events": url}
            (project_dir / "sameday.yaml").write_text(yaml.safe_dump(settings))
        monitor = project_dir / "monitors" / "health.yaml"
        monitor.write_text(monitor.read_text().replace("checks: [runs]", "checks: [runs, health]"))
        file = project_dir / "experiments" / f"{EXPERIMENT}.yaml"
        spec = yaml.safe_load(file.read_text()) | {"phase": "running", "health": health}
        file.write_text(yaml.safe_dump(spec))
        out = project_dir / "out"
        out.mkdir(exist_ok=True)
        (out / "popular.csv").write_text(
            "key,item,score\n" + "".join(f"*,pop-{i},{100 - i}\n" for i in range(20))
        )
        (out / "personal.csv").write_text(
            "user,item,score\n"
            + "".join(f"u{u},it-{i},{i}\n" for u in range(50) for i in range(10))
        )
        project = load_project(project_dir, environ={})
        for name in ("popular", "personal"):
            publish(project, name, force=True)
        apply_project(project)
        return load_project(project_dir, environ={})

    return make


def log(
    project: Project,
    units: dict[str, int],
    *,
    clicks: dict[str, float] | None = None,
    ago: float = 600.0,
    until: float = 0.0,
    tag: str = "",
    seed: int = 0,
) -> None:
    """``units[arm]`` units of ``home-personal``, one exposure each from ``ago`` to ``until``
    seconds ago, with a Poisson number of clicks of mean ``clicks[arm]`` (default 0.5)."""
    rng = np.random.default_rng(seed)
    now = time.time()
    exposures, outcomes = [], []
    for arm, count in units.items():
        for n in range(count):
            unit, at = f"{tag}{arm}-{n}", now - ago + (ago - until) * n / count
            exposures.append(
                Exposure(request_id=f"r-{unit}", time=at, unit=unit, surface="home",
                         items=("i",), experiment=EXPERIMENT, arm=arm, seed=EXPERIMENT)
            )  # fmt: skip
            for k in range(int(rng.poisson((clicks or {}).get(arm, 0.5)))):
                outcomes.append(Outcome(event_id=f"c-{unit}-{k}", unit=unit, name="click",
                                        time=at + 1 + k))  # fmt: skip
    with open_sink(project.url(project.settings.storage.events)) as sink:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)


def check(project: Project) -> dict[tuple[str, str], Finding]:
    """The health check's findings, by (check, subject)."""
    with project.open_metadata() as meta:
        context = Context(project=project, metadata=meta, now=datetime.now(UTC))
        return {(f.monitor, f.subject): f for f in HealthCheck().evaluate(context)}


def phase(project: Project) -> str:
    with project.open_metadata() as meta:
        applied = meta.applied_object("experiment", EXPERIMENT)
    assert applied is not None
    return str(applied.spec["phase"])


def test_a_fair_split_is_healthy(setup: Setup) -> None:
    project = setup()
    log(project, {"control": 1000, "personal": 1010})
    found = check(project)
    assert found[("health.srm", EXPERIMENT)].status == "ok"
    assert found[("health.traffic", f"{EXPERIMENT}/personal")].status == "ok"
    guard = found[("health.guardrail", f"{EXPERIMENT}/clicks-per-user/personal")]
    assert guard.status == "ok" and guard.evidence["low"] < 0 < guard.evidence["high"]
    assert phase(project) == "running"


def test_a_split_bug_alerts_and_stops_the_test(setup: Setup) -> None:
    project = setup(auto_stop=True)
    log(project, {"control": 1000, "personal": 700})  # personal lost 30% of its units
    with project.open_metadata() as meta:
        report = run_monitors(project, meta)
    found = {(f.monitor, f.subject): f for f in report.findings}
    srm = found[("health.srm", EXPERIMENT)]
    assert (srm.status, srm.severity) == ("fail", "critical")
    assert srm.evidence["units"] == [1000, 700] and srm.evidence["p_value"] <= 0.001
    assert found[("health.stopped", EXPERIMENT)].status == "fail"
    assert phase(project) == "stopped"
    with project.open_metadata() as meta:
        (stop,) = meta.experiment_stops(EXPERIMENT)
        opened = {(i.check, i.subject) for i in meta.incidents()}
    assert stop.cause == "health.srm" and stop.evidence["units"] == [1000, 700]
    assert ("health.srm", EXPERIMENT) in opened
    # the next pass no longer judges the stopped test, but keeps its stop open
    again = {(f.monitor, f.subject): f for f in check(project).values()}
    assert list(again) == [("health.stopped", EXPERIMENT)]
    shown = CliRunner().invoke(main, ["experiments", "--json", "--project", str(project.root)])
    assert shown.exit_code == 0, shown.output
    (row,) = json.loads(shown.output)
    assert row["phase"] == "stopped" and row["stopped_by"]["cause"] == "health.srm"
    text = CliRunner().invoke(main, ["experiments", "--project", str(project.root)])
    assert "stopped by health.srm" in text.output
    (board,) = status(project, datetime.now(UTC)).experiments
    assert board.stopped_by is not None and board.stopped_by.startswith("health.srm: ")


def test_without_auto_stop_it_only_alerts(setup: Setup) -> None:
    project = setup()
    log(project, {"control": 1000, "personal": 700})
    assert check(project)[("health.srm", EXPERIMENT)].status == "fail"
    assert phase(project) == "running"


def test_an_arm_that_loses_its_traffic(setup: Setup) -> None:
    project = setup(quiet_after="30m")
    log(project, {"control": 400, "personal": 400}, ago=7200, until=3600, tag="old-")
    log(project, {"control": 40}, ago=900, tag="new-")
    found = check(project)
    quiet = found[("health.traffic", f"{EXPERIMENT}/personal")]
    assert quiet.status == "fail" and quiet.evidence["all_arms"] == 40
    assert found[("health.traffic", f"{EXPERIMENT}/control")].status == "ok"


def test_a_few_units_are_not_enough_to_call_an_arm_quiet(setup: Setup) -> None:
    project = setup(quiet_after="30m")
    log(project, {"control": 10}, ago=900)
    assert check(project)[("health.traffic", f"{EXPERIMENT}/personal")].status == "learning"


def test_a_harmed_guardrail_alerts_beyond_its_threshold(setup: Setup) -> None:
    project = setup()
    log(project, {"control": 1000, "personal": 1000}, clicks={"control": 2.0, "personal": 1.0})
    guard = check(project)[("health.guardrail", f"{EXPERIMENT}/clicks-per-user/personal")]
    assert guard.status == "fail" and guard.severity == "critical"
    assert guard.evidence["high"] < 0 and "guardrail harmed" in guard.summary


def test_harm_within_the_declared_threshold_is_tolerated(setup: Setup) -> None:
    project = setup(max_harm={"clicks-per-user": 0.6})
    log(project, {"control": 1000, "personal": 1000}, clicks={"control": 2.0, "personal": 1.0})
    guard = check(project)[("health.guardrail", f"{EXPERIMENT}/clicks-per-user/personal")]
    assert guard.status == "ok" and guard.evidence["max_harm"] == 0.6


def test_auto_stop_end_to_end_serves_the_default(setup: Setup) -> None:
    project = setup(auto_stop=True)
    with Client.from_project(project.root, refresh_interval=0) as client:
        served = [client.recommend("home", f"u{u}", request_id=f"q-{u}") for u in range(600)]
        assert {s.arm for s in served} == {"control", "personal"}
        assert client.writer is not None
        client.writer.flush()
        # the split bug: half of the personal arm's exposures never reach the log
        lost = [s.request_id for s in served if s.arm == "personal"][::2]
        url = project.url(project.settings.storage.events)
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM exposures WHERE request_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)), {"ids": lost})  # fmt: skip
        engine.dispose()
        with project.open_metadata() as meta:
            run_monitors(project, meta)
            (stop,) = meta.experiment_stops(EXPERIMENT, open_only=True)
        assert stop.cause == "health.srm" and phase(project) == "stopped"
        # the running server picks the stop up at its next refresh
        assert client.refresh()
        after = [client.recommend("home", f"u{u}") for u in range(20)]
    # the surface's default for everyone: its result set (personal), popular for strangers
    assert {(s.experiment, s.arm) for s in after} == {(None, None)}
    assert [slot.item for slot in after[3].items][:2] == ["it-9", "it-8"]


def test_apply_refuses_to_restart_a_stopped_test_until_acknowledged(setup: Setup) -> None:
    project = setup(auto_stop=True)
    log(project, {"control": 1000, "personal": 700})
    check(project)
    with pytest.raises(ApplyRefused, match="stopped by its health check"):
        apply_project(load_project(project.root, environ={}))
    file = project.root / "experiments" / f"{EXPERIMENT}.yaml"
    file.write_text(file.read_text().replace("phase: running", "phase: stopped"))
    result = apply_project(load_project(project.root, environ={}))
    assert result.acknowledged == (EXPERIMENT,) and not result.applied
    with project.open_metadata() as meta:
        assert meta.experiment_stops(EXPERIMENT, open_only=True) == []
    assert check(project) == {}
    file.write_text(file.read_text().replace("phase: stopped", "phase: running"))
    apply_project(load_project(project.root, environ={}))
    assert phase(project) == "running"


def test_a_stop_between_applys_plan_and_its_write_is_not_undone(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = setup(auto_stop=True)
    file = project.root / "experiments" / f"{EXPERIMENT}.yaml"
    spec = yaml.safe_load(file.read_text()) | {"description": "edited: apply has work to do"}
    file.write_text(yaml.safe_dump(spec))
    planned = apply_module.plan_project

    def plan_then_a_monitor_pass_stops_it(*args: Any) -> Any:
        plan = planned(*args)  # no stop yet: the plan is clean
        log(project, {"control": 1000, "personal": 700})
        check(project)  # the health check stops the test before apply writes
        return plan

    monkeypatch.setattr(apply_module, "plan_project", plan_then_a_monitor_pass_stops_it)
    with pytest.raises(ApplyRefused, match="stopped by its health check"):
        apply_project(load_project(project.root, environ={}))
    assert phase(project) == "stopped"
    with project.open_metadata() as meta:
        assert len(meta.experiment_stops(EXPERIMENT, open_only=True)) == 1


def test_a_test_that_cannot_be_judged_is_an_error_of_its_own(setup: Setup) -> None:
    project = setup()
    log(project, {"control": 100, "personal": 100})
    with project.open_metadata() as meta:  # applied by an older checkout: a metric since gone
        objects = [(o.kind, o.name, o.spec) for o in meta.applied()]
        for _, name, spec in objects:
            if name == EXPERIMENT:
                spec["metrics"]["guardrails"] = ["bounces"]
        meta.replace_applied(objects)
    found = check(project)
    error = found[("health.srm", EXPERIMENT)]
    assert error.status == "error" and "bounces" in error.summary
