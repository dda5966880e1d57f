"""Record an Argo workflow's outcome as a run in the metadata store (its exit handler calls this).

Argo hands the exit handler the workflow's name, its status (``Succeeded``, ``Failed``, ``Error``)
and ``{{workflow.failures}}``: a JSON list of the nodes that failed, which Argo quotes once more as
a JSON string so its quotes survive substitution (older releases pass the list itself; both are
read). The run is stored under the workflow's name, so ``sameday runs`` lists Argo runs next to
local ones and a snapshot's ``run`` (``--run-id {{workflow.name}}``) names a recorded run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sameday.errors import PipelineError

STATUSES = {"Succeeded": "succeeded", "Failed": "failed", "Error": "failed"}
"""Argo's final workflow phases and the run status each is recorded as."""
TRIGGERS = ("manual", "schedule")
_OWN_TEMPLATES = ("sameday-dag", "sameday-exit", "sameday-record-run", "sameday-on-failure")


@dataclass(frozen=True)
class FailedNode:
    """One failed node of a workflow, as ``{{workflow.failures}}`` lists it."""

    template: str
    phase: str
    message: str


def parse_failures(text: str) -> list[FailedNode]:
    """The failed nodes in ``{{workflow.failures}}``; an empty list when there are none.

    Raises:
        PipelineError: the text is not the JSON Argo writes.
    """
    text = text.strip()
    if not text or text.startswith("{{"):
        return []
    try:
        value: Any = json.loads(text)
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else None
    except ValueError as exc:
        raise PipelineError(f"--failures is not the JSON list Argo writes: {exc}") from exc
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PipelineError("--failures is not the JSON list of failed nodes Argo writes")
    return [
        FailedNode(
            str(item.get("templateName") or item.get("displayName") or "?"),
            str(item.get("phase") or ""),
            str(item.get("message") or ""),
        )
        for item in value
    ]


def outcome(pipeline: str, status: str, failures: list[FailedNode]) -> tuple[str, str]:
    """The run status and message recorded for an Argo ``status`` and its failed nodes."""
    recorded = STATUSES.get(status, "failed")
    if recorded == "succeeded":
        return recorded, f"pipeline {pipeline!r} succeeded on Argo"
    failed: dict[str, FailedNode] = {}
    for node in failures:
        if node.template not in _OWN_TEMPLATES:
            failed[node.template] = node  # a retried task fails once per attempt: keep the last
    details = ", ".join(
        f"{name} ({node.phase}: {node.message})" if node.message else f"{name} ({node.phase})"
        for name, node in failed.items()
    )
    text = f"pipeline {pipeline!r} ended {status} on Argo"
    if details:
        text += f": {details}"
    return recorded, text + ". See `argo logs WORKFLOW` for the logs of its pods"


def parse_started(text: str) -> datetime:
    """``{{workflow.creationTimestamp}}`` (RFC 3339) as an aware datetime.

    Raises:
        PipelineError: it is not a timestamp.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise PipelineError(f"--started-at {text!r} is not an RFC 3339 timestamp") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def record_argo_run(
    store: Any,
    *,
    pipeline: str,
    run_id: str,
    status: str,
    started_at: str,
    failures: str = "",
    trigger: str = "manual",
    params: Mapping[str, str] | None = None,
) -> Any:
    """Record (or update) the run ``run_id`` from what Argo's exit handler knows.

    Args:
        store: an open ``MetadataStore``.
        status: ``{{workflow.status}}``.
        started_at: ``{{workflow.creationTimestamp}}``.
        failures: ``{{workflow.failures}}``.
        trigger: ``manual`` or ``schedule`` (anything else, an unset parameter say, is manual).

    Returns:
        The ``RunRecord`` written.

    Raises:
        PipelineError: the failures or the timestamp cannot be read.
    """
    recorded, message = outcome(pipeline, status, parse_failures(failures))
    return store.record_run(
        run_id,
        pipeline,
        dict(params or {}),
        trigger=trigger if trigger in TRIGGERS else "manual",
        status=recorded,
        message=message,
        started_at=parse_started(started_at),
    )
