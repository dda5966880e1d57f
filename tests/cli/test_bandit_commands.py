"""``sameday bandit update`` and ``history`` on a real project and event log."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from sameday.cli import main
from sameday.config import load_project
from sameday.deploy.apply import apply_project
from sameday.events.records import Exposure, Outcome
from sameday.events.sink import open_sink
from sameday.metadata import MetadataStore
from sameday.results import publish


def bandit_project(project_dir: Path) -> None:
    file = project_dir / "experiments" / "home-personal.yaml"
    text = file.read_text().replace("design: ab", "design: bandit")
    file.write_text(
        text.replace("phase: draft", "phase: running")
        + "bandit: {reward: {event: click, window: 60}}\n"
    )
    out = project_dir / "out"
    out.mkdir()
    (out / "popular.csv").write_text(
        "key,item,score\n" + "".join(f"*,pop-{i},{20 - i}\n" for i in range(20))
    )
    (out / "personal.csv").write_text(
        "user,item,score\n" + "".join(f"u{u},item-{i},{i}\n" for u in range(20) for i in range(8))
    )
    project = load_project(project_dir, environ={})
    for name in ("popular", "personal"):
        publish(project, name)
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as metadata:
        apply_project(project, metadata)
    # Exposures old enough that their reward windows have closed: control is clicked 1 in 4,
    # personal 3 in 4.
    old = time.time() - 3600
    exposures, outcomes = [], []
    for i in range(40):
        arm = "control" if i % 2 == 0 else "personal"
        exposures.append(
            Exposure(
                request_id=f"r{i}",
                time=old,
                unit=f"u{i}",
                surface="home",
                items=("x",),
                experiment="home-personal",
                arm=arm,
                design="bandit",
                propensity=0.5,
            )
        )
        clicked = (i % 8 == 0) if arm == "control" else (i % 8 != 7)
        if clicked:
            outcomes.append(
                Outcome(
                    event_id=f"e{i}", unit=f"u{i}", name="click", time=old + 5, request_id=f"r{i}"
                )
            )
    with open_sink(project.url(project.settings.storage.events)) as sink:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)


def test_update_then_history(runner: CliRunner, project_dir: Path) -> None:
    bandit_project(project_dir)
    args = ["--project", str(project_dir)]
    result = runner.invoke(main, ["bandit", "update", "home-personal", "--json", *args])
    assert result.exit_code == 0, result.output
    update = json.loads(result.output)
    assert update["saved"] and update["counted"] == 40
    shares = dict(zip(update["params"]["arms"], update["params"]["allocation"], strict=True))
    assert shares["personal"] > shares["control"]
    again = runner.invoke(main, ["bandit", "update", "home-personal", *args])
    assert again.exit_code == 0 and "nothing to update" in again.output
    history = runner.invoke(main, ["bandit", "history", "home-personal", "--json", *args])
    assert history.exit_code == 0, history.output
    assert len(json.loads(history.output)) == 1
