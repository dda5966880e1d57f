"""A small project with something on every page of the dashboard, built in a few seconds.

The scaffold's project (``sameday init``), then through the library, as the commands would:
two snapshots of each result set, the A/B test running and applied, simulated users served by
the in-process client (exposures) with clicks for one arm, a failed run with its log and a
succeeded one, a monitor run that opens an incident about the failed run, and a model with
three versions, a champion and a challenger, and two gate decisions (one blessed, one refused).
Seeded: the same call gives the same lists, units and clicks.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

EXPERIMENT = "home-personal"
USERS = 240
MODEL = "personal-als"
GATE = ("ndcg@10 >= champion - 0.002", "coverage >= 0.2")


@dataclass(frozen=True)
class Seeded:
    """What the seeded project holds, for tests to point at."""

    root: Path
    failed_run: str
    succeeded_run: str
    personal: tuple[str, str]  # the two versions of "personal", oldest first


def _lists(root: Path, rng: random.Random, shift: int) -> None:
    out = root / "out"
    out.mkdir(exist_ok=True)
    items = [f"item-{i}" for i in range(60)]
    with (out / "popular.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "item", "score"])
        for rank, item in enumerate(items[:30]):
            writer.writerow(["*", item, 30 - rank])
    with (out / "personal.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item", "score"])
        for user in range(shift, USERS + shift):
            for rank, item in enumerate(rng.sample(items, 8)):
                writer.writerow([f"user-{user}", item, 8 - rank])


def _runs(root: Path) -> tuple[str, str]:
    from sameday.config import load_project
    from sameday.metadata import AttemptEntry, new_run_id

    project = load_project(root)
    data = root / "data"
    data.mkdir(exist_ok=True)  # what the runs' extract job wrote, for a resume to read
    with (data / "interactions.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "item"])
        writer.writerows(
            [f"user-{u}", f"item-{(u * 7 + k) % 60}"] for u in range(USERS) for k in range(6)
        )
    logs = root / ".sameday" / "runs"
    now = datetime.now(UTC)
    with project.open_metadata() as meta:
        ids = []
        for back, fails in ((3600.0, False), (40.0, True)):
            start = now - timedelta(seconds=back)
            day = "2026-12-02" if fails else "2026-12-01"
            run_id = new_run_id("daily", start)
            folder = logs / run_id
            folder.mkdir(parents=True)
            entries = []
            for index, job in enumerate(("extract", "popular", "personal")):
                log = folder / f"{job}.1.log"
                failed = fails and job == "personal"
                lines = [f"[{job}] step {n}" for n in range(60)]
                if failed:
                    lines.append("Traceback: FileNotFoundError: data/interactions.csv")
                log.write_text("\n".join(lines) + "\n")
                entries.append(
                    AttemptEntry(
                        job=job,
                        attempt=1,
                        status="failed" if failed else "succeeded",
                        started_at=start + timedelta(seconds=12 * index),
                        ended_at=start + timedelta(seconds=12 * index + 9 + index),
                        log_path=str(log.relative_to(root)),
                        exit_code=1 if failed else 0,
                    )
                )
            meta.record_run(
                run_id, "daily", {"ds": day}, trigger="schedule",
                status="failed" if fails else "succeeded",
                message="personal failed" if fails else None, started_at=start,
            )  # fmt: skip
            meta.record_attempts(run_id, entries)
            ids.append(run_id)
    good, bad = ids
    return bad, good


def _models(root: Path) -> None:
    """``MODEL``: version 1 registered as champion, version 2 blessed by the gate (champion
    now), a candidate refused by it, and version 3 registered as the challenger."""
    from sameday.models import open_registry

    folder = root / "out" / "model"
    folder.mkdir(parents=True)

    def weights(text: str) -> Path:
        (folder / "weights.txt").write_text(text)
        return folder

    with open_registry(root) as registry:
        registry.register(
            MODEL, weights("factors 32"), params={"factors": 32},
            metrics={"ndcg@10": 0.301, "coverage": 0.31}, aliases=["champion"],
        )  # fmt: skip
        registry.gate(MODEL, weights("factors 64"), GATE, {"ndcg@10": 0.312, "coverage": 0.33},
                      params={"factors": 64})  # fmt: skip
        registry.gate(MODEL, weights("factors 8"), GATE, {"ndcg@10": 0.284, "coverage": 0.18})
        registry.register(
            MODEL, weights("factors 128"), params={"factors": 128},
            metrics={"ndcg@10": 0.309, "coverage": 0.35}, aliases=["challenger"],
        )  # fmt: skip


def seed(root: Path, *, seed: int = 7) -> Seeded:
    """Build the project at ``root`` (which must not exist)."""
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.events import Outcome
    from sameday.monitor.run import run_monitors
    from sameday.results.publish import publish
    from sameday.scaffold import init_project
    from sameday.serve.client import Client

    rng = random.Random(seed)
    init_project(root)
    project = load_project(root)
    versions = []
    for shift in (0, 10):
        _lists(root, rng, shift)
        publish(project, "popular")
        versions.append(publish(project, "personal").version)
    experiment = root / "experiments" / f"{EXPERIMENT}.yaml"
    experiment.write_text(experiment.read_text().replace("phase: draft", "phase: running"))
    project = load_project(root)
    apply_project(project)
    client = Client.from_project(root, update_bandits=False)
    try:
        clicks = []
        for user in range(USERS):
            served = client.recommend("home", f"user-{user}")
            chance = 0.65 if served.arm == "personal" else 0.4
            if served.items and rng.random() < chance:
                clicks.append(
                    Outcome(
                        event_id=f"click-{user}",
                        unit=f"user-{user}",
                        name="click",
                        time=datetime.now(UTC).timestamp(),
                        request_id=served.request_id,
                        item=served.items[0].item,
                    )
                )
        ticket = client.track(clicks)
        if ticket is not None:
            ticket.wait(10)
    finally:
        client.close()
    failed, succeeded = _runs(root)
    _models(root)
    with project.open_metadata() as meta:
        run_monitors(project, meta)
    return Seeded(root, failed, succeeded, (versions[0], versions[1]))
