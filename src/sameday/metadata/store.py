"""``MetadataStore``: runs, snapshots and applied objects in SQLite or PostgreSQL.

One class for every backend: the SQLAlchemy models are portable, and the differences (locking,
upserts, SQLite's connection settings) live in ``_engine`` and the few functions that need them.
Every method runs in its own transaction and returns frozen records, never ORM objects, so
nothing a caller holds can lazily hit a closed session.

Opening checks the schema revision with one query and imports Alembic only when a migration is
actually needed, so opening an up-to-date database stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from sameday._closing import Closing
from sameday.errors import ApplyRefused, MetadataError
from sameday.metadata import (
    _alerts,
    _applied,
    _bandits,
    _datasets,
    _history,
    _overview,
    _profiles,
    _runs,
    _snapshots,
    _stops,
)
from sameday.metadata import _models_registry as _models
from sameday.metadata import migrate as migrations
from sameday.metadata._engine import (
    WRITE,
    create_engine,
    is_sqlite,
    parse_url,
    redact,
    sqlite_file,
    translate_errors,
)
from sameday.metadata._models_registry import (
    ModelEvent,
    ModelSummary,
    ModelVersionRecord,
)
from sameday.metadata._overview import ProfileSummary
from sameday.metadata._stops import ExperimentStop
from sameday.metadata.dataset_records import DatasetObservation, Observed, SchemaRevision
from sameday.metadata.models import SCHEMA_REVISION
from sameday.metadata.records import (
    AppliedObject,
    AttemptEntry,
    AttemptRecord,
    BanditParamsRecord,
    LiveChange,
    ProfileRecord,
    RunRecord,
    SnapshotRecord,
)


def _now() -> datetime:
    return datetime.now(UTC)


class MetadataStore(Closing):
    """The metadata database of a project. Open it with :meth:`open`; close it when done.

    Example::

        with MetadataStore.open("sqlite:///.sameday/metadata.db") as store:
            run = store.create_run("daily", {"date": "2026-11-23"})
            store.finish_run(run.id, "succeeded")
    """

    def __init__(self, engine: sa.Engine) -> None:
        """Wrap an engine already at ``SCHEMA_REVISION``; use :meth:`open` instead."""
        self._engine = engine
        self._url = engine.url
        self._closed = False

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> MetadataStore:
        """Open the metadata database at ``url``, upgrading its schema if allowed.

        Args:
            url: ``sqlite:///path/to/file.db`` (folders are created), ``sqlite://`` (in
                memory) or ``postgresql+psycopg://user@host/db``.
            migrate: upgrade a database that is behind (or empty) to the schema this sameday
                needs. With ``False`` such a database is refused: for a shared PostgreSQL,
                servers usually open with ``migrate=False`` and an operator runs
                ``sameday db upgrade``.

        Raises:
            ConfigError: ``url`` is not a metadata database URL (see :mod:`sameday.registry`).
            MetadataError: the schema is not current and ``migrate`` is ``False``.
            MigrationError: the upgrade failed (the database is unchanged).
            StoreUnavailable: the database cannot be reached.
        """
        parsed = parse_url(url)
        engine = create_engine(parsed)
        try:
            revision = _schema_revision(engine)
            if revision != SCHEMA_REVISION:
                if not migrate:
                    raise MetadataError(
                        f"metadata database {redact(parsed)} is at schema revision "
                        f"{revision or 'none (empty)'}, this sameday needs {SCHEMA_REVISION}: "
                        "run 'sameday db upgrade'"
                    )
                if is_sqlite(parsed) and sqlite_file(parsed) is None:
                    migrations.upgrade_engine(engine, SCHEMA_REVISION)
                else:
                    migrations.upgrade(url, SCHEMA_REVISION)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        """Close every pooled connection. Using the store afterwards raises ``MetadataError``."""
        self._closed = True
        self._engine.dispose()

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return f"MetadataStore({redact(self._url)!r}{state})"

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return redact(self._url)

    def _check_open(self) -> None:
        if self._closed:
            raise MetadataError(f"{self!r} is closed: open a new one")

    @contextmanager
    def _connection(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """A pooled connection with driver errors translated; ``write`` locks SQLite up front."""
        self._check_open()
        with translate_errors(self._url), self._engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE: True})
            yield connection

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        """An ORM session in its own transaction, committed when the block ends."""
        with (
            self._connection(write=write) as connection,
            Session(bind=connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        """A write transaction for Core statements, skipping the ORM session's set-up cost."""
        with self._connection(write=True) as connection, connection.begin():
            yield connection

    # Runs and job attempts.

    def create_run(
        self,
        pipeline: str,
        params: dict[str, Any],
        trigger: str = "manual",
        resumed_from: str | None = None,
    ) -> RunRecord:
        """Record a new run of ``pipeline``, status ``running``, with a fresh id."""
        with self._session(write=True) as session:
            return _runs.create_run(session, pipeline, params, trigger, resumed_from, _now())

    def finish_run(self, run_id: str, status: str, message: str | None = None) -> RunRecord:
        """Record that a run ended: ``succeeded``, ``failed`` or ``cancelled``."""
        with self._session(write=True) as session:
            return _runs.finish_run(session, run_id, status, message, _now())

    def record_run(
        self,
        run_id: str,
        pipeline: str,
        params: dict[str, Any],
        *,
        trigger: str,
        status: str,
        message: str | None,
        started_at: datetime,
    ) -> RunRecord:
        """Record a finished run under an id chosen elsewhere (an Argo workflow's name), ending
        now; recording it again (``argo retry`` reruns the exit handler) updates it."""
        with self._session(write=True) as session:
            return _runs.record_run(
                session, run_id, pipeline, params, trigger, status, message, started_at, _now()
            )

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or the only one whose id starts with it (``NotFound`` else)."""
        with self._session() as session:
            return _runs.run_record(_runs.find_run(session, run_id))

    def list_runs(self, pipeline: str | None = None, limit: int = 50) -> list[RunRecord]:
        """The latest runs, newest first, of one pipeline or all."""
        with self._session() as session:
            return _runs.list_runs(session, pipeline, limit)

    def start_attempt(self, run_id: str, job: str, attempt: int, log_path: str) -> AttemptRecord:
        """Record that attempt number ``attempt`` (from 1) of ``job`` started in a run."""
        with self._session(write=True) as session:
            return _runs.start_attempt(session, run_id, job, attempt, log_path, _now())

    def finish_attempt(
        self,
        attempt_id: int,
        status: str,
        exit_code: int | None = None,
        reason: str | None = None,
    ) -> AttemptRecord:
        """Record how an attempt ended (any attempt status but ``running``)."""
        with self._session(write=True) as session:
            return _runs.finish_attempt(session, attempt_id, status, exit_code, reason, _now())

    def record_attempts(self, run_id: str, attempts: Sequence[AttemptEntry]) -> None:
        """Record many attempts of one run in one transaction, keyed by job and attempt number.

        New attempts are inserted; attempts recorded ``running`` take the entry's outcome;
        attempts that already ended are left as they are. This is how the local runner writes:
        a batch of entries costs about one transaction, where ``start_attempt`` and
        ``finish_attempt`` cost one each per attempt.

        Raises:
            ValueError: an entry is malformed, or an attempt is listed twice.
            NotFound: there is no run with exactly this id.
        """
        self._check_open()
        if not attempts:
            return
        with self._transaction() as connection:
            _runs.record_attempts(connection, run_id, attempts)

    def attempts(self, run_id: str, job: str | None = None) -> list[AttemptRecord]:
        """The attempts of a run in the order they started, optionally of one job."""
        with self._session() as session:
            return _runs.attempts(session, run_id, job)

    def job_statuses(self, run_id: str) -> dict[str, str]:
        """Each job of a run mapped to the status of its latest attempt."""
        with self._session() as session:
            return _runs.job_statuses(session, run_id)

    # Snapshots.

    def create_snapshot(
        self,
        result_set: str,
        version: str,
        *,
        content_hash: str,
        rows: int,
        keys: int,
        schema: dict[str, Any],
        source: str,
        run_id: str | None,
        store_url: str,
    ) -> SnapshotRecord:
        """Record a staged snapshot (not served until :meth:`set_live`)."""
        with self._session(write=True) as session:
            return _snapshots.create_snapshot(
                session,
                result_set,
                version,
                content_hash=content_hash,
                rows=rows,
                keys=keys,
                schema=schema,
                source=source,
                run_id=run_id,
                store_url=store_url,
                now=_now(),
            )

    def set_live(
        self,
        result_set: str,
        version: str,
        *,
        action: str = "publish",
        actor: str | None = None,
        reason: str | None = None,
    ) -> SnapshotRecord | None:
        """Atomically make ``version`` live and retire the previous live one, returned.

        The change joins the history of what was live (see :meth:`history`) in the same
        transaction: ``action`` is one of ``LIVE_ACTIONS``, ``actor`` who did it (default:
        this process's ``user@host``), ``reason`` why, if given.
        """
        with self._session(write=True) as session:
            return _snapshots.set_live(
                session, result_set, version, _now(), action=action, actor=actor, reason=reason
            )

    def history(self, result_set: str, limit: int | None = None) -> list[LiveChange]:
        """Every change of ``result_set``'s live snapshot, newest first (at most ``limit``)."""
        with self._session() as session:
            return _history.history(session, result_set, limit)

    def find_snapshot(self, result_set: str, version: str) -> SnapshotRecord:
        """The snapshot of ``result_set`` with this version or unique version prefix.

        Raises:
            NotFound: nothing matches, or several do (the message lists them).
        """
        with self._session() as session:
            return _snapshots.snapshot_record(
                _snapshots.find_snapshot(session, result_set, version)
            )

    def live_snapshot(self, result_set: str) -> SnapshotRecord | None:
        """The snapshot served for ``result_set``, or ``None``."""
        with self._session() as session:
            return _snapshots.live_snapshot(session, result_set)

    def get_snapshot(self, version: str) -> SnapshotRecord:
        """The snapshot with this version (``NotFound`` else)."""
        with self._session() as session:
            return _snapshots.snapshot_record(_snapshots.get_snapshot(session, version))

    def list_snapshots(
        self, result_set: str, *, include_deleted: bool = False
    ) -> list[SnapshotRecord]:
        """The snapshots of ``result_set``, newest first."""
        with self._session() as session:
            return _snapshots.list_snapshots(session, result_set, include_deleted)

    def mark_deleted(self, version: str) -> SnapshotRecord:
        """Mark a non-live snapshot deleted (call before removing its data)."""
        with self._session(write=True) as session:
            return _snapshots.mark_deleted(session, version)

    def delete_staged(
        self, result_set: str, *, older_than: timedelta | None = None
    ) -> list[SnapshotRecord]:
        """Forget staged snapshots never made live; returns them so their data can be removed."""
        with self._session(write=True) as session:
            return _snapshots.delete_staged(session, result_set, older_than, _now())

    # Snapshot profiles (monitoring: drift gates and the status board).

    def record_profile(
        self,
        version: str,
        result_set: str,
        profile: dict[str, Any],
        findings: list[dict[str, Any]],
    ) -> ProfileRecord:
        """Record the profile of snapshot ``version`` and its drift findings, once."""
        with self._session(write=True) as session:
            return _profiles.record_profile(session, version, result_set, profile, findings, _now())

    def profiles(self, result_set: str, limit: int = 20) -> list[ProfileRecord]:
        """The newest ``limit`` profiles of ``result_set``'s published snapshots, newest first."""
        with self._session() as session:
            return _profiles.profiles(session, result_set, limit)

    def profile(self, version: str) -> ProfileRecord | None:
        """The profile of snapshot ``version``, or ``None`` if it has none."""
        with self._session() as session:
            return _profiles.profile(session, version)

    # Overviews: one query each, however many objects, reading only what they return (the
    # dashboard; see ``_overview``).

    def live_snapshots(self) -> list[SnapshotRecord]:
        """Every result set's live snapshot, by result set name."""
        with self._session() as session:
            return _overview.live_snapshots(session)

    def live_changes_since(self, since: datetime, limit: int = 200) -> list[LiveChange]:
        """Changes of any result set's live snapshot at or after ``since``, newest first."""
        with self._session() as session:
            return _overview.live_changes_since(session, since, limit)

    def run_counts_since(self, since: datetime) -> dict[str, int]:
        """How many runs of any pipeline started at or after ``since``, by status."""
        with self._session() as session:
            return _overview.run_counts_since(session, since)

    def find_runs(
        self, *, pipeline: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        """The newest ``limit`` runs, of one pipeline and in one status when given."""
        with self._session() as session:
            return _overview.find_runs(session, pipeline, status, limit)

    def latest_runs(self, pipelines: Sequence[str], per: int = 20) -> dict[str, list[RunRecord]]:
        """The newest ``per`` runs of each of ``pipelines``, newest first, in one statement."""
        with self._session() as session:
            return _overview.latest_runs(session, pipelines, per)

    def profile_summaries(self, versions: Sequence[str]) -> dict[str, ProfileSummary]:
        """Items, mean list length, overlap and drift findings of these snapshots' profiles,
        by version, without decoding the rest of each profile."""
        with self._session() as session:
            return _overview.profile_summaries(session, versions)

    def incident_counts_since(self, since: datetime) -> tuple[int, int]:
        """``(opened, resolved)``: incidents opened, and incidents resolved, at or after
        ``since``."""
        with self._session() as session:
            return _overview.incident_counts_since(session, since)

    def profile_findings(self, versions: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The drift findings of these snapshots' profiles, by version, and nothing else of
        them (freshness overviews)."""
        with self._session() as session:
            return _overview.profile_findings(session, versions)

    def applied_since(self, since: datetime, limit: int = 50) -> list[AppliedObject]:
        """The newest ``limit`` applied objects whose spec was applied at or after ``since``."""
        with self._session() as session:
            return _overview.applied_since(session, since, limit)

    def applied_field(self, kind: str, field: str) -> dict[str, str | None]:
        """One top-level text field (``phase``) of every applied object of ``kind``, by name."""
        with self._session() as session:
            return _overview.applied_field(session, kind, field)

    def applied_object(self, kind: str, name: str) -> AppliedObject | None:
        """The applied object ``kind`` ``name``, or ``None``."""
        with self._session() as session:
            return _overview.applied_object(session, kind, name)

    # Applied objects.

    def applied(self, kind: str | None = None) -> list[AppliedObject]:
        """The objects registered by the last apply, by kind then name."""
        with self._session() as session:
            return _applied.applied(session, kind)

    def replace_applied(
        self, objects: list[tuple[str, str, dict[str, Any]]]
    ) -> list[AppliedObject]:
        """Atomically make the applied set exactly ``objects`` (kind, name, spec).

        Raises:
            ApplyRefused: an experiment ``objects`` runs was stopped by its health check and
                nobody has acknowledged it. ``apply`` plans with that check too; here it holds
                under the lock, so a stop made between the plan and this write is not undone.
        """
        with self._session(write=True) as session:
            _applied.lock_applied(session)
            running = {
                name
                for kind, name, spec in objects
                if kind == "experiment" and spec.get("phase") == "running"
            }
            stopped = [s for s in _stops.stops(session, open_only=True) if s.experiment in running]
            if stopped:
                raise ApplyRefused([stop.refusal() for stop in stopped])
            return _applied.replace_applied(session, objects, _now())

    # Experiments stopped by their health check.

    def stop_experiment(
        self, experiment: str, *, cause: str, summary: str, evidence: dict[str, Any]
    ) -> ExperimentStop | None:
        """Stop the applied running ``experiment`` and record why, in one transaction.

        Servers serve its surface's default from their next refresh. Returns ``None`` (and
        changes nothing) when it is not applied as running any more.
        """
        with self._session(write=True) as session:
            return _stops.stop(
                session, experiment, cause=cause, summary=summary, evidence=evidence, now=_now()
            )

    def experiment_stops(
        self, experiment: str | None = None, *, open_only: bool = False
    ) -> list[ExperimentStop]:
        """Stops made by health checks, newest first (of one experiment; not acknowledged)."""
        with self._session() as session:
            return _stops.stops(session, experiment, open_only=open_only)

    def clear_experiment_stops(self, experiments: Sequence[str]) -> int:
        """Acknowledge the open stops of ``experiments``; return how many were open."""
        with self._session(write=True) as session:
            return _stops.clear(session, experiments, _now())

    # Bandit parameter snapshots.

    def latest_bandit_params(self, experiment: str) -> BanditParamsRecord | None:
        """The live (newest) parameter snapshot of a bandit, or ``None`` before its first."""
        with self._session() as session:
            return _bandits.latest(session, experiment)

    def bandit_versions(self) -> dict[str, int]:
        """Every bandit's live snapshot version, for servers deciding whether to reload."""
        with self._session() as session:
            return _bandits.latest_versions(session)

    def bandit_history(self, experiment: str, limit: int = 20) -> list[BanditParamsRecord]:
        """A bandit's newest ``limit`` snapshots, newest first."""
        with self._session() as session:
            return _bandits.history(session, experiment, limit)

    def save_bandit_params(
        self, experiment: str, params: dict[str, Any], *, expected_version: int | None
    ) -> BanditParamsRecord:
        """Atomically make ``params`` the live snapshot after ``expected_version``.

        Raises:
            BanditParamsConflict: another update saved a snapshot after ``expected_version``.
        """
        with self._session(write=True) as session:
            return _bandits.save(session, experiment, params, expected_version, _now())

    # Alerts: incidents, the notification outbox, mutes (see ``_alerts`` for the rules).

    def observe_alerts(
        self,
        monitor: str,
        observations: Sequence[_alerts.Observation],
        *,
        complete: Sequence[str] = (),
        remind_after: timedelta,
        project: str,
        now: datetime | None = None,
    ) -> _alerts.Outcome:
        """Fold one run of ``monitor`` into its incidents and queue notifications, atomically.

        ``complete`` names the checks that ran to the end: their open incidents on subjects
        they no longer report are resolved.
        """
        with self._session(write=True) as session:
            return _alerts.observe(
                session,
                monitor,
                observations,
                complete=complete,
                remind_after=remind_after,
                project=project,
                now=now or _now(),
            )

    def incidents(
        self, *, include_resolved: bool = False, limit: int | None = 100
    ) -> list[_alerts.Incident]:
        """Open incidents (or all, with ``include_resolved``), newest first."""
        with self._session() as session:
            return _alerts.incidents(session, include_resolved=include_resolved, limit=limit)

    def notifications(
        self,
        *,
        incident_id: int | None = None,
        pending_only: bool = False,
        limit: int | None = None,
    ) -> list[_alerts.Notification]:
        """Queued and sent notifications, oldest first (of one incident, or pending only)."""
        with self._session() as session:
            return _alerts.notifications(
                session, incident_id=incident_id, pending_only=pending_only, limit=limit
            )

    def claim_notifications(
        self, *, lease: timedelta, limit: int = 100, now: datetime | None = None
    ) -> list[_alerts.Notification]:
        """Take the pending notifications that are due, each leased to this caller for ``lease``."""
        with self._session(write=True) as session:
            return _alerts.claim_due(session, now or _now(), lease, limit)

    def finish_notification(
        self,
        notification_id: int,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
        now: datetime | None = None,
    ) -> _alerts.Notification:
        """Record a delivery attempt: sent (no ``error``), or pending again until ``retry_at``."""
        with self._session(write=True) as session:
            return _alerts.finish_delivery(
                session, notification_id, error=error, retry_at=retry_at, now=now or _now()
            )

    def mute(
        self,
        monitor: str,
        *,
        until: datetime,
        subject: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
        now: datetime | None = None,
    ) -> _alerts.Mute:
        """Hold back notifications of a monitor or check (and ``subject``) until ``until``."""
        with self._session(write=True) as session:
            return _alerts.mute(
                session,
                monitor,
                subject,
                until=until,
                reason=reason,
                actor=actor,
                now=now or _now(),
            )

    def unmute(
        self, monitor: str, *, subject: str | None = None, now: datetime | None = None
    ) -> list[_alerts.Mute]:
        """End the active mutes set for exactly ``monitor`` and ``subject``; returns them."""
        with self._session(write=True) as session:
            return _alerts.unmute(session, monitor, subject, now or _now())

    def mutes(
        self, *, include_ended: bool = False, now: datetime | None = None
    ) -> list[_alerts.Mute]:
        """Active mutes (or every mute ever set), oldest first."""
        with self._session() as session:
            return _alerts.mutes(session, now or _now(), include_ended=include_ended)

    # Datasets: observations per run and schema history.

    def record_observation(
        self,
        dataset: str,
        observed: Observed,
        *,
        run_id: str | None = None,
        job: str | None = None,
        role: str = "observe",
    ) -> DatasetObservation:
        """Record one look at ``dataset`` (``role``: read, write or observe), adding a schema
        revision when its columns differ from the last one recorded."""
        with self._session(write=True) as session:
            return _datasets.record(
                session, dataset, observed, run_id=run_id, job=job, role=role, now=_now()
            )

    def dataset_observations(self, dataset: str, limit: int = 20) -> list[DatasetObservation]:
        """The newest ``limit`` observations of ``dataset``, newest first."""
        with self._session() as session:
            return _datasets.observations(session, dataset, limit)

    def latest_observations(self) -> dict[str, DatasetObservation]:
        """Every observed dataset's newest observation, by name."""
        with self._session() as session:
            return _datasets.latest(session)

    def schema_history(self, dataset: str, limit: int | None = None) -> list[SchemaRevision]:
        """The schema revisions of ``dataset``, newest first (at most ``limit``)."""
        with self._session() as session:
            return _datasets.schema_history(session, dataset, limit)

    # The model registry (sameday.models is the API; these are its transactions).

    def create_model_version(
        self,
        name: str,
        *,
        content_hash: str,
        bundle_url: str,
        flavor: str,
        params: dict[str, Any],
        metrics: dict[str, Any],
        lineage: dict[str, Any],
        run_id: str | None = None,
        description: str | None = None,
        actor: str | None = None,
        aliases: Sequence[str] = (),
        alias_action: str = "register",
        evidence: dict[str, Any] | None = None,
    ) -> tuple[ModelVersionRecord, bool]:
        """Register a bundle as ``name``'s next version and point ``aliases`` at it, in one
        transaction; ``(record, created)``, ``created`` false when this exact bundle already
        is a version of ``name`` (its aliases still move). The alias moves are recorded as
        ``alias_action`` (``gate-blessed`` for the gate) with ``evidence``."""
        now = _now()
        with self._session(write=True) as session:
            record, created = _models.create_version(
                session,
                name,
                content_hash=content_hash,
                bundle_url=bundle_url,
                flavor=flavor,
                params=params,
                metrics=metrics,
                lineage=lineage,
                run_id=run_id,
                description=description,
                actor=actor,
                now=now,
            )
            for alias in aliases:
                _models.set_alias(
                    session,
                    name,
                    alias,
                    record.version,
                    action=alias_action,
                    actor=actor,
                    reason=description,
                    evidence=evidence,
                    now=now,
                )
            return _models.get_version(session, name, record.version), created

    def model_version(
        self, name: str, *, version: int | None = None, alias: str | None = None
    ) -> ModelVersionRecord:
        """A version of ``name`` by number or alias, or its newest (``ModelNotFound`` else)."""
        with self._session() as session:
            if version is not None:
                return _models.get_version(session, name, version)
            if alias is not None:
                return _models.resolve_alias(session, name, alias)
            return _models.latest_version(session, name)

    def model_versions(self, name: str, limit: int | None = None) -> list[ModelVersionRecord]:
        """The newest ``limit`` versions of ``name`` (every one by default), newest first."""
        with self._session() as session:
            return _models.list_versions(session, name, limit)

    def model_aliases(self, name: str) -> dict[str, int]:
        """Every alias of ``name`` and the version it points at, by alias."""
        with self._session() as session:
            return _models.aliases_of(session, name)

    def list_models(self) -> list[ModelSummary]:
        """Every registered model, by name."""
        with self._session() as session:
            return _models.list_models(session)

    def set_model_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        action: str = "alias",
        actor: str | None = None,
        reason: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> ModelEvent:
        """Point ``name@alias`` at ``version``; the event records what it pointed at before."""
        with self._session(write=True) as session:
            return _models.set_alias(
                session,
                name,
                alias,
                version,
                action=action,
                actor=actor,
                reason=reason,
                evidence=evidence,
                now=_now(),
            )

    def delete_model_alias(
        self, name: str, alias: str, *, actor: str | None = None, reason: str | None = None
    ) -> ModelEvent:
        """Remove ``name@alias``."""
        with self._session(write=True) as session:
            return _models.delete_alias(
                session, name, alias, actor=actor, reason=reason, now=_now()
            )

    def rollback_model_alias(
        self, name: str, alias: str, *, actor: str | None = None, reason: str | None = None
    ) -> ModelEvent:
        """Point ``name@alias`` back at the version it pointed at before its latest move."""
        with self._session(write=True) as session:
            current, target = _models.rollback_target(session, name, alias)
            return _models.set_alias(
                session,
                name,
                alias,
                target,
                action="rollback",
                actor=actor,
                reason=reason,
                evidence={"undone": current},
                now=_now(),
            )

    def record_model_event(
        self,
        name: str,
        action: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> ModelEvent:
        """Add a decision that moved nothing (a refused gate) to ``name``'s history."""
        with self._session(write=True) as session:
            return _models.record_event(
                session,
                name,
                action,
                version=version,
                alias=alias,
                previous=None,
                actor=actor,
                reason=reason,
                evidence=evidence,
                now=_now(),
            )

    def model_history(self, name: str, limit: int | None = None) -> list[ModelEvent]:
        """``name``'s registrations, alias moves and gate decisions, newest first."""
        with self._session() as session:
            return _models.history(session, name, limit)


def _schema_revision(engine: sa.Engine) -> str | None:
    """The Alembic revision recorded in the database, read without importing Alembic."""
    with translate_errors(engine.url), engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        value = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        return str(value) if value is not None else None
