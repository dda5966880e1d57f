"""The "who benefits" demo: an A/B test in a world of heterogeneous tastes, graded against truth.

:func:`run_who_benefits` builds a project (the scaffold's ``home`` surface and an A/B test of the
popular list against the personalised one that records the users' dimensions), serves every user
of a :class:`~sameday.sim.segments.SegmentedWorld` once through the real serving engine (GrowthBook
assignment, the dimensions written into each exposure), draws their clicks from the position-based
model, and writes both into the project's event log. Then it runs what a data scientist would:

- ``sameday report --by tenure --by activity --by platform``: each segment's lift is set next to
  the segment's exact lift (:func:`~sameday.sim.segments.effects`) and graded: is the truth
  inside the corrected interval, and does a called segment have the truth's sign;
- ``sameday uplift --propose``: the targeting rule is evaluated on every user, and the
  (tenure, activity) cells it treats are compared with the cells that truly gain; the best
  learner's Qini area (with its interval) is compared with the Qini area of ranking the same
  units by their true uplift given their dimensions (:meth:`Effects.conditional`), the best any
  model of the dimensions could do on these outcomes;
- the proposed experiment is loaded with the project and planned, as ``sameday plan`` would.

The experiment's file says ``phase: stopped``: the analysis comes after the test, and a stopped
test needs no live snapshot to plan (the demo serves from memory, without publishing). The
engine serves it as the running test it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sameday.analysis.report import ABReport, build_report
from sameday.analysis.uplift.curves import Area, curves
from sameday.analysis.uplift.data import BoolArray
from sameday.analysis.uplift.learners import Settings
from sameday.analysis.uplift.run import UpliftReport, propose, uplift
from sameday.assign import compile_condition
from sameday.config import load_project
from sameday.config.loader import Project
from sameday.deploy.apply import plan_project
from sameday.deploy.plan import Plan
from sameday.errors import DemoError
from sameday.events.records import Exposure, Outcome
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.engine import Engine
from sameday.serve.state import build_state
from sameday.sim.clicks import PositionBased
from sameday.sim.grading import Grade
from sameday.sim.segments import (
    ACTIVITY,
    TENURE,
    Effects,
    SegmentedWorld,
    effects,
    make_segmented_world,
)
from sameday.sim.world import FloatArray
from sameday.store.memory import MemoryStore
from sameday.testing import load_lists

EXPERIMENT = "home-who-benefits"
BY = ("tenure", "activity", "platform")
SLOTS = 10


@dataclass(frozen=True)
class SegmentGrade:
    """One segment's measured lift of ``ctr`` against its exact lift."""

    dimension: str
    value: str
    units: int
    lift: float
    low: float
    high: float
    truth: float
    outcome: str
    covered: bool
    grade: Grade


@dataclass(frozen=True)
class WhoBenefits:
    """What the demo measured, and how it compares with the truth.

    Attributes:
        segments: every segment of :data:`BY`, graded.
        recommended: the (tenure, activity) cells the proposed rule treats (most of whose users
            it treats); ``truth``: the cells whose users gain on average.
        qini: the best learner's Qini area with its interval; ``true_qini`` the area of
            ranking the same units by their true uplift given their dimensions.
        proposal: the experiment file written; ``plan`` what ``sameday plan`` shows for it.
    """

    folder: Path
    users: int
    clicks: int
    report: ABReport
    uplift: UpliftReport
    segments: tuple[SegmentGrade, ...]
    recommended: frozenset[tuple[str, str]]
    truth: frozenset[tuple[str, str]]
    qini: Area
    true_qini: float
    proposal: Path
    plan: Plan
    timings: dict[str, float]

    @property
    def rule_right(self) -> bool:
        """Whether the rule targets exactly the cells that truly gain."""
        return self.recommended == self.truth

    @property
    def qini_within(self) -> bool:
        """Whether the true-uplift Qini area lies in the best learner's interval."""
        return self.qini.low <= self.true_qini <= self.qini.high


def write_project(folder: Path) -> Path:
    """A scaffolded project in ``folder`` (new or empty) with the demo's A/B test.

    Raises:
        DemoError: ``folder`` holds files already.
    """
    from sameday.scaffold import init_project

    if folder.exists() and any(folder.iterdir()):
        raise DemoError(f"{folder} is not empty: give a new or empty folder with --dir")
    init_project(folder)
    (folder / "experiments" / "home-personal.yaml").unlink()
    dims = ", ".join([*BY, *(f"n{k}" for k in range(1, 8))])
    (folder / "experiments" / f"{EXPERIMENT}.yaml").write_text(
        f"# An A/B test of personalisation that records who each user is.\n"
        f"name: {EXPERIMENT}\n"
        "surface: home\n"
        "hypothesis: Personal lists raise the click-through rate over popularity.\n"
        "design: ab\n"
        "phase: stopped\n"
        "arms:\n"
        "  - {name: control, result_set: popular}\n"
        "  - {name: personal, result_set: personal}\n"
        f"dimensions: [{dims}]\n"
        "metrics:\n"
        "  primary: [ctr]\n"
    )
    return folder


