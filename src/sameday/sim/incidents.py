"""Incidents with exact truth, for the timeline (:mod:`sameday.sim.timeline`).

Each incident has a kind, a first day, a length in days and a size, and names the series that
should notice it. The timeline asks, day by day, what is broken (:class:`Schedule`); the grading
(:func:`grade`) compares the days the monitors opened an alert with the days the incidents ran:

- an incident is **detected** when a series it should move opens an alert between its first day
  and the day after its last (``late`` is how many daily checks after its first day);
- an alert opened on a day that no incident touches (from its first day to the day after its
  last) is a **false alarm**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal[
    "tracking_outage", "traffic_drop", "broken_model", "stale_pipeline", "sample_ratio", "decay"
]

SIGNALS: dict[str, tuple[str, ...]] = {
    "tracking_outage": ("series.active-users", "series.ctr"),
    "traffic_drop": ("series.users", "series.requests", "series.arms"),
    "broken_model": ("series.ctr", "series.active-users"),
    "stale_pipeline": ("series.lists-age",),
    "sample_ratio": ("series.arms",),
    "decay": ("series.ctr", "series.active-users"),
}
"""The checks (series of the timeline's monitor) each kind of incident should move."""

WHAT: dict[str, str] = {
    "tracking_outage": "a share of the outcome events is lost",
    "traffic_drop": "a share of the visits does not come",
    "broken_model": "the default result set is replaced by random lists",
    "stale_pipeline": "no new snapshot of the default result set",
    "sample_ratio": "one arm loses a share of its exposures",
    "decay": "users' tastes drift and the model is not retrained",
}


@dataclass(frozen=True)
class Incident:
    """``kind`` from day ``start`` for ``days`` days, of ``size`` (a share, or for ``decay``
    the share of their taste users lose each day)."""

    kind: Kind
    start: int
    days: int
    size: float

    @property
    def end(self) -> int:
        """The last day it runs."""
        return self.start + self.days - 1

    def active(self, day: int) -> bool:
        """Whether it runs on ``day``."""
        return self.start <= day <= self.end

    def describe(self) -> str:
        """One line: what, when and how much."""
        days = f"day {self.start}" if self.days == 1 else f"days {self.start}-{self.end}"
        return f"{self.kind} ({WHAT[self.kind]}, {self.size:.0%}), {days}"


def default_incidents(days: int) -> tuple[Incident, ...]:
    """One incident of each kind, placed after the detector's learning month (the first 28
    days) and spaced so that no two overlap; a timeline shorter than 40 days has none."""
    if days < 40:
        return ()
    first = 28
    room = days - first
    step = room / 6.0
    at = [first + round(i * step) for i in range(6)]
    span = max(1, min(3, round(step) - 2))
    return (
        Incident("decay", at[0], span + 1, 0.15),
        Incident("traffic_drop", at[1], 1, 0.3),
        Incident("tracking_outage", at[2], min(2, span), 0.5),
        Incident("stale_pipeline", at[3], span, 1.0),
        Incident("broken_model", at[4], min(2, span), 1.0),
        Incident("sample_ratio", at[5], span, 0.5),
    )


@dataclass(frozen=True)
class Schedule:
    """What is broken on a given day."""

    incidents: tuple[Incident, ...]

    def size(self, kind: Kind, day: int) -> float:
        """The size of the ``kind`` incident running on ``day``, else 0."""
        return max(
            (i.size for i in self.incidents if i.kind == kind and i.active(day)), default=0.0
        )

    def touched(self, day: int) -> bool:
        """Whether any incident runs on ``day`` or ended the day before."""
        return any(i.start <= day <= i.end + 1 for i in self.incidents)


@dataclass(frozen=True)
class Alert:
    """An alert the monitors opened: on which day, by which check, about what."""

    day: int
    check: str
    subject: str
    summary: str


@dataclass(frozen=True)
class Detection:
    """One incident's grade: the first alert that caught it (``None``: missed)."""

    incident: Incident
    alert: Alert | None

    @property
    def late(self) -> int | None:
        """Daily checks between the incident's first day and its first alert (0: that day)."""
        return None if self.alert is None else self.alert.day - self.incident.start


def grade(
    incidents: Sequence[Incident], alerts: Sequence[Alert]
) -> tuple[list[Detection], list[Alert]]:
    """Each incident's detection, and the false alarms (alerts on days no incident touched)."""
    detections = []
    for incident in incidents:
        caught = [
            a
            for a in alerts
            if a.check in SIGNALS[incident.kind] and incident.start <= a.day <= incident.end + 1
        ]
        detections.append(Detection(incident, min(caught, key=lambda a: a.day, default=None)))
    schedule = Schedule(tuple(incidents))
    false = [a for a in alerts if not schedule.touched(a.day)]
    return detections, false


__all__ = ["SIGNALS", "Alert", "Detection", "Incident", "Schedule", "default_incidents", "grade"]
