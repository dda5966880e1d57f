"""Time buckets of a metric series: hours or days of a timezone's calendar.

A day bucket starts at local midnight, so a day of a DST change is 23 or 25 hours long and a
daily metric stays a daily metric for the people who read it. Buckets are laid out once per
check (:func:`layout`), and every time is placed by a binary search over their starts, in
numpy: no timezone arithmetic per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Grain = Literal["hour", "day"]


@dataclass(frozen=True, eq=False)
class Buckets:
    """Consecutive buckets: ``starts[i] <= t < starts[i + 1]`` is bucket ``i``.

    ``starts`` has one more entry than there are buckets (the end of the last one), in epoch
    seconds; ``labels`` are the buckets' local start times, naive (what SQL and people read).
    """

    grain: Grain
    timezone: str
    starts: npt.NDArray[np.float64]
    labels: tuple[datetime, ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def since(self) -> float:
        """Start of the first bucket (epoch seconds)."""
        return float(self.starts[0])

    @property
    def until(self) -> float:
        """End of the last bucket (epoch seconds, excluded)."""
        return float(self.starts[-1])

    def index(self, seconds: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The bucket of each time (epoch seconds); -1 outside every bucket."""
        t = np.asarray(seconds, dtype=np.float64)
        i = np.searchsorted(self.starts, t, side="right") - 1
        return np.where((i >= 0) & (i < len(self)), i, -1).astype(np.int64)

    def place(self, moment: Any) -> int:
        """The bucket of one time: a datetime (naive ones are local), a date (its local
        day) or epoch seconds; -1 outside every bucket."""
        return int(self.index([epoch(moment, self.timezone)])[0])


def epoch(moment: Any, timezone: str) -> float:
    """Epoch seconds of a datetime (naive: in ``timezone``), a date (its local midnight) or a
    number (already epoch seconds).

    Raises:
        TypeError: anything else.
    """
    zone = ZoneInfo(timezone)
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
        return aware.timestamp()
    if isinstance(moment, date):
        return datetime.combine(moment, time(), zone).timestamp()
    if isinstance(moment, int | float | np.integer | np.floating) and not isinstance(moment, bool):
        return float(moment)
    raise TypeError(f"{moment!r} is not a time: give a timestamp, a date or epoch seconds")


def _start_of(moment: datetime, grain: Grain, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    if grain == "hour":
        # hours are counted in UTC and shown locally: a DST change never merges two of them
        utc = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return utc.astimezone(zone)
    return datetime.combine(local.date(), time(), zone)


def layout(now: datetime, grain: Grain, timezone: str, count: int, lag: float = 0.0) -> Buckets:
    """The ``count`` buckets ending with the newest one complete at ``now``.

    A bucket is complete once it ended ``lag`` seconds ago (events that arrive late have
    arrived): the one holding ``now - lag`` is still filling and is left out.
    """
    zone = ZoneInfo(timezone)
    filling = _start_of(now - timedelta(seconds=lag), grain, zone)
    starts = [filling]
    for _ in range(count):
        starts.append(_previous(starts[-1], grain, zone))
    starts.reverse()
    return Buckets(
        grain,
        timezone,
        np.array([s.timestamp() for s in starts], dtype=np.float64),
        tuple(s.replace(tzinfo=None) for s in starts[:-1]),
    )


def _previous(start: datetime, grain: Grain, zone: ZoneInfo) -> datetime:
    if grain == "hour":
        return (start.astimezone(UTC) - timedelta(hours=1)).astimezone(zone)
    return datetime.combine(start.date() - timedelta(days=1), time(), zone)


__all__ = ["Buckets", "epoch", "layout"]
