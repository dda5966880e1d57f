"""Prometheus metrics of a server, read from the engine's and writer's counters at scrape time.

Counters are kept as plain integers on the hot path and turned into metric families only when
``/metrics`` is scraped, so serving a request pays for one histogram observation at most.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from sameday.serve.batching import ReadBatcher
from sameday.serve.client import Client

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class _ClientCollector(Collector):
    def __init__(self, client: Client, batcher: ReadBatcher | None) -> None:
        self.client = client
        self.batcher = batcher

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        counters = self.client.engine.counters
        for name, value, doc in (
            ("requests", counters.requests, "Lists served."),
            ("degraded", counters.degraded, "Lists served degraded (store down or list missing)."),
            ("store_errors", counters.store_errors, "Serving-store reads that failed."),
            ("fallback_fills", counters.fallback_fills, "Lists topped up from a fallback."),
            ("refresh_errors", self.client.refresh_errors, "Config/snapshot polls that failed."),
        ):
            yield CounterMetricFamily(f"sameday_{name}", doc, value=value)
        if self.batcher is not None:
            yield CounterMetricFamily(
                "sameday_read_batches",
                "Store read batches sent (reads coalesced).",
                self.batcher.batches,
            )
            yield CounterMetricFamily(
                "sameday_batched_reads", "Store reads sent in those batches.", self.batcher.reads
            )
            yield CounterMetricFamily(
                "sameday_late_reads",
                "Store reads not answered within serve.read_deadline (served degraded).",
                self.batcher.late,
            )
        state = self.client.state
        yield GaugeMetricFamily("sameday_surfaces", "Surfaces served.", value=len(state.surfaces))
        running = sum(len(plan.experiments) for plan in state.surfaces.values())
        yield GaugeMetricFamily("sameday_running_experiments", "Running experiments.", running)
        writer = self.client.writer
        if writer is not None:
            stats = writer.stats()
            yield GaugeMetricFamily("sameday_events_queued", "Event records waiting.", stats.queued)
            for name, value in (
                ("written", stats.written),
                ("dropped", stats.dropped),
                ("rejected", stats.rejected),
                ("failed_flushes", stats.failed_flushes),
                ("escaped", stats.escaped),
            ):
                yield CounterMetricFamily(
                    f"sameday_events_{name}", f"Event log: records {name}.", value=value
                )
            yield GaugeMetricFamily(
                "sameday_events_sink_down",
                "1 while the event sink is failing.",
                int(stats.sink_down),
            )


class ServerMetrics:
    """The registry of one server: scrape-time counters plus a request-latency histogram."""

    def __init__(self, client: Client, batcher: ReadBatcher | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_ClientCollector(client, batcher))
        self.latency = Histogram(
            "sameday_request_seconds",
            "Time to answer, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The exposition text for ``GET /metrics``."""
        return generate_latest(self.registry)
