"""The metadata database: pipeline runs, job attempts, snapshots, what was live when, applied
objects, and alert incidents with their notifications.

SQLite under ``.sameday/`` by default, PostgreSQL by URL; the same SQLAlchemy models and Alembic
migrations serve both. Open it with :meth:`MetadataStore.open`; manage its schema with
:mod:`sameday.metadata.migrate` or ``sameday db``. Alembic is imported only when migrating.

Importing the package costs nothing: each name loads its module on first use (PEP 562), so
the records, ids and the SQLite snapshot ledger a publish needs never load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sameday.metadata._alerts import Incident, Mute, Notification, Observation, Outcome
    from sameday.metadata._models_registry import (
        MODEL_ACTIONS,
        ModelAction,
        ModelEvent,
        ModelSummary,
        ModelVersionRecord,
    )
    from sameday.metadata._overview import ProfileSummary
    from sameday.metadata._stops import ExperimentStop
    from sameday.metadata.ids import new_run_id, new_snapshot_version
    from sameday.metadata.migrate import (
        MigrationOutcome,
        SchemaStatus,
        current_revision,
        downgrade,
        head_revision,
        schema_status,
        upgrade,
    )
    from sameday.metadata.records import (
        AppliedObject,
        AttemptEntry,
        AttemptRecord,
        AttemptStatus,
        LiveAction,
        LiveChange,
        ProfileRecord,
        RunRecord,
        RunStatus,
        RunTrigger,
        SnapshotRecord,
        SnapshotStatus,
    )
    from sameday.metadata.store import MetadataStore

_HOMES: dict[str, str] = {
    "AppliedObject": "sameday.metadata.records",
    "AttemptEntry": "sameday.metadata.records",
    "AttemptRecord": "sameday.metadata.records",
    "AttemptStatus": "sameday.metadata.records",
    "ExperimentStop": "sameday.metadata._stops",
    "Incident": "sameday.metadata._alerts",
    "LiveAction": "sameday.metadata.records",
    "LiveChange": "sameday.metadata.records",
    "MODEL_ACTIONS": "sameday.metadata._models_registry",
    "MetadataStore": "sameday.metadata.store",
    "MigrationOutcome": "sameday.metadata.migrate",
    "ModelAction": "sameday.metadata._models_registry",
    "ModelEvent": "sameday.metadata._models_registry",
    "ModelSummary": "sameday.metadata._models_registry",
    "ModelVersionRecord": "sameday.metadata._models_registry",
    "Mute": "sameday.metadata._alerts",
    "Notification": "sameday.metadata._alerts",
    "Observation": "sameday.metadata._alerts",
    "Outcome": "sameday.metadata._alerts",
    "ProfileRecord": "sameday.metadata.records",
    "ProfileSummary": "sameday.metadata._overview",
    "RunRecord": "sameday.metadata.records",
    "RunStatus": "sameday.metadata.records",
    "RunTrigger": "sameday.metadata.records",
    "SchemaStatus": "sameday.metadata.migrate",
    "SnapshotRecord": "sameday.metadata.records",
    "SnapshotStatus": "sameday.metadata.records",
    "current_revision": "sameday.metadata.migrate",
    "downgrade": "sameday.metadata.migrate",
    "head_revision": "sameday.metadata.migrate",
    "new_run_id": "sameday.metadata.ids",
    "new_snapshot_version": "sameday.metadata.ids",
    "schema_status": "sameday.metadata.migrate",
    "upgrade": "sameday.metadata.migrate",
}
"""The module of each public name, imported when the name is first read."""

__all__ = [
    "MODEL_ACTIONS",
    "AppliedObject",
    "AttemptEntry",
    "AttemptRecord",
    "AttemptStatus",
    "ExperimentStop",
    "Incident",
    "LiveAction",
    "LiveChange",
    "MetadataStore",
    "MigrationOutcome",
    "ModelAction",
    "ModelEvent",
    "ModelSummary",
    "ModelVersionRecord",
    "Mute",
    "Notification",
    "Observation",
    "Outcome",
    "ProfileRecord",
    "ProfileSummary",
    "RunRecord",
    "RunStatus",
    "RunTrigger",
    "SchemaStatus",
    "SnapshotRecord",
    "SnapshotStatus",
    "current_revision",
    "downgrade",
    "head_revision",
    "new_run_id",
    "new_snapshot_version",
    "schema_status",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    """Import the module holding ``name`` and return it from there."""
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
