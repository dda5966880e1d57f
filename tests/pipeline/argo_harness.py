"""Run compiled Argo manifests without a cluster, the way Argo's controller and pods would.

There is no Kubernetes here, so this helper plays Argo for one submission of a WorkflowTemplate:

- **the DAG order** comes from each task's ``depends`` (``a && b``: every named task succeeded);
  tasks run one at a time in that order, and with ``failFast`` nothing new starts after a failure;
- **each attempt of a task runs in its own empty folder** standing in for the container's
  ``workingDir``: it holds the project's image files (``project_files``: what the Dockerfile
  copies) and the task's input artifacts, downloaded from the S3-compatible endpoint by their
  key; nothing else, so a file the task did not declare is missing as it would be in a pod;
- **the environment is the manifest's**: ``value``, ``secretKeyRef`` and ``envFrom`` looked up in
  the Secrets the test holds, plus ``PATH`` (this virtualenv's ``bin``: the image's ``python`` and
  ``sameday``) and ``PYTHONPATH`` (this checkout's sources, standing in for the image's wheel);
  nothing leaks in from the test's own environment;
- **``{{...}}``** is substituted as Argo does: ``workflow.name``, ``workflow.status``,
  ``workflow.parameters.X``, ``workflow.creationTimestamp`` (and ``.Y``, ``.m``, ``.d``),
  ``workflow.failures`` and ``inputs.parameters.X``; an unknown one fails the task, as Argo
  refuses to start a pod with an unresolved reference;
- **after an attempt succeeds** its output artifacts are uploaded (a folder file by file, as
  ``archive: none`` stores it); a missing output fails the attempt;
- **``retryStrategy.limit``** gives the attempts (the backoff is not waited: tests stay fast),
  and its ``expression`` (``||``-joined tests of ``lastRetry.status`` and ``lastRetry.exitCode``)
  stops retrying when false;
  ``activeDeadlineSeconds`` bounds each attempt;
- **the exit handler** (``onExit``, a steps template) runs with the workflow's final status, its
  ``when`` conditions evaluated (``a != b``, ``a == b``).

What it does not model: ``podGC``, TTLs, volumes (the ``workspace`` form), resources and
placement; those are checked on the manifests themselves (schema and golden files).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sameday.config.project_files import project_files

Manifest = dict[str, Any]

SRC = Path(__file__).resolve().parents[2] / "src"
_REFERENCE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_LOG_TAIL = 2000


class TaskFailed(Exception):
    """A task failed on its last attempt; the message names it and ends with its log.

    ``exit_code`` is the main container's, or ``None`` when the pod never ran its command (Argo
    then calls the node ``Error`` rather than ``Failed``)."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Node:
    """One task (or exit step) as Argo's workflow status shows it."""

    name: str
    template: str
    phase: str = "Pending"
    attempts: int = 0
    message: str = ""
    log: str = ""


@dataclass
class Outcome:
    """A finished workflow: its name, status, the nodes of its DAG and of its exit handler."""

    name: str
    status: str
    nodes: dict[str, Node] = field(default_factory=dict)
    exit_nodes: dict[str, Node] = field(default_factory=dict)

    def failure(self) -> str:
        """The failed nodes' messages, one a line (empty when the workflow succeeded)."""
        return "\n".join(n.message for n in self.nodes.values() if n.phase == "Failed")


