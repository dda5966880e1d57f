"""One request's work: pick the surface's chain (experiment arm, rule or default), read lists
with fallbacks, and log the exposure.

The per-request path reads only immutable state (``ServingState``, ``ListCache``) swapped by the
refresher, does at most one store read per result set in the chain, and hands the exposure to a
non-blocking writer.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sameday.errors import NotFound, StoreUnavailable, UnknownSurface
from sameday.events.records import Exposure
from sameday.policies.bandit import BanditPolicy
from sameday.serve.cache import ListCache
from sameday.serve.interleaved import interleave_lists
from sameday.serve.state import ExperimentPlan, ServingState, SurfacePlan
from sameday.store.base import Item, Read, ServingStore


class ExposureLog(Protocol):
    """Where exposures go: ``sameday.events.EventWriter`` or a test double."""

    def log_exposure(self, exposure: Exposure) -> None:
        """Queue one exposure without blocking."""


@dataclass(frozen=True, slots=True)
class ServedItem:
    """One slot of a served list."""

    item: str
    score: float
    position: int
    source: str
    payload: dict[str, Any] | None = None


@dataclass(slots=True)
class Recommendation:
    """What was served for one request, and why.

    The list is kept as the store's ``Item`` tuples plus the result set each came from, so the
    per-request path builds no object per slot; ``items`` builds them for callers who want them.

    Treat it as immutable. Like ``Exposure``, it is not a frozen dataclass on purpose: one is
    built per request, and a frozen dataclass's ``__init__`` takes about twice as long for these
    nine fields (each is set through ``object.__setattr__``).
    """

    request_id: str
    surface: str
    unit: str
    entries: tuple[Item, ...]
    sources: tuple[str, ...]
    experiment: str | None = None
    arm: str | None = None
    degraded: bool = False
    snapshot_versions: dict[str, str] = field(default_factory=dict)

    @property
    def items(self) -> list[ServedItem]:
        """The served slots, positions from 1."""
        pairs = zip(self.entries, self.sources, strict=True)
        return [
            ServedItem(entry.item, entry.score, position, source, entry.payload)
            for position, (entry, source) in enumerate(pairs, start=1)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the HTTP answer."""
        return {
            "request_id": self.request_id,
            "surface": self.surface,
            "unit": self.unit,
            "experiment": self.experiment,
            "arm": self.arm,
            "degraded": self.degraded,
            "snapshots": self.snapshot_versions,
            "items": [
                {"item": entry.item, "score": entry.score, "position": position, "source": source}
                if entry.payload is None
                else {
                    "item": entry.item,
                    "score": entry.score,
                    "position": position,
                    "source": source,
                    "payload": entry.payload,
                }
                for position, (entry, source) in enumerate(
                    zip(self.entries, self.sources, strict=True), 1
                )
            ],
        }


@dataclass(slots=True)
class Prepared:
    """A request assigned to its chain but not yet served (``Engine.prepare``).

    ``chain`` is ``None`` for an interleaved experiment, whose arms are read and merged by
    ``Engine.finish``.
    """

    plan: SurfacePlan
    cache: ListCache
    unit: str
    attrs: dict[str, Any]
    size: int
    excluded: set[str]
    request_id: str
    experiment: ExperimentPlan | None
    arm_index: int | None
    bucket: float | None
    propensity: float | None
    extra: dict[str, Any]
    chain: tuple[str, ...] | None
    key: str

    @property
    def first_read(self) -> Read | None:
        """The store read ``finish`` starts with, or ``None`` when it needs none ahead (an
        interleaved experiment, or a result set served from memory)."""
        if self.chain is None or self.chain[0] in self.cache.only_default:
            return None
        return (self.chain[0], self.key, self.size + len(self.excluded))


def _answer(first: list[Item] | NotFound | StoreUnavailable) -> list[Item]:
    """A read made ahead, as ``store.get`` would have given it: the list, or the error raised."""
    if isinstance(first, Exception):
        raise first
    return first


