"""The few charts a report draws, as inline SVG (no plotting library, nothing to fetch).

Made for a reader who is not a statistician, on any screen:

- **Round ticks.** Axes step by 1, 2 or 5 times a power of ten (:func:`nice_ticks`) and end on a
  tick, so a reader sees 0%, 10%, 20%, never 4.7%, 13.2%; the line of no difference (0 for a
  lift, 50% for a preference) is drawn and labelled.
- **Something to see from day one.** With a single day of data the lift chart is a dot with its
  intervals, not an empty line; a single day of bandit pulls is one stacked bar.
- **Any width.** Each chart is drawn twice, for a wide (720) and a narrow (360) view box, and the
  page's stylesheet shows the one that fits (the narrow one below 560 CSS pixels, a phone held
  upright); both scale to their container, so text stays readable at 390 pixels.
- **A text alternative.** Each chart is a ``<figure>``: the SVG has ``role="img"``, an
  ``aria-label``, a ``<title>`` and a ``<desc>``, and the ``<figcaption>`` is one sentence that
  says what the chart shows, with its numbers.

Every mark that carries a number has a ``data-tip`` attribute; the page's script shows it as a
tooltip on hover. Coordinates are computed here, so the page works with scripts off too (minus the
tooltips).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from sameday.analysis.series import LiftSeries, SeriesPoint
from sameday.reports.format import pct, share

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")
WIDE, NARROW = 720, 360
"""View box widths of the two drawings of every chart."""


@dataclass(frozen=True)
class Scale:
    """A linear map from data to pixels; infinity (an unbounded interval) maps to an edge."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if math.isinf(value):
            value = self.high if value > 0 else self.low
        span = self.high - self.low or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


def _nice(value: float, *, rounded: bool) -> float:
    """``value`` as 1, 2 or 5 times a power of ten (Heckbert's "nice numbers")."""
    exponent = math.floor(math.log10(value))
    fraction = value / 10**exponent
    if rounded:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10.0**exponent


