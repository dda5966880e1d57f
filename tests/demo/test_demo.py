"""A small ``sameday demo`` end to end: real pipeline, server, HTTP users, reports, truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sameday.cli import main
from sameday.cli.demo import demo
from sameday.demo import DemoSettings, prepare_folder, run_demo
from sameday.errors import DemoError

pytest.importorskip("implicit")


class Recorder:
    """Collects the demo's progress calls."""

    def __init__(self) -> None:
        self.stages: list[str] = []
        self.advanced = 0

    def stage(self, title: str, total: int | None = None) -> None:
        self.stages.append(title)

    def advance(self, amount: int = 1, detail: str | None = None) -> None:
        self.advanced += amount


def test_small_demo_reaches_the_truth(tmp_path: Path) -> None:
    recorder = Recorder()
    result = run_demo(DemoSettings(users=1500, seed=3, folder=tmp_path / "qs"), recorder)
    assert result.requests == 1500 and result.clicks > 0
    assert set(result.offline) == {"popular", "als", "itemknn"}
    assert result.offline["als"]["ndcg"] > result.offline["popular"]["ndcg"]
    assert any("simulated users" in s for s in recorder.stages) and recorder.advanced >= 1500
    ab, interleaving = result.tests
    assert ab.experiment == "home-als" and ab.truth > 0
    assert ab.low <= ab.truth <= ab.high and ab.grade == "right"
    assert interleaving.design == "interleave" and interleaving.units > 500
    assert interleaving.low - 0.05 <= interleaving.truth <= interleaving.high + 0.05
    assert interleaving.grade != "wrong"
    # The power comparison is computed from the measured effects; at 1,500 users the measured
    # preference is too noisy for its ratio (6x at the demo's 8,000 users) to be asserted here:
    # about one seeded run in eight measured a preference near 50% and a ratio below 1.
    assert result.power is not None
    assert result.power.ab_users > 0 and result.power.interleaving_users > 0
    for path in result.reports:
        assert path.read_text(encoding="utf-8").lower().startswith("<!doctype html>")
    offline = json.loads((result.folder / "out" / "offline.json").read_text())
    assert offline["k"] == 10
    board = CliRunner().invoke(main, ["status", "--json", "--project", str(result.folder)])
    assert board.exit_code == 0, board.output
    found = json.loads(board.output)
    (pipeline,) = found["pipelines"]
    assert (pipeline["name"], pipeline["state"]) == ("quickstart", "succeeded")
    assert {r["name"]: r["keys"] > 0 for r in found["result_sets"]} == dict.fromkeys(
        ("als", "itemknn", "popular"), True
    )
    experiments = {e["name"]: e for e in found["experiments"]}
    assert set(experiments) == {"home-als", "home-als-vs-knn"}
    assert experiments["home-als"]["exposures_day"] > 0
    assert experiments["home-als"]["srm"] in ("ok", "mismatch")
    assert experiments["home-als-vs-knn"]["srm"] == "n/a"
    assert experiments["home-als-vs-knn"]["units"] == interleaving.units
    # The recommenders in the registry: popularity registered, item-kNN and ALS gated.
    history = CliRunner().invoke(
        main, ["models", "history", "home-feed", "--json", "--project", str(result.folder)]
    )
    assert history.exit_code == 0, history.output
    events = json.loads(history.output)[::-1]  # oldest first
    decisions = [e for e in events if e["action"].startswith("gate-")]
    assert len(decisions) == 2 and all(e["evidence"]["checks"] for e in decisions)
    assert (
        events[0]["action"] == "register"
        and events[0]["evidence"]["run_id"] == pipeline["last_run"]
    )


def test_demo_refuses_a_folder_in_use(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(DemoError, match="not empty"):
        prepare_folder(tmp_path)
    result = runner.invoke(demo, ["--users", "10"])
    assert result.exit_code == 2 and "--users" in result.output
