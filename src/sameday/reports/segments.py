"""The "who benefits" part of an A/B report: segment effects, as HTML and as text.

``sameday report EXPERIMENT --by DIMENSION`` computes them (:mod:`sameday.analysis.segments`);
this module renders them, one block per metric and dimension: the headline sentence, a table of
every segment and arm (a segment too small to say anything is written so, with what it lacks,
and never coloured as a win), a forest plot of the tested segments' lifts with their corrected
intervals, and the interaction test. :func:`who_benefits` is the HTML section (a fragment, like
the other parts of :mod:`sameday.reports.html`); :func:`who_benefits_text` the terminal's lines.
"""

from __future__ import annotations

import io
from html import escape

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from sameday.analysis.report import ABReport
from sameday.analysis.segments import SegmentEffects
from sameday.reports import svg
from sameday.reports.format import interval, num, pct

WIDTH = 150
"""Columns of the text, as :data:`sameday.reports.text.WIDTH` (which imports this module)."""

_CORRECTION = (
    "intervals corrected for {tested} tests (Benjamini–Hochberg, level {level}); "
    "too small: below the metric's min_units / min_nonzero in an arm, not tested"
)


def who_benefits(report: ABReport) -> str:
    """The HTML section: one block per metric and dimension (empty without ``--by``)."""
    if not report.segments:
        return ""
    parts = ["<h2>Who benefits</h2><section>"]
    for block in report.segments:
        parts.append(_html_block(block))
    parts.append("</section>")
    return "".join(parts)


def _html_block(block: SegmentEffects) -> str:
    head = (
        "<tr><th class='l'>segment</th><th class='l'>arm</th><th>units (control / arm)</th>"
        "<th>control</th><th>arm</th><th>lift</th><th>corrected interval</th><th>adj. p</th>"
        "<th class='l'></th></tr>"
    )
    rows: list[str] = []
    marks: list[svg.Interval] = []
    for e in block.effects:
        small = e.outcome == "too small"
        said = f"too small: {e.note}" if small and e.note else e.outcome
        rows.append(
            f"<tr><td class='l'>{escape(e.value)}</td><td class='l'>{escape(e.arm)}</td>"
            f"<td>{e.n_control:,} / {e.n_treatment:,}</td><td>{num(e.control)}</td>"
            f"<td>{num(e.treatment)}</td><td class='{'' if small else e.outcome}'>"
            f"{pct(e.lift)}</td><td>{interval(e.ci_low, e.ci_high, pct)}</td>"
            f"<td>{num(e.p_adjusted, '.3g')}</td>"
            f"<td class='l{' muted' if small or e.outcome == 'flat' else ''}'>"
            f"{escape(said if said != 'flat' else '')}</td></tr>"
        )
        if not small:
            marks.append(
                svg.Interval(
                    label=f"{e.value} · {e.arm}",
                    point=e.lift,
                    low=e.ci_low,
                    high=e.ci_high,
                    tip=f"{e.value}, {e.arm}: {pct(e.lift)} "
                    f"{interval(e.ci_low, e.ci_high, pct)}, adjusted p {num(e.p_adjusted, '.3g')}",
                    tone=e.outcome,
                )
            )
    tests = "".join(
        f"<p>Interaction test ({escape(i.arm)}): Cochran's Q {num(i.statistic, '.3g')} with "
        f"{i.df} df, p = {num(i.p_value, '.3g')}: "
        + (
            "the effect differs between segments."
            if i.differs(block.alpha)
            else "the data cannot tell the segments' effects apart."
        )
        + "</p>"
        for i in block.interactions
    )
    sentence = (
        f"Relative lift of {block.metric} in each {block.dimension} segment with its corrected "
        "interval; segments too small to test are not drawn. " + block.headline + "."
    )
    caption = _CORRECTION.format(tested=block.tested, level=f"{block.level:.4g}")
    return (
        f"<h3>{escape(block.metric)} by {escape(block.dimension)}</h3>"
        f"<p>{escape(block.headline)}.</p>"
        f"<div class='scroll'><table>{head}{''.join(rows)}</table></div>"
        f"<p class='muted'>{escape(caption)}</p>{tests}"
        + svg.forest(marks, title=f"{block.metric} lift by {block.dimension}", sentence=sentence)
    )


def who_benefits_text(report: ABReport, *, width: int = WIDTH) -> str:
    """The segment tables as the terminal prints them (``""`` without ``--by``)."""
    out = []
    for block in report.segments:
        table = Table(
            box=box.SIMPLE_HEAD,
            title=f"Who benefits: {block.metric} by {block.dimension}",
            caption=_CORRECTION.format(tested=block.tested, level=f"{block.level:.4g}"),
        )
        for header in ("segment", "arm", "units", "control", "arm value", "lift", "interval"):
            table.add_column(header, justify="left" if header in ("segment", "arm") else "right")
        table.add_column("adj. p", justify="right")
        table.add_column("")
        for e in block.effects:
            table.add_row(
                e.value,
                e.arm,
                f"{e.n_control:,} / {e.n_treatment:,}",
                num(e.control),
                num(e.treatment),
                pct(e.lift),
                interval(e.ci_low, e.ci_high, pct),
                num(e.p_adjusted, ".3g"),
                "" if e.outcome == "flat" else e.outcome,
            )
        notes = [f"{e.value} · {e.arm}: {e.note}" for e in block.effects if e.note]
        tests = [
            f"Interaction test ({i.arm}): Q = {num(i.statistic, '.3g')}, {i.df} df, "
            f"p = {num(i.p_value, '.3g')}"
            for i in block.interactions
        ]
        out.append(_printed(width, table, block.headline, *tests, *notes))
    return "".join(out)


def _printed(width: int, *renderables: RenderableType) -> str:
    """What a console ``width`` columns wide, without colour, prints for ``renderables``."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()
