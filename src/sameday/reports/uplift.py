"""``sameday uplift``'s output: plain text, JSON-ready data, and one offline HTML page.

Each shows the same things in the same order: the average effect; each learner's Qini and uplift
areas with their intervals and its calibration slope; the best learner's curves (text: at every
tenth of the units; HTML: a chart of every learner's Qini curve against the random line) and its
calibration by decile; the targeting rule with the value of targeting against treating everyone
and no one; then the notes.
"""

from __future__ import annotations

import dataclasses
import io
import math
from html import escape
from typing import Any

import numpy as np
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from sameday.analysis.uplift.curves import Curves
from sameday.analysis.uplift.policy import Value
from sameday.analysis.uplift.run import LearnerResult, UpliftReport
from sameday.reports import svg
from sameday.reports.format import num, share
from sameday.reports.html import stylesheet, tooltip_script

WIDTH = 150


def to_data(report: UpliftReport) -> dict[str, Any]:
    """``report`` as plain data (arrays as lists, NaN and infinity as ``null``)."""
    data: dict[str, Any] = _clean(dataclasses.asdict(report))
    return data


def _clean(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return _clean(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _v(value: Value) -> str:
    return f"{num(value.point)} [{num(value.low)}, {num(value.high)}]"


def _headline(report: UpliftReport) -> list[str]:
    unit = "conversion rate" if report.outcome == "binary" else "mean per unit"
    return [
        f"{report.experiment}: who benefits from {report.arm} (vs {report.control}) on "
        f"{report.metric} ({report.outcome} outcome, {unit})",
        f"{report.units:,} units ({report.treated:,} treated), dimensions: "
        f"{', '.join(report.features)}; {report.settings.folds}-fold cross-fitting, seed "
        f"{report.settings.seed}",
        f"Average effect (doubly robust): {_v(report.ate)} per unit",
    ]


def to_text(report: UpliftReport, *, width: int = WIDTH) -> str:
    """The terminal view."""
    learners = Table(box=box.SIMPLE_HEAD, title="Rankings (areas above the random line)")
    for header in ("learner", "Qini area", "interval", "uplift area", "interval", "calib. slope"):
        learners.add_column(header, justify="left" if header == "learner" else "right")
    for r in report.learners:
        q, u = r.curves.qini_area, r.curves.uplift_area
        mark = " (best)" if r.name == report.best else ""
        learners.add_row(
            r.name + mark,
            num(q.point),
            f"[{num(q.low)}, {num(q.high)}]",
            num(u.point),
            f"[{num(u.low)}, {num(u.high)}]",
            num(r.calibration.slope, ".2f"),
        )
    best = next(r for r in report.learners if r.name == report.best)
    curve = Table(box=box.SIMPLE_HEAD, title=f"{best.name}: curves by share of units treated")
    for header in ("treated share", "Qini", "uplift", "random"):
        curve.add_column(header, justify="right")
    for fraction, qini, gain in _tenths(best.curves):
        curve.add_row(share(fraction, 0), num(qini), num(gain), num(fraction * best.curves.ate))
    deciles = Table(box=box.SIMPLE_HEAD, title=f"{best.name}: calibration by decile")
    for header in ("decile", "units", "predicted", "observed", "interval"):
        deciles.add_column(header, justify="right")
    for d in best.calibration.deciles:
        deciles.add_row(
            str(d.decile),
            f"{d.units:,}",
            num(d.predicted),
            num(d.observed),
            f"[{num(d.low)}, {num(d.high)}]",
        )
    p = report.policy
    policy = Table(box=box.SIMPLE_HEAD, title=f"Targeting rule: treat {p.rule}")
    for header in ("policy", "mean outcome per unit", "rule minus it"):
        policy.add_column(header, justify="left" if header == "policy" else "right")
    policy.add_row(f"the rule ({share(p.targeted)} treated)", _v(p.value_rule), "")
    policy.add_row("treat everyone", _v(p.value_all), _v(p.gain_vs_all))
    policy.add_row("treat no one", _v(p.value_none), _v(p.gain_vs_none))
    notes = [f"note: {n}" for n in report.notes]
    return _printed(width, *_headline(report), learners, curve, deciles, policy, *notes)


def _tenths(c: Curves) -> list[tuple[float, float, float]]:
    """The curves at 10%, 20%, ... 100% of the units (the nearest drawn point)."""
    out = []
    for tenth in range(1, 11):
        i = int(np.argmin(np.abs(c.fraction - tenth / 10)))
        out.append((float(c.fraction[i]), float(c.qini[i]), float(c.uplift[i])))
    return out


def _printed(width: int, *renderables: RenderableType) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def to_html(report: UpliftReport) -> str:
    """One self-contained page (no network): the text view's parts, and the Qini chart."""
    p = report.policy
    rows = "".join(
        f"<tr><td class='l'>{escape(r.name)}{' (best)' if r.name == report.best else ''}</td>"
        f"<td>{num(r.curves.qini_area.point)}</td>"
        f"<td>[{num(r.curves.qini_area.low)}, {num(r.curves.qini_area.high)}]</td>"
        f"<td>{num(r.curves.uplift_area.point)}</td>"
        f"<td>[{num(r.curves.uplift_area.low)}, {num(r.curves.uplift_area.high)}]</td>"
        f"<td>{num(r.calibration.slope, '.2f')}</td></tr>"
        for r in report.learners
    )
    best = next(r for r in report.learners if r.name == report.best)
    deciles = "".join(
        f"<tr><td>{d.decile}</td><td>{d.units:,}</td><td>{num(d.predicted)}</td>"
        f"<td>{num(d.observed)}</td><td>[{num(d.low)}, {num(d.high)}]</td></tr>"
        for d in best.calibration.deciles
    )
    values = (
        f"<tr><td class='l'>the rule ({share(p.targeted)} treated)</td>"
        f"<td>{_v(p.value_rule)}</td><td></td></tr>"
        f"<tr><td class='l'>treat everyone</td><td>{_v(p.value_all)}</td>"
        f"<td>{_v(p.gain_vs_all)}</td></tr>"
        f"<tr><td class='l'>treat no one</td><td>{_v(p.value_none)}</td>"
        f"<td>{_v(p.gain_vs_none)}</td></tr>"
    )
    head = "".join(f"<p>{escape(line)}</p>" for line in _headline(report)[1:])
    notes = "".join(f'<p class="verdict invalid">{escape(n)}</p>' for n in report.notes)
    title = escape(f"{report.experiment} — sameday uplift")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{stylesheet()}</style></head><body><main>"
        f"<h1>{escape(_headline(report)[0])}</h1>"
        f'<div class="muted">generated {escape(report.generated)}</div>{head}{notes}'
        "<h2>Rankings</h2><section><div class='scroll'><table><tr><th class='l'>learner</th>"
        "<th>Qini area</th><th>interval</th><th>uplift area</th><th>interval</th>"
        f"<th>calibration slope</th></tr>{rows}</table></div>"
        f"{qini_chart(report.learners)}</section>"
        f"<h2>Calibration by decile ({escape(best.name)})</h2><section><div class='scroll'>"
        "<table><tr><th>decile</th><th>units</th><th>predicted</th><th>observed</th>"
        f"<th>interval</th></tr>{deciles}</table></div></section>"
        f"<h2>Targeting rule</h2><section><p>Treat {escape(p.rule)}.</p>"
        "<div class='scroll'><table><tr><th class='l'>policy</th><th>mean outcome per unit</th>"
        f"<th>rule minus it</th></tr>{values}</table></div></section></main>"
        f'<div id="tip"></div><script>{tooltip_script()}</script></body></html>'
    )


def qini_chart(learners: tuple[LearnerResult, ...]) -> str:
    """Every learner's Qini curve, and the random line, over the share of units treated."""
    if not learners:
        return ""
    ate = learners[0].curves.ate
    sentence = (
        "Qini curve of each learner: the extra outcome among the treated when only the top "
        "share of units by predicted uplift is treated; the dashed line is a random choice. "
        + ", ".join(
            f"{r.name} area {num(r.curves.qini_area.point)} "
            f"[{num(r.curves.qini_area.low)}, {num(r.curves.qini_area.high)}]"
            for r in learners
        )
        + "."
    )
    values = [float(v) for r in learners for v in r.curves.qini] + [0.0, ate]
    ticks = svg.nice_ticks(values)
    legend = "".join(
        f'<span><i style="background:{svg.PALETTE[k % len(svg.PALETTE)]}"></i>'
        f"{escape(r.name)}</span>"
        for k, r in enumerate(learners)
    )
    figures = []
    for kind, width in (("wide", svg.WIDE), ("narrow", svg.NARROW)):
        height = 260 if kind == "wide" else 220
        left, right, top, bottom = 60, width - 12, 12, height - 28
        x = svg.Scale(0.0, 1.0, left, right)
        y = svg.Scale(ticks[0], ticks[-1], bottom, top)
        parts = [
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y(t):.1f}" y2="{y(t):.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">'
            f"{t:.3g}</text>"
            for t in ticks
        ]
        parts += [
            f'<text class="tick" x="{x(f):.1f}" y="{height - 8}" text-anchor="middle">'
            f"{f:.0%}</text>"
            for f in (0.0, 0.25, 0.5, 0.75, 1.0)
        ]
        parts.append(
            f'<line class="fixed" x1="{x(0):.1f}" y1="{y(0):.1f}" x2="{x(1):.1f}" '
            f'y2="{y(ate):.1f}"/>'
        )
        for k, r in enumerate(learners):
            c = r.curves
            pairs = zip(c.fraction, c.qini, strict=True)
            line = " ".join(f"{x(f):.1f},{y(q):.1f}" for f, q in pairs)
            colour = svg.PALETTE[k % len(svg.PALETTE)]
            tip = escape(f"{r.name}: Qini area {num(c.qini_area.point)}")
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" '
                f'data-tip="{tip}"/>'
            )
        figures.append(
            f'<svg viewBox="0 0 {width} {height}" class="chart {kind}" role="img" '
            f'aria-label="Qini curves"><title>Qini curves</title><desc>{escape(sentence)}</desc>'
            f"{''.join(parts)}</svg>"
        )
    return (
        f"<div class='legend muted'>{legend}</div><figure>{''.join(figures)}"
        f"<figcaption>{escape(sentence)}</figcaption></figure>"
    )
