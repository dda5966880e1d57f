"""``sameday models``: each subcommand's text and ``--json`` on a scaffolded project."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.models._toy import save

from sameday.cli import main


def invoke(runner: CliRunner, project: Path, *args: str) -> str:
    result = runner.invoke(main, [*args, "--project", str(project)])
    assert result.exit_code == 0, result.output
    return result.output


def test_register_list_show_alias_promote_rollback_history(
    runner: CliRunner, project_dir: Path, tmp_path: Path
) -> None:
    loader = ("--loader", "tests.models._toy:load")
    first = save({"clicks": 1.0}, tmp_path / "a")
    out = invoke(
        runner,
        project_dir,
        "models",
        "register",
        "ranker",
        str(first),
        *loader,
        "--param",
        "factors=64",
        "--metric",
        "ndcg@10=0.31",
        "--dataset",
        "interactions=2026-12-01",
        "--alias",
        "champion",
    )
    assert out.startswith("Registered ranker/1 (") and "ranker@champion -> 1" in out
    record = json.loads(
        invoke(
            runner,
            project_dir,
            "models",
            "register",
            "ranker",
            str(save({"clicks": 2.0}, tmp_path / "b")),
            *loader,
            "--metric",
            "ndcg@10=0.33",
            "--json",
        )
    )
    assert (record["version"], record["metrics"]) == (2, {"ndcg@10": 0.33})

    listed = json.loads(invoke(runner, project_dir, "models", "list", "--json"))
    assert [(m["name"], m["latest"], m["aliases"]) for m in listed] == [
        ("ranker", 2, {"champion": 1})
    ]
    shown = json.loads(invoke(runner, project_dir, "models", "show", "ranker@champion", "--json"))
    assert shown["manifest"]["params"] == {"factors": 64}
    assert shown["manifest"]["datasets"] == [{"name": "interactions", "version": "2026-12-01"}]
    text = invoke(runner, project_dir, "models", "show", "ranker/1")
    assert "ndcg@10=0.31" in text and "weights.json" in text and "packages locked" in text

    assert "ranker@challenger -> 2." in invoke(
        runner, project_dir, "models", "alias", "ranker/2", "challenger"
    )
    assert "ranker@champion -> 2 (was 1)." in invoke(
        runner, project_dir, "models", "promote", "ranker@challenger", "--reason", "won"
    )
    assert "ranker@champion -> 1 (was 2)." in invoke(
        runner, project_dir, "models", "rollback", "ranker"
    )
    events = json.loads(invoke(runner, project_dir, "models", "history", "ranker", "--json"))
    assert [e["action"] for e in events] == [
        "rollback",
        "promote",
        "alias",
        "register",
        "register",
        "register",
    ]
    assert "won" in invoke(runner, project_dir, "models", "history", "ranker")


def test_gate_command_blesses_then_refuses_with_the_reason(
    runner: CliRunner, project_dir: Path, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics.json"
    lists = tmp_path / "scored.csv"
    lists.write_text("key,item,score\n" + "".join(f"*,i{i},{20 - i}\n" for i in range(12)))

    def gate(ndcg: float, weight: float, *extra: str) -> str:
        metrics.write_text(json.dumps({"ndcg@10": ndcg, "coverage": 0.3}))
        return invoke(
            runner,
            project_dir,
            "models",
            "gate",
            "ranker",
            str(save({"clicks": weight}, tmp_path / f"m{weight}")),
            "--metrics",
            str(metrics),
            "--when",
            "ndcg@10 >= champion - 0.002",
            "--when",
            "coverage >= 0.2",
            "--publish",
            f"popular={lists}",
            *extra,
        )

    first = gate(0.30, 1.0)
    assert "gate blessed the candidate of 'ranker' (no champion yet)" in first
    assert "ranker@champion -> 1" in first and "Published popular-" in first
    refused = json.loads(gate(0.29, 2.0, "--json"))
    assert refused["blessed"] is False and refused["published"] == []
    assert refused["finding"]["summary"] == (
        "gate refused the candidate of 'ranker' (champion ranker/1): "
        "ndcg@10 = 0.29, needs >= champion - 0.002 = 0.298"
    )
    history = invoke(runner, project_dir, "models", "history", "ranker")
    assert history.splitlines()[0].split()[2:4] == ["gate-refused", "-"]
    assert "FAIL ndcg@10 >= champion - 0.002: candidate 0.29, threshold 0.298" in history
    assert "(champion 0.3)" in history


def test_export_and_errors(runner: CliRunner, project_dir: Path, tmp_path: Path) -> None:
    invoke(
        runner,
        project_dir,
        "models",
        "register",
        "ranker",
        str(save({"clicks": 1.0}, tmp_path / "a")),
        "--loader",
        "tests.models._toy:load",
    )
    out = tmp_path / "mlflow-model"
    assert "Exported ranker/1" in invoke(
        runner, project_dir, "models", "export", "ranker/1", str(out)
    )
    assert (out / "MLmodel").is_file()
    again = runner.invoke(
        main, ["models", "export", "ranker/1", str(out), "--project", str(project_dir)]
    )
    assert again.exit_code == 1 and "exists: export writes a new folder" in again.output
    missing = runner.invoke(
        main, ["models", "show", "rank@champion", "--project", str(project_dir)]
    )
    assert missing.exit_code == 1
    assert "error: no model named 'rank' in the registry; models: ranker" in missing.output
