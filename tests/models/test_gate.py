"""The training gate: conditions, decisions with evidence, and a train → evaluate → gate run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from sameday.config import load_project
from sameday.config.loader import Project
from sameday.errors import ConfigError, GateError
from sameday.metadata import MetadataStore
from sameday.models import Registry, open_registry
from sameday.models.gate import evaluate, parse_condition, read_metrics
from sameday.pipeline.runner import Runner, plan_run
from sameday.results.job_output import job_publisher
from tests.models._toy import save

CONDITIONS = ["ndcg@10 >= champion - 0.002", "coverage >= 0.2"]


def test_conditions_compare_with_a_number_or_the_champion() -> None:
    relative = parse_condition("ndcg@10 >= champion - 0.002")
    assert (relative.metric, relative.op, relative.relative) == ("ndcg@10", ">=", True)
    assert relative.threshold(0.301) == pytest.approx(0.299)
    assert parse_condition("latency_ms <= champion * 1.1").threshold(10.0) == pytest.approx(11.0)
    assert parse_condition("coverage > .2").value == 0.2
    verdict = evaluate(CONDITIONS, {"ndcg@10": 0.2995, "coverage": 0.25}, {"ndcg@10": 0.301})
    assert verdict.blessed
    worse = evaluate(CONDITIONS, {"ndcg@10": 0.2985, "coverage": 0.19}, {"ndcg@10": 0.301})
    assert [c.condition for c in worse.failed()] == CONDITIONS
    first = evaluate(CONDITIONS, {"ndcg@10": 0.1, "coverage": 0.3}, None)
    assert first.blessed and first.checks[0].note == "no champion yet: nothing to compare with"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("ndcg@10 => champion", "is not 'METRIC OP NUMBER'"),
        ("ndcg@10 >= champion - x", "is not 'METRIC OP NUMBER'"),
        ("recall >= 0.1", "checks 'recall' but the candidate's metrics have no such metric"),
    ],
)
def test_bad_conditions_and_missing_metrics_are_refused(condition: str, message: str) -> None:
    with pytest.raises(GateError, match=re.escape(message)):
        evaluate([condition], {"ndcg@10": 0.3}, {"ndcg@10": 0.3})


def test_metrics_file_may_hold_the_champion_scored_on_the_same_data(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"candidate": {"ndcg@10": 0.3}, "champion": {"ndcg@10": 0.28}}))
    assert read_metrics(path) == ({"ndcg@10": 0.3}, {"ndcg@10": 0.28})
    path.write_text(json.dumps({"ndcg@10": 0.3}))
    assert read_metrics(path) == ({"ndcg@10": 0.3}, None)
    with pytest.raises(GateError, match="does not exist"):
        read_metrics(tmp_path / "none.json")


def candidate(tmp_path: Path, weight: float) -> Path:
    return save({"clicks": weight}, tmp_path / f"candidate-{weight}")


def test_the_gate_blesses_a_better_candidate_and_refuses_a_worse_one(
    registry: Registry, tmp_path: Path
) -> None:
    first = registry.gate(
        "ranker", candidate(tmp_path, 1.0), CONDITIONS, {"ndcg@10": 0.30, "coverage": 0.4}
    )
    assert first.blessed and first.version is not None and first.champion is None
    better = registry.gate(
        "ranker", candidate(tmp_path, 2.0), CONDITIONS, {"ndcg@10": 0.31, "coverage": 0.4}
    )
    assert better.blessed and better.version is not None
    assert (better.version.version, better.champion) == (2, 1)
    assert registry.resolve("ranker@champion").version == 2
    assert better.finding.status == "ok"

    worse = registry.gate(
        "ranker", candidate(tmp_path, 3.0), CONDITIONS, {"ndcg@10": 0.305, "coverage": 0.1}
    )
    assert not worse.blessed and worse.version is None
    # Nothing changed: no new version, no new bundle, the champion stays.
    assert [v.version for v in registry.versions("ranker")] == [2, 1]
    assert len(list((Path(registry.files.url) / "models" / "ranker").iterdir())) == 2
    assert registry.resolve("ranker@champion").version == 2
    finding = worse.finding
    assert (finding.status, finding.monitor, finding.subject) == ("fail", "model.gate", "ranker")
    assert "ndcg@10 = 0.305, needs >= champion - 0.002 = 0.308" in finding.summary
    assert "coverage = 0.1, needs >= 0.2" in finding.summary

    history = registry.history("ranker")
    assert [e.action for e in history] == [
        "gate-refused",
        "gate-blessed",
        "register",
        "gate-blessed",
        "register",
    ]
    refused = history[0]
    assert refused.version is None and refused.reason == finding.summary
    assert refused.evidence["champion"] == {
        "version": 2,
        "metrics": {"ndcg@10": 0.31, "coverage": 0.4},
        "scored_by": "registry",
    }
    assert [c["passed"] for c in refused.evidence["checks"]] == [False, False]
    assert set(refused.evidence["candidate_files"]) == {"weights.json"}
    blessed = history[1]
    assert (blessed.version, blessed.alias, blessed.previous) == (2, "champion", 1)
    assert blessed.evidence["checks"][0]["threshold"] == pytest.approx(0.298)


def test_champion_metrics_from_the_evaluation_take_precedence(
    registry: Registry, tmp_path: Path
) -> None:
    # Without a champion, "champion" metrics from an evaluation have no version to speak for.
    first = registry.gate(
        "ranker",
        candidate(tmp_path, 1.0),
        CONDITIONS,
        {"ndcg@10": 0.5, "coverage": 1},
        champion_metrics={"ndcg@10": 0.9},
    )
    assert first.blessed and first.verdict.checks[0].note is not None
    # Registered with 0.5, the champion scores 0.29 on today's data: 0.30 beats it.
    decision = registry.gate(
        "ranker",
        candidate(tmp_path, 2.0),
        CONDITIONS,
        {"ndcg@10": 0.30, "coverage": 1},
        champion_metrics={"ndcg@10": 0.29},
    )
    assert decision.blessed
    assert registry.history("ranker", 1)[0].evidence["champion"]["scored_by"] == "evaluation"


TRAIN = {
    "name": "train",
    "params": {"ndcg": {"default": "0.30"}, "weight": {"default": "1.0"}},
    "jobs": [
        {
            "name": "train",
            "command": 'mkdir -p out/ranker && printf \'{"weights": {"clicks": %s}, '
            '"bias": 0}\' "$WEIGHT" > out/ranker/weights.json',
        },
        {
            "name": "evaluate",
            "depends_on": ["train"],
            "command": 'printf \'{"ndcg@10": %s, "coverage": 0.5}\' "$NDCG" > out/eval.json'
            " && python3 -c \"print('key,item,score'); "
            "[print(f'*,i{i},{20 - i}') for i in range(12)]\" > out/scored.csv",
            "outputs": [
                {
                    "path": "out/ranker",
                    "register": "ranker",
                    "loader": "tests.models._toy:load",
                    "metrics": "out/eval.json",
                    "gate": CONDITIONS,
                    "lists": {"popular": "out/scored.csv"},
                }
            ],
        },
    ],
}


def run_training(project: Project, **params: str) -> str:
    with MetadataStore.open(project.url(project.settings.storage.metadata)) as store:
        plan, _ = plan_run(project, "train", store, params=params)
        return Runner(project, store, publisher=job_publisher(project)).run(plan).run_id


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"gate": ["ndcg@10 => champion"]}, "gate condition 'ndcg@10 => champion' is not"),
        ({"gate": CONDITIONS, "metrics": None}, "a gate compares metrics"),
        ({"publish": "popular"}, "either publishes a result set or registers a model"),
        ({"lists": {"nope": "out/x.csv"}}, "no result set named 'nope'"),
    ],
)
def test_validate_refuses_a_bad_model_output(
    project_dir: Path, output: dict[str, object], message: str
) -> None:
    pipeline = yaml.safe_load(yaml.safe_dump(TRAIN))
    pipeline["jobs"][1]["outputs"][0].update(output)
    pipeline["jobs"][1]["outputs"][0] = {
        k: v for k, v in pipeline["jobs"][1]["outputs"][0].items() if v is not None
    }
    (project_dir / "pipelines" / "train.yaml").write_text(yaml.safe_dump(pipeline))
    with pytest.raises(ConfigError) as info:
        load_project(project_dir)
    assert message in str(info.value) and "pipelines/train.yaml:" in str(info.value)


def test_a_pipeline_trains_evaluates_and_gates(project: Project) -> None:
    (project.root / "pipelines" / "train.yaml").write_text(yaml.safe_dump(TRAIN))
    project = load_project(project.root)
    first = run_training(project, ndcg="0.30", weight="1.0")
    with open_registry(project) as registry:
        champion = registry.resolve("ranker@champion")
        assert (champion.version, champion.run_id) == (1, first)
        snapshot = registry.metadata.live_snapshot("popular")
        assert snapshot is not None and snapshot.run_id == first
        assert registry.load("ranker@champion").predict([{"clicks": 2}]) == [2.0]

    refused = run_training(project, ndcg="0.29", weight="5.0")  # the job still succeeds
    with open_registry(project) as registry:
        assert registry.resolve("ranker@champion").version == 1
        assert [v.version for v in registry.versions("ranker")] == [1]
        live = registry.metadata.live_snapshot("popular")
        assert live is not None and live.version == snapshot.version  # nothing published
        decision = registry.history("ranker", 1)[0]
        assert decision.action == "gate-refused" and decision.evidence["run_id"] == refused

    blessed = run_training(project, ndcg="0.31", weight="2.0")
    with open_registry(project) as registry:
        assert registry.resolve("ranker@champion").run_id == blessed
        live = registry.metadata.live_snapshot("popular")
        assert live is not None and live.run_id == blessed
        assert registry.load("ranker@champion").predict([{"clicks": 2}]) == [4.0]