@dataclass
class Counters:
    """Totals the metrics endpoint exports (plain ints: incremented under the GIL)."""

    requests: int = 0
    degraded: int = 0
    store_errors: int = 0
    fallback_fills: int = 0
    exposures_logged: int = 0


class Engine:
    """Serves recommendations from the current state; see the module docstring."""

    def __init__(
        self,
        store: ServingStore,
        *,
        state: ServingState | None = None,
        cache: ListCache | None = None,
        log: ExposureLog | None = None,
    ) -> None:
        self.store = store
        self.state = state or ServingState.empty()
        self.cache = cache or ListCache.empty()
        self.log = log
        self.bandits: Mapping[str, BanditPolicy] = {}
        """experiment → the policy of its live parameter snapshot (swapped by the refresher)."""
        self.counters = Counters()
        self._ids = itertools.count()
        self._id_prefix = os.urandom(6).hex()

    def swap(self, state: ServingState, cache: ListCache) -> None:
        """Serve ``state`` and ``cache`` from the next request on (one reference each)."""
        self.cache = cache
        self.state = state

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
        """Serve one list.

        Raises:
            UnknownSurface: ``surface`` is not applied.
            ValueError: ``n`` is below 1.

        An ``n`` above the surface's ``max_n`` is capped to it, not refused: a caller asking for
        "as many as you have" gets the most the surface serves.
        """
        request = self.prepare(
            surface, unit, attributes=attributes, n=n, exclude=exclude, request_id=request_id
        )
        return self.finish(request)

    def prepare(
        self,
        surface: str,
        unit: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        n: int | None = None,
        exclude: Iterable[str] = (),
        request_id: str | None = None,
    ) -> Prepared:
        """The first half of :meth:`recommend`: assign the unit and choose the chain.

        A server that coalesces store reads (``sameday.serve.batching``) reads
        :attr:`Prepared.first_read` for many requests at once, then calls :meth:`finish` with
        each answer. Raises what :meth:`recommend` raises.
        """
        state, cache = self.state, self.cache
        plan = state.surfaces.get(surface)
        if plan is None:
            known = ", ".join(sorted(state.surfaces)) or "none applied yet"
            raise UnknownSurface(f"unknown surface {surface!r} (known: {known})")
        size = plan.n if n is None else min(n, plan.max_n)
        if size < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        attrs: dict[str, Any] = {"unit": unit}
        if attributes:
            attrs.update(attributes)
        self.counters.requests += 1
        chain: tuple[str, ...] | None = plan.chain
        # unique across processes (a random prefix) and within one (a counter)
        rid = request_id or f"{self._id_prefix}{next(self._ids):010x}"
        experiment, arm_index, bucket = self._assign(plan, attrs)
        propensity: float | None = None
        extra: dict[str, Any] = {}
        if experiment is not None and experiment.interleave is not None:
            chain, arm_index = None, None  # finish reads every arm's list and merges them
        elif experiment is not None and experiment.bandit is not None:
            policy = self.bandits.get(experiment.name) or experiment.bandit.initial
            hashed = str(attrs[experiment.hash_attribute])
            arm_index, propensity = policy.pick(hashed, rid)
            extra = {"params_version": policy.version}
        if chain is not None and experiment is not None and arm_index is not None:
            chain = experiment.arms[arm_index].chain
        elif chain is not None:
            experiment = None
            for rule in plan.rules:
                if rule.condition(attrs):
                    chain = rule.chain
                    break
        return Prepared(
            plan=plan,
            cache=cache,
            unit=unit,
            attrs=attrs,
            size=size,
            excluded=set(exclude),
            request_id=rid,
            experiment=experiment,
            arm_index=arm_index,
            bucket=bucket,
            propensity=propensity,
            extra=extra,
            chain=chain,
            key=str(attrs.get(plan.key_attribute, unit)),
        )

    def finish(
        self, request: Prepared, first: list[Item] | NotFound | StoreUnavailable | None = None
    ) -> Recommendation:
        """The second half of :meth:`recommend`: read, fill, log.

        ``first`` is the answer to ``request.first_read`` when the caller read it ahead (a list,
        or the error the store gave); ``None`` reads it now.
        """
        experiment, arm_index, surface = request.experiment, request.arm_index, request.plan.name
        if request.chain is None:
            return self._interleaved(request)
        unit = request.unit
        entries, sources, degraded, versions = self._fill(
            request.chain, request.key, request.size, request.excluded, request.cache, first
        )
        if degraded:
            self.counters.degraded += 1
        arm = (
            experiment.arms[arm_index] if experiment is not None and arm_index is not None else None
        )
        rid = request.request_id
        if self.log is not None:
            # Item tuples are (item, score, payload): one zip splits them into columns in C.
            items, scores, _ = zip(*entries, strict=True) if entries else ((), (), ())
            if experiment is None or arm is None:
                exposure = Exposure(
                    request_id=rid,
                    time=time.time(),
                    unit=unit,
                    surface=surface,
                    items=items,
                    scores=scores,
                    bucket=request.bucket,
                    snapshot_versions=versions,
                    extra=request.extra,
                    degraded=degraded,
                )
            else:
                allocation = experiment.allocation
                propensity = request.propensity
                exposure = Exposure(
                    request_id=rid,
                    time=time.time(),
                    unit=unit,
                    surface=surface,
                    items=items,
                    scores=scores,
                    experiment=experiment.name,
                    arm=arm.name,
                    hash_attribute=experiment.hash_attribute,
                    hash_value=str(request.attrs.get(experiment.hash_attribute, "")),
                    hash_version=allocation.hash_version,
                    seed=allocation.seed,
                    bucket=request.bucket,
                    snapshot_versions=versions,
                    propensity=arm.weight if propensity is None else propensity,
                    design=experiment.design,
                    extra=request.extra,
                    degraded=degraded,
                )
            self.log.log_exposure(exposure)
            self.counters.exposures_logged += 1
        return Recommendation(
            request_id=rid,
            surface=surface,
            unit=unit,
            entries=entries,
            sources=sources,
            experiment=experiment.name if experiment else None,
            arm=arm.name if arm else None,
            degraded=degraded,
            snapshot_versions=versions,
        )

    def _interleaved(self, request: Prepared) -> Recommendation:
        """Serve an interleaved list: every arm's first result set, merged, then fallbacks.

        Items filled from the fallbacks belong to no team (``None`` in ``teams``).
        """
        plan, experiment = request.plan, request.experiment
        assert experiment is not None and experiment.interleave is not None
        attrs, size, cache = request.attrs, request.size, request.cache
        bucket, rid, key = request.bucket, request.request_id, request.key
        unit = request.unit
        excluded = request.excluded
        limit = 2 * size + len(excluded)
        lists: list[list[str]] = []
        known: dict[str, tuple[Item, str]] = {}
        degraded = False
        versions: dict[str, str] = {}
        for arm in experiment.arms:
            result_set = arm.chain[0]
            found, failed = self._read(result_set, key, limit, cache)
            degraded = degraded or failed
            version = cache.versions.get(result_set)
            if version is not None and found:
                versions[result_set] = version
            lists.append([entry.item for entry in found])
            for entry in found:
                known.setdefault(entry.item, (entry, result_set))
        hashed = str(attrs[experiment.hash_attribute])
        merged, extra = interleave_lists(
            experiment.interleave, experiment.name, hashed, rid, lists, size, excluded
        )
        names = [arm.name for arm in experiment.arms]
        entries = [known[item][0] for item in merged.items]
        sources = [known[item][1] for item in merged.items]
        teams: list[str | None] = [names[t] for t in merged.teams]
        if experiment.interleave.competitive and merged.shared:
            extra["drafted"] = list(teams)
            for slot in merged.shared:
                teams[slot] = None
        if len(entries) < size and experiment.interleave.fallbacks:
            filled, filled_from, failed, more = self._fill(
                experiment.interleave.fallbacks,
                key,
                size - len(entries),
                excluded | set(merged.items),
                cache,
            )
            if filled:
                self.counters.fallback_fills += 1
            degraded = degraded or failed
            versions.update(more)
            entries.extend(filled)
            sources.extend(filled_from)
            teams.extend([None] * len(filled))
        if degraded:
            self.counters.degraded += 1
        extra["arms"] = names
        if self.log is not None:
            self.log.log_exposure(
                Exposure(
                    request_id=rid,
                    time=time.time(),
                    unit=unit,
                    surface=plan.name,
                    items=tuple([entry.item for entry in entries]),
                    scores=tuple([entry.score for entry in entries]),
                    experiment=experiment.name,
                    hash_attribute=experiment.hash_attribute,
                    hash_value=hashed,
                    hash_version=experiment.allocation.hash_version,
                    seed=experiment.allocation.seed,
                    bucket=bucket,
                    snapshot_versions=versions,
                    propensity=merged.probability,
                    design="interleave",
                    teams=tuple(teams),
                    extra=extra,
                    degraded=degraded,
                )
            )
            self.counters.exposures_logged += 1
        return Recommendation(
            request_id=rid,
            surface=plan.name,
            unit=unit,
            entries=tuple(entries),
            sources=tuple(sources),
            experiment=experiment.name,
            degraded=degraded,
            snapshot_versions=versions,
        )

    def _read(
        self, result_set: str, key: str, limit: int, cache: ListCache
    ) -> tuple[list[Item], bool]:
        """One result set's list for ``key`` (its default list if missing), and if it failed."""
        failed = False
        try:
            found = self.store.get(result_set, key, limit)
        except NotFound:
            failed, found = True, []
        except StoreUnavailable:
            self.counters.store_errors += 1
            failed, found = True, []
        return (found or cache.default_list(result_set)), failed

    @staticmethod
    def _assign(
        plan: SurfacePlan, attrs: Mapping[str, Any]
    ) -> tuple[ExperimentPlan | None, int | None, float | None]:
        for experiment in plan.experiments:
            value = attrs.get(experiment.hash_attribute)
            if value is None or value == "":
                continue
            if experiment.targeting is not None and not experiment.targeting(attrs):
                continue
            index, bucket = experiment.allocation.locate(str(value), attrs)
            if index is not None:
                return experiment, index, bucket
        return None, None, None

    def _fill(
        self,
        chain: tuple[str, ...],
        key: str,
        size: int,
        exclude: Iterable[str],
        cache: ListCache,
        first: list[Item] | NotFound | StoreUnavailable | None = None,
    ) -> tuple[tuple[Item, ...], tuple[str, ...], bool, dict[str, str]]:
        """Walk the chain until ``size`` items are found, skipping duplicates and exclusions.

        Each read asks the store for a prefix only: ``size`` plus everything already seen, which
        bounds how many items the exclusions and duplicates can skip. ``first``, when given, is
        the answer to the chain's first read, made ahead (``Prepared.first_read``).
        """
        seen = set(exclude)
        entries: list[Item] = []
        sources: list[str] = []
        degraded = False
        versions: dict[str, str] = {}
        only_default = cache.only_default
        for result_set in chain:
            want = size - len(entries)
            try:
                if first is not None:
                    found, first = _answer(first), None
                elif result_set in only_default:
                    found = []  # the version holds only its `*` list: no read needed
                else:
                    found = self.store.get(result_set, key, want + len(seen))
            except NotFound:
                degraded = True
                found = []
            except StoreUnavailable:
                self.counters.store_errors += 1
                degraded = True
                found = []
            if not found:
                found = cache.default_list(result_set)
            if entries and found:
                self.counters.fallback_fills += 1
            version = cache.versions.get(result_set)
            if version is not None and found:
                versions[result_set] = version
            if not seen and len(found) >= want:
                taken = found[:want]  # the common case: one list, nothing to skip
            else:
                taken = [entry for entry in found if entry.item not in seen][:want]
            entries.extend(taken)
            sources.extend([result_set] * len(taken))
            if len(entries) >= size:
                break
            seen.update(entry.item for entry in taken)
        return tuple(entries), tuple(sources), degraded, versions
