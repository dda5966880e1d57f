"""Online scoring: a model re-ranks an arm's or a surface's candidates at request time.

Two stages: the batch pipeline retrieves candidates into a result set; per request, a scorer
(a registered model, ``model: ranker@champion``, or ``python: recs.rank:score``) orders the
first ``candidates`` of the list read for the request's key. Each candidate's features are the
request's attributes, the candidate's own and the rows of the feature tables named
(:mod:`sameday.serve.features`), handed over as a
:class:`~sameday.models.candidates.Candidates`: rows for a scorer that iterates, columns and
matrices for one that computes on arrays (a held list's numeric payload columns come prepared,
and its candidates are a view of the held list that parses only what is read of it:
:mod:`sameday.serve.held`).

**Loaded once per version, swapped without a restart.** :meth:`Scoring.refresh` runs in the
client's refresher: it resolves every scorer the served state names (``ranker@champion`` →
``ranker/4``), loads a version it has not loaded yet — in the refresher's thread, never in a
request's — and replaces the table of loaded models by one reference assignment. A request
takes its model from the table once, when its scoring starts, so the requests in flight finish
on the version they started with while the next ones get the new one; the exposure records the
version that scored it (``Exposure.model``). A version that fails to load is logged and the
one loaded before keeps scoring.

**The latency budget, without blocking the event loop.** The scoring (features, ``predict``,
the sort) runs on a small pool of worker threads (until proven fast, below); the request
waits at most ``timeout_ms`` (from when the job is queued): in process on the future, in the
HTTP server by awaiting it, so the event loop serves other requests meanwhile. Past the budget
the list is served in the batch order, flagged in the answer (``"model": {..., "fallback":
"timeout"}``) and counted (``sameday_scoring_fallbacks{reason="timeout"}``). Python cannot stop
a thread: a scorer that overruns keeps its worker until it returns, and its result is then
discarded; a job that only gets a worker after its deadline is not started at all. So a
scorer that hangs costs at most :data:`SCORING_THREADS` workers, and the requests behind them
fall back on time.

**Inline, once proven fast.** Handing a job to a worker and back costs two thread switches and
the GIL passing between threads: about 60 µs of CPU a list, more than a small model's whole
run, and over HTTP the worker waits for the event loop to let go of the GIL. So a scorer whose
recent runs all took at most :data:`INLINE_SHARE` of its budget and at most
:data:`INLINE_CEILING` (:data:`INLINE_AFTER` such runs in a row, counted per version) runs on
the request's own thread — over HTTP, on the event loop. Every run is still timed: one that
took longer than the budget is not served (the batch order is, reason ``timeout``, as when a
worker's run overruns), and it and a few slow ones send the scorer back to the workers until it
has proven fast again; while a run is in flight, no other request of that version goes inline.
What inline cannot do is stop a run: a scorer proven fast that then hangs holds its request's
thread (over HTTP, the event loop) until it returns. A scorer that reads feature tables never
runs inline (a read may wait on the store), nor one declared ``inline: false``, nor any when
``inline_after`` is ``None``.

A scorer that raises, or returns the wrong number of scores, falls back the same way (reason
``error``, logged once per scorer and error); a scorer that is not loaded, ``unavailable``; a
list whose read failed (served degraded) is not scored, ``store``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from math import isnan
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sameday.config.scoring import DEFAULT_TIMEOUT_MS, PYTHON_PREFIX, Scored
from sameday.errors import ModelError
from sameday.serve.cache import ListCache
from sameday.serve.features import FeatureTables
from sameday.serve.held import HeldItems, HeldView
from sameday.store.base import Item, Listed, ServingStore

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from sameday.models.candidates import PayloadMatrix
    from sameday.models.loader import Features
    from sameday.models.registry import Registry
    from sameday.serve.engine import Prepared
    from sameday.serve.state import ServingState

log = logging.getLogger("sameday.serve")

SCORING_THREADS = 4
"""Worker threads per server that run scorers: enough that one overrunning scorer leaves the
others working, few enough that a hanging one cannot take the machine."""
DEFAULT_CANDIDATES = 100
"""Candidates scored per request when the file gives no ``candidates``."""
FALLBACKS = ("timeout", "error", "unavailable", "store")
"""Why a list was served in the batch order although a scorer was named."""
INLINE_AFTER = 64
"""Fast runs in a row (see :data:`INLINE_SHARE`) after which a scorer runs inline."""
INLINE_SHARE = 0.1
"""A run counts as fast within this share of its budget (``timeout_ms``)..."""
INLINE_CEILING = 0.001
"""...and within this many seconds, whatever the budget: what an inline run may cost the event
loop."""


@dataclass(frozen=True, slots=True)
class ScoringPlan:
    """An arm's or a surface's scorer, as served.

    ``scorer`` is the model reference or ``python:module:function``; ``timeout`` is in seconds;
    ``features`` holds ``(table, key)`` pairs; ``inline`` whether it may run on the request's
    thread once proven fast.
    """

    scorer: str
    timeout: float
    candidates: int
    features: tuple[tuple[str, str], ...] = ()
    inline: bool = True

    @classmethod
    def of(cls, scored: Scored) -> ScoringPlan | None:
        """The plan of an arm or a surface, or ``None`` when it names no scorer."""
        scorer = scored.scorer
        if scorer is None:
            return None
        timeout_ms = scored.timeout_ms if scored.timeout_ms is not None else DEFAULT_TIMEOUT_MS
        return cls(
            scorer=scorer,
            timeout=timeout_ms / 1000,
            candidates=scored.candidates or DEFAULT_CANDIDATES,
            features=tuple((table.table, table.key) for table in scored.features),
            inline=scored.inline is not False,
        )

    @property
    def tables(self) -> tuple[str, ...]:
        """The feature tables' result sets."""
        return tuple(table for table, _ in self.features)


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
    """How one request's list was ordered: by ``version`` of ``scorer`` (``ranker/4``), or in
    the batch order because of ``fallback`` (one of :data:`FALLBACKS`; ``version`` is then
    ``None``)."""

    scorer: str
    version: str | None
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``model`` object of the HTTP answer."""
        return {"scorer": self.scorer, "version": self.version, "fallback": self.fallback}


class Predictor(Protocol):
    """A loaded scorer: ``predict`` and the exact ``ref`` it was loaded as."""

    ref: str

    def predict(self, features: Features) -> Sequence[float]:
        """One score per candidate."""
        ...


class ModelSource(Protocol):
    """Where model references are resolved and their versions loaded (the registry)."""

    def resolve(self, ref: str) -> str:
        """The exact version ``ref`` names now (``ranker@champion`` → ``ranker/4``)."""
        ...

    def load(self, version: str) -> Predictor:
        """The model of an exact version, verified and ready to predict."""
        ...


class RegistrySource:
    """A :class:`ModelSource` over a project's registry (``Client.from_project`` builds one).

    Aliases are followed wherever they live: ``models:/NAME@alias`` is resolved by the MLflow
    server at every poll, like ``NAME@alias`` by sameday's registry.
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def resolve(self, ref: str) -> str:
        """``ref`` pinned to the version it names now."""
        return self.registry.pin(ref)

    def load(self, version: str) -> Predictor:
        """The verified model of ``version``."""
        return self.registry.load(version)

    def __repr__(self) -> str:
        return f"RegistrySource({self.registry!r})"


