"""One request's work: pick the surface's chain (experiment arm, rule or default), read lists
with fallbacks, and log the exposure.

The per-request path reads only immutable state (``ServingState``, ``ListCache``) swapped by the
refresher, does at most one store read per result set in the chain, and hands the exposure to a
non-blocking writer.

The engine never calls the store itself while serving: :meth:`Engine.finish` works from the
answers it is given and says which reads it still needs (``Prepared.first_reads``, then at most
one more round for the fallbacks), so a server makes every read off its event loop, batched and
under a deadline (``sameday.serve.batching``), and in process :meth:`Engine.recommend` reads them
with ``store.get_reads``. Each answer carries the version its list was read from, and that is
the version the exposure names: a publish or rollback can never pair one snapshot's name with
another's list.

(Over 500 lines: one request's whole path, kept in one module so its cost reads top to bottom.)
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from sameday.errors import NotFound, StoreUnavailable, UnknownSurface
from sameday.events.records import Exposure
from sameday.serve.cache import ListCache
from sameday.serve.held import EncodedEntries, HeldItems, from_memory, item_body
from sameday.serve.scoring import ScoreOutcome, Scoring, ScoringPlan
from sameday.serve.state import ExperimentPlan, ServingState, SurfacePlan
from sameday.store.base import Answer, Item, Listed, Read, ServingStore

if TYPE_CHECKING:
    from sameday.policies.bandit import BanditPolicy


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
    scored: ScoreOutcome | None = None
    """How a scorer ordered the list (``None``: no scorer is named for it)."""

    @property
    def items(self) -> list[ServedItem]:
        """The served slots, positions from 1."""
        pairs = zip(self.entries, self.sources, strict=True)
        return [
            ServedItem(entry.item, entry.score, position, source, entry.payload)
            for position, (entry, source) in enumerate(pairs, start=1)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the HTTP answer (``model`` only when a scorer is named)."""
        body = self._head()
        body["items"] = [
            item_body(entry, position, source)
            for position, (entry, source) in enumerate(
                zip(self.entries, self.sources, strict=True), 1
            )
        ]
        if self.scored is not None:
            body["model"] = self.scored.to_dict()
        return body

    def _head(self) -> dict[str, Any]:
        """The body's fields before ``items``, in the order the API shows them."""
        return {
            "request_id": self.request_id,
            "surface": self.surface,
            "unit": self.unit,
            "experiment": self.experiment,
            "arm": self.arm,
            "degraded": self.degraded,
            "snapshots": self.snapshot_versions,
        }

    def to_json(self) -> bytes:
        """``orjson.dumps(self.to_dict())``, the same bytes; when the entries are a prefix of
        one held list, served as they were encoded (:class:`~sameday.serve.held.EncodedEntries`:
        only the same tuple object carries its JSON, so entries rebuilt in any way are encoded
        afresh), only the head is encoded per request, and a scored answer's ``model`` after
        the items. A list re-ranked from a held one carries its JSON too
        (``HeldView.ranked``)."""
        entries = self.entries
        if type(entries) is not EncodedEntries:
            return orjson.dumps(self.to_dict())
        head = orjson.dumps(self._head())
        scored = self.scored
        if scored is None:
            return b"".join((head[:-1], b',"items":[', entries.json, b"]}"))
        model = orjson.dumps(scored.to_dict())
        return b"".join((head[:-1], b',"items":[', entries.json, b'],"model":', model, b"}"))


@dataclass(slots=True)
class Prepared:
    """A request assigned to its chain but not yet served (``Engine.prepare``).

    In an experiment, its design (``experiment.implementation``) filled in ``arm_index``,
    ``chain``, ``propensity`` and ``extra``, and it says which reads the request needs first
    and how it is finished. Every read of one request is of the same ``key``, so its answers
    are keyed by result set.
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
    chain: tuple[str, ...]
    key: str
    scoring: ScoringPlan | None = None
    """The scorer that re-ranks the chain's first list (``sameday.serve.scoring``)."""
    scored: ScoreOutcome | None = None
    """How it did, once it has (``Scoring.score``)."""

    @property
    def first_reads(self) -> list[Read]:
        """The store reads ``finish`` needs in any case: the chain's first result set, or
        those the experiment's design asks for (none for a result set served from memory)."""
        experiment = self.experiment
        if experiment is not None:
            return experiment.implementation.first_reads(self)
        return self.chain_reads()

    def chain_reads(self) -> list[Read]:
        """The read of the chain's first result set, unless it is served from memory."""
        first = self.chain[0]
        return [] if first in self.cache.only_default else [(first, self.key, self.limit)]

    @property
    def limit(self) -> int:
        """Items to read from a chain's result set: ``size`` plus room for the exclusions and
        what earlier result sets gave (every item skipped is excluded or already taken); a
        scored list reads at least its scorer's candidates, unless its snapshot is held (the
        scorer takes them from the held list: ``HeldItems.candidates``)."""
        limit = self.size + len(self.excluded)
        scoring = self.scoring
        if scoring is None or self.chain[0] in self.cache.held:
            return limit
        return max(limit, scoring.candidates)


