"""Dashboard page speed: server-side render time of every page on a project at realistic size.

The project: 200 result sets with 50 snapshots each (every one profiled, the newest live), 10
pipelines with 10,000 runs between them (three job attempts each, one run in twenty failed),
1,000 experiments on 40 surfaces (40 running, with 2,000 exposures each in the event log; the
rest stopped, concluded or in draft), 200 alert incidents, and 50 models with 40 versions each,
every version crowned by a gate decision with its evidence, a refused candidate for every
second version and a challenger alias (5,050 history entries). The metadata rows are written in
bulk through the metadata models' tables (the library's one-row-per-transaction writes would
take minutes), the project files as YAML, the exposures through the event sink.

Each page is requested ``--requests`` times (after two unmeasured warm-ups) through the ASGI
app in this process, which is what the server does for a request minus the socket: the time
is the server's whole work for the page (routing, reads on the thread pool, rendering).
Reports are built in the background and shown once built, so the experiment and wall pages are
measured with every running test's report built; the time one report takes to build is
printed apart. The baseline, measured in the same run, is ``sameday status``'s board
(:func:`sameday.monitor.status.status`) over the same project: the page the morning page
replaces. Also printed: the JavaScript and CSS every page loads, in bytes.

Run: ``.venv/bin/python benchmarks/ui_bench.py [--requests 40]``
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RESULT_SETS, SNAPSHOTS, PIPELINES, RUNS = 200, 50, 10, 10_000
EXPERIMENTS, SURFACES, EXPOSURES, INCIDENTS = 1_000, 40, 2_000, 200
MODELS, VERSIONS = 50, 40
TARGET_MS, TARGET_BYTES = 150.0, 100 * 1024


def write_project(root: Path) -> None:
    """The project files: result sets, pipelines publishing them, surfaces, experiments."""
    (root / "sameday.yaml").write_text(
        "name: bench\nstorage:\n  metadata: sqlite:///.sameday/metadata.db\n"
        "  serving: sqlite:///.sameday/serving.db\n  events: sqlite:///.sameday/events.db\n"
    )
    for folder in ("results", "pipelines", "surfaces", "experiments", "metrics", "monitors"):
        (root / folder).mkdir()
    for r in range(RESULT_SETS):
        (root / "results" / f"rs-{r:03d}.yaml").write_text(
            f"name: rs-{r:03d}\nsource: {{path: out/rs-{r:03d}.csv}}\n"
            "columns: {key: key, item: item, score: score}\nmax_age: 1d\n"
        )
    per = RESULT_SETS // PIPELINES
    for p in range(PIPELINES):
        jobs = "".join(
            f"  - name: rs-{r:03d}\n    command: 'true'\n    depends_on: [extract]\n"
            f"    outputs: [{{path: out/rs-{r:03d}.csv, publish: rs-{r:03d}}}]\n"
            for r in range(p * per, (p + 1) * per)
        )
        (root / "pipelines" / f"p-{p:02d}.yaml").write_text(
            f"name: p-{p:02d}\nschedule: {{cron: '{p} 3 * * *'}}\n"
            f"jobs:\n  - name: extract\n    command: 'true'\n{jobs}"
        )
    for s in range(SURFACES):
        (root / "surfaces" / f"s-{s:02d}.yaml").write_text(
            f"name: s-{s:02d}\nresult_set: rs-{s:03d}\nn: 10\n"
        )
    (root / "metrics" / "ctr.yaml").write_text("name: ctr\ntype: proportion\nevent: click\n")
    (root / "monitors" / "health.yaml").write_text("name: health\nchecks: [runs]\nnotify: []\n")
    for e in range(EXPERIMENTS):
        surface = e % SURFACES
        phase = "running" if e < SURFACES else ("stopped", "concluded", "draft")[e % 3]
        winner = "winner: treatment\n" if phase == "concluded" else ""
        (root / "experiments" / f"e-{e:04d}.yaml").write_text(
            f"name: e-{e:04d}\nsurface: s-{surface:02d}\ndesign: ab\nphase: {phase}\n{winner}"
            f"hypothesis: treatment {e} beats the default.\n"
            f"arms:\n  - {{name: control, result_set: rs-{surface:03d}}}\n"
            f"  - {{name: treatment, result_set: rs-{(surface + 100) % RESULT_SETS:03d}}}\n"
            "metrics: {primary: [ctr]}\nplan: {baseline: 0.05, mde: 0.1, daily_units: 2000}\n"
        )


def seed_metadata(root: Path, now: datetime, rng: random.Random) -> None:
    """Runs, attempts, snapshots, profiles, history, applied objects and incidents, in bulk."""
    import sqlalchemy as sa

    from sameday.config import load_project
    from sameday.deploy.plan import desired_objects
    from sameday.metadata import MetadataStore
    from sameday.metadata.models import Base

    url = f"sqlite:///{root / '.sameday' / 'metadata.db'}"
    with MetadataStore.open(url) as meta:
        meta.replace_applied(
            [(k, n, spec) for (k, n), spec in desired_objects(load_project(root)).items()]
        )
    t = Base.metadata.tables
    engine = sa.create_engine(url)
    runs, attempts = [], []
    for i in range(RUNS):
        pipeline = f"p-{i % PIPELINES:02d}"
        start = now - timedelta(hours=(RUNS - i) * 24 * PIPELINES / RUNS * 3)
        failed = i % 20 == 7
        run_id = f"{pipeline}-{i:06d}"
        runs.append({
            "id": run_id, "pipeline": pipeline, "status": "failed" if failed else "succeeded",
            "params": {}, "trigger": "schedule", "resumed_from": None, "started_at": start,
            "ended_at": start + timedelta(seconds=300 + rng.random() * 60), "message": None,
        })  # fmt: skip
        for j, job in enumerate(("extract", "train", "publish")):
            attempts.append({
                "run_id": run_id, "job": job, "attempt": 1,
                "status": "failed" if failed and j == 2 else "succeeded",
                "exit_code": 1 if failed and j == 2 else 0,
                "started_at": start + timedelta(seconds=100 * j),
                "ended_at": start + timedelta(seconds=100 * j + 90),
                "log_path": f".sameday/runs/{run_id}/{job}.1.log", "reason": None,
            })  # fmt: skip
    result_sets, snapshots, profiles, changes = [], [], [], []
    for r in range(RESULT_SETS):
        name = f"rs-{r:03d}"
        previous = None
        for k in range(SNAPSHOTS):
            version = f"{name}-{k:04d}"
            at = now - timedelta(hours=(SNAPSHOTS - k) * 12)
            live = k == SNAPSHOTS - 1
            rows = 100_000 + rng.randrange(1000)
            snapshots.append({
                "version": version, "result_set": name, "status": "live" if live else "retired",
                "content_hash": f"{r}-{k}", "rows": rows, "keys": rows // 50, "schema": {},
                "source": f"out/{name}.csv", "run_id": None, "created_at": at,
                "published_at": at, "store_url": "sqlite:///.sameday/serving.db",
            })  # fmt: skip
            profiles.append({
                "version": version, "result_set": name, "rows": rows, "keys": rows // 50,
                "profile": {
                    "rows": rows, "keys": rows // 50, "items": 5000, "top_share": 0.02,
                    "gini": 0.4, "list_length": {"mean": 50.0, "quantiles": [50.0] * 101},
                    "scores": {"mean": 0.5, "quantiles": [i / 100 for i in range(101)]},
                    "top_items": [[f"item-{i}", 0.01] for i in range(50)],
                    "sample": [[f"{i:016x}", f"user-{(i + k) % 300}"] for i in range(256)],
                    "new_keys": 10, "lost_keys": 10, "overlap": {"jaccard": 0.8, "keys": 250},
                },
                "findings": [], "created_at": at,
            })  # fmt: skip
            changes.append({
                "result_set": name, "version": version, "previous": previous,
                "action": "publish", "actor": "bench@host", "reason": None, "at": at,
            })  # fmt: skip
            previous = version
        result_sets.append({"name": name, "live_version": previous, "updated_at": now})
    incidents = [
        {
            "monitor": "health", "check_name": "runs", "subject": f"p-{i % PIPELINES:02d}",
            "status": "open" if i >= INCIDENTS - 5 else "resolved", "finding_status": "fail",
            "severity": "critical", "summary": f"the latest run failed ({i})",
            "evidence": {"run": i}, "opened_at": now - timedelta(hours=INCIDENTS - i),
            "last_seen_at": now, "notified_at": None,
            "resolved_at": None if i >= INCIDENTS - 5 else now - timedelta(hours=INCIDENTS - i - 1),
        }
        for i in range(INCIDENTS)
    ]  # fmt: skip
    # Five open incidents on five subjects: one open incident per (monitor, check, subject).
    for k, incident in enumerate(incidents[-5:]):
        incident["subject"] = f"p-{k:02d}"
    with engine.begin() as connection:
        connection.execute(t["pipeline_runs"].insert(), runs)
        connection.execute(t["job_attempts"].insert(), attempts)
        connection.execute(t["result_sets"].insert(), result_sets)
        connection.execute(t["snapshots"].insert(), snapshots)
        connection.execute(t["snapshot_profiles"].insert(), profiles)
        connection.execute(t["live_changes"].insert(), changes)
        connection.execute(t["alert_incidents"].insert(), incidents)
        for table, rows in model_rows(now, rng).items():
            connection.execute(t[table].insert(), rows)
    engine.dispose()


def gate_evidence(candidate: float, champion: float | None, version: int | None) -> dict[str, Any]:
    """A gate decision's evidence as :meth:`sameday.models.Registry.gate` records it."""
    threshold = None if champion is None else champion - 0.002
    checks = [
        {"condition": "ndcg@10 >= champion - 0.002", "metric": "ndcg@10", "candidate": candidate,
         "threshold": threshold, "champion": champion,
         "passed": threshold is None or candidate >= threshold, "note": None},
        {"condition": "coverage >= 0.2", "metric": "coverage", "candidate": 0.3,
         "threshold": 0.2, "champion": None, "passed": True, "note": None},
    ]  # fmt: skip
    return {
        "conditions": [c["condition"] for c in checks],
        "checks": checks,
        "candidate": {"ndcg@10": candidate, "coverage": 0.3},
        "champion": {"version": version, "scored_by": "registry",
                     "metrics": None if champion is None else {"ndcg@10": champion}},
        "run_id": None,
    }  # fmt: skip