class ArgoHarness:
    """Submit a compiled WorkflowTemplate and run it to the end, as Argo would.

    Args:
        template: the compiled ``WorkflowTemplate``.
        project: the project folder whose image files every task's folder starts with.
        s3: a boto3 S3 client on the artifact repository's endpoint.
        bucket: the artifact repository's bucket (the manifests' keys are key-only).
        secrets: Secret name → its keys and values, for ``secretKeyRef`` and ``envFrom``.
        work: where each attempt's folder is made, ``<work>/<task>.<attempt>``.
    """

    def __init__(
        self,
        template: Manifest,
        project: Path,
        *,
        s3: Any,
        bucket: str,
        secrets: Mapping[str, Mapping[str, str]],
        work: Path,
    ) -> None:
        assert template["kind"] == "WorkflowTemplate", template["kind"]
        self.spec: Manifest = template["spec"]
        self.templates = {t["name"]: t for t in self.spec["templates"]}
        self.project = project
        self.files = sorted(project_files(project))
        self.s3 = s3
        self.bucket = bucket
        self.secrets = secrets
        self.work = work

    def submit(self, name: str, parameters: Mapping[str, str] | None = None) -> Outcome:
        """Run the workflow ``name`` with ``parameters`` overriding the template's arguments."""
        created = datetime.now(UTC).replace(microsecond=0)
        scope = {
            "workflow.name": name,
            "workflow.creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "workflow.creationTimestamp.Y": created.strftime("%Y"),
            "workflow.creationTimestamp.m": created.strftime("%m"),
            "workflow.creationTimestamp.d": created.strftime("%d"),
        }
        given = dict(parameters or {})
        arguments: dict[str, str] = {}
        for argument in self.spec.get("arguments", {}).get("parameters", []):
            value = given.pop(argument["name"], argument.get("value"))
            assert value is not None, f"parameter {argument['name']!r} has no value"
            arguments[argument["name"]] = _substitute(value, scope)
        assert not given, f"no such parameters in the template: {sorted(given)}"
        scope.update({f"workflow.parameters.{k}": v for k, v in arguments.items()})
        outcome = Outcome(name, "Running")
        entry = self.templates[self.spec["entrypoint"]]
        self._dag(entry, scope, arguments, outcome)
        failed = [n for n in outcome.nodes.values() if n.phase == "Failed"]
        outcome.status = "Failed" if failed else "Succeeded"
        scope["workflow.status"] = outcome.status
        scope["workflow.failures"] = json.dumps(json.dumps([_failure(n) for n in failed]))
        if "onExit" in self.spec:
            self._exit(self.templates[self.spec["onExit"]], scope, arguments, outcome)
        return outcome

    def _dag(
        self, template: Manifest, scope: dict[str, str], inputs: Mapping[str, str], out: Outcome
    ) -> None:
        dag = template["dag"]
        local = {**scope, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        tasks = {t["name"]: t for t in dag["tasks"]}
        needs = {name: _depends(task.get("depends", "")) for name, task in tasks.items()}
        for name, needed in needs.items():
            unknown = needed - set(tasks)
            assert not unknown, f"task {name!r} depends on unknown tasks {sorted(unknown)}"
        stopped = False
        for name in _order(needs):
            task = tasks[name]
            node = out.nodes.setdefault(name, Node(name, task["template"]))
            if stopped or any(out.nodes[d].phase != "Succeeded" for d in needs[name]):
                node.phase = "Omitted"
                continue
            self._task(task, local, node)
            if node.phase == "Failed" and dag.get("failFast", True):
                stopped = True

    def _exit(
        self, template: Manifest, scope: dict[str, str], inputs: Mapping[str, str], out: Outcome
    ) -> None:
        local = {**scope, **{f"inputs.parameters.{k}": v for k, v in inputs.items()}}
        for group in template["steps"]:
            for step in group:
                node = out.exit_nodes.setdefault(step["name"], Node(step["name"], step["template"]))
                if "when" in step and not _when(_substitute(step["when"], local)):
                    node.phase = "Skipped"
                    continue
                self._task(step, local, node)

    def _task(self, task: Manifest, scope: Mapping[str, str], node: Node) -> None:
        """Run a task's container template, retrying it as its ``retryStrategy`` allows."""
        template = self.templates[task["template"]]
        assert "container" in template, f"template {template['name']!r} is not a container"
        given = {
            p["name"]: _substitute(p["value"], scope)
            for p in task.get("arguments", {}).get("parameters", [])
        }
        declared = [p["name"] for p in template.get("inputs", {}).get("parameters", [])]
        missing = set(declared) - set(given)
        assert not missing, f"task {node.name!r} gets no value for {sorted(missing)}"
        local = {
            **{k: v for k, v in scope.items() if k.startswith("workflow.")},
            **{f"inputs.parameters.{k}": given[k] for k in declared},
        }
        strategy = template.get("retryStrategy", {})
        attempts = 1 + int(strategy.get("limit", 0))
        for attempt in range(attempts):
            node.attempts = attempt + 1
            try:
                node.log = self._attempt(template, local, self.work / f"{node.name}.{attempt}")
            except TaskFailed as exc:
                node.phase, node.message = "Failed", f"task {node.name!r}: {exc}"
                if "expression" in strategy and not _retry_wanted(strategy["expression"], exc):
                    return
                continue
            node.phase, node.message = "Succeeded", ""
            return

    def _attempt(self, template: Manifest, scope: Mapping[str, str], folder: Path) -> str:
        """One pod: a fresh folder, its inputs, its environment, its command, its outputs."""
        container = template["container"]
        workdir = container["workingDir"]
        folder.mkdir(parents=True)
        for path in self.files:
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.project / path, target)
        for artifact in template.get("inputs", {}).get("artifacts", []):
            key = _substitute(artifact["s3"]["key"], scope)
            self._download(key, folder / _inside(artifact["path"], workdir))
        env = self._env(container, scope)
        command = [_substitute(word, scope) for word in container["command"] + container["args"]]
        deadline = template.get("activeDeadlineSeconds")
        try:
            done = subprocess.run(
                command,
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=deadline,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TaskFailed(f"exceeded its activeDeadlineSeconds ({deadline})") from exc
        if done.returncode != 0:
            tail = done.stdout[-_LOG_TAIL:]
            raise TaskFailed(f"exit code {done.returncode}; its log ends:\n{tail}", done.returncode)
        for artifact in template.get("outputs", {}).get("artifacts", []):
            assert "none" in artifact.get("archive", {}), "only archive: none is stored"
            key = _substitute(artifact["s3"]["key"], scope)
            self._upload(folder / _inside(artifact["path"], workdir), key)
        return done.stdout

    def _env(self, container: Manifest, scope: Mapping[str, str]) -> dict[str, str]:
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(SRC)}
        for ref in container.get("envFrom", []):
            env.update(self._secret(ref["secretRef"]["name"]))
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = _substitute(item["value"], scope)
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                keys = self._secret(ref["name"])
                if ref["key"] not in keys:
                    raise TaskFailed(
                        f"couldn't find key {ref['key']} in Secret {ref['name']} "
                        f"(CreateContainerConfigError, for {item['name']})"
                    )
                env[item["name"]] = keys[ref["key"]]
        return env

    def _secret(self, name: str) -> Mapping[str, str]:
        if name not in self.secrets:
            raise TaskFailed(f'secret "{name}" not found (CreateContainerConfigError)')
        return self.secrets[name]

    def _download(self, key: str, target: Path) -> None:
        """An input artifact: the object ``key``, or every object under ``key/`` (a folder)."""
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key)
        keys = [o["Key"] for o in listed.get("Contents", [])]
        if key in keys:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(self.bucket, key, str(target))
            return
        below = [k for k in keys if k.startswith(key + "/")]
        if not below:
            raise TaskFailed(f"failed to load artifacts: the key {key} does not exist")
        for item in below:
            path = target / item[len(key) + 1 :]
            path.parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(self.bucket, item, str(path))

    def _upload(self, source: Path, key: str) -> None:
        if source.is_file():
            self.s3.upload_file(str(source), self.bucket, key)
        elif source.is_dir():
            for path in sorted(p for p in source.rglob("*") if p.is_file()):
                self.s3.upload_file(str(path), self.bucket, f"{key}/{path.relative_to(source)}")
        else:
            raise TaskFailed(f"failed to save outputs: {source.name} was not written")


