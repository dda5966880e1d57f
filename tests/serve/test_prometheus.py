"""``/metrics``: requests labelled by surface, experiment, arm and status with bounded label
values, the process metrics, and HELP texts that say what each metric counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from sameday.events.memory import MemorySink
from sameday.events.writer import EventWriter
from sameday.serve.app import create_app
from sameday.serve.client import Client
from sameday.serve.prometheus import LATENCY_BUCKETS, LatencyHistogram
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

SPECS = {
    ("surface", "home"): surface_spec("home", "personal", fallbacks=["popular"], n=2),
    ("experiment", "exp"): experiment_spec("exp", "home", {"control": "personal", "b": "popular"}),
    ("surface", "mail"): surface_spec("mail", "unpublished", fallbacks=["popular"], n=2),
}
UNITS = [f"u{i}" for i in range(40)]


@pytest.fixture
def http() -> Iterator[TestClient]:
    store = MemoryStore()
    load_lists(store, "personal", "p1", {unit: ["a", "b"] for unit in UNITS})
    load_lists(store, "popular", "q1", {"*": ["b", "c", "d"]})
    with (
        Client(
            store,
            writer=EventWriter(MemorySink()),
            state=build_state(SPECS),
            refresh_interval=0,
            read_deadline=10,
        ) as client,
        TestClient(create_app(client)) as test_client,
    ):
        yield test_client


def scrape(http: TestClient) -> dict[str, Metric]:
    return {m.name: m for m in text_string_to_metric_families(http.get("/metrics").text)}


def samples(metric: Metric) -> dict[tuple[str, ...], float]:
    return {
        tuple(
            sample.labels[k]
            for k in ("surface", "experiment", "arm", "status")[: len(sample.labels)]
        ): sample.value
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def test_requests_are_counted_by_surface_experiment_arm_and_status(http: TestClient) -> None:
    arms = [http.get(f"/v1/recommend/home?unit={unit}").json()["arm"] for unit in UNITS]
    http.post("/v1/recommend/home", json={"unit": "u0"})
    http.post("/v1/recommend/home/batch", json={"requests": [{"unit": u} for u in UNITS[:3]]})
    http.get("/v1/recommend/home?unit=u0&n=0")  # 400
    http.post("/v1/recommend/home", json={"n": 1})  # 400: no unit
    http.get("/v1/recommend/mail?unit=u0")  # degraded: no snapshot of 'unpublished'
    http.get("/healthz")  # not a list: not counted
    metrics = scrape(http)
    requests = samples(metrics["sameday_requests"])
    served = {
        arm: arms.count(arm) + [arms[0]].count(arm) + arms[:3].count(arm)
        for arm in ("control", "b")
    }
    assert requests == {
        ("home", "exp", "b", "200"): served["b"],
        ("home", "exp", "control", "200"): served["control"],
        ("home", "", "", "400"): 2,
        ("mail", "", "", "200"): 1,
    }
    assert samples(metrics["sameday_degraded"]) == {("mail", "", ""): 1}


def test_a_surface_that_is_not_applied_is_counted_as_other(http: TestClient) -> None:
    for index in range(50):  # a scanner trying paths must not mint a series per path
        assert http.get(f"/v1/recommend/probe-{index}?unit=u0").status_code == 404
        assert http.post(f"/v1/recommend/probe-{index}/batch", json={}).status_code == 400
    requests = samples(scrape(http)["sameday_requests"])
    assert requests == {("other", "", "", "404"): 50, ("other", "", "", "400"): 50}


def test_the_latency_histogram_exports_what_prometheus_clients_own_would() -> None:
    ours, reference = CollectorRegistry(), CollectorRegistry()
    latency = LatencyHistogram(LATENCY_BUCKETS)
    ours.register(latency)
    theirs = Histogram(
        "sameday_request_seconds",
        "Seconds from a request's arrival to its answer, by endpoint.",
        ["endpoint"],
        buckets=LATENCY_BUCKETS,
        registry=reference,
    )
    # on a bound, between bounds, below the first, above the last; two endpoints, one unused
    seconds = [0.0005, 0.0007, 0.0001, 0.01, 0.3, 2.5, 0.025, 0.0]
    for endpoint in ("recommend", "events"):
        latency.labels(endpoint), theirs.labels(endpoint)
    for value in seconds:
        latency.labels("recommend").observe(value)
        theirs.labels("recommend").observe(value)

    def lines(registry: CollectorRegistry) -> list[str]:
        text = generate_latest(registry).decode()
        return sorted(line for line in text.splitlines() if "_created" not in line)

    assert lines(ours) == lines(reference)
    assert f'sameday_request_seconds_count{{endpoint="recommend"}} {len(seconds)}.0' in lines(ours)


def test_the_process_metrics_are_exported(http: TestClient) -> None:
    metrics = scrape(http)
    assert metrics["process_cpu_seconds"].samples[0].value > 0
    assert metrics["process_resident_memory_bytes"].samples[0].value > 1e6
    assert "python_info" in metrics and "python_gc_collections" in metrics


def test_every_metric_of_sameday_has_a_help_text_that_reads_as_a_sentence(
    http: TestClient,
) -> None:
    http.get("/v1/recommend/home?unit=u0")
    ours = {name: m for name, m in scrape(http).items() if name.startswith("sameday_")}
    assert len(ours) >= 18
    for name, metric in ours.items():
        assert metric.documentation[:1].isupper(), name
        assert metric.documentation.endswith("."), name
        assert len(metric.documentation.split()) >= 4, name