def nice_ticks(
    values: Sequence[float], *, count: int = 5, include: Sequence[float] = ()
) -> list[float]:
    """Round ticks covering every finite value of ``values`` and ``include``.

    The step is 1, 2 or 5 times a power of ten, chosen for about ``count`` ticks; the first and
    last ticks enclose the data, so they are the axis' ends.
    """
    finite = [v for v in (*values, *include) if math.isfinite(v)]
    if not finite:
        return [-0.1, 0.0, 0.1]
    low, high = min(finite), max(finite)
    if high - low < 1e-12:
        pad = abs(high) * 0.1 or 0.01
        low, high = low - pad, high + pad
    step = _nice(_nice(high - low, rounded=False) / (count - 1), rounded=True)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def tick_label(value: float, ticks: Sequence[float], *, signed: bool) -> str:
    """A tick as a percentage with just the decimals its step needs (``+10%``, ``2.5%``)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))
    if abs(value) < step / 1e6:
        return "0%"
    return f"{value:{'+' if signed else ''}.{decimals}%}"


def _figure(title: str, sentence: str, draw: Callable[[int], tuple[int, str]]) -> str:
    """A chart drawn at both widths, with its text alternative and caption."""
    svgs = []
    for kind, width in (("wide", WIDE), ("narrow", NARROW)):
        height, body = draw(width)
        svgs.append(
            f'<svg viewBox="0 0 {width} {height}" class="chart {kind}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f"<desc>{escape(sentence)}</desc>{body}</svg>"
        )
    return f"<figure>{''.join(svgs)}<figcaption>{escape(sentence)}</figcaption></figure>"


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def lift_chart(series: LiftSeries, control: str) -> str:
    """Cumulative relative lift with its always-valid band (shaded) and fixed band (dashed)."""
    points = [
        p
        for p in series.points
        if _finite(p.lift, p.sequential_low, p.sequential_high, p.fixed_low, p.fixed_high)
    ]
    if not points:
        return (
            f'<p class="muted">No lift of {escape(series.arm)} over {escape(control)} on '
            f"{escape(series.metric)} yet: both arms need units, and the control a value "
            "other than zero.</p>"
        )
    title = f"{series.metric}: lift of {series.arm} over {control}"
    last = points[-1]
    verdict = (
        "includes 0, so no difference is shown yet"
        if last.sequential_low <= 0 <= last.sequential_high
        else "excludes 0"
    )
    reading = (
        f"lift {pct(last.lift, 1)}, always-valid interval {pct(last.sequential_low, 1)} to "
        f"{pct(last.sequential_high, 1)}, which {verdict}"
    )
    if len(points) == 1:
        sentence = (
            f"One day of data so far ({last.date}, {last.units:,} units): {reading}. The line "
            "over time starts with the second day."
        )
    else:
        sentence = (
            f"Cumulative relative lift of {series.arm} over {control} on {series.metric}, "
            f"{points[0].date} to {last.date}; on the last day ({last.units:,} units) {reading}."
        )

    def draw(width: int) -> tuple[int, str]:
        height = 260 if width == WIDE else 220
        left, right, top, bottom = 52, width - 10, 14, height - 26
        values = [v for p in points for v in (p.sequential_low, p.sequential_high, p.lift)]
        ticks = nice_ticks(values, include=[0.0])
        y = Scale(ticks[0], ticks[-1], bottom, top)
        parts = [_y_axis(y, ticks, left, right)]
        if len(points) == 1:
            cx = (left + right) / 2
            p = points[0]
            tip = escape(_point_tip(p))
            parts.append(
                f'<rect class="band" x="{cx - 18:.1f}" y="{y(p.sequential_high):.1f}" '
                f'width="36" height="{y(p.sequential_low) - y(p.sequential_high):.1f}" '
                f'data-tip="{tip}"/>'
            )
            for value in (p.fixed_low, p.fixed_high):
                parts.append(
                    f'<line class="fixed" x1="{cx - 18:.1f}" x2="{cx + 18:.1f}" '
                    f'y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
                )
            parts.append(
                f'<circle class="dot" cx="{cx:.1f}" cy="{y(p.lift):.1f}" r="5" data-tip="{tip}"/>'
                f'<text class="tick" x="{cx:.1f}" y="{height - 8}" text-anchor="middle">'
                f"{p.date}</text>"
            )
            return height, "".join(parts)
        x = Scale(0, len(points) - 1, left + 8, right - 8)
        upper = [f"{x(i):.1f},{y(p.sequential_high):.1f}" for i, p in enumerate(points)]
        lower = [
            f"{x(i):.1f},{y(p.sequential_low):.1f}" for i, p in reversed(list(enumerate(points)))
        ]
        parts.append(f'<polygon class="band" points="{" ".join(upper + lower)}"/>')
        for key in ("fixed_low", "fixed_high"):
            line = " ".join(f"{x(i):.1f},{y(getattr(p, key)):.1f}" for i, p in enumerate(points))
            parts.append(f'<polyline class="fixed" points="{line}"/>')
        line = " ".join(f"{x(i):.1f},{y(p.lift):.1f}" for i, p in enumerate(points))
        parts.append(f'<polyline class="lift" points="{line}"/>')
        labels = 8 if width == WIDE else 4
        step = max(1, math.ceil(len(points) / labels))
        for i, p in enumerate(points):
            parts.append(
                f'<circle class="dot" cx="{x(i):.1f}" cy="{y(p.lift):.1f}" r="4" '
                f'data-tip="{escape(_point_tip(p))}"/>'
            )
            if i % step == 0:
                parts.append(
                    f'<text class="tick" x="{x(i):.1f}" y="{height - 8}" '
                    f'text-anchor="middle">{p.date[5:]}</text>'
                )
        return height, "".join(parts)

    return _figure(title, sentence, draw)


def _point_tip(p: SeriesPoint) -> str:
    return (
        f"{p.date}: lift {pct(p.lift)}; always-valid [{pct(p.sequential_low)}, "
        f"{pct(p.sequential_high)}]; fixed [{pct(p.fixed_low)}, {pct(p.fixed_high)}]; "
        f"{p.units:,} units"
    )


def _y_axis(y: Scale, ticks: Sequence[float], left: float, right: float) -> str:
    parts = []
    for value in ticks:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{tick_label(value, ticks, signed=True)}</text>'
        )
    parts.append(
        f'<line class="zero" x1="{left}" x2="{right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>'
        f'<text class="zero-label" x="{right - 2}" y="{y(0) - 4:.1f}" text-anchor="end">'
        "no difference</text>"
    )
    return "".join(parts)


@dataclass(frozen=True)
class Interval:
    """One row of a forest plot: a label, a point, an interval and the tooltip text."""

    label: str
    point: float
    low: float
    high: float
    tip: str
    tone: str = "flat"


def forest(
    rows: Sequence[Interval],
    *,
    title: str,
    sentence: str,
    reference: float | None = 0.0,
    reference_label: str = "no difference",
    signed: bool = True,
) -> str:
    """Points with horizontal intervals, one row each, around a labelled reference line.

    ``reference`` is the value of no effect (0 for a lift, 0.5 for a preference share; ``None``
    for none); values are fractions shown as percentages, signed when ``signed``.
    """
    if not rows:
        return ""

    def draw(width: int) -> tuple[int, str]:
        narrow = width == NARROW
        # Narrow: the label sits above its interval, which then spans the whole width.
        row_h, left, right = (44, 14, width - 14) if narrow else (30, 200, width - 30)
        top = 22
        height = top + row_h * len(rows) + 24
        values = [v for r in rows for v in (r.low, r.high, r.point)]
        ticks = nice_ticks(values, include=[] if reference is None else [reference])
        x = Scale(ticks[0], ticks[-1], left, right)
        parts = []
        for value in ticks:
            parts.append(
                f'<line class="grid" x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{top - 6}" '
                f'y2="{height - 22}"/><text class="tick" x="{x(value):.1f}" y="{height - 6}" '
                f'text-anchor="middle">{tick_label(value, ticks, signed=signed)}</text>'
            )
        if reference is not None:
            at = x(reference)
            # Near an edge the label runs inwards, so that it is never cut off.
            anchor = "start" if at < width / 4 else "end" if at > width * 3 / 4 else "middle"
            parts.append(
                f'<line class="zero" x1="{at:.1f}" x2="{at:.1f}" y1="{top - 6}" '
                f'y2="{height - 22}"/><text class="zero-label" x="{at:.1f}" y="{top - 10}" '
                f'text-anchor="{anchor}">{escape(reference_label)}</text>'
            )
        for i, r in enumerate(rows):
            cy = top + i * row_h + (26 if narrow else 12)
            tip = escape(r.tip)
            if narrow:
                parts.append(
                    f'<text class="label" x="{left}" y="{cy - 12}">{escape(r.label)}</text>'
                )
            else:
                parts.append(
                    f'<text class="label" x="{left - 10}" y="{cy + 4}" text-anchor="end">'
                    f"{escape(r.label)}</text>"
                )
            if _finite(r.low, r.high):
                parts.append(
                    f'<line class="ci {r.tone}" x1="{x(r.low):.1f}" x2="{x(r.high):.1f}" '
                    f'y1="{cy}" y2="{cy}" data-tip="{tip}"/>'
                )
            if _finite(r.point):
                parts.append(
                    f'<circle class="dot {r.tone}" cx="{x(r.point):.1f}" cy="{cy}" r="5" '
                    f'data-tip="{tip}"/>'
                )
        return height, "".join(parts)

    return _figure(title, sentence, draw)


def share_bars(labels: Sequence[str], observed: Sequence[float], expected: Sequence[float]) -> str:
    """Observed against expected shares (the sample-ratio check), one pair of bars per arm."""
    pairs = ", ".join(
        f"{label} {share(obs, 1)} (planned {share(exp, 0)})"
        for label, obs, exp in zip(labels, observed, expected, strict=True)
    )
    sentence = f"Share of units per arm (coloured) against the planned share (grey): {pairs}."

    def draw(width: int) -> tuple[int, str]:
        row_h = 34
        left, right = (110, width - 56) if width == NARROW else (160, width - 70)
        height = row_h * len(labels) + 8
        x = Scale(0, max([*observed, *expected, 0.01]), left, right)
        parts = []
        for i, (label, obs, exp) in enumerate(zip(labels, observed, expected, strict=True)):
            top = 4 + i * row_h
            tip = escape(f"{label}: observed {share(obs)}, planned {share(exp)}")
            parts.append(
                f'<text class="label" x="{left - 10}" y="{top + 16}" text-anchor="end">'
                f"{escape(label)}</text>"
                f'<rect class="bar" x="{left}" y="{top}" width="{x(obs) - left:.1f}" '
                f'height="13" style="fill:{PALETTE[i % len(PALETTE)]}" data-tip="{tip}"/>'
                f'<rect class="bar expected" x="{left}" y="{top + 15}" '
                f'width="{x(exp) - left:.1f}" height="9" data-tip="{tip}"/>'
                f'<text class="tick" x="{x(obs) + 6:.1f}" y="{top + 11}">{share(obs, 1)}</text>'
            )
        return height, "".join(parts)

    return _figure("Units per arm", sentence, draw)


def stacked_area(
    labels: Sequence[str], days: Sequence[str], counts: Sequence[Sequence[int]]
) -> str:
    """Each arm's share of the pulls per day (a bandit's allocation over time), stacked.

    A single day is one stacked bar: an area needs two days.
    """
    if not days:
        return '<p class="muted">No pulls yet.</p>'
    totals = [sum(row) or 1 for row in counts]
    last = ", ".join(
        f"{label} {share(counts[-1][k] / totals[-1], 0)}" for k, label in enumerate(labels)
    )
    span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    sentence = f"Share of pulls per arm and day, {span}; on the last day {last}."

    def draw(width: int) -> tuple[int, str]:
        height, left, right, top, bottom = 240, 44, width - 10, 10, 212
        one = len(days) == 1
        middle = (left + right) / 2
        x = Scale(0, 1, middle, middle) if one else Scale(0, len(days) - 1, left, right)
        y = Scale(0, 1, bottom, top)
        ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        parts = [
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">'
            f"{tick_label(t, ticks, signed=False)}</text>"
            for t in ticks
        ]
        below = [0.0] * len(days)
        for k, label in enumerate(labels):
            above = [b + counts[d][k] / totals[d] for d, b in enumerate(below)]
            total = sum(row[k] for row in counts) / max(sum(totals), 1)
            tip = escape(f"{label}: {share(total)} of all pulls")
            fill = f'style="fill:{PALETTE[k % len(PALETTE)]}" opacity="0.85" data-tip="{tip}"'
            if one:
                parts.append(
                    f'<rect x="{x(0) - 40:.1f}" y="{y(above[0]):.1f}" width="80" '
                    f'height="{y(below[0]) - y(above[0]):.1f}" {fill}/>'
                )
            else:
                upper = [f"{x(d):.1f},{y(v):.1f}" for d, v in enumerate(above)]
                lower = [f"{x(d):.1f},{y(v):.1f}" for d, v in reversed(list(enumerate(below)))]
                parts.append(f'<polygon points="{" ".join(upper + lower)}" {fill}/>')
            below = above
        step = max(1, math.ceil(len(days) / (8 if width == WIDE else 4)))
        for d, day in enumerate(days):
            if d % step == 0:
                parts.append(
                    f'<text class="tick" x="{x(d):.1f}" y="{height - 8}" text-anchor="middle">'
                    f"{day if one else day[5:]}</text>"
                )
        return height, "".join(parts)

    return _figure("Allocation of pulls over time", sentence, draw)
