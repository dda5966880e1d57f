"""Drifting tastes: a model trained once decays; retrained daily behind the gate, it holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sameday.config import load_project
from sameday.errors import SimulationError
from sameday.metadata import MetadataStore
from sameday.models import open_registry
from sameday.sim.drift import MODEL, RESULT_SET, DriftSettings, drift, run_drift
from sameday.sim.world import make_world

SMALL = DriftSettings(
    days=6, users=500, items=150, rank=6, keep=0.85, interactions=30.0, outages=(3,)
)


def test_drift_keeps_the_spread_of_tastes() -> None:
    world = make_world(4000, 10, seed=1)
    rng = np.random.default_rng(2)
    moved = world
    for _ in range(20):
        moved = drift(moved, 0.9, rng)
    assert moved.user_factors.std() == pytest.approx(world.user_factors.std(), rel=0.03)
    start = world.user_factors.ravel()
    assert abs(np.corrcoef(start, moved.user_factors.ravel())[0, 1]) < 0.2  # 0.9**20 = 0.12


def test_the_gated_model_holds_while_the_model_trained_once_decays(tmp_path: Path) -> None:
    result = run_drift(SMALL, tmp_path / "project")
    days = result.days
    assert [d.day for d in days] == [1, 2, 3, 4, 5, 6]
    assert days[-1].ctr_once < 0.75 * days[0].ctr_once
    assert days[-1].ctr_gated > 1.5 * days[-1].ctr_once
    assert all(d.ctr_gated < d.ctr_best for d in days)
    # The outage day's candidate, trained on a fifth of the logs, is refused; the champion stays.
    assert [d.blessed for d in days] == [True, True, False, True, True, True]
    assert days[2].champion == days[1].champion
    assert days[2].ndcg_candidate < days[2].ndcg_champion
    assert len(result.refusals) == 1 and "day 3: gate refused" in result.refusals[0]

    project = load_project(result.folder)
    with open_registry(project) as registry:
        assert len(registry.versions(MODEL)) == result.versions == 6
        champion = registry.resolve(f"{MODEL}@champion")
        assert (champion.version, champion.run_id) == (6, "drift-day-6")
        refused = [e for e in registry.history(MODEL) if e.action == "gate-refused"]
        assert [e.evidence["run_id"] for e in refused] == ["drift-day-3"]
        model = registry.load(f"{MODEL}@champion")
        rows = [{"user": "user-1", "item": "item-2"}, {"user": 1, "item": 2}]
        assert model.predict(rows)[0] == model.predict(rows)[1]
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as store:
        snapshots = store.list_snapshots(RESULT_SET)
        assert len(snapshots) >= 1 and result.snapshots == 6
        live = store.live_snapshot(RESULT_SET)
        assert live is not None and live.run_id == "drift-day-6"


def test_settings_and_folders_it_cannot_use_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="keep <= 1"):
        run_drift(DriftSettings(keep=1.5), tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "mine.txt").write_text("x")
    with pytest.raises(SimulationError, match="not empty"):
        run_drift(SMALL, tmp_path / "b")
