"""The dashboard's own charts, as inline SVG in the manner of :mod:`sameday.reports.svg`.

Round ticks (:func:`~sameday.reports.svg.nice_ticks`), labelled axes, a wide and a narrow
drawing (the report stylesheet shows the one that fits the screen), and a ``<figure>`` whose
caption says in one sentence what the chart shows, for screen readers and for anyone in a hurry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from sameday.reports.svg import NARROW, WIDE, Scale, nice_ticks

TONES = {
    "succeeded": "#54a24b",
    "failed": "#e45756",
    "timed_out": "#e45756",
    "cancelled": "#b0b6c0",
    "skipped": "#d8dce2",
    "running": "#4c78a8",
}
"""Fill of each attempt status (a failed attempt reads red, whatever else is on the page)."""


def figure(title: str, sentence: str, draw: Callable[[int], tuple[int, str]]) -> str:
    """A chart drawn at both widths, with its accessible name, description and caption."""
    drawings = []
    for kind, width in (("wide", WIDE), ("narrow", NARROW)):
        height, body = draw(width)
        drawings.append(
            f'<svg viewBox="0 0 {width} {height}" class="chart {kind}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f"<desc>{escape(sentence)}</desc>{body}</svg>"
        )
    return f"<figure>{''.join(drawings)}<figcaption>{escape(sentence)}</figcaption></figure>"


def duration_text(seconds: float) -> str:
    """A duration as a person says it: 45s, 2m 5s, 1h 12m."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 10 or seconds == 0 else f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {rest}s" if rest else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if minutes else f"{hours}h"


@dataclass(frozen=True)
class Bar:
    """One attempt on the time line: seconds from the run's start to its start and end."""

    label: str
    start: float
    end: float
    status: str


def _unit(ticks: Sequence[float]) -> tuple[float, str]:
    """The unit the axis counts in: seconds, minutes or hours, by its length."""
    longest = ticks[-1]
    if longest >= 3 * 3600:
        return 3600.0, "hours"
    if longest >= 3 * 60:
        return 60.0, "minutes"
    return 1.0, "seconds"


def timeline(bars: Sequence[Bar], *, title: str) -> str:
    """A time line of attempts, one row each, on an axis of round times since the start."""
    if not bars:
        return "<p class='muted'>No job attempts recorded.</p>"
    span = max(b.end for b in bars)
    first = nice_ticks([0.0, span], count=6, include=[0.0])
    unit, unit_name = _unit(first)
    ticks = [t * unit for t in nice_ticks([0.0, span / unit], count=6, include=[0.0])]
    longest = max(bars, key=lambda b: b.end - b.start)
    failed = [b.label for b in bars if b.status in ("failed", "timed_out")]
    sentence = (
        f"{len(bars)} job attempts over {duration_text(span)}; the longest, {longest.label}, "
        f"took {duration_text(longest.end - longest.start)}"
        + (f"; failed: {', '.join(failed)}." if failed else "; none failed.")
    )

    def draw(width: int) -> tuple[int, str]:
        label_width = 150 if width == WIDE else 96
        left, right, top, row = label_width + 8, width - 16, 8, 22
        height = top + row * len(bars) + 44
        x = Scale(ticks[0], ticks[-1], left, right)
        parts = []
        for value in ticks:
            parts.append(
                f'<line class="grid" x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{top}" '
                f'y2="{top + row * len(bars)}"/><text class="tick" x="{x(value):.1f}" '
                f'y="{top + row * len(bars) + 14}" text-anchor="middle">'
                f"{value / unit:g}</text>"
            )
        parts.append(
            f'<text class="label" x="{(left + right) / 2:.0f}" y="{height - 6}" '
            f'text-anchor="middle">{unit_name} since the run started</text>'
        )
        for index, bar in enumerate(bars):
            y = top + row * index
            name = (
                bar.label
                if len(bar.label) * 7 < label_width
                else bar.label[: label_width // 7 - 1] + "…"
            )
            end = max(x(bar.end), x(bar.start) + 2)
            tip = (
                f"{bar.label}: {bar.status}, {duration_text(bar.end - bar.start)} "
                f"(from {duration_text(bar.start)} to {duration_text(bar.end)})"
            )
            parts.append(
                f'<text class="label" x="{label_width}" y="{y + 15}" text-anchor="end">'
                f"{escape(name)}</text>"
                f'<rect x="{x(bar.start):.1f}" y="{y + 4}" width="{end - x(bar.start):.1f}" '
                f'height="{row - 8}" rx="3" fill="{TONES.get(bar.status, "#9aa1ad")}" '
                f'data-tip="{escape(tip)}"/>'
            )
        return height, "".join(parts)

    return figure(title, sentence, draw)
