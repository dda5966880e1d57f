"""Grade the quickstart project's online tests against the exact truth of its simulated world.

After ``sameday demo`` has served the simulated users, :func:`grade_tests` reads what the
pipeline left in the project folder (``data/world.npz``, the lists in ``out/*.npy``), computes
the exact effects with :mod:`sameday.sim.truth` for the lists the server actually served (each
arm's list cut to the surface's ``n`` and filled from ``popular``; for interleaving, ``2n`` items
of each ranker, as the engine reads them), builds both ``sameday report``\\ s, writes them as
HTML and text under ``reports/``, and grades each verdict with :func:`sameday.sim.grading.grade`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sameday.errors import SimulationError
from sameday.sim.clicks import click_model
from sameday.sim.grading import Grade, ab_users, grade, interleaving_users
from sameday.sim.truth import ab_truth, interleaving_truth, served
from sameday.sim.world import IntArray, load_world

AB_TEST = "home-als"
INTERLEAVING_TEST = "home-als-vs-knn"
SURFACE = "home"


@dataclass(frozen=True)
class TestResult:
    """One online test: what its report measured, the truth, and whether the verdict is right.

    For the A/B test the measure is the relative lift of ``ctr`` (the verdict's interval); for
    interleaving, the share of users with a preference who prefer the second arm.
    """

    experiment: str
    design: str
    measure: str
    is_change: bool
    """Whether the measure is a change (shown with its sign) rather than a share."""
    units: int
    estimate: float
    low: float
    high: float
    truth: float
    verdict: str
    line: str
    grade: Grade


@dataclass(frozen=True)
class PowerComparison:
    """Users each design needs to tell ``pair`` apart at alpha 0.05 and power 0.8."""

    pair: str
    ab_users: float
    interleaving_users: float
    basis: str

    @property
    def ratio(self) -> float:
        """How many times more users the A/B test needs."""
        return self.ab_users / self.interleaving_users


def read_offline(folder: Path) -> tuple[int, dict[str, dict[str, float]]]:
    """``k`` and the offline metrics per model that the pipeline's evaluate job wrote."""
    path = folder / "out" / "offline.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["k"]), dict(data["models"])
    except (OSError, KeyError, ValueError) as exc:
        raise SimulationError(
            f"{path}: no offline metrics ({exc}); run the pipeline first"
        ) from exc


def grade_tests(
    folder: Path, model_name: str, *, on_step: Callable[[], None] | None = None
) -> tuple[tuple[TestResult, ...], PowerComparison | None, tuple[Path, ...]]:
    """Reports, truth and grades for both tests of the quickstart in ``folder``."""
    from sameday.analysis.interleaving_report import InterleavingReport
    from sameday.analysis.report import ABReport, build_report
    from sameday.config import load_project
    from sameday.reports.html import to_html
    from sameday.reports.text import to_text

    project = load_project(folder)
    n = project.surfaces[SURFACE].n
    world = load_world(folder / "data" / "world.npz")
    model = click_model(model_name, n)
    lists = {
        name: np.load(folder / "out" / f"{name}.npy") for name in ("popular", "als", "itemknn")
    }
    popular = lists["popular"][0]
    users = np.arange(world.n_users, dtype=np.int64)
    shown = {name: served(_rows(lists[name], world.n_users, n), popular, n) for name in lists}
    ab_true = ab_truth(world, model, users, shown["popular"], shown["als"])
    knn_true = ab_truth(world, model, users, shown["als"], shown["itemknn"])
    pair_true = interleaving_truth(
        world,
        model,
        users,
        _rows(lists["als"], world.n_users, 2 * n),
        _rows(lists["itemknn"], world.n_users, 2 * n),
        n,
    )
    reports_dir = folder / "reports"
    reports_dir.mkdir(exist_ok=True)
    built = []
    for name in (AB_TEST, INTERLEAVING_TEST):
        report = build_report(project, name)
        (reports_dir / f"{name}.html").write_text(to_html(report), encoding="utf-8")
        (reports_dir / f"{name}.txt").write_text(to_text(report), encoding="utf-8")
        built.append(report)
        if on_step is not None:
            on_step()
    ab, il = built
    assert isinstance(ab, ABReport) and isinstance(il, InterleavingReport)
    ctr = next(m for m in ab.metrics if m.name == "ctr")
    decision = ctr.results[0].decision
    better, worse = ("als", "control") if ab_true.relative_lift > 0 else ("control", "als")
    tests = [
        TestResult(
            AB_TEST,
            "ab",
            "ctr relative lift",
            True,
            sum(v.n for v in ctr.values),
            decision.point,
            decision.ci_low,
            decision.ci_high,
            ab_true.relative_lift,
            ab.decision.verdict,
            ab.decision.line,
            grade(ab.decision.verdict, ab.decision.arm, better, worse),
        )
    ]
    power = None
    pair = il.pairs[0]
    if pair.users is not None:
        share = pair.users
        better, worse = ("itemknn", "als") if pair_true.share_b > 0.5 else ("als", "itemknn")
        tests.append(
            TestResult(
                INTERLEAVING_TEST,
                "interleave",
                "users preferring itemknn",
                False,
                il.units,
                share.share_b,
                share.ci_low,
                share.ci_high,
                pair_true.share_b,
                il.decision.verdict,
                il.decision.line,
                grade(il.decision.verdict, il.decision.arm, better, worse),
            )
        )
        als_ctr = ctr.results[0].fixed.treatment
        if 0.0 < share.share_b < 1.0 and share.share_b != 0.5 and il.units:
            power = PowerComparison(
                "als vs itemknn",
                ab_users(als_ctr, als_ctr * knn_true.treatment_ctr / knn_true.control_ctr),
                interleaving_users(share.share_b, share.users / il.units),
                "A/B: the measured ALS CTR and the true item-kNN/ALS ratio; interleaving: the "
                "measured preference and share of users with one",
            )
    return tuple(tests), power, tuple(reports_dir / f"{r.experiment}.html" for r in built)


def _rows(lists: IntArray, users: int, width: int) -> list[list[int]]:
    """Each user's list (one shared row is repeated), empty slots dropped, cut to ``width``."""
    rows = np.broadcast_to(lists, (users, lists.shape[1])) if lists.shape[0] == 1 else lists
    return [[int(i) for i in row[row >= 0][:width]] for row in rows]
