"""Seeded event logs with a known truth, and a project to analyse them in.

Each unit has a latent activity ``λ ~ Gamma(2, 0.5)`` (mean 1) that drives its clicks before and
after exposure, so the pre-exposure clicks are a useful CUPED covariate. After its first exposure
a unit clicks ``Poisson(rate[arm]·λ)`` times within a day and ``Poisson(0.5·λ)`` more times one to
three days later (outside a one-day window); it logs ``Poisson(errors[arm])`` errors within a day
and is served ``1 + Poisson(1)`` lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sameday.events import Exposure, Outcome, SQLiteSink
from sameday.scaffold import init_project

DAY = 86_400.0
START = 19_700 * DAY
"""2023-12-09 00:00 UTC: logs start on a day boundary."""

METRICS = {
    "ctr": "type: proportion\nevent: click\nwindow: 1d\n",
    "clicks": "type: count\nevent: click\nwindow: 1d\ncovariate: click\n",
    "clicks-capped": "type: count\nevent: click\nwindow: 1d\ncap: 2\n",
    "clicks-per-list": "type: ratio\nnumerator: click\ndenominator: exposure\nwindow: 1d\n",
    "errors": "type: count\nevent: error\nwindow: 1d\ndirection: decrease\nguardrail: true\n",
}


def make_project(root: Path, experiment: str, *, events: str | None = None) -> Path:
    """A scaffolded project with :data:`METRICS` and ``experiment`` (YAML after the name line)."""
    target = root / "proj"
    init_project(target)
    for name, body in METRICS.items():
        (target / "metrics" / f"{name}.yaml").write_text(f"name: {name}\n{body}")
    (target / "experiments" / "home-personal.yaml").unlink()
    (target / "experiments" / "test.yaml").write_text(f"name: test\n{experiment}")
    if events is not None:
        settings = target / "sameday.yaml"
        text = settings.read_text().replace("sqlite:///.sameday/events.db", events)
        settings.write_text(text)
    return target


EXPERIMENT = """surface: home
arms:
  - {name: control, result_set: popular}
  - {name: personal, result_set: personal}
metrics:
  primary: [ctr]
  secondary: [clicks, clicks-per-list]
  guardrails: [errors]
plan: {baseline: 0.5, mde: 0.1, daily_units: 1000}
"""


def write_ab_log(
    path: Path,
    *,
    units: int,
    rate: dict[str, float],
    errors: dict[str, float] | None = None,
    weights: Sequence[float] | None = None,
    days: int = 7,
    seed: int = 0,
    experiment: str = "test",
    start: float = START,
    hash_seed: str | None = None,
    tag: str = "",
) -> None:
    """Write an A/B log of ``units`` units into the SQLite event log at ``path``.

    ``hash_seed`` is the seed the exposures record (the phase); ``tag`` prefixes request and
    event ids so that several calls (one per phase) can write into one log.
    """
    rng = np.random.default_rng(seed)
    arms = list(rate)
    arm_of = rng.choice(len(arms), size=units, p=weights)
    t0 = start + rng.uniform(0, days * DAY, size=units)
    activity = rng.gamma(2.0, 0.5, size=units)
    exposures: list[Exposure] = []
    outcomes: list[Outcome] = []
    for u in range(units):
        arm = arms[arm_of[u]]
        unit = f"u{u:06d}"
        lists = 1 + rng.poisson(1.0)
        times = [t0[u], *(t0[u] + rng.uniform(1, DAY - 1, size=lists - 1))]
        for k, when in enumerate(times):
            exposures.append(
                Exposure(
                    request_id=f"{tag}{unit}-{k}",
                    time=float(when),
                    unit=unit,
                    surface="home",
                    items=("a", "b"),
                    experiment=experiment,
                    arm=arm,
                    design="ab",
                    seed=hash_seed,
                )
            )
        spans = [
            ("click", -DAY, 0.0, activity[u]),
            ("click", 0.0, DAY - 1, rate[arm] * activity[u]),
            ("click", DAY + 1, 3 * DAY, 0.5 * activity[u]),
            ("error", 0.0, DAY - 1, (errors or {}).get(arm, 0.2)),
        ]
        for name, low, high, lam in spans:
            for when in t0[u] + rng.uniform(low, high, size=rng.poisson(lam)):
                outcomes.append(
                    Outcome(
                        event_id=f"{tag}e{len(outcomes)}",
                        unit=unit,
                        name=name,
                        time=float(when),
                        request_id=f"{tag}{unit}-0",
                    )
                )
    sink = SQLiteSink(path)
    try:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
    finally:
        sink.close()
