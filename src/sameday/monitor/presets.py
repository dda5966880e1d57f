"""The detector's settings and its sensitivity presets, apart from the detector itself.

Kept free of numpy so that the command line can offer the presets without loading the
numerical stack (:mod:`sameday.monitor.detector` does the work).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

Direction = Literal["drop", "rise", "both"]


def beats_by(share: float) -> float:
    """The score threshold at which a deviation beats the bar by ``share`` (0.1 = 10%)."""
    return 1.0 - 1.0 / (1.0 + share)


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """How sensitive the detector is; counts are in points of the series.

    Start from a preset (:data:`PRESETS`, :func:`preset`) and override what the metric needs,
    typically ``direction`` and the floors.
    """

    threshold: float = beats_by(0.10)
    """Score a point needs to be an anomaly: ``beats_by(0.10)`` (0.0909) = its deviation beats
    the bar, the lookback's largest of its kind, by at least 10%."""
    lookback: int = 4000
    """Points the bar is taken over (4,000: two weeks of 5-minute points, 5 months of hours)."""
    windows: tuple[int, ...] = (12, 24)
    """Points in the sustained tests (shift, level, volatility), one set of tests per window."""
    local: int = 5
    """Points in the local level (a median)."""
    depth: int = 3
    """Earlier seasons in the seasonal profile (a median over the same phase)."""
    min_history: int = 20
    """Errors a model needs before its points are judged; until then they are ``learning``."""
    z_floor: float = 3.5
    """A record still needs this many robust standard deviations of its test."""
    cooldown: int = 50
    """Points after an alarm during which no new alarm is raised (the points stay anomalous);
    never longer than the shortest season (a week of a daily series, a day of an hourly one)."""
    abs_floor: float = 0.0
    """Deviations smaller than this (in the metric's unit) never alarm."""
    rel_floor: float = 0.01
    """Deviations smaller than this share of the expected value never alarm."""
    direction: Direction = "both"
    """Which deviations count: ``drop`` (below expected), ``rise`` or ``both``."""

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 < self.threshold < 1.0:
            problems.append(f"threshold must be in (0, 1), got {self.threshold}")
        for name in ("lookback", "local", "depth", "min_history"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.windows or min(self.windows) < 2:
            problems.append(f"windows must be one or more counts of at least 2, got {self.windows}")
        elif self.lookback <= 5 * max(self.windows):
            problems.append(
                f"lookback ({self.lookback}) must exceed 5 * the longest window"
                f" ({5 * max(self.windows)}): the level test reads 5 windows"
            )
        for name in ("z_floor", "abs_floor", "rel_floor", "cooldown"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must not be negative, got {getattr(self, name)}")
        if self.direction not in ("drop", "rise", "both"):
            problems.append(f"direction must be drop, rise or both, got {self.direction!r}")
        if problems:
            raise ValueError("invalid detector settings: " + "; ".join(problems))


PRESETS: dict[str, DetectorSettings] = {
    "sensitive": DetectorSettings(threshold=beats_by(0.05), z_floor=3.0, cooldown=25),
    "default": DetectorSettings(),
    "quiet": DetectorSettings(threshold=beats_by(0.25), z_floor=4.5, cooldown=100),
}
"""Sensitivity presets. ``default`` is what ``sameday monitor score`` runs (and what the NAB
benchmark scores): a record by 10%, at least 3.5 robust standard deviations out.
``sensitive`` takes a record by 5% and 3 deviations, with half the cooldown; ``quiet`` wants a
record by 25% and 4.5 deviations, and waits twice as long before alarming again."""


def preset(name: str = "default", **overrides: Any) -> DetectorSettings:
    """A preset's settings with some of them replaced, e.g. ``preset("quiet", direction="drop")``.

    Raises:
        ValueError: an unknown preset (the message lists them) or an invalid override.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown detector preset {name!r}: use one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)