Answers = Mapping[str, Answer]
"""The answers a request has so far, by result set."""


@dataclass(slots=True)
class Filled:
    """A list ready to serve: its entries, the result set each came from, and what reading
    them cost (``Engine.fill`` walks a chain into one; a design may build its own)."""

    entries: tuple[Item, ...]
    sources: tuple[str, ...]
    degraded: bool
    versions: dict[str, str]
    store_errors: int
    fallback_fills: int


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
        scoring: Scoring | None = None,
    ) -> None:
        self.store = store
        self.scoring = scoring or Scoring(store)
        """The scorers that re-rank lists at request time (``sameday.serve.scoring``)."""
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
        answers: dict[str, Answer] = {}
        reads = request.first_reads
        while True:  # at most twice: the first reads, then the fallbacks still needed
            reads = from_memory(request.cache.held, reads, answers)
            if len(reads) == 1:  # the common case: one read, no batch to build
                result_set, key, limit = reads[0]
                try:
                    answers[result_set] = self.store.read(result_set, key, limit)
                except (NotFound, StoreUnavailable) as exc:
                    answers[result_set] = exc
            elif reads:
                answers.update(answered(reads, self.store.get_reads(reads)))
            if request.scoring is not None and request.scored is None:
                self.scoring.score(request, answers)
            done = self.finish(request, answers)
            if isinstance(done, Recommendation):
                return done
            reads = done

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
        :attr:`Prepared.first_reads` for many requests at once, then calls :meth:`finish` with
        the answers. Raises what :meth:`recommend` raises.
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
        # unique across processes (a random prefix) and within one (a counter)
        rid = request_id or f"{self._id_prefix}{next(self._ids):010x}"
        experiment, arm_index, bucket = self._assign(plan, attrs)
        request = Prepared(
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
            propensity=None,
            extra={},
            chain=plan.chain,
            key=str(attrs.get(plan.key_attribute, unit)),
        )
        if experiment is not None:
            experiment.implementation.prepare(self, request)
            if request.arm_index is not None:
                request.scoring = experiment.arms[request.arm_index].scoring
            if experiment.dimensions:  # the unit attributes its exposures record
                request.extra = {
                    **request.extra,
                    **{d: attrs[d] for d in experiment.dimensions if d in attrs},
                }
        else:
            for rule in plan.rules:
                if rule.condition(attrs):
                    request.chain = rule.chain
                    break
            else:
                request.scoring = plan.scoring
        return request

    def finish(self, request: Prepared, answers: Answers) -> Recommendation | list[Read]:
        """The second half of :meth:`recommend`: fill from the store's answers, log.

        ``answers`` holds the answers to the reads made so far (at least
        ``request.first_reads``), by result set; a read that failed or timed out is answered
        by its error, and the list is then filled from the last-known-good lists (degraded).
        When the list is not full yet and a fallback has not been read, this returns the reads
        still needed instead: read them, add their answers and call again (a second call never
        asks again). Nothing is logged or counted until the list is served. In an experiment,
        its design finishes the request (with :meth:`fill` and :meth:`deliver`).
        """
        experiment = request.experiment
        if experiment is not None:
            return experiment.implementation.finish(self, request, answers)
        filled = self.fill(
            request.chain, request.key, request.size, request.excluded, request.cache, answers
        )
        if isinstance(filled, list):
            return filled
        return self.deliver(request, filled)

    def deliver(
        self,
        request: Prepared,
        filled: Filled,
        *,
        arm: str | None = None,
        propensity: float | None = None,
        teams: tuple[str | None, ...] | None = None,
    ) -> Recommendation:
        """Serve ``filled`` as ``request``'s list: count it, log its exposure, return it.

        Args:
            request: the prepared request.
            filled: the list, as :meth:`fill` or the experiment's design built it.
            arm: the arm that served it (``None`` outside experiments and for designs that
                mix arms).
            propensity: the probability of this list (see ``Exposure.propensity``).
            teams: the arm behind each slot, for designs that mix arms.
        """
        counters = self.counters
        if filled.degraded:
            counters.degraded += 1
        counters.store_errors += filled.store_errors
        counters.fallback_fills += filled.fallback_fills
        if self.log is not None:
            self.log.log_exposure(exposure(request, filled, arm, propensity, teams))
            counters.exposures_logged += 1
        experiment = request.experiment
        return Recommendation(
            request_id=request.request_id,
            surface=request.plan.name,
            unit=request.unit,
            entries=filled.entries,
            sources=filled.sources,
            experiment=None if experiment is None else experiment.name,
            arm=arm,
            degraded=filled.degraded,
            snapshot_versions=filled.versions,
            scored=request.scored,
        )

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

    def fill(
        self,
        chain: tuple[str, ...],
        key: str,
        size: int,
        exclude: Iterable[str],
        cache: ListCache,
        answers: Answers,
    ) -> Filled | list[Read]:
        """Walk the chain until ``size`` items are found, skipping duplicates and exclusions;
        or, when a result set still to walk has not been read, every such read.

        Each read asks the store for a prefix only: ``size`` plus the exclusions, which bounds
        how many items the exclusions and earlier result sets can skip (see
        ``Prepared.limit``).
        """
        head = chain[0]
        first = answers.get(head)
        if not exclude:
            # the common cases, kept short: the first list fills the request, nothing to skip
            if type(first) is Listed and len(first.items) >= size:
                items = first.items
                prefix = items.prefix(size) if type(items) is HeldItems else tuple(items[:size])
                return Filled(prefix, (head,) * size, False, {head: first.version}, 0, 0)
            if first is None and head in cache.only_default:  # served from memory, no read
                found = cache.default_list(head)
                version = cache.versions.get(head)
                if type(found) is HeldItems and len(found) >= size and version is not None:
                    return Filled(found.prefix(size), (head,) * size, False, {head: version}, 0, 0)
        seen = set(exclude)
        limit = size + len(seen)
        entries: list[Item] = []
        sources: list[str] = []
        degraded = False
        store_errors = fills = 0
        versions: dict[str, str] = {}
        only_default = cache.only_default
        encoded: EncodedEntries | None = None
        for index, result_set in enumerate(chain):
            if result_set not in answers and result_set not in only_default:
                rest = dict.fromkeys(chain[index:])
                return [
                    (rs, key, limit) for rs in rest if rs not in answers and rs not in only_default
                ]
            want = size - len(entries)
            found, version, failed, error = list_of(answers, result_set, cache)
            degraded, store_errors = degraded or failed, store_errors + error
            if entries and found:
                fills += 1
            if version is not None and found:
                versions[result_set] = version
            if not seen and len(found) >= want:
                taken = found[:want]  # the common case: one list, nothing to skip
                if not entries and type(found) is HeldItems:  # it fills the request alone
                    encoded = found.prefix(want)
            else:
                taken = [entry for entry in found if entry.item not in seen][:want]
            entries.extend(taken)
            sources.extend([result_set] * len(taken))
            if len(entries) >= size:
                break
            seen.update(entry.item for entry in taken)
        served = tuple(entries) if encoded is None else encoded
        return Filled(served, tuple(sources), degraded, versions, store_errors, fills)


