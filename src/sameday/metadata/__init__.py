"""The metadata database: pipeline runs, job attempts, snapshots, what was live when, applied
objects, and alert incidents with their notifications.

SQLite under ``.sameday/`` by default, PostgreSQL by URL; the same SQLAlchemy models and Alembic
migrations serve both. Open it with :meth:`MetadataStore.open`; manage its schema with
:mod:`sameday.metadata.migrate` or ``sameday db``. Alembic is imported only when migrating.
"""

from sameday.metadata._alerts import Incident, Mute, Notification, Observation, Outcome
from sameday.metadata._models_registry import (
    MODEL_ACTIONS,
    ModelAction,
    ModelEvent,
    ModelSummary,
    ModelVersionRecord,
)
from sameday.metadata._overview import ProfileSummary
from sameday.metadata._profiles import ProfileRecord
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
    RunRecord,
    RunStatus,
    RunTrigger,
    SnapshotRecord,
    SnapshotStatus,
)
from sameday.metadata.store import MetadataStore

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
