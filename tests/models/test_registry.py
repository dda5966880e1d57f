"""The registry on real SQLite and PostgreSQL metadata, with bundles in a local folder."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from sameday.config.loader import Project
from sameday.errors import BundleCorrupted, InvalidModelRef, ModelError, ModelNotFound
from sameday.models import Registry, load_model
from sameday.models.bundle import MANIFEST, bundle_path
from tests.models._toy import ROWS, LinearScorer, save


def bundle_dir(registry: Registry, name: str, content_hash: str) -> Path:
    return Path(registry.files.url) / bundle_path(name, content_hash)


def test_a_version_is_a_bundle_of_files_and_metadata(registry: Registry, tmp_path: Path) -> None:
    source = save({"clicks": 1.0, "recency": -0.5}, tmp_path / "out" / "model")
    record = registry.register(
        "ranker",
        source,
        loader="tests.models._toy:load",
        params={"l2": 0.01},
        metrics={"ndcg@10": 0.31},
        datasets={"interactions": "2026-12-01"},
        input_example=ROWS,
        run_id="run-1",
    )
    assert (record.name, record.version, record.flavor) == ("ranker", 1, "python")
    manifest = registry.manifest("ranker/1")
    assert manifest["files"]["weights.json"]["size"] == (source / "weights.json").stat().st_size
    assert manifest["params"] == {"l2": 0.01} and manifest["metrics"] == {"ndcg@10": 0.31}
    assert manifest["datasets"] == [{"name": "interactions", "version": "2026-12-01"}]
    assert manifest["run_id"] == "run-1"
    assert manifest["environment"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert manifest["environment"]["packages"]["sqlalchemy"]
    assert set(manifest["code"]) == {"commit", "dirty"}
    assert manifest["signature"]["inputs"] == [
        {"name": "user", "type": "string"},
        {"name": "item", "type": "string"},
        {"name": "clicks", "type": "integer"},
        {"name": "recency", "type": "double"},
    ]
    assert record.lineage["datasets"] == manifest["datasets"]
    # Content-addressed: the folder is named by the hash the registry recorded.
    assert bundle_dir(registry, "ranker", record.content_hash).joinpath(MANIFEST).is_file()
    model = registry.load("ranker/1")
    assert model.predict(ROWS) == LinearScorer({"clicks": 1.0, "recency": -0.5}).predict(ROWS)


def test_the_same_bundle_is_registered_once_and_never_rewritten(
    registry: Registry, tmp_path: Path
) -> None:
    source = save({"clicks": 1.0}, tmp_path / "m")
    first = registry.register("ranker", source, loader="tests.models._toy:load", run_id="r")
    written = bundle_dir(registry, "ranker", first.content_hash) / MANIFEST
    stamp = written.stat().st_mtime_ns
    again = registry.register("ranker", source, loader="tests.models._toy:load", run_id="r")
    assert (again.version, again.content_hash) == (1, first.content_hash)
    assert written.stat().st_mtime_ns == stamp
    save({"clicks": 2.0}, tmp_path / "m")
    changed = registry.register("ranker", source, loader="tests.models._toy:load", run_id="r")
    assert changed.version == 2 and changed.content_hash != first.content_hash
    assert [v.version for v in registry.versions("ranker")] == [2, 1]


def test_a_pickled_model_object_round_trips(registry: Registry) -> None:
    registry.register("lin", model=LinearScorer({"clicks": 2.0}, bias=1.0))
    assert registry.load("lin").predict(ROWS) == [7.0, 1.0, 15.0]


def test_aliases_promote_rollback_and_history(registry: Registry) -> None:
    for weight in (1.0, 2.0, 3.0):
        registry.register("lin", model=LinearScorer({"clicks": weight}))
    registry.set_alias("lin/1", "champion")
    registry.set_alias("lin/2", "challenger")
    assert registry.resolve("lin@champion").version == 1
    assert registry.load("lin@challenger").predict(ROWS[:1]) == [6.0]
    moved = registry.promote("lin@challenger", reason="won the A/B test")
    assert (moved.version, moved.previous, moved.action) == (2, 1, "promote")
    registry.promote("lin/3")
    assert registry.resolve("lin@champion").version == 3
    # Rollback undoes the latest move still in force, and again the one before.
    assert registry.rollback("lin").version == 2
    assert registry.rollback("lin").version == 1
    with pytest.raises(ModelNotFound, match="nothing to roll back to"):
        registry.rollback("lin")
    assert registry.resolve("lin").version == 3  # NAME alone: the newest
    assert registry.resolve("lin@champion").aliases == ("champion",)
    events = registry.history("lin")
    assert [(e.action, e.version, e.alias, e.previous) for e in events[:5]] == [
        ("rollback", 1, "champion", 2),
        ("rollback", 2, "champion", 3),
        ("promote", 3, "champion", 2),
        ("promote", 2, "champion", 1),
        ("alias", 2, "challenger", None),
    ]
    assert events[3].reason == "won the A/B test"
    registry.delete_alias("lin", "challenger")
    with pytest.raises(ModelNotFound, match="alias 'challenger'"):
        registry.resolve("lin@challenger")
    summary = registry.list_models()
    assert [(s.name, s.versions, s.latest, s.aliases) for s in summary] == [
        ("lin", 3, 3, {"champion": 1})
    ]


def test_the_list_has_each_models_own_aliases_and_latest_change(registry: Registry) -> None:
    for weight in (1.0, 2.0):
        registry.register("lin", model=LinearScorer({"clicks": weight}))
    registry.register("knn", model=LinearScorer({"recency": 1.0}), aliases=["champion"])
    registry.register("plain", model=LinearScorer({"recency": 3.0}))
    event = registry.set_alias("lin/1", "challenger")
    found = {s.name: s for s in registry.list_models()}
    assert list(found) == ["knn", "lin", "plain"]
    assert [(s.versions, s.latest, s.aliases) for s in found.values()] == [
        (1, 1, {"champion": 1}), (2, 2, {"challenger": 1}), (1, 1, {}),
    ]  # fmt: skip
    assert found["lin"].updated_at == event.at  # the alias moved after the newest version
    assert found["plain"].updated_at == registry.resolve("plain").created_at


def test_unknown_models_versions_and_refs_say_what_exists(registry: Registry) -> None:
    registry.register("lin", model=LinearScorer({}))
    with pytest.raises(ModelNotFound, match=r"no model named 'nope'.*models: lin"):
        registry.resolve("nope@champion")
    with pytest.raises(ModelNotFound, match="has no version 7"):
        registry.resolve("lin/7")
    with pytest.raises(InvalidModelRef, match="NAME@ALIAS"):
        registry.resolve("lin@")
    with pytest.raises(ModelError, match="no loader"):
        registry.register("raw", Path(registry.project.root / "jobs"))
        registry.load("raw")


@pytest.mark.parametrize("damage", ["changed", "truncated", "missing", "manifest"])
def test_a_corrupted_bundle_is_refused_on_load(
    registry: Registry, tmp_path: Path, damage: str
) -> None:
    source = save({"clicks": 1.0}, tmp_path / "m")
    (source / "notes.txt").write_text("trained on the December data\n")
    record = registry.register("ranker", source, loader="tests.models._toy:load")
    folder = bundle_dir(registry, "ranker", record.content_hash)
    weights = folder / "files" / "weights.json"
    if damage == "changed":
        weights.write_text(weights.read_text().replace("1.0", "9.0"))
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:5])
    elif damage == "missing":
        (folder / "files" / "notes.txt").unlink()
    else:
        manifest = json.loads((folder / MANIFEST).read_text())
        manifest["metrics"] = {"ndcg@10": 0.99}
        (folder / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BundleCorrupted) as info:
        registry.load("ranker/1")
    message = str(info.value)
    assert "refusing to load" in message and str(folder) in message
    expected = {"changed": "weights.json: sha256", "truncated": "weights.json: 5 bytes"}
    expected |= {"missing": "notes.txt: missing", "manifest": f"{MANIFEST}: sha256"}
    assert any(p.startswith(expected[damage]) for p in info.value.problems)


def test_register_and_load_from_python_in_the_project_folder(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a training job does: one call, found from the current folder, run id from env."""
    import sameday.models

    monkeypatch.chdir(project.root)
    monkeypatch.setenv("SAMEDAY_RUN_ID", "daily-20261201-abc")
    source = save({"clicks": 0.5}, project.root / "out" / "ranker")
    record = sameday.models.register(
        "ranker", "out/ranker", loader="tests.models._toy:load", aliases=["challenger"]
    )
    assert record.run_id == "daily-20261201-abc" and record.aliases == ("challenger",)
    assert load_model("ranker@challenger").predict(ROWS) == [1.5, 0.0, 3.5]
    assert source.is_dir()


def test_a_loader_in_the_project_folder_is_found(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training code lives in the project, importable in its jobs but not installed."""
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])
    module = f"scorer_{uuid.uuid4().hex[:8]}"
    (registry.project.root / f"{module}.py").write_text(
        "from tests.models._toy import load as load_weights\n\n"
        "def load(folder):\n    return load_weights(folder)\n"
    )
    source = save({"clicks": 2.0}, tmp_path / "m")
    registry.register("ranker", source, loader=f"{module}:load")
    assert registry.load("ranker").predict(ROWS) == [6.0, 0.0, 14.0]
    with pytest.raises(ModelError, match=r"cannot import 'nowhere_[0-9a-f]+'"):
        registry.register("other", source, loader=f"nowhere_{module[7:]}:load")
        registry.load("other")
