"""Tastes that drift: a model trained once decays, one retrained daily behind the gate holds.

``sameday demo --days 30 --drift`` runs this on a simulated world whose users' tastes move a
little every day (an AR(1) walk of their latent vectors, keeping their spread): each day,

1. both recommenders serve the day's users, and the click model's exact click-through rate of
   their lists under **today's** tastes is computed (with the best possible lists, ranked by the
   true attraction, as the ceiling);
2. the day's interactions are logged from today's tastes and split into train and held-out;
3. a candidate is trained on them, scored offline beside the champion on the same held-out
   interactions (on an outage day, when logging lost most of them, it is worse), and gated
   (``ndcg@10 >= champion - 0.002``, ``coverage >= 0.05``) through the real registry: blessed,
   it becomes the champion and its lists are published as a snapshot of the ``personal``
   result set; refused, nothing changes and the decision is in the history.

The trained-once model is the first champion, never replaced. The recommender is a truncated
SVD of the user × item matrix (numpy only, fitted in milliseconds); its bundle is its factors,
loaded by :func:`load_factors`, and it predicts through the registry as any model does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sameday.errors import SimulationError
from sameday.offline.ranking_metrics import evaluate
from sameday.sim.clicks import PositionBased
from sameday.sim.data import item_id, item_index, user_id, user_index
from sameday.sim.interactions import Interactions, log_interactions, split
from sameday.sim.world import FloatArray, IntArray, World, make_world

MODEL = "personal-svd"
RESULT_SET = "personal"
CONDITIONS = ("ndcg@10 >= champion - 0.002", "coverage >= 0.05")
FACTORS_FILE = "factors.npz"


@dataclass(frozen=True)
class DriftSettings:
    """The drifting world and the training loop.

    ``keep`` is how much of yesterday's taste a user keeps (AR(1) coefficient): after ``d``
    days her taste correlates ``keep ** d`` with where it started.
    """

    days: int = 30
    users: int = 2000
    items: int = 400
    dim: int = 8
    rank: int = 12
    keep: float = 0.9
    interactions: float = 20.0
    n: int = 10
    seed: int = 7
    outages: tuple[int, ...] = (12,)
    """Days when logging broke: a fifth of the usual interactions reached the training job."""


@dataclass(frozen=True)
class Day:
    """One simulated day: the exact CTR of each recommender's lists, and the gate's decision."""

    day: int
    ctr_once: float
    ctr_gated: float
    ctr_best: float
    champion: int
    blessed: bool
    ndcg_candidate: float
    ndcg_champion: float


@dataclass(frozen=True)
class DriftResult:
    """Every day, in order, and where the project (registry, snapshots) is."""

    days: list[Day]
    folder: Path
    versions: int
    snapshots: int
    refusals: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Factors:
    """A truncated SVD recommender: ``score(u, i) = <users[u], items[i]>``."""

    users: FloatArray
    items: FloatArray

    @classmethod
    def fit(cls, logs: Interactions, n_users: int, n_items: int, rank: int) -> Factors:
        """The rank-``rank`` SVD of the binary user × item matrix of ``logs``."""
        matrix = np.zeros((n_users, n_items))
        matrix[logs.users, logs.items] = 1.0
        left, values, right = np.linalg.svd(matrix, full_matrices=False)
        return cls(left[:, :rank] * values[:rank], right[:rank].T.copy())

    def top(self, n: int, exclude: Interactions | None = None) -> IntArray:
        """Each user's ``n`` best items, best first, none of ``exclude``'s pairs."""
        scores = self.users @ self.items.T
        if exclude is not None:
            scores[exclude.users, exclude.items] = -np.inf
        best = np.argpartition(-scores, n, axis=1)[:, :n]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1)
        return np.asarray(np.take_along_axis(best, order, axis=1), dtype=np.int64)

    def predict(self, features: Sequence[Mapping[str, Any]]) -> list[float]:
        """The score of each row's ``user`` and ``item`` (indices or sameday's ids)."""
        users = np.asarray([_user(row["user"]) for row in features], dtype=np.int64)
        items = np.asarray([_item(row["item"]) for row in features], dtype=np.int64)
        return [float(s) for s in np.einsum("ij,ij->i", self.users[users], self.items[items])]

    def save(self, folder: Path) -> Path:
        """Write the factors as the bundle's one file."""
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / FACTORS_FILE, users=self.users, items=self.items)
        return folder


def _user(value: Any) -> int:
    return user_index(value) if isinstance(value, str) else int(value)


def _item(value: Any) -> int:
    return item_index(value) if isinstance(value, str) else int(value)


def load_factors(folder: Path) -> Factors:
    """The bundle loader (``loader: sameday.sim.drift:load_factors``)."""
    with np.load(folder / FACTORS_FILE) as data:
        return Factors(np.asarray(data["users"]), np.asarray(data["items"]))


def drift(world: World, keep: float, rng: np.random.Generator) -> World:
    """Tomorrow's world: each user keeps ``keep`` of her taste and gains fresh noise, so the
    spread of tastes (and the base click rate) stays the same."""
    noise = rng.standard_normal(world.user_factors.shape) / np.sqrt(world.dim)
    users = keep * world.user_factors + np.sqrt(1.0 - keep**2) * noise
    return World(users, world.item_factors, world.item_bias, world.taste, world.offset)