def list_of(
    answers: Answers, result_set: str, cache: ListCache
) -> tuple[list[Item], str | None, bool, int]:
    """A result set's list for the request, the version it belongs to, whether the read failed
    and how many store errors that was (0 or 1).

    The list is the store's answer, or the result set's last-known-good ``*`` list (named by
    the version the cache read it from) when the key has none, the read failed, or the result
    set is served from memory (``only_default``).
    """
    answer = answers.get(result_set)
    if isinstance(answer, Listed):
        if answer.items:
            return answer.items, answer.version, False, 0
        failed, error = False, 0
    elif answer is None:  # served from memory: no read was made
        failed, error = False, 0
    else:
        failed, error = True, int(isinstance(answer, StoreUnavailable))
    return cache.default_list(result_set), cache.versions.get(result_set), failed, error


def exposure(
    request: Prepared,
    filled: Filled,
    arm: str | None,
    propensity: float | None,
    teams: tuple[str | None, ...] | None,
) -> Exposure:
    """The exposure of ``filled`` served for ``request``: the one place the serving path builds
    one (``Engine.deliver`` calls it, whatever the design)."""
    # Item tuples are (item, score, payload): one zip splits them into columns in C (not
    # strict: every Item has the three fields, and the check costs a quarter of the zip).
    entries = filled.entries
    items, scores, _ = zip(*entries) if entries else ((), (), ())  # noqa: B905
    experiment = request.experiment
    if experiment is None:
        name = design = hash_attribute = hash_value = seed = hash_version = None
    else:
        name, design = experiment.name, experiment.design
        hash_attribute = experiment.hash_attribute
        hash_value = str(request.attrs.get(hash_attribute, ""))
        seed, hash_version = experiment.allocation.seed, experiment.allocation.hash_version
    return Exposure(
        request_id=request.request_id,
        time=time.time(),
        unit=request.unit,
        surface=request.plan.name,
        items=items,
        scores=scores,
        experiment=name,
        arm=arm,
        hash_attribute=hash_attribute,
        hash_value=hash_value,
        hash_version=hash_version,
        seed=seed,
        bucket=request.bucket,
        snapshot_versions=filled.versions,
        propensity=propensity,
        design=design,
        teams=teams,
        extra=request.extra,
        degraded=filled.degraded,
        model=None if request.scored is None else request.scored.version,
    )


def answered(reads: Sequence[Read], answers: Sequence[Answer]) -> dict[str, Answer]:
    """The answers to one request's ``reads``, by result set (``Engine.finish`` takes them)."""
    return {read[0]: answer for read, answer in zip(reads, answers, strict=True)}