class _Job:
    """One request's scoring, queued on a worker (see the module docstring)."""

    __slots__ = ("deadline", "first", "future", "version")

    def __init__(self, first: str, version: str, deadline: float, future: Future[list[Item]]):
        self.first = first
        self.version = version
        self.deadline = deadline
        self.future = future


class Scoring:
    """The scorers of one server: loaded models, the worker pool, the counters.

    Args:
        store: the serving store feature tables are read from.
        source: where model references are resolved and loaded (``None``: only ``python:``
            scorers can load).
        root: the project folder, where ``python:`` scorers are also looked for.
        threads: worker threads (created on the first scored request).
        inline_after: consecutive fast runs after which a scorer runs inline (``None``:
            always on a worker).
    """

    def __init__(
        self,
        store: ServingStore,
        *,
        source: ModelSource | None = None,
        root: Path | None = None,
        threads: int = SCORING_THREADS,
        inline_after: int | None = INLINE_AFTER,
    ) -> None:
        self.store = store
        self.source = source
        self.root = root
        self.threads = threads
        self.inline_after = inline_after
        self.models: Mapping[str, Predictor] = {}
        """scorer → what scores for it now; replaced whole by :meth:`refresh`."""
        self.scored: dict[str, int] = {}
        """version → lists it ordered."""
        self.fallbacks: dict[tuple[str, str], int] = {}
        """(scorer, reason) → lists served in the batch order instead."""
        self.load_errors = 0
        self.inline = 0
        """Lists scored inline (on the request's thread) rather than on a worker."""
        self._fast: dict[str, int] = {}
        """version → its record: one more for each fast run (up to four times
        ``inline_after``), a quarter of ``inline_after`` less for a slow one, 0 after one over
        its budget or failed; it runs inline from ``inline_after`` on."""
        self._features = FeatureTables(store)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._logged: set[tuple[str, str]] = set()

    # Loading and swapping, in the refresher's thread.

    def refresh(self, state: ServingState) -> bool:
        """Load the scorers ``state`` names whose version moved; return whether any changed.

        The table of loaded models is replaced by one assignment: a request sees the old table
        or the new one. A scorer that cannot be resolved or loaded keeps its previous version.
        """
        current = self.models
        loaded: dict[str, Predictor] = {}
        for scorer in sorted(scorers(state)):
            previous = current.get(scorer)
            try:
                if scorer.startswith(PYTHON_PREFIX):
                    model = previous or self._python(scorer)
                else:
                    model = self._model(scorer, previous)
            except Exception as exc:  # a registry or a bundle that fails must not stop serving
                self.load_errors += 1
                self._warn(scorer, f"cannot load: {exc}", "keeps scoring with what it had")
                if previous is not None:
                    loaded[scorer] = previous
                continue
            if previous is None or model.ref != previous.ref:
                was = f" (was {previous.ref})" if previous is not None else ""
                log.info(
                    "scorer %s: scoring with %s%s",
                    scorer,
                    model.ref,
                    was,
                    extra={"fields": {"scorer": scorer, "version": model.ref}},
                )
            loaded[scorer] = model
        changed = {k: m.ref for k, m in loaded.items()} != {k: m.ref for k, m in current.items()}
        if changed:
            self.models = loaded
            refs = {model.ref for model in loaded.values()}
            self._fast = {ref: runs for ref, runs in self._fast.items() if ref in refs}
        return changed

    def _python(self, scorer: str) -> Predictor:
        # imported here: the models package pulls the metadata layer (SQLAlchemy), which a
        # server that names no scorer never needs
        from sameday.models.scorer import load_python_scorer

        return load_python_scorer(scorer[len(PYTHON_PREFIX) :], self.root)

    def _model(self, scorer: str, previous: Predictor | None) -> Predictor:
        if self.source is None:
            raise ModelError(
                f"{scorer} names a registered model, but this server has no registry: build "
                "the client with Client.from_project (or pass models=RegistrySource(...))"
            )
        version = self.source.resolve(scorer)
        if previous is not None and previous.ref == version:
            return previous
        return self.source.load(version)

    # Scoring, per request.

    def score(self, request: Prepared, answers: dict[str, Any]) -> None:
        """Re-rank ``request``'s candidates in ``answers`` within its budget (in process: the
        calling thread waits on the worker), and note how in ``request.scored``."""
        job = self._start(request, answers)
        if job is not None:
            self._wait(request, answers, job)

    def _wait(self, request: Prepared, answers: dict[str, Any], job: _Job) -> None:
        try:
            ranked = job.future.result(timeout=max(0.0, job.deadline - time.monotonic()))
        except FutureTimeout:
            job.future.cancel()
            self._fall_back(request, "timeout")
        except Exception as exc:
            self._failed(request, exc)
        else:
            self._apply(request, answers, job.first, job.version, ranked)

    async def score_async(self, request: Prepared, answers: dict[str, Any]) -> None:
        """:meth:`score` for the event loop: the wait is an ``await``, never a block."""
        job = self._start(request, answers)
        if job is None:
            return
        waiting = asyncio.wrap_future(job.future)
        try:
            ranked = await asyncio.wait_for(waiting, max(0.0, job.deadline - time.monotonic()))
        except TimeoutError:
            self._fall_back(request, "timeout")
        except Exception as exc:
            self._failed(request, exc)
        else:
            self._apply(request, answers, job.first, job.version, ranked)

    def score_many(self, pending: Sequence[tuple[Prepared, dict[str, Any]]]) -> None:
        """:meth:`score` for many requests, their jobs queued at once (a batch of units)."""
        jobs = [(request, answers, self._start(request, answers)) for request, answers in pending]
        for request, answers, job in jobs:
            if job is not None:
                self._wait(request, answers, job)

    async def score_many_async(self, pending: Sequence[tuple[Prepared, dict[str, Any]]]) -> None:
        """:meth:`score_async` for many requests, awaited together."""
        await asyncio.gather(*(self.score_async(request, answers) for request, answers in pending))

    def _start(self, request: Prepared, answers: dict[str, Any]) -> _Job | None:
        """Queue the scoring of ``request``, or settle it at once (no scorer loaded, no list, or
        scored inline)."""
        plan = request.scoring
        assert plan is not None
        first = request.chain[0]
        answer = answers.get(first)
        if isinstance(answer, Listed) and answer.items:
            candidates, version = answer.items, answer.version
        elif answer is None or isinstance(answer, Listed):  # no list for the key: the * list
            candidates = request.cache.default_list(first)
            version = request.cache.versions.get(first, "")
        else:  # the read failed: served degraded, in the order the fallbacks give
            self._fall_back(request, "store")
            return None
        model = self.models.get(plan.scorer)
        if model is None:
            self._fall_back(request, "unavailable")
            return None
        if not candidates:  # nothing to order
            request.scored = ScoreOutcome(plan.scorer, model.ref)
            return None
        request.scored = ScoreOutcome(plan.scorer, model.ref)  # the version, if it finishes
        # a held list's candidates come from its blob, parsed only as far as they are read
        if type(candidates) is HeldItems:
            pool = candidates.candidates(plan.candidates)
        else:
            pool = candidates[: plan.candidates]
        deadline = time.monotonic() + plan.timeout
        args = (
            model,
            plan,
            request.attrs,
            pool,
            request.cache,
            getattr(candidates, "matrix", None),  # a held list's prepared payload columns
            deadline,
            request.size + len(request.excluded),  # what the list can take, exclusions skipped
        )
        if self._runs_inline(model.ref, plan):
            self._inline(request, answers, first, version, args)
            return None
        return _Job(first, version, deadline, self._workers().submit(self._job, *args))

    def _runs_inline(self, ref: str, plan: ScoringPlan) -> bool:
        """Whether a scorer has proven fast enough to run on the request's thread (see the
        module docstring): never one that reads feature tables (a read may wait on the store)
        nor one declared ``inline: false``."""
        after = self.inline_after
        return (
            after is not None
            and plan.inline
            and not plan.features
            and self._fast.get(ref, 0) >= after
        )

    def _inline(
        self,
        request: Prepared,
        answers: dict[str, Any],
        first: str,
        version: str,
        args: tuple[Any, ...],
    ) -> None:
        """Score on this thread with :meth:`_job`'s ``args``; a run that took longer than the
        budget is not served (the batch order is, as when a worker's run overruns) and sends
        the scorer back to the workers (:meth:`_job` recorded it)."""
        plan = request.scoring
        assert plan is not None
        self.inline += 1
        started = time.monotonic()
        try:
            ranked = self._job(*args)
        except Exception as exc:
            self._failed(request, exc)
            return
        if time.monotonic() - started > plan.timeout:
            self._fall_back(request, "timeout")
        else:
            self._apply(request, answers, first, version, ranked)

    def _job(
        self,
        model: Predictor,
        plan: ScoringPlan,
        attrs: Mapping[str, Any],
        candidates: Sequence[Item],
        cache: ListCache,
        matrix: PayloadMatrix | None,
        deadline: float,
        keep: int,
    ) -> list[Item]:
        """On a worker (or inline): the first ``keep`` candidates in the order of the model's
        scores (its scores served); the run is timed, to tell whether the scorer may run inline
        (a run that raises counts as slow)."""
        started = time.monotonic()
        if started >= deadline:  # its request has given up already
            raise TimeoutError("started after its deadline")
        ref = model.ref
        fast = self._fast  # plain dict writes under the GIL: a record, not a lock
        runs = fast.get(ref, 0)
        fast[ref] = 0  # until it returns: no other request goes inline meanwhile
        ranked = self._rank(model, plan, attrs, candidates, cache, matrix, keep)
        took = time.monotonic() - started
        after = self.inline_after or INLINE_AFTER
        if took <= min(plan.timeout * INLINE_SHARE, INLINE_CEILING):
            fast[ref] = min(runs + 1, 4 * after)
        elif took <= plan.timeout:  # slow, or preempted on a busy machine: a few in a row and
            fast[ref] = max(0, runs - max(1, after // 4))  # it is back on the workers
        return ranked

    def _rank(
        self,
        model: Predictor,
        plan: ScoringPlan,
        attrs: Mapping[str, Any],
        candidates: Sequence[Item],
        cache: ListCache,
        matrix: PayloadMatrix | None,
        keep: int,
    ) -> list[Item]:
        """The first ``keep`` candidates in the order of the model's scores."""
        import numpy as np  # here: a server that scores nothing never loads numpy

        features = self._features.candidates(plan.features, attrs, candidates, cache, matrix)
        scores = np.asarray(model.predict(features), dtype=np.float64)
        if scores.shape != (len(candidates),):
            raise ModelError(
                f"{model.ref} returned {scores.size} scores for {len(candidates)} candidates: a "
                "scorer returns one score per candidate"
            )
        positions = _order(scores)[:keep]
        values = scores.tolist()
        kept = [values[position] for position in positions]
        if type(candidates) is HeldView:  # parse the payloads of those served only
            return candidates.ranked(positions, kept)
        return [
            Item(candidates[i].item, score, candidates[i].payload)
            for i, score in zip(positions, kept, strict=True)
        ]

    def _apply(
        self,
        request: Prepared,
        answers: dict[str, Any],
        first: str,
        version: str,
        ranked: list[Item],
    ) -> None:
        answers[first] = Listed(version, ranked)
        outcome = request.scored
        assert outcome is not None and outcome.version is not None
        self.scored[outcome.version] = self.scored.get(outcome.version, 0) + 1

    def _failed(self, request: Prepared, exc: BaseException) -> None:
        if isinstance(exc, TimeoutError):  # started after its deadline: the request gave up
            self._fall_back(request, "timeout")
            return
        outcome = request.scored
        version = outcome.version if outcome is not None else None
        assert request.scoring is not None
        self._warn(
            version or request.scoring.scorer,
            f"failed: {type(exc).__name__}: {exc}",
            "lists fall back to the batch order",
        )
        self._fall_back(request, "error")

    def _fall_back(self, request: Prepared, reason: str) -> None:
        plan = request.scoring
        assert plan is not None
        request.scored = ScoreOutcome(plan.scorer, None, reason)
        request.extra = {**request.extra, "model_fallback": reason}
        key = (plan.scorer, reason)
        self.fallbacks[key] = self.fallbacks.get(key, 0) + 1

    def _warn(self, scorer: str, problem: str, consequence: str) -> None:
        """Log a scorer's problem once (not once per request)."""
        if (scorer, problem) in self._logged:
            return
        self._logged.add((scorer, problem))
        log.warning("scorer %s %s; %s", scorer, problem, consequence)

    def _workers(self) -> ThreadPoolExecutor:
        pool = self._pool
        if pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        self.threads, thread_name_prefix="sameday-scoring"
                    )
                pool = self._pool
        return pool

    # Reporting and shutting down.

    def metrics(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        """The scoring families of ``/metrics`` (nothing when no scorer is named)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        models = self.models
        if not (models or self.scored or self.fallbacks or self.load_errors):
            return
        scored = CounterMetricFamily(
            "sameday_scored",
            "Lists re-ranked by a model at request time, by the exact version that scored them.",
            labels=["version"],
        )
        for version, count in sorted(self.scored.items()):
            scored.add_metric([version], count)
        yield scored
        fallbacks = CounterMetricFamily(
            "sameday_scoring_fallbacks",
            "Lists served in the batch order although a scorer was named, by scorer and reason: "
            "timeout (over timeout_ms), error (the scorer raised), unavailable (not loaded), "
            "store (the candidates' read failed).",
            labels=["scorer", "reason"],
        )
        for (scorer, reason), count in sorted(self.fallbacks.items()):
            fallbacks.add_metric([scorer, reason], count)
        yield fallbacks
        yield CounterMetricFamily(
            "sameday_scorer_load_errors",
            "Scorers that could not be resolved or loaded at a refresh (the version loaded "
            "before kept scoring).",
            value=self.load_errors,
        )
        serving = GaugeMetricFamily(
            "sameday_scorer_version",
            "1 for the version each named scorer scores with now.",
            labels=["scorer", "version"],
        )
        for scorer, model in sorted(models.items()):
            serving.add_metric([scorer, model.ref], 1)
        yield serving

    def close(self) -> None:
        """Let the workers go once their jobs are done; queued jobs are dropped."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _order(scores: npt.NDArray[np.float64]) -> list[int]:
    """The candidates' positions, highest score first, ties in the batch order (a stable sort
    of the negated scores; NaN last).

    Python's sort, not numpy's ``argsort``: ``argsort`` lets go of the GIL while it sorts, and
    on the event loop (a scorer proven fast runs inline) that handed the GIL to the event
    writer's thread, which could keep it up to the interpreter's switch interval (5 ms) before
    the request went on: the in-process p99 of a scored call was 3-4 ms against 0.1 ms for a
    batch one. For a hundred floats Python's sort costs a few microseconds more and keeps the
    GIL. With a NaN (or both infinities: their sum is NaN too) it is numpy's order, as before.
    """
    negated = (-scores).tolist()
    if isnan(sum(negated)):
        return (-scores).argsort(kind="stable").tolist()  # type: ignore[no-any-return]
    return sorted(range(len(negated)), key=negated.__getitem__)


def scorers(state: ServingState) -> set[str]:
    """Every scorer the surfaces and running experiments of ``state`` name."""
    names = set()
    for surface in state.surfaces.values():
        if surface.scoring is not None:
            names.add(surface.scoring.scorer)
        for experiment in surface.experiments:
            for arm in experiment.arms:
                if arm.scoring is not None:
                    names.add(arm.scoring.scorer)
    return names