def ctr(world: World, lists: IntArray, model: PositionBased) -> float:
    """The exact click-through rate (share of users who click) of ``lists`` in ``world``."""
    users = np.arange(lists.shape[0])[:, None]
    return float(model.any_click(world.attraction(users, lists)).mean())


def best_lists(world: World, n: int) -> IntArray:
    """Each user's ``n`` most attractive items in ``world``: the ceiling of any recommender."""
    attraction = world.attraction_matrix(np.arange(world.n_users))
    return np.asarray(np.argsort(-attraction, axis=1)[:, :n], dtype=np.int64)


def write_lists(path: Path, lists: IntArray, scores: FloatArray) -> Path:
    """The lists as the ``personal`` result set's CSV (``user, item, score``)."""
    with path.open("w") as out:
        out.write("user,item,score\n")
        for user, (items, values) in enumerate(zip(lists, scores, strict=True)):
            for item, score in zip(items, values, strict=True):
                out.write(f"{user_id(user)},{item_id(int(item))},{score:.6f}\n")
    return path


Progress = Callable[[Day], None]


def run_drift(
    settings: DriftSettings, folder: Path, progress: Progress | None = None
) -> DriftResult:
    """Simulate ``settings.days`` days in a starter project scaffolded at ``folder``.

    Raises:
        SimulationError: impossible settings (``keep`` outside ``(0, 1]``, ``n`` too large), or
            ``folder`` is not new or empty.
    """
    if not 0.0 < settings.keep <= 1.0 or settings.days < 1:
        raise SimulationError(
            f"drift needs 0 < keep <= 1 and at least one day, got keep={settings.keep}, "
            f"days={settings.days}"
        )
    if settings.n >= settings.items or settings.rank > min(settings.users, settings.items):
        raise SimulationError("lists and the SVD rank must be smaller than the catalogue")
    from sameday.config import load_project
    from sameday.models import open_registry
    from sameday.results.job_output import gate_and_publish
    from sameday.scaffold import init_project

    if folder.exists() and any(folder.iterdir()):
        raise SimulationError(f"{folder} is not empty: give a new or empty folder")
    init_project(folder)
    project = load_project(folder)
    work = Path(tempfile.mkdtemp(prefix="drift-", dir=folder))
    rng = np.random.default_rng([settings.seed, 1])  # a stream of its own, not the world's
    world = make_world(settings.users, settings.items, dim=settings.dim, seed=settings.seed)
    clicks = PositionBased.power(settings.n)

    def train(day: int) -> tuple[Factors, Interactions, Interactions]:
        mean = settings.interactions / (5 if day in settings.outages else 1)
        logs = log_interactions(world, mean=max(mean, 1.0), seed=settings.seed + day)
        fitted, held = split(logs, seed=settings.seed + day)
        model = Factors.fit(fitted, settings.users, settings.items, settings.rank)
        return model, fitted, held

    def offline(model: Factors, seen: Interactions, held: Interactions) -> dict[str, float]:
        """Both models scored alike: on today's held-out pairs, today's seen pairs left out."""
        lists = model.top(settings.n, exclude=seen)
        found = evaluate(lists, held.users, held.items, k=10, n_items=settings.items)
        return {"ndcg@10": found.ndcg, "coverage": found.coverage}

    def gate(day: int, candidate: Factors, metrics: dict[str, Any], reference: Any) -> Any:
        """Register the candidate through the real gate; its lists go live when blessed."""
        lists = candidate.top(settings.n)
        scores = np.take_along_axis(candidate.users @ candidate.items.T, lists, axis=1)
        metrics_file = work / f"day-{day}.json"
        metrics_file.write_text(json.dumps({"candidate": metrics, "champion": reference}))
        return gate_and_publish(
            project,
            MODEL,
            candidate.save(work / f"day-{day}"),
            CONDITIONS,
            metrics_file,
            lists={RESULT_SET: write_lists(work / f"day-{day}.csv", lists, scores)},
            loader="sameday.sim.drift:load_factors",
            run_id=f"drift-day-{day}",
        )

    once, seen, held = train(0)  # trained once, on the first day's logs: the first champion
    gate(0, once, offline(once, seen, held), None)
    champion, version, published, refusals, days = once, 1, 1, [], []
    for day in range(1, settings.days + 1):
        world = drift(world, settings.keep, rng)
        served = [ctr(world, model.top(settings.n), clicks) for model in (once, champion)]
        best = ctr(world, best_lists(world, settings.n), clicks)
        candidate, seen, held = train(day)
        metrics, reference = offline(candidate, seen, held), offline(champion, seen, held)
        outcome = gate(day, candidate, metrics, reference)
        if outcome.version is not None:
            with open_registry(project) as registry:
                loaded = registry.load(f"{MODEL}@champion").inner
            assert isinstance(loaded, Factors)
            champion, version = loaded, outcome.version.version
            published += len(outcome.published)
        else:
            refusals.append(f"day {day}: {outcome.decision.finding.summary}")
        row = Day(
            day,
            served[0],
            served[1],
            best,
            champion=version,
            blessed=outcome.version is not None,
            ndcg_candidate=metrics["ndcg@10"],
            ndcg_champion=reference["ndcg@10"],
        )
        days.append(row)
        if progress is not None:
            progress(row)
    shutil.rmtree(work)
    with open_registry(project) as registry:
        versions = len(registry.versions(MODEL))
    return DriftResult(days, folder, versions, published, refusals)
