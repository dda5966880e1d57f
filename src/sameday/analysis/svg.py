"""The few charts a report draws, as inline SVG strings (no plotting library, nothing to fetch).

Every mark that carries a number has a ``data-tip`` attribute; the page's script shows it as a
tooltip on hover. Coordinates are computed here, so the page works with scripts off too (minus the
tooltips).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from sameday.analysis.render import pct
from sameday.analysis.series import LiftSeries

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d")


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


def _bounds(values: Sequence[float], *, include_zero: bool = True) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)] + ([0.0] if include_zero else [])
    if not finite:
        return -1.0, 1.0
    low, high = min(finite), max(finite)
    pad = (high - low) * 0.08 or 0.01
    return low - pad, high + pad


def lift_chart(series: LiftSeries, *, width: int = 720, height: int = 260) -> str:
    """Cumulative relative lift with its always-valid band (shaded) and fixed band (dashed)."""
    points = series.points
    if not points:
        return '<p class="muted">Not enough data for a lift over time yet.</p>'
    left, right, top, bottom = 56, width - 12, 12, height - 28
    values = [v for p in points for v in (p.sequential_low, p.sequential_high, p.lift)]
    y = Scale(*_bounds(values), bottom, top)
    x = Scale(0, max(len(points) - 1, 1), left + 8, right - 8)
    band_top = [f"{x(i):.1f},{y(p.sequential_high):.1f}" for i, p in enumerate(points)]
    band_low = [
        f"{x(i):.1f},{y(p.sequential_low):.1f}" for i, p in reversed(list(enumerate(points)))
    ]
    parts = [f'<svg viewBox="0 0 {width} {height}" class="chart" role="img">']
    parts.append(_y_axis(y, left, right))
    parts.append(f'<polygon class="band" points="{" ".join(band_top + band_low)}"/>')
    for key in ("fixed_low", "fixed_high"):
        line = " ".join(f"{x(i):.1f},{y(getattr(p, key)):.1f}" for i, p in enumerate(points))
        parts.append(f'<polyline class="fixed" points="{line}"/>')
    line = " ".join(f"{x(i):.1f},{y(p.lift):.1f}" for i, p in enumerate(points))
    parts.append(f'<polyline class="lift" points="{line}"/>')
    step = max(1, len(points) // 8)
    for i, p in enumerate(points):
        tip = (
            f"{p.date}: lift {pct(p.lift)}; always-valid [{pct(p.sequential_low)}, "
            f"{pct(p.sequential_high)}]; fixed [{pct(p.fixed_low)}, {pct(p.fixed_high)}]; "
            f"{p.units:,} units; p = {p.p_value:.3g}"
        )
        parts.append(
            f'<circle class="dot" cx="{x(i):.1f}" cy="{y(p.lift):.1f}" r="4" '
            f'data-tip="{escape(tip)}"/>'
        )
        if i % step == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="tick" x="{x(i):.1f}" y="{height - 8}" '
                f'text-anchor="middle">{p.date[5:]}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(y: Scale, left: float, right: float) -> str:
    parts = []
    for i in range(5):
        value = y.low + (y.high - y.low) * i / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value:+.1%}</text>'
        )
    if y.low < 0 < y.high:
        parts.append(
            f'<line class="zero" x1="{left}" x2="{right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>'
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


def forest(rows: Sequence[Interval], *, width: int = 720, percent: bool = True) -> str:
    """Points with horizontal intervals, one row each, around a zero line."""
    if not rows:
        return ""
    row_h, left, right = 30, 200, width - 40
    height = row_h * len(rows) + 30
    x = Scale(*_bounds([v for r in rows for v in (r.low, r.high, r.point)]), left, right)

    def fmt(value: float) -> str:
        return f"{value:+.1%}" if percent else f"{value:.3g}"

    parts = [f'<svg viewBox="0 0 {width} {height}" class="chart" role="img">']
    for i in range(5):
        value = x.low + (x.high - x.low) * i / 4
        parts.append(
            f'<line class="grid" x1="{x(value):.1f}" x2="{x(value):.1f}" y1="4" '
            f'y2="{height - 22}"/><text class="tick" x="{x(value):.1f}" y="{height - 6}" '
            f'text-anchor="middle">{fmt(value)}</text>'
        )
    if x.low < 0 < x.high and percent:
        parts.append(
            f'<line class="zero" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="4" y2="{height - 22}"/>'
        )
    for i, r in enumerate(rows):
        cy = 18 + i * row_h
        tip = escape(r.tip)
        parts.append(
            f'<text class="label" x="{left - 10}" y="{cy + 4}" text-anchor="end">'
            f"{escape(r.label)}</text>"
        )
        if math.isfinite(r.low) and math.isfinite(r.high):
            parts.append(
                f'<line class="ci {r.tone}" x1="{x(r.low):.1f}" x2="{x(r.high):.1f}" '
                f'y1="{cy}" y2="{cy}" data-tip="{tip}"/>'
            )
        if math.isfinite(r.point):
            parts.append(
                f'<circle class="dot {r.tone}" cx="{x(r.point):.1f}" cy="{cy}" r="5" '
                f'data-tip="{tip}"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def share_bars(
    labels: Sequence[str], observed: Sequence[float], expected: Sequence[float], *, width: int = 720
) -> str:
    """Observed against expected shares (the sample-ratio check), one pair of bars per arm."""
    row_h, left, right = 34, 160, width - 70
    height = row_h * len(labels) + 8
    x = Scale(0, max([*observed, *expected, 0.01]), left, right)
    parts = [f'<svg viewBox="0 0 {width} {height}" class="chart" role="img">']
    for i, (label, obs, exp) in enumerate(zip(labels, observed, expected, strict=True)):
        top = 4 + i * row_h
        tip = escape(f"{label}: observed {obs:.3%}, expected {exp:.3%}")
        parts.append(
            f'<text class="label" x="{left - 10}" y="{top + 16}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar" x="{left}" y="{top}" width="{x(obs) - left:.1f}" height="13" '
            f'style="fill:{PALETTE[i % len(PALETTE)]}" data-tip="{tip}"/>'
            f'<rect class="bar expected" x="{left}" y="{top + 15}" width="{x(exp) - left:.1f}" '
            f'height="9" data-tip="{tip}"/>'
            f'<text class="tick" x="{x(obs) + 6:.1f}" y="{top + 11}">{obs:.2%}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def stacked_area(
    labels: Sequence[str], days: Sequence[str], counts: Sequence[Sequence[int]], *, width: int = 720
) -> str:
    """Each arm's share of the pulls per day (a bandit's allocation over time), stacked."""
    if not days:
        return '<p class="muted">No pulls yet.</p>'
    height, left, right, top, bottom = 240, 48, width - 12, 10, 212
    x = Scale(0, max(len(days) - 1, 1), left, right)
    y = Scale(0, 1, bottom, top)
    totals = [sum(row) or 1 for row in counts]
    below = [0.0] * len(days)
    parts = [f'<svg viewBox="0 0 {width} {height}" class="chart" role="img">']
    for k, label in enumerate(labels):
        above = [b + counts[d][k] / totals[d] for d, b in enumerate(below)]
        upper = [f"{x(d):.1f},{y(v):.1f}" for d, v in enumerate(above)]
        lower = [f"{x(d):.1f},{y(v):.1f}" for d, v in reversed(list(enumerate(below)))]
        share = sum(row[k] for row in counts) / max(sum(totals), 1)
        tip = escape(f"{label}: {share:.1%} of all pulls")
        parts.append(
            f'<polygon points="{" ".join(upper + lower)}" style="fill:{PALETTE[k % 7]}" '
            f'opacity="0.85" data-tip="{tip}"/>'
        )
        below = above
    for d, day in enumerate(days):
        if d % max(1, len(days) // 8) == 0:
            parts.append(
                f'<text class="tick" x="{x(d):.1f}" y="{height - 8}" text-anchor="middle">'
                f"{day[5:]}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)
