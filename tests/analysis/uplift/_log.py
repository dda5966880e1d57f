"""A seeded A/B log whose effect depends on the units' dimensions, and a project around it.

Units have a ``platform`` (text), ``is_new`` (a boolean) and ``visits`` (a number, missing for
one unit in ten). The base click probability is 0.2; the treatment changes it by ``-0.10`` for new
units, by ``+0.15`` for units with more than 10 visits that are not new, and by ``-0.08`` for the
others, so the units to target are exactly those with ``is_new`` false and ``visits > 10``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sameday.events import Exposure, Outcome, SQLiteSink
from tests.analysis._logs import START, make_project

EXPERIMENT = """surface: home
arms:
  - {name: control, result_set: popular}
  - {name: new, result_set: personal}
dimensions: [platform, is_new, visits]
metrics:
  primary: [ctr]
  secondary: [clicks, clicks-per-list]
"""


def true_effect(is_new: np.ndarray, visits: np.ndarray) -> np.ndarray:
    """Each unit's true change of its click probability."""
    heavy = np.nan_to_num(visits, nan=0.0) > 10
    return np.where(is_new, -0.10, np.where(heavy, 0.15, -0.08))


def write_log(path: Path, *, units: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Write the log into the SQLite event log at ``path``; return each unit's values."""
    rng = np.random.default_rng(seed)
    platform = rng.choice(["ios", "android", "web"], size=units, p=[0.5, 0.3, 0.2])
    is_new = rng.random(units) < 0.3
    visits = rng.integers(0, 21, size=units).astype(float)
    visits[rng.random(units) < 0.1] = np.nan
    treated = rng.random(units) < 0.5
    p = 0.2 + treated * true_effect(is_new, visits)
    clicked = rng.random(units) < p
    exposures, outcomes = [], []
    for u in range(units):
        extra: dict[str, object] = {"platform": str(platform[u]), "is_new": bool(is_new[u])}
        if not np.isnan(visits[u]):
            extra["visits"] = int(visits[u])
        exposures.append(
            Exposure(
                request_id=f"r{u}",
                time=START + u,
                unit=f"u{u}",
                surface="home",
                items=("a",),
                experiment="test",
                arm="new" if treated[u] else "control",
                design="ab",
                seed="test",
                extra=extra,
            )
        )
        if clicked[u]:
            outcomes.append(
                Outcome(event_id=f"e{u}", unit=f"u{u}", name="click", time=START + u + 5)
            )
    with SQLiteSink(path) as sink:
        sink.write_exposures(exposures)
        sink.write_outcomes(outcomes)
    return {
        "platform": platform,
        "is_new": is_new,
        "visits": visits,
        "treated": treated,
        "clicked": clicked,
    }


def logged_project(root: Path, *, units: int = 6000, seed: int = 0) -> tuple[Path, dict]:
    """A project whose event log holds :func:`write_log`'s units."""
    project = make_project(root, EXPERIMENT)
    values = write_log(project / ".sameday" / "events.db", units=units, seed=seed)
    return project, values