def model_rows(now: datetime, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """``MODELS`` models of ``VERSIONS`` versions: each version blessed by the gate (and made
    champion), a refused candidate between every two, and the newest as the challenger."""
    versions, aliases, events = [], [], []
    lineage = {
        "datasets": [{"name": "interactions", "version": "2026-12-01"}],
        "code": {"commit": "0" * 40, "dirty": False}, "signature": None, "loader": None,
        "environment": {"python": "3.11.7", "platform": "linux"},
    }  # fmt: skip
    for m in range(MODELS):
        name, score = f"m-{m:02d}", 0.3
        for v in range(1, VERSIONS + 1):
            at = now - timedelta(hours=(VERSIONS - v) * 24 + m)
            champion = None if v == 1 else score
            score = round(score + rng.uniform(-0.0015, 0.004), 4)
            evidence = gate_evidence(score, champion, None if v == 1 else v - 1)
            versions.append({
                "name": name, "version": v, "content_hash": f"{m}-{v}",
                "bundle_url": f"file://.sameday/artifacts/models/{name}/{m}-{v}",
                "flavor": "python",
                "params": {"factors": 64, "regularization": 0.01, "iterations": 15},
                "metrics": {"ndcg@10": score, "coverage": 0.3, "recall@50": score * 1.8},
                "lineage": lineage, "run_id": None, "description": None,
                "created_by": "bench@host", "created_at": at,
            })  # fmt: skip
            common = {"name": name, "version": v, "actor": "bench@host", "at": at}
            events.append({**common, "action": "register", "alias": None, "previous": None,
                           "reason": None, "evidence": {"content_hash": f"{m}-{v}"}})  # fmt: skip
            events.append({**common, "action": "gate-blessed", "alias": "champion",
                           "previous": None if v == 1 else v - 1, "reason": "every check passed",
                           "evidence": evidence})  # fmt: skip
            if v % 2 == 0:
                low = round(score - 0.01, 4)
                events.append({
                    **common, "version": None, "action": "gate-refused", "alias": None,
                    "previous": None, "at": at + timedelta(hours=12),
                    "reason": f"gate refused the candidate of {name!r}: ndcg@10 = {low}",
                    "evidence": gate_evidence(low, score, v),
                })  # fmt: skip
        aliases.append({"name": name, "alias": "champion", "version": VERSIONS, "updated_at": now})
        aliases.append({"name": name, "alias": "challenger", "version": VERSIONS - 1,
                        "updated_at": now})  # fmt: skip
        events.append({"name": name, "version": VERSIONS - 1, "action": "alias",
                       "alias": "challenger", "previous": None, "actor": "bench@host",
                       "reason": None, "evidence": {}, "at": now})  # fmt: skip
    return {"model_versions": versions, "model_aliases": aliases, "model_events": events}


def seed_events(root: Path, now: datetime, rng: random.Random) -> None:
    """``EXPOSURES`` exposures of each running experiment, split between its two arms."""
    from sameday.events import Exposure
    from sameday.events.sqlite import SQLiteSink

    with SQLiteSink(str(root / ".sameday" / "events.db")) as sink:
        for e in range(SURFACES):
            batch = []
            for i in range(EXPOSURES):
                unit = f"u{rng.randrange(10**9)}"
                batch.append(
                    Exposure(
                        request_id=f"e{e}-{i}",
                        time=now.timestamp() - rng.random() * 86400 * 3,
                        unit=unit,
                        surface=f"s-{e:02d}",
                        items=("a", "b"),
                        experiment=f"e-{e:04d}",
                        arm=("control", "treatment")[i % 2],
                        hash_attribute="id",
                        hash_value=unit,
                        hash_version=2,
                        seed=f"e-{e:04d}",
                        bucket=rng.random(),
                        scores=None,
                        snapshot_versions={},
                        propensity=0.5,
                        design="ab",
                    )
                )
            sink.write_exposures(batch)


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="Measured requests per page.")
    parser.add_argument("--keep", type=Path, default=None, help="Build the project here, keep it.")
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from sameday.config import load_project
    from sameday.monitor.status import status
    from sameday.ui.access import Access
    from sameday.ui.app import ASSETS, create_ui
    from sameday.ui.state import Dashboard

    rng = random.Random(20261203)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="sameday-ui-bench-") as folder:
        root = args.keep or Path(folder)
        if not (root / ".sameday").exists():
            root.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            write_project(root)
            (root / ".sameday").mkdir()
            seed_metadata(root, now, rng)
            seed_events(root, now, rng)
            print(f"seeded in {time.perf_counter() - started:.1f}s; load {os.getloadavg()}")

        dash = Dashboard(root, recheck=3600)
        try:
            client = TestClient(create_ui(dash, Access(read_key=None, admin_key=None)),
                                base_url="http://localhost")  # fmt: skip
            gc.collect()
            gc.freeze()  # as `sameday ui` does once the project is loaded
            started = time.perf_counter()
            dash.reports.wait("e-0000", timeout=120)
            print(f"one report built in {time.perf_counter() - started:.2f}s (in the background)")
            for e in range(SURFACES):
                dash.reports.wait(f"e-{e:04d}", timeout=120)
            pages = [
                "/", "/runs", "/runs?pipeline=p-03&status=failed", "/runs/p-03-009993",
                "/results", "/results/rs-042", "/results/rs-042/diff?a=rs-042-0040&b=rs-042-0049",
                "/experiments", "/experiments?phase=running", "/experiments/e-0007", "/wall",
                "/alerts", f"/alerts/{INCIDENTS}", "/models", "/models/m-07",
                "/lineage?node=experiment:e-0007",
            ]  # fmt: skip
            project = load_project(root)
            board = []
            for _ in range(5):
                begin = time.perf_counter()
                status(project, datetime.now(UTC))
                board.append((time.perf_counter() - begin) * 1000)
            board_ms = p95(board)
            print(f"\nbaseline, `sameday status` board: p95 {board_ms:.0f} ms over 5 calls\n")
            print("| page | p50 ms | p95 ms | p95 / board | ≤ 150 ms |\n|---|---|---|---|---|")
            worst = 0.0
            for path in pages:
                for _ in range(2):
                    assert client.get(path).status_code == 200, path
                times = []
                for _ in range(args.requests):
                    begin = time.perf_counter()
                    answer = client.get(path)
                    times.append((time.perf_counter() - begin) * 1000)
                    assert answer.status_code == 200, path
                high = p95(times)
                worst = max(worst, high)
                met = "yes" if high <= TARGET_MS else "**no**"
                median = statistics.median(times)
                print(f"| `{path}` | {median:.1f} | {high:.1f} | {high / board_ms:.2f} | {met} |")
            shipped = {name: len(client.get(f"/assets/{name}").content) for name in ASSETS}
            total = sum(shipped.values())
            print(f"\nworst page p95: {worst:.1f} ms (target {TARGET_MS:.0f} ms)")
            print("assets: " + ", ".join(f"{n} {b:,} B" for n, b in shipped.items())
                  + f"; total {total:,} B of {TARGET_BYTES:,} allowed")  # fmt: skip
            print(f"load average {os.getloadavg()}")
            client.close()
        finally:
            dash.close()


if __name__ == "__main__":
    main()