def _substitute(text: str, scope: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in scope:
            raise TaskFailed(f"failed to resolve {{{{{name}}}}}")
        return scope[name]

    return _REFERENCE.sub(value, text)


def _inside(path: str, workdir: str) -> str:
    relative = PurePosixPath(path).relative_to(workdir)
    assert ".." not in relative.parts, path
    return str(relative)


_RETRY_CLAUSE = re.compile(
    r'lastRetry\.status == "(?P<status>\w+)"|asInt\(lastRetry\.exitCode\) == (?P<code>\d+)'
)


def _retry_wanted(expression: str, failed: TaskFailed) -> bool:
    """A ``retryStrategy.expression`` made of ``||``-joined clauses on ``lastRetry``, evaluated
    left to right as Argo's expr does (``asInt`` of an ``Error`` node's empty exit code would
    fail, so the status clause must come first)."""
    status = "Error" if failed.exit_code is None else "Failed"
    for clause in expression.split("||"):
        match = _RETRY_CLAUSE.fullmatch(clause.strip())
        assert match, f"unsupported retryStrategy.expression clause: {clause!r}"
        if match["status"] is not None and match["status"] == status:
            return True
        if match["code"] is not None:
            assert failed.exit_code is not None, f"asInt of an empty exit code in {expression!r}"
            if failed.exit_code == int(match["code"]):
                return True
    return False


def _depends(expression: str) -> set[str]:
    """The tasks of ``a && b``; other ``depends`` forms are beyond this harness."""
    if not expression.strip():
        return set()
    names = {part.strip() for part in expression.split("&&")}
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9-]+", name), f"unsupported depends: {expression!r}"
    return names


def _order(needs: Mapping[str, set[str]]) -> list[str]:
    """The tasks in an order where each comes after what it depends on (ties: as written)."""
    done: list[str] = []
    left = list(needs)
    while left:
        ready = [name for name in left if needs[name] <= set(done)]
        assert ready, f"a cycle among {left}"
        done.append(ready[0])
        left.remove(ready[0])
    return done


def _when(condition: str) -> bool:
    for operator, result in (("!=", False), ("==", True)):
        if operator in condition:
            left, right = (side.strip() for side in condition.split(operator, 1))
            return (left == right) is result
    raise AssertionError(f"unsupported when: {condition!r}")


def _failure(node: Node) -> dict[str, str]:
    return {
        "displayName": node.name,
        "templateName": node.template,
        "phase": node.phase,
        "message": node.message.splitlines()[0] if node.message else "",
    }