def run_who_benefits(
    folder: Path,
    *,
    users: int = 30_000,
    seed: int = 7,
    on_stage: Callable[[str], None] | None = None,
) -> WhoBenefits:
    """Run the demo in ``folder`` (see the module docstring)."""
    stage = on_stage or (lambda _: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    stage(f"a world of {users:,} users with heterogeneous tastes, and its exact effects")
    world = make_segmented_world(users, seed=seed)
    model = PositionBased.power(SLOTS)
    truth = effects(world, model, SLOTS)
    project = load_project(write_project(folder))
    timings["world"] = time.perf_counter() - started

    started = time.perf_counter()
    stage(f"serving {users:,} users through the engine, clicks from the position-based model")
    treated, clicked, logged = _serve(project, world, model, seed)
    timings["serve"] = time.perf_counter() - started

    started = time.perf_counter()
    stage("sameday report --by tenure --by activity --by platform")
    report = build_report(project, EXPERIMENT, by=BY)
    assert isinstance(report, ABReport)
    timings["report"] = time.perf_counter() - started

    started = time.perf_counter()
    stage("sameday uplift --propose")
    analysis = uplift(project, EXPERIMENT, settings=Settings(seed=seed))
    proposal, spec = propose(project, analysis)
    plan = plan_project(load_project(folder))
    timings["uplift"] = time.perf_counter() - started

    condition = compile_condition(spec["targeting"])
    targeted = np.array(
        [
            condition({name: str(values[u]) for name, values in world.attributes.items()})
            for u in range(users)
        ]
    )
    recommended = frozenset(
        (t, a)
        for t in TENURE
        for a in ACTIVITY
        if (cell := truth.mask(tenure=t, activity=a)).any() and targeted[cell].mean() > 0.5
    )
    best = next(r for r in analysis.learners if r.name == analysis.best)
    oracle = curves(truth.conditional(), treated, clicked, seed=seed, bootstrap=20)
    return WhoBenefits(
        folder=folder,
        users=users,
        clicks=logged,
        report=report,
        uplift=analysis,
        segments=tuple(_grades(report, truth)),
        recommended=recommended,
        truth=frozenset(truth.benefiting()),
        qini=best.curves.qini_area,
        true_qini=oracle.qini_area.point,
        proposal=proposal,
        plan=plan,
        timings=timings,
    )


class _Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


def _serve(
    project: Project, world: SegmentedWorld, model: PositionBased, seed: int
) -> tuple[BoolArray, FloatArray, int]:
    """Serve every user once, log exposures and clicks; whether each user was treated and
    whether she clicked, in user order, and the number of clicks."""
    users = np.arange(world.users, dtype=np.int64)
    store = MemoryStore()
    load_lists(store, "popular", "v1", {"*": [f"item-{i}" for i in world.popular(SLOTS)]})
    personal = world.personal(users, SLOTS)
    load_lists(
        store, "personal", "v1", {f"user-{u}": [f"item-{i}" for i in personal[u]] for u in users}
    )
    running = project.experiments[EXPERIMENT].model_copy(update={"phase": "running"})
    specs = {
        ("surface", "home"): project.surfaces["home"].model_dump(mode="json"),
        ("experiment", EXPERIMENT): running.model_dump(mode="json"),
    }
    state = build_state(specs)
    log = _Log()
    cache = refresh_cache(store, state.result_sets, ListCache.empty())
    engine = Engine(store, state=state, cache=cache, log=log)
    names = list(world.attributes)
    for u in users.tolist():
        attributes = {name: str(world.attributes[name][u]) for name in names}
        engine.recommend("home", f"user-{u}", attributes=attributes)
    if len(log.exposures) != users.size or any(e.arm is None for e in log.exposures):
        raise DemoError("the engine did not assign every simulated user to an arm")
    shown = np.array([[int(item[5:]) for item in e.items] for e in log.exposures])
    clicks = model.sample(world.attraction(users, shown), np.random.default_rng(seed + 3))
    outcomes = [
        Outcome(
            event_id=f"click-{u}-{slot}",
            unit=f"user-{u}",
            name="click",
            time=log.exposures[u].time + 1.0 + slot,
            request_id=log.exposures[u].request_id,
            item=log.exposures[u].items[slot],
        )
        for u, slot in zip(*np.nonzero(clicks), strict=True)
    ]
    with project.open_event_sink() as sink:
        sink.write_exposures(log.exposures)
        sink.write_outcomes(outcomes)
    treated = np.array([e.arm == "personal" for e in log.exposures], dtype=np.bool_)
    return treated, np.asarray(clicks.any(axis=1), dtype=np.float64), len(outcomes)


def _grades(report: ABReport, truth: Effects) -> list[SegmentGrade]:
    out = []
    for block in report.segments:
        if block.metric != "ctr":
            continue
        for e in block.effects:
            control, treatment, _ = truth.segment(**{block.dimension: e.value})
            lift = treatment / control - 1.0
            if e.outcome in ("better", "worse"):
                grade: Grade = "right" if (e.lift > 0) == (lift > 0) else "wrong"
            else:
                grade = "inconclusive"
            out.append(
                SegmentGrade(
                    block.dimension,
                    e.value,
                    e.n_control + e.n_treatment,
                    e.lift,
                    e.ci_low,
                    e.ci_high,
                    lift,
                    e.outcome,
                    bool(e.ci_low <= lift <= e.ci_high),
                    grade,
                )
            )
    return out
