"""Prometheus metrics of a server, read from plain counters at scrape time.

Counters are plain integers on the hot path — the engine's and the event writer's, and
:attr:`ServerMetrics.served`, a dict of ints keyed by ``(surface, experiment, arm, status,
degraded)`` that the HTTP handlers increment — and become metric families only when
``/metrics`` is scraped, so serving a request pays for one histogram observation and one dict
increment. The latency histogram is kept the same way (:class:`LatencyHistogram`: a list of
bucket counts and a sum): ``prometheus_client``'s own ``Histogram.observe`` takes a lock twice
and walks the buckets in Python, about 2 µs of a request's CPU against 0.3 µs here.

Label values are bounded: a surface label is an applied surface or ``other`` (a path naming no
applied surface, a 404, cannot mint a series), experiment and arm labels come from what was served
(applied by construction) and are empty outside an experiment. The standard ``process_*`` and
``python_*`` metrics of ``prometheus_client`` are on the same registry.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from sameday.serve.batching import ReadBatcher
from sameday.serve.client import Client
from sameday.serve.engine import Recommendation

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
OTHER = "other"
"""The surface label of requests naming a surface that is not applied."""
LABELS = ["surface", "experiment", "arm", "status"]

Served = dict[tuple[str, str, str, int, bool], int]
"""``(surface, experiment, arm, HTTP status, degraded) → lists answered``."""


class Observed:
    """One endpoint's latencies: a count per bucket (not cumulative; the last is ``+Inf``) and
    their sum, incremented under the GIL by the one event loop that serves the endpoint."""

    __slots__ = ("_bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self._bounds = list(bounds)
        self.counts = [0] * (len(bounds) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        """Count one request that took ``seconds`` (in the first bucket it is ``<=``)."""
        self.counts[bisect_left(self._bounds, seconds)] += 1
        self.total += seconds


class LatencyHistogram(Collector):
    """``sameday_request_seconds`` by endpoint, exported as ``prometheus_client``'s
    ``Histogram`` would be (the same buckets and samples, less the ``_created`` gauge).

    ``labels(endpoint)`` returns the endpoint's :class:`Observed`, as the library's
    ``labels`` returns a child with ``observe``; an endpoint shows on ``/metrics`` from then on.
    """

    def __init__(self, buckets: Sequence[float] = ()) -> None:
        self._bounds = tuple(buckets)
        self._by_endpoint: dict[str, Observed] = {}

    def labels(self, endpoint: str) -> Observed:
        """The latencies of ``endpoint`` (made on the first call)."""
        observed = self._by_endpoint.get(endpoint)
        if observed is None:
            observed = self._by_endpoint[endpoint] = Observed(self._bounds)
        return observed

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            "sameday_request_seconds",
            "Seconds from a request's arrival to its answer, by endpoint.",
            labels=["endpoint"],
        )
        names = [floatToGoString(b) for b in self._bounds] + ["+Inf"]  # type: ignore[no-untyped-call]
        for endpoint, observed in list(self._by_endpoint.items()):
            cumulative, buckets = 0, []
            for name, count in zip(names, list(observed.counts), strict=True):
                cumulative += count
                buckets.append((name, float(cumulative)))
            family.add_metric([endpoint], buckets, observed.total)
        yield family


class _ClientCollector(Collector):
    def __init__(self, client: Client, batcher: ReadBatcher | None, served: Served) -> None:
        self.client = client
        self.batcher = batcher
        self.served = served

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        yield from self._served()
        yield from self.client.engine.scoring.metrics()
        counters = self.client.engine.counters
        for name, value, doc in (
            (
                "store_errors",
                counters.store_errors,
                "Serving-store reads that failed; each list they were for was served degraded.",
            ),
            (
                "fallback_fills",
                counters.fallback_fills,
                "Lists topped up from a fallback result set because the first was short.",
            ),
            (
                "refresh_errors",
                self.client.refresh_errors,
                "Polls of the applied configuration and live snapshots that failed; the server "
                "kept serving what it had.",
            ),
        ):
            yield CounterMetricFamily(f"sameday_{name}", doc, value=value)
        if self.batcher is not None:
            yield CounterMetricFamily(
                "sameday_read_batches",
                "Batches of store reads sent; batched_reads / read_batches is how many requests "
                "shared a round trip.",
                self.batcher.batches,
            )
            yield CounterMetricFamily(
                "sameday_batched_reads", "Store reads sent in those batches.", self.batcher.reads
            )
            yield CounterMetricFamily(
                "sameday_late_reads",
                "Store reads not answered within serve.read_deadline; their lists were served "
                "degraded.",
                self.batcher.late,
            )
        state = self.client.state
        yield GaugeMetricFamily(
            "sameday_surfaces", "Surfaces applied and served.", value=len(state.surfaces)
        )
        running = sum(len(plan.experiments) for plan in state.surfaces.values())
        yield GaugeMetricFamily(
            "sameday_running_experiments", "Experiments running on the applied surfaces.", running
        )
        writer = self.client.writer
        if writer is not None:
            stats = writer.stats()
            yield GaugeMetricFamily(
                "sameday_events_queued",
                "Exposures and outcomes in memory, waiting to be written to the event log.",
                stats.queued,
            )
            for name, value, doc in (
                ("written", stats.written, "Exposures and outcomes written to the event log."),
                (
                    "dropped",
                    stats.dropped,
                    "Exposures lost: the buffer was full, the event log refused them, or they "
                    "were still waiting when the server stopped.",
                ),
                (
                    "rejected",
                    stats.rejected,
                    "Outcomes refused to the caller with a 503 (buffer full or event log down); "
                    "the caller resends them.",
                ),
                (
                    "failed_flushes",
                    stats.failed_flushes,
                    "Writes to the event log that failed and were retried.",
                ),
                (
                    "escaped",
                    stats.escaped,
                    "Exposures logged with ids escaped because no event log could store them as "
                    "given.",
                ),
            ):
                yield CounterMetricFamily(f"sameday_events_{name}", doc, value=value)
            yield GaugeMetricFamily(
                "sameday_events_sink_down",
                "Whether the event log is failing: 1 while it is (exposures are buffered "
                "meanwhile), else 0.",
                int(stats.sink_down),
            )

    def _served(self) -> Iterator[CounterMetricFamily]:
        requests = CounterMetricFamily(
            "sameday_requests",
            "Recommendation requests answered, one per list (a batch call counts each of its "
            "lists), by surface, experiment, arm and HTTP status. experiment and arm are empty "
            "outside an experiment (arm within an interleaved one); surface is 'other' for a "
            "surface that is not applied.",
            labels=LABELS,
        )
        degraded = CounterMetricFamily(
            "sameday_degraded",
            "Lists served degraded (the store was down or late, or a list was missing, and "
            "fallbacks filled it), by surface, experiment and arm.",
            labels=LABELS[:3],
        )
        totals: dict[tuple[str, str, str, str], int] = {}
        worse: dict[tuple[str, str, str], int] = {}
        for (surface, experiment, arm, status, was_degraded), count in list(self.served.items()):
            key = (surface, experiment, arm, str(status))
            totals[key] = totals.get(key, 0) + count
            if was_degraded:
                worse[key[:3]] = worse.get(key[:3], 0) + count
        for labels, value in sorted(totals.items()):
            requests.add_metric(list(labels), value)
        for short, value in sorted(worse.items()):
            degraded.add_metric(list(short), value)
        yield requests
        yield degraded


class ServerMetrics:
    """The registry of one server: scrape-time counters, a request-latency histogram by
    endpoint, and the process metrics."""

    def __init__(self, client: Client, batcher: ReadBatcher | None = None) -> None:
        self._client = client
        self.served: Served = {}
        """Lists answered, incremented by the handlers (see :meth:`count`)."""
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_ClientCollector(client, batcher, self.served))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.latency = LatencyHistogram(LATENCY_BUCKETS)
        self.registry.register(self.latency)

    def count(self, status: int, served: Recommendation | None, surface: str = OTHER) -> None:
        """Count one list answered with ``status`` (or one refused request, ``served`` ``None``,
        for the ``surface`` its path named)."""
        if served is not None:
            experiment, arm = served.experiment or "", served.arm or ""
            key = (served.surface, experiment, arm, status, served.degraded)
        else:
            if surface not in self._client.engine.state.surfaces:
                surface = OTHER
            key = (surface, "", "", status, False)
        counts = self.served
        counts[key] = counts.get(key, 0) + 1

    def render(self) -> bytes:
        """The exposition text for ``GET /metrics``."""
        return generate_latest(self.registry)
