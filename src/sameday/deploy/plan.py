"""Compare the project files with what was last applied, as a plan a reviewer can read.

An applied object is ``(kind, name, spec)`` where ``spec`` is the model's JSON form. The plan lists
objects added, changed (with the fields that changed) and removed, and the rules that apply would
break (an experiment moving backwards through its phases, a running experiment re-bucketed
without a bucket-version bump).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sameday.config.loader import Project

KIND_ORDER = ("result_set", "metric", "surface", "experiment", "pipeline")
PHASES = ("draft", "running", "stopped", "concluded")
# What a running experiment may not change without `hashing.bucket_version` being bumped: any of
# these moves units between arms. Coverage may grow: GrowthBook ranges only add units then.
REBUCKETING_FIELDS = ("arms", "hashing", "layer")


@dataclass(frozen=True)
class Change:
    """One object that applying would add, change or remove."""

    action: str  # "add" | "change" | "remove"
    kind: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: tuple[tuple[str, Any, Any], ...] = ()  # (dotted field, before, after)


@dataclass
class Plan:
    """Every change applying would make, and the reasons it must be refused (if any)."""

    changes: list[Change] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when applying would change nothing."""
        return not self.changes


def desired_objects(project: Project) -> dict[tuple[str, str], dict[str, Any]]:
    """The objects the project files declare, as ``(kind, name) → spec``."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in KIND_ORDER:
        for name, obj in project.collection(kind).items():
            out[(kind, name)] = obj.model_dump(mode="json")
    return out


def make_plan(
    applied: dict[tuple[str, str], dict[str, Any]], desired: dict[tuple[str, str], dict[str, Any]]
) -> Plan:
    """The plan that takes ``applied`` to ``desired``."""
    plan = Plan()
    order = {kind: index for index, kind in enumerate(KIND_ORDER)}
    keys = sorted(set(applied) | set(desired), key=lambda k: (order.get(k[0], 99), k[1]))
    for kind, name in keys:
        before, after = applied.get((kind, name)), desired.get((kind, name))
        if before is None and after is not None:
            plan.changes.append(Change("add", kind, name, None, after))
        elif after is None and before is not None:
            plan.changes.append(Change("remove", kind, name, before, None))
        elif before != after and before is not None and after is not None:
            fields = tuple(_diff(before, after))
            plan.changes.append(Change("change", kind, name, before, after, fields))
    plan.refusals = _refusals(plan.changes)
    return plan


def _diff(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in [*before, *[k for k in after if k not in before]]:
            path = f"{prefix}.{key}" if prefix else str(key)
            if before.get(key) != after.get(key):
                found += _diff(before.get(key), after.get(key), path)
        return found
    return [(prefix, before, after)]


def _refusals(changes: list[Change]) -> list[str]:
    refusals = []
    for change in changes:
        if change.kind != "experiment":
            continue
        if change.action == "remove" and change.before and change.before["phase"] == "running":
            refusals.append(
                f"experiment {change.name!r} is running: stop it (phase: stopped) and apply "
                "before deleting its file"
            )
        if change.action != "change" or change.before is None or change.after is None:
            continue
        old, new = change.before["phase"], change.after["phase"]
        if PHASES.index(new) < PHASES.index(old) and not (old == "stopped" and new == "running"):
            refusals.append(
                f"experiment {change.name!r} cannot go from {old} back to {new}: phases move "
                "draft → running → stopped → concluded (a stopped one may run again); copy it "
                "under a new name to start over"
            )
        if old in {"running", "stopped"} and new == "running":
            bumped = (
                change.after["hashing"]["bucket_version"]
                != change.before["hashing"]["bucket_version"]
            )
            moved = [f for f in REBUCKETING_FIELDS if change.before.get(f) != change.after.get(f)]
            if moved and not bumped:
                refusals.append(
                    f"experiment {change.name!r} is running and its {', '.join(moved)} changed: "
                    "that would silently move units between arms. Revert it, or bump "
                    "hashing.bucket_version to re-randomise every unit on purpose"
                )
            if change.after["coverage"] < change.before["coverage"] and not bumped:
                refusals.append(
                    f"experiment {change.name!r} is running and its coverage shrank: units "
                    "already exposed would leave the test. Bump hashing.bucket_version to do "
                    "that on purpose"
                )
    return refusals


def render_plan(plan: Plan) -> str:
    """The plan as text for a terminal or a pull-request comment."""
    if plan.empty:
        return "No changes: the applied state matches the project files."
    lines = []
    signs = {"add": "+", "change": "~", "remove": "-"}
    for change in plan.changes:
        label = change.kind.replace("_", " ")
        spec = change.after or change.before or {}
        phase = f" (phase {spec['phase']})" if change.kind == "experiment" else ""
        lines.append(f"{signs[change.action]} {label} {change.name}{phase}")
        for path, before, after in change.fields:
            lines.append(f"    {path}: {_short(before)} → {_short(after)}")
    counts = {a: sum(c.action == a for c in plan.changes) for a in ("add", "change", "remove")}
    lines.append(
        f"\nPlan: {counts['add']} to add, {counts['change']} to change, "
        f"{counts['remove']} to remove."
    )
    for refusal in plan.refusals:
        lines.append(f"refused: {refusal}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = "∅" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
