"""docs/deploy.md, "Serving on Kubernetes": every command in it is run or checked here.

The ``sameday`` commands run on the quickstart project with the page's settings. ``kubectl`` and
``docker`` cannot run here (no cluster, no engine), so each is parsed and checked against what
the compiled manifests and the repository hold: the names, the namespace, the Secret's keys, the
folder, the image tag. A command this test does not know fails it.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner

from sameday.cli import main
from sameday.config.kubernetes import KubernetesServe
from sameday.deploy._k8s_config import SHARED_SCHEMES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"


def section() -> str:
    text = DOC.read_text()
    start = text.index("## Serving on Kubernetes")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section(), re.S)


def commands() -> list[list[str]]:
    out = []
    for block in blocks("console"):
        for command in re.split(r"\n(?=\$ )", block.replace("\\\n", " ")):
            assert command.startswith("$ "), command
            out.append(shlex.split(command[2:]))
    return out


def merge(into: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def option(argv: list[str], *names: str) -> str:
    for index, arg in enumerate(argv):
        if arg in names:
            return argv[index + 1]
    raise AssertionError(f"no {names[0]} in {shlex.join(argv)}")


def test_every_command_on_the_page_is_run_or_checked(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", project)
    (settings_block,) = blocks("yaml")
    settings = yaml.safe_load((project / "sameday.yaml").read_text())
    merge(settings, yaml.safe_load(settings_block))
    (project / "sameday.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    image = settings["serve"]["kubernetes"]["image"]
    monkeypatch.chdir(project)

    manifests: dict[str, dict[str, Any]] = {}
    checked = []
    for argv in commands():
        tool, verb = argv[0], argv[1]
        if tool == "sameday":
            result = runner.invoke(main, argv[1:])
            assert result.exit_code == 0, result.output
            out = Path(option(argv, "-o", "--output"))
            for file in sorted(out.iterdir()):
                manifest = yaml.safe_load(file.read_text())
                kubernetes_validate.validate(manifest, "1.29.0", strict=True)
                manifests[manifest["kind"]] = manifest
        elif tool == "docker" and verb == "build":
            assert option(argv, "-t") == image and argv[-1] == "."
            assert (ROOT / "Dockerfile").is_file()  # run from the repository's root
        elif tool == "docker" and verb == "push":
            assert argv[2] == image
        elif argv[:4] == ["kubectl", "create", "secret", "generic"]:
            pod = manifests_from(project, runner)["Deployment"]["spec"]["template"]["spec"]
            refs = [e["valueFrom"]["secretKeyRef"] for e in pod["containers"][0]["env"]]
            assert {ref["name"] for ref in refs} == {argv[4]}
            assert option(argv, "--namespace") == settings["serve"]["kubernetes"]["namespace"]
            literals = dict(
                arg.removeprefix("--from-literal=").split("=", 1)
                for arg in argv
                if arg.startswith("--from-literal=")
            )
            assert set(literals) == {ref["key"] for ref in refs}
            for name, value in literals.items():
                if name.endswith("_URL"):
                    assert value.partition("://")[0] in SHARED_SCHEMES, value
        elif argv[:3] == ["kubectl", "apply", "-f"]:
            assert manifests, "apply before compile"
            assert sorted(path.name for path in Path(argv[3]).iterdir()) == sorted(
                f"{m['metadata']['name']}.{kind.lower()}.yaml" for kind, m in manifests.items()
            )
        elif argv[:2] == ["kubectl", "rollout"] or argv[:3] == ["kubectl", "get", "hpa"]:
            kind, _, name = argv[3].partition("/") if "/" in argv[3] else ("hpa", "", argv[3])
            target = manifests[{"deployment": "Deployment", "hpa": "HorizontalPodAutoscaler"}[kind]]
            assert target["metadata"]["name"] == name
            assert target["metadata"]["namespace"] == option(argv, "--namespace")
            assert argv[2] in {"status", "undo", "hpa"}
        else:
            raise AssertionError(f"docs/deploy.md runs {shlex.join(argv)}: check it here")
        checked.append(shlex.join(argv[:3]))
    assert len(checked) == 8, checked


def manifests_from(project: Path, runner: CliRunner) -> dict[str, dict[str, Any]]:
    result = runner.invoke(main, ["compile", "--target", "k8s", "--project", str(project)])
    assert result.exit_code == 0, result.output
    return {m["kind"]: m for m in yaml.safe_load_all(result.output)}


def test_the_settings_table_names_every_setting() -> None:
    first_cells = re.findall(r"^\| ([^|]+) \|", section(), re.M)
    named = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)}
    assert set(KubernetesServe.model_fields) <= named
