"""``sameday.Client``: the serving semantics in process, the same as the HTTP API's.

A client owns its connections (serving store, metadata database, event sink) and a refresher
thread that polls the applied configuration and the live snapshot versions every
``refresh_interval`` seconds and swaps in a new state when either changed: applied experiments and
newly published snapshots reach running servers within seconds, without a restart. The same poll
reloads bandits whose parameter snapshot changed, and a client built with ``update_bandits``
also runs their posterior updates (:class:`~sameday.serve.bandits.BanditUpdater`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sameday import registry
from sameday._closing import Closing
from sameday.errors import StoreUnavailable
from sameday.events.records import Outcome
from sameday.events.ticket import Ticket
from sameday.events.writer import EventWriter
from sameday.serve.bandits import BanditUpdater, bandit_plans, load_policies
from sameday.serve.batching import READ_DEADLINE, Rounds
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.engine import Engine, Recommendation
from sameday.serve.held import MEMORY_LIMIT
from sameday.serve.scoring import ModelSource, RegistrySource, Scoring
from sameday.serve.state import ServingState, build_state, fingerprint
from sameday.store.base import ServingStore

if TYPE_CHECKING:
    from sameday.metadata import MetadataStore
    from sameday.metadata.records import BanditParamsRecord

log = logging.getLogger("sameday.serve")


class AppliedSource:
    """Reads the applied specs from the metadata database (``sameday apply`` writes them).

    Args:
        metadata: the open metadata store (closed with this source), or its URL.
    """

    def __init__(self, metadata: MetadataStore | str) -> None:
        if isinstance(metadata, str):
            from sameday.metadata import MetadataStore

            metadata = MetadataStore.open(metadata)
        self._metadata = metadata

    @property
    def metadata(self) -> MetadataStore:
        """The metadata store read from (bandit snapshots live there too)."""
        return self._metadata

    def specs(self) -> dict[tuple[str, str], dict[str, Any]]:
        """``(kind, name) → spec`` of every applied object."""
        return {(o.kind, o.name): o.spec for o in self._metadata.applied()}

    def bandit_versions(self) -> dict[str, int]:
        """Every bandit's live parameter snapshot version."""
        return self._metadata.bandit_versions()

    def latest_bandit_params(self, experiment: str) -> BanditParamsRecord | None:
        """The live parameter snapshot of a bandit."""
        return self._metadata.latest_bandit_params(experiment)

    def close(self) -> None:
        """Close the database connection."""
        self._metadata.close()


