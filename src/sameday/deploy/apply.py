"""``sameday apply``: make the applied state equal to the project files, atomically, or refuse.

The applied set lives in the metadata database (``applied_objects``), replaced as a whole in one
transaction; running servers poll it and pick up the change within ``serve.refresh_interval``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sameday.config.loader import Project
from sameday.config.traffic import conflicts, overlap_message, overlaps
from sameday.deploy.plan import Plan, desired_objects, make_plan
from sameday.errors import ApplyRefused, ModelNotFound
from sameday.metadata import MetadataStore
from sameday.models.refs import parse_ref


@dataclass(frozen=True)
class ApplyResult:
    """What apply did."""

    plan: Plan
    applied: bool
    acknowledged: tuple[str, ...] = ()
    """Experiments whose stop by their health check this apply acknowledged."""


def plan_project(project: Project, metadata: MetadataStore | None = None) -> Plan:
    """The plan that applying ``project`` would carry out, with every reason to refuse it.

    ``metadata`` defaults to the project's own database, opened and closed here.
    """
    if metadata is None:
        with project.open_metadata() as opened:
            return plan_project(project, opened)
    applied = {(o.kind, o.name): o.spec for o in metadata.applied()}
    plan = make_plan(applied, desired_objects(project))
    plan.refusals += _missing_snapshots(project, metadata)
    plan.refusals += _missing_models(project, metadata)
    experiments = project.experiments.values()
    plan.refusals += [overlap_message(*pair) for pair in overlaps(experiments)]
    plan.refusals += [conflict.message() for conflict in conflicts(experiments)]
    plan.refusals += _unacknowledged_stops(project, metadata)
    return plan


def apply_project(project: Project, metadata: MetadataStore | None = None) -> ApplyResult:
    """Apply ``project``'s files in one transaction (to ``metadata``, by default the project's
    own database, opened and closed here).

    Raises:
        ApplyRefused: with every reason, when the plan has refusals; nothing is changed.
    """
    if metadata is None:
        with project.open_metadata() as opened:
            return apply_project(project, opened)
    plan = plan_project(project, metadata)
    if plan.refusals:
        raise ApplyRefused(plan.refusals)
    acknowledged = _acknowledge_stops(project, metadata)
    if plan.empty:
        return ApplyResult(plan, applied=False, acknowledged=acknowledged)
    objects = [(kind, name, spec) for (kind, name), spec in desired_objects(project).items()]
    metadata.replace_applied(objects)
    return ApplyResult(plan, applied=True, acknowledged=acknowledged)


def _missing_snapshots(project: Project, metadata: MetadataStore) -> list[str]:
    """A running experiment must be able to serve every arm: each needs a live snapshot."""
    reasons = []
    for experiment in project.experiments.values():
        if experiment.phase != "running":
            continue
        for arm in experiment.arms:
            tables = [table.table for table in arm.features]
            for result_set in [arm.result_set, *(arm.fallbacks or []), *tables]:
                if metadata.live_snapshot(result_set) is None:
                    reasons.append(
                        f"experiment {experiment.name!r} is running but arm {arm.name!r} uses "
                        f"result set {result_set!r}, which has no live snapshot: publish it "
                        f"first (sameday publish {result_set})"
                    )
    return reasons


def _unacknowledged_stops(project: Project, metadata: MetadataStore) -> list[str]:
    """A test its health check stopped runs again only once a person has seen why."""
    return [
        stop.refusal()
        for stop in metadata.experiment_stops(open_only=True)
        if stop.experiment in project.experiments
        and project.experiments[stop.experiment].phase == "running"
    ]


def _acknowledge_stops(project: Project, metadata: MetadataStore) -> tuple[str, ...]:
    """Stops whose experiment the files no longer run (stopped, concluded or removed) have
    been seen: they are cleared (see :mod:`sameday.metadata._stops`)."""
    seen = {
        stop.experiment
        for stop in metadata.experiment_stops(open_only=True)
        if stop.experiment not in project.experiments
        or project.experiments[stop.experiment].phase != "running"
    }
    metadata.clear_experiment_stops(sorted(seen))
    return tuple(sorted(seen))


def _missing_models(project: Project, metadata: MetadataStore) -> list[str]:
    """A model a running arm or a surface scores with must be in the registry: a server would
    serve its lists in the batch order (``unavailable``). ``models:/`` references live in
    MLflow's registry and are not checked here."""
    named = [
        (f"surface {surface.name!r}", surface.model)
        for surface in project.surfaces.values()
        if surface.model is not None
    ]
    named += [
        (f"experiment {experiment.name!r}, arm {arm.name!r},", arm.model)
        for experiment in project.experiments.values()
        if experiment.phase == "running"
        for arm in experiment.arms
        if arm.model is not None
    ]
    reasons = []
    for where, text in named:
        ref = parse_ref(text)
        if ref.mlflow:
            continue
        try:
            metadata.model_version(ref.name, version=ref.version, alias=ref.alias)
        except ModelNotFound as exc:
            reasons.append(
                f"{where} scores with {text}, which the registry cannot resolve ({exc}): "
                f"register it first (sameday models register {ref.name} …) or fix the name"
            )
    return reasons
