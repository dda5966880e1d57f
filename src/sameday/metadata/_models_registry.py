"""The model registry's tables, records and queries: versions, aliases, and every decision.

A version row describes an immutable bundle (``sameday.models.bundle``): where it lives, the
hash of its manifest, and the metadata people query (parameters, metrics, datasets, code,
environment, signature, the producing run). Versions are numbered 1, 2, … per model and never
updated. Aliases (``champion``, ``challenger``, any name) point at versions; every move of an
alias, every registration and every gate decision (blessed or not) is an event, only ever added,
so ``sameday models history`` shows who did what, when, and on which evidence, and rollback
follows those events rather than guessing from times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast, get_args

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from sameday.errors import MetadataError, ModelNotFound
from sameday.metadata._actor import current_actor
from sameday.metadata._checks import check_json
from sameday.metadata.models import ID, NAME, Base

ModelAction = Literal[
    "register", "alias", "unalias", "promote", "rollback", "gate-blessed", "gate-refused"
]
MODEL_ACTIONS: tuple[str, ...] = get_args(ModelAction)

MOVES_ALIAS = ("register", "alias", "promote", "rollback", "gate-blessed")
"""Actions that point an alias at a version (``register`` only when given aliases)."""


class ModelVersionRow(Base):
    """``model_versions``: one immutable bundle registered under a model name."""

    __tablename__ = "model_versions"
    __table_args__ = (
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.UniqueConstraint("name", "content_hash"),
    )

    name: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content_hash: Mapped[str] = mapped_column(sa.String(128))
    bundle_url: Mapped[str] = mapped_column(sa.Text)
    flavor: Mapped[str] = mapped_column(sa.String(NAME))
    params: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any]]
    lineage: Mapped[dict[str, Any]]
    run_id: Mapped[str | None] = mapped_column(sa.String(ID))
    description: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(NAME * 2))
    created_at: Mapped[datetime]


class ModelAliasRow(Base):
    """``model_aliases``: which version each alias of a model points at now."""

    __tablename__ = "model_aliases"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["name", "version"], ["model_versions.name", "model_versions.version"]
        ),
    )

    name: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    alias: Mapped[str] = mapped_column(sa.String(NAME), primary_key=True)
    version: Mapped[int]
    updated_at: Mapped[datetime]


class ModelEventRow(Base):
    """``model_events``: every registration, alias move and gate decision; never updated."""

    __tablename__ = "model_events"
    __table_args__ = (
        sa.CheckConstraint(
            "action IN (" + ", ".join(f"'{a}'" for a in MODEL_ACTIONS) + ")", name="action"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(NAME), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    version: Mapped[int | None]
    alias: Mapped[str | None] = mapped_column(sa.String(NAME))
    previous: Mapped[int | None]
    actor: Mapped[str] = mapped_column(sa.String(NAME * 2))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    evidence: Mapped[dict[str, Any]]
    at: Mapped[datetime]


@dataclass(frozen=True)
class ModelVersionRecord:
    """One registered version. ``lineage`` holds ``datasets``, ``code``, ``environment`` and
    ``signature`` as recorded in the bundle's manifest; ``aliases`` those pointing at it now."""

    name: str
    version: int
    content_hash: str
    bundle_url: str
    flavor: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    lineage: dict[str, Any]
    run_id: str | None
    description: str | None
    created_by: str
    created_at: datetime
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``NAME/VERSION``, the reference that always means this version."""
        return f"{self.name}/{self.version}"


@dataclass(frozen=True)
class ModelEvent:
    """One entry of a model's history: what happened, to which version and alias, and why.

    ``previous`` is the version the alias pointed at before (``None``: unset). ``evidence`` holds
    what a decision was based on (a gate's metrics and checks) as JSON-able values.
    """

    id: int
    name: str
    action: ModelAction
    version: int | None
    alias: str | None
    previous: int | None
    actor: str
    reason: str | None
    evidence: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class ModelSummary:
    """One model in ``sameday models list``: its newest version and its aliases."""

    name: str
    versions: int
    latest: int
    aliases: dict[str, int]
    updated_at: datetime


def aliases_of(session: Session, name: str) -> dict[str, int]:
    """Every alias of ``name`` and the version it points at, by alias (empty if none)."""
    rows = session.execute(
        sa.select(ModelAliasRow.alias, ModelAliasRow.version)
        .where(ModelAliasRow.name == name)
        .order_by(ModelAliasRow.alias)
    )
    return {str(alias): int(version) for alias, version in rows}


def _record(row: ModelVersionRow, aliases: dict[str, int]) -> ModelVersionRecord:
    return ModelVersionRecord(
        name=row.name,
        version=row.version,
        content_hash=row.content_hash,
        bundle_url=row.bundle_url,
        flavor=row.flavor,
        params=dict(row.params),
        metrics=dict(row.metrics),
        lineage=dict(row.lineage),
        run_id=row.run_id,
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
        aliases=tuple(sorted(a for a, v in aliases.items() if v == row.version)),
    )


def _event(row: ModelEventRow) -> ModelEvent:
    return ModelEvent(
        id=row.id,
        name=row.name,
        action=cast(ModelAction, row.action),
        version=row.version,
        alias=row.alias,
        previous=row.previous,
        actor=row.actor,
        reason=row.reason,
        evidence=dict(row.evidence),
        at=row.at,
    )


def _known_names(session: Session) -> list[str]:
    return list(session.execute(sa.select(ModelVersionRow.name).distinct()).scalars())


def _missing(session: Session, name: str, what: str) -> ModelNotFound:
    names = sorted(_known_names(session))
    if name not in names:
        known = ", ".join(names) or "none yet: register one with 'sameday models register'"
        return ModelNotFound(f"no model named {name!r} in the registry; models: {known}")
    return ModelNotFound(f"model {name!r} has no {what}: see 'sameday models show {name}'")


def find_version(session: Session, name: str, version: int) -> ModelVersionRow:
    """The row of ``name``'s ``version``, or :class:`ModelNotFound` saying what exists."""
    row = session.get(ModelVersionRow, (name, version))
    if row is None:
        raise _missing(session, name, f"version {version}")
    return row


def get_version(session: Session, name: str, version: int) -> ModelVersionRecord:
    """The record of ``name``'s ``version``."""
    return _record(find_version(session, name, version), aliases_of(session, name))


def resolve_alias(session: Session, name: str, alias: str) -> ModelVersionRecord:
    """The version ``alias`` points at."""
    aliases = aliases_of(session, name)
    if alias not in aliases:
        raise _missing(session, name, f"alias {alias!r} (aliases: {', '.join(aliases) or 'none'})")
    return _record(find_version(session, name, aliases[alias]), aliases)


def latest_version(session: Session, name: str) -> ModelVersionRecord:
    """The newest version of ``name``."""
    row = session.execute(
        sa.select(ModelVersionRow)
        .where(ModelVersionRow.name == name)
        .order_by(ModelVersionRow.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise _missing(session, name, "versions")
    return _record(row, aliases_of(session, name))


def list_versions(
    session: Session, name: str, limit: int | None = None
) -> list[ModelVersionRecord]:
    """The newest ``limit`` versions of ``name`` (every one by default), newest first
    (``ModelNotFound`` for an unknown model)."""
    rows = session.execute(
        sa.select(ModelVersionRow)
        .where(ModelVersionRow.name == name)
        .order_by(ModelVersionRow.version.desc())
        .limit(limit)
    ).scalars()
    aliases = aliases_of(session, name)
    found = [_record(row, aliases) for row in rows]
    if not found:
        raise _missing(session, name, "versions")
    return found


def list_models(session: Session) -> list[ModelSummary]:
    """Every model with at least one version, by name: two queries however many models."""
    rows = session.execute(
        sa.select(
            ModelVersionRow.name,
            sa.func.count(),
            sa.func.max(ModelVersionRow.version),
            sa.func.max(ModelVersionRow.created_at),
        )
        .group_by(ModelVersionRow.name)
        .order_by(ModelVersionRow.name)
    )
    aliases: dict[str, dict[str, int]] = {}
    moved: dict[str, datetime] = {}
    for name, alias, version, updated in session.execute(
        sa.select(
            ModelAliasRow.name, ModelAliasRow.alias, ModelAliasRow.version, ModelAliasRow.updated_at
        ).order_by(ModelAliasRow.name, ModelAliasRow.alias)
    ):
        aliases.setdefault(name, {})[str(alias)] = int(version)
        moved[name] = max(moved[name], updated) if name in moved else updated
    summaries = []
    for name, count, latest, updated in rows:
        newest = max(updated, moved[name]) if name in moved else updated
        summaries.append(ModelSummary(name, int(count), int(latest), aliases.get(name, {}), newest))
    return summaries


def record_event(
    session: Session,
    name: str,
    action: str,
    *,
    version: int | None,
    alias: str | None,
    previous: int | None,
    actor: str | None,
    reason: str | None,
    evidence: dict[str, Any] | None,
    now: datetime,
) -> ModelEvent:
    """Add one entry to ``name``'s history."""
    if action not in MODEL_ACTIONS:
        raise ValueError(f"unknown model action {action!r}: one of {', '.join(MODEL_ACTIONS)}")
    check_json(evidence or {}, f"evidence of the {action} of {name!r}")
    row = ModelEventRow(
        name=name,
        action=action,
        version=version,
        alias=alias,
        previous=previous,
        actor=(actor or current_actor())[: NAME * 2],
        reason=reason,
        evidence=evidence or {},
        at=now,
    )
    session.add(row)
    session.flush()
    return _event(row)


def create_version(
    session: Session,
    name: str,
    *,
    content_hash: str,
    bundle_url: str,
    flavor: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    lineage: dict[str, Any],
    run_id: str | None,
    description: str | None,
    actor: str | None,
    now: datetime,
) -> tuple[ModelVersionRecord, bool]:
    """Register a bundle as the next version of ``name``; ``(record, created)``.

    The same bundle (same manifest hash) registered again under the same name returns the
    version it already is, ``created`` false: a retried training job does not add a twin.
    """
    for value, what in ((params, "parameters"), (metrics, "metrics"), (lineage, "lineage")):
        check_json(value, f"{what} of model {name!r}")
    existing = session.execute(
        sa.select(ModelVersionRow).where(
            ModelVersionRow.name == name, ModelVersionRow.content_hash == content_hash
        )
    ).scalar_one_or_none()
    if existing is not None:
        return _record(existing, aliases_of(session, name)), False
    latest = session.execute(
        sa.select(sa.func.max(ModelVersionRow.version)).where(ModelVersionRow.name == name)
    ).scalar()
    row = ModelVersionRow(
        name=name,
        version=int(latest or 0) + 1,
        content_hash=content_hash,
        bundle_url=bundle_url,
        flavor=flavor,
        params=params,
        metrics=metrics,
        lineage=lineage,
        run_id=run_id,
        description=description,
        created_by=(actor or current_actor())[: NAME * 2],
        created_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except sa.exc.IntegrityError as exc:
        raise MetadataError(
            f"another registration of model {name!r} took version {row.version} at the same "
            "time: register again"
        ) from exc
    record_event(
        session,
        name,
        "register",
        version=row.version,
        alias=None,
        previous=None,
        actor=actor,
        reason=description,
        evidence={"content_hash": content_hash, "run_id": run_id},
        now=now,
    )
    return _record(row, {}), True


def set_alias(
    session: Session,
    name: str,
    alias: str,
    version: int,
    *,
    action: str,
    actor: str | None,
    reason: str | None,
    evidence: dict[str, Any] | None,
    now: datetime,
) -> ModelEvent:
    """Point ``alias`` at ``version`` and record it; the event's ``previous`` is the old target."""
    if action not in MOVES_ALIAS:
        raise ValueError(f"{action!r} does not move an alias: one of {', '.join(MOVES_ALIAS)}")
    find_version(session, name, version)
    row = session.get(ModelAliasRow, (name, alias), with_for_update=True)
    previous = None if row is None else row.version
    if row is None:
        session.add(ModelAliasRow(name=name, alias=alias, version=version, updated_at=now))
    else:
        row.version, row.updated_at = version, now
    session.flush()
    return record_event(
        session,
        name,
        action,
        version=version,
        alias=alias,
        previous=previous,
        actor=actor,
        reason=reason,
        evidence=evidence,
        now=now,
    )


def delete_alias(
    session: Session, name: str, alias: str, *, actor: str | None, reason: str | None, now: datetime
) -> ModelEvent:
    """Remove ``alias`` (``ModelNotFound`` when it is not set) and record it."""
    row = session.get(ModelAliasRow, (name, alias), with_for_update=True)
    if row is None:
        raise _missing(session, name, f"alias {alias!r}")
    previous = row.version
    session.delete(row)
    session.flush()
    return record_event(
        session,
        name,
        "unalias",
        version=None,
        alias=alias,
        previous=previous,
        actor=actor,
        reason=reason,
        evidence=None,
        now=now,
    )


def rollback_target(session: Session, name: str, alias: str) -> tuple[int, int]:
    """``(current, target)``: the version ``alias`` points at, and the one it pointed at before
    the move that brought it there (the latest move to the current version that was not itself
    a rollback, so repeated rollbacks walk further back, like undo).

    Raises:
        ModelNotFound: the alias is not set, or it has never pointed anywhere else.
    """
    current = aliases_of(session, name).get(alias)
    if current is None:
        raise _missing(session, name, f"alias {alias!r} to roll back")
    moves = session.execute(
        sa.select(ModelEventRow)
        .where(
            ModelEventRow.name == name,
            ModelEventRow.alias == alias,
            ModelEventRow.version == current,
            ModelEventRow.action.in_([a for a in MOVES_ALIAS if a != "rollback"]),
        )
        .order_by(ModelEventRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if moves is None or moves.previous is None:
        raise ModelNotFound(
            f"{name}@{alias} has pointed at version {current} since it was first set: there is "
            f"nothing to roll back to; point it elsewhere with 'sameday models alias {name}/N "
            f"{alias}'"
        )
    return current, moves.previous


def history(session: Session, name: str, limit: int | None) -> list[ModelEvent]:
    """``name``'s events, newest first (at most ``limit``)."""
    query = (
        sa.select(ModelEventRow).where(ModelEventRow.name == name).order_by(ModelEventRow.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    found = [_event(row) for row in session.execute(query).scalars()]
    if not found:
        raise _missing(session, name, "history")
    return found