class Client(Closing):
    """Recommend and track in process. Build it with :meth:`from_project`.

    Args:
        store: the serving store lists are read from.
        specs: where the applied configuration comes from (``AppliedSource``), or ``None`` to
            serve a fixed ``state``.
        writer: the event writer exposures and outcomes go to, or ``None`` to log nothing.
        refresh_interval: seconds between polls; ``0`` disables the refresher thread.
        updater: the bandit updater to run while the client is open (``from_project`` builds
            one with ``update_bandits=True``); the client closes it.
        read_deadline: seconds an HTTP request waits for the store before it is served from
            the last-known-good lists (``sameday.serve.batching``).
        models: where the models arms and surfaces name are resolved and loaded
            (``from_project``: the project's registry); ``python:`` scorers need none.
        root: the folder ``python:`` scorers are also imported from (the project's).

        memory_limit: bytes of live snapshots the client may hold in memory and serve without
            a store read (``sameday.serve.held``); ``0`` reads the store for every request.
    """

    def __init__(
        self,
        store: ServingStore,
        *,
        specs: AppliedSource | None = None,
        writer: EventWriter | None = None,
        state: ServingState | None = None,
        refresh_interval: float = 2.0,
        updater: BanditUpdater | None = None,
        read_deadline: float = READ_DEADLINE,
        models: ModelSource | None = None,
        root: Path | None = None,
        memory_limit: int = MEMORY_LIMIT,
    ) -> None:
        if memory_limit < 0:
            raise ValueError(f"memory_limit must be 0 (off) or more bytes, got {memory_limit}")
        self.store = store
        self.read_deadline = read_deadline
        self.memory_limit = memory_limit
        self.writer = writer
        self._specs = specs
        self.updater = updater
        scoring = Scoring(store, source=models, root=root)
        self.engine = Engine(store, state=state, log=writer, scoring=scoring)
        self.refresh_errors = 0
        self._unreadable = False  # the last refresh could not read the applied configuration
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()
        if refresh_interval > 0:
            self._thread = threading.Thread(
                target=self._poll, args=(refresh_interval,), name="sameday-refresh", daemon=True
            )
            self._thread.start()
        if updater is not None:
            updater.start()

    @classmethod
    def from_project(
        cls,
        project_dir: Path | str | None = None,
        *,
        refresh_interval: float | None = None,
        update_bandits: bool = True,
    ) -> Client:
        """A client on the project's storage (``storage.*`` in ``sameday.yaml``).

        With ``update_bandits`` (what ``sameday serve`` uses) the client also updates the
        posteriors of running bandits every ``bandit.update_interval``.
        """
        from sameday.config import load_project

        project = load_project(project_dir)
        storage = project.settings.storage
        interval = project.settings.serve.refresh_interval
        every = interval if refresh_interval is None else refresh_interval
        store: ServingStore
        if storage.serving.partition("://")[0].lower() in registry.REDIS:
            # The server promises pick-up within the refresh interval, and its refresher
            # re-reads every live pointer that often: trust them that long (cheaper reads).
            # Not checked now: a replica starting while Redis is down serves fallbacks and
            # picks the lists up once Redis answers (``/readyz`` says which).
            store = registry.open_url(
                "serving", project.url(storage.serving), pointer_ttl=every, check=False
            )
        else:
            store = project.open_serving_store()
        if storage.serving.startswith("sqlite:///"):
            from sameday.store.sqlite import SNAPSHOT_TTL, SQLiteStore

            if isinstance(store, SQLiteStore):
                # Lookups share one read snapshot for a few milliseconds (half the cost of one).
                store.snapshot_ttl = SNAPSHOT_TTL
        # Whatever opened before a later step fails is closed again: a caller retrying a
        # server start against a database that is down must not collect writer threads.
        with ExitStack() as opened:
            opened.callback(store.close)
            writer = EventWriter(project.open_event_sink())
            opened.callback(writer.close)
            source = AppliedSource(project.open_metadata())
            opened.callback(source.close)
            from sameday.models.registry import Registry

            client = cls(
                store,
                specs=source,
                writer=writer,
                refresh_interval=every,
                read_deadline=project.settings.serve.read_deadline,
                models=RegistrySource(Registry(project, source.metadata)),
                root=project.root,
                memory_limit=project.settings.serve.memory_limit,
            )
            opened.pop_all()
        if update_bandits:
            client.updater = BanditUpdater(
                source.metadata, project.open_event_sink(), lambda: client.state
            )
            client.updater.start()
        return client

    @property
    def state(self) -> ServingState:
        """The configuration being served."""
        return self.engine.state

    def refresh(self) -> bool:
        """Reload applied specs and live versions now; return whether anything changed.

        A store or database that cannot be reached keeps the current state (last known good).
        """
        state = self.engine.state
        try:
            if self._specs is not None:
                specs = self._specs.specs()
                if fingerprint(specs) != state.fingerprint:
                    state = build_state(specs)
            cache = refresh_cache(
                self.store, state.result_sets, self.engine.cache, self.memory_limit, state.scored
            )
            bandits = self.engine.bandits
            if self._specs is not None and (bandits or bandit_plans(state)):
                bandits = load_policies(self._specs, state, bandits)
            scorers_changed = self.engine.scoring.refresh(state)
        except StoreUnavailable as exc:
            self.refresh_errors += 1
            if not self._unreadable:
                self._unreadable = True
                log.warning(
                    "cannot read the applied configuration (%s): serving the one loaded last "
                    "until it can",
                    exc,
                )
            return False
        if self._unreadable:
            self._unreadable = False
            log.info("the applied configuration can be read again")
        changed = state is not self.engine.state or cache.versions != self.engine.cache.versions
        old = self.engine.cache
        if changed or cache.store_error != old.store_error or held(cache) != held(old):
            _log_changes(self.engine.state, self.engine.cache, state, cache)
            self.engine.swap(state, cache)
        if bandits != self.engine.bandits:
            self.engine.bandits = bandits
            changed = True
        return changed or scorers_changed

    def _poll(self, interval: float) -> None:
        failing = False
        while not self._stop.wait(interval):
            try:
                self.refresh()
            except Exception:  # the poller must outlive any one bad poll
                self.refresh_errors += 1
                if not failing:  # a bug: its traceback once, not every interval
                    log.exception("refreshing the configuration and snapshots failed")
                failing = True
            else:
                failing = False

    def recommend(
        self,
        surface: str,
        unit: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        n: int | None = None,
        exclude: Iterable[str] = (),
        request_id: str | None = None,
    ) -> Recommendation:
        """Serve one list to ``unit`` on ``surface`` (see ``Engine.recommend``).

        ``request_id`` names the served list (a trace id of yours, unique per list); by default
        sameday makes one. Interleaving and bandit draws are seeded by it.
        """
        return self.engine.recommend(
            surface, unit, attributes=attributes, n=n, exclude=exclude, request_id=request_id
        )

    def recommend_batch(
        self,
        surface: str,
        requests: Sequence[tuple[str, Mapping[str, Any] | None]],
        *,
        n: int | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Recommendation]:
        """Serve one list per ``(unit, attributes)``, for e-mail and push jobs.

        Every unit is assigned first, then the first store reads of all of them are made in one
        ``store.get_reads`` call (one pipelined round trip on Redis, not one per unit), then
        each list is filled and logged; the fallbacks any of them still needs are read in one
        more call.
        """
        excluded = tuple(exclude)
        engine = self.engine
        prepared = [
            engine.prepare(surface, unit, attributes=attrs, n=n, exclude=excluded)
            for unit, attrs in requests
        ]
        rounds = Rounds(engine, prepared)
        while not rounds.done:
            if rounds.to_score:
                engine.scoring.score_many(rounds.to_score)
            rounds.answer(self.store.get_reads(rounds.reads) if rounds.reads else [])
        return rounds.results

    def track(self, outcomes: Sequence[Outcome]) -> Ticket | None:
        """Log outcome events; the ticket resolves once they are durable (``None``: no log)."""
        if self.writer is None:
            return None
        return self.writer.log_outcomes(outcomes)

    def close(self) -> None:
        """Stop the refresher, flush and close the writer, close every connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.engine.scoring.close()
        if self.updater is not None:
            self.updater.close()
        if self.writer is not None:
            self.writer.close()
            self.writer.sink.close()
        if self._specs is not None:
            self._specs.close()
        self.store.close()


def held(cache: ListCache) -> dict[str, str]:
    """The version of each result set ``cache`` holds in memory."""
    return {result_set: snapshot.version for result_set, snapshot in cache.held.items()}


def _log_changes(
    old_state: ServingState, old: ListCache, state: ServingState, cache: ListCache
) -> None:
    """One line for each change a refresh brings: a configuration or a snapshot picked up, the
    serving store lost or back."""
    if state is not old_state:
        experiments = sorted(e.name for plan in state.surfaces.values() for e in plan.experiments)
        log.info(
            "configuration picked up (fingerprint %s): surfaces %s; experiments %s",
            state.fingerprint[:12],
            ", ".join(sorted(state.surfaces)) or "none",
            ", ".join(experiments) or "none",
            extra={"fields": {"fingerprint": state.fingerprint}},
        )
    for result_set in sorted(cache.versions.keys() - old.versions.keys()):
        version = cache.versions[result_set]
        log.info(
            "result set %s: serving snapshot %s",
            result_set,
            version,
            extra={"fields": {"result_set": result_set, "version": version}},
        )
    for result_set in sorted(cache.versions.keys() & old.versions.keys()):
        version, previous = cache.versions[result_set], old.versions[result_set]
        if version != previous:
            log.info(
                "result set %s: serving snapshot %s (was %s)",
                result_set,
                version,
                previous,
                extra={"fields": {"result_set": result_set, "version": version}},
            )
    for result_set, snapshot in sorted(cache.held.items()):
        if old.held.get(result_set) is not snapshot:
            log.info(
                "result set %s: snapshot %s held in memory (%d lists, %.1f MB)",
                result_set,
                snapshot.version,
                len(snapshot.lists),
                snapshot.size / 1e6,
                extra={"fields": {"result_set": result_set, "version": snapshot.version}},
            )
    for result_set, version in sorted(cache.too_large - old.too_large):
        log.warning(
            "result set %s: snapshot %s does not fit in serve.memory_limit; it is read from "
            "the serving store per request",
            result_set,
            version,
            extra={"fields": {"result_set": result_set, "version": version}},
        )
    if cache.store_error is not None and old.store_error is None:
        log.warning(
            "serving store unreachable (%s): answering from the last-known-good lists, "
            "flagged degraded, until it answers (GET /readyz tells)",
            cache.store_error,
        )
    elif cache.store_error is None and old.store_error is not None:
        log.info("serving store reachable again: serving its lists")
