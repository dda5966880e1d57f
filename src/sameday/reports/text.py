"""A report as the plain text ``sameday report`` prints, whole or one part at a time.

The text leads with the experiment and the verdict line, says which phase it covers, then shows
the design's parts: for an A/B test the sample-ratio check, the per-metric table (relative lift
with the interval the verdict reads, the fixed-horizon interval, chance to win, adjusted p-value)
and progress toward the planned sample; for an interleaving test the preference table; for a
bandit the posteriors and the regret. Warnings come last. Each part is a public function that
returns its lines (ending in a newline, or ``""`` when it has nothing to say), so a caller can
print one part alone; :func:`to_text` is the parts in that order.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, Report
from sameday.analysis.verdict import chance
from sameday.reports.format import days, interval, num, pct, share
from sameday.reports.segments import who_benefits_text

WIDTH = 150
"""Columns of the text unless a caller says otherwise; longer lines wrap."""


def to_text(report: Report, *, width: int = WIDTH) -> str:
    """``report`` as the plain-text tables the terminal shows."""
    head = _printed(width, f"{report.experiment} ({report.design})")
    scope = "" if report.scope is None else _printed(width, f"Analysed: {report.scope.line}")
    if isinstance(report, ABReport):
        body = (
            srm_block(report, width=width)
            + metric_table(report, width=width)
            + progress_block(report, width=width)
            + who_benefits_text(report, width=width)
        )
    elif isinstance(report, InterleavingReport):
        body = interleaving_block(report, width=width)
    else:
        body = bandit_block(report, width=width)
    return (
        head
        + verdict_banner(report, width=width)
        + scope
        + body
        + warnings_block(report, width=width)
    )


def _printed(width: int, *renderables: RenderableType) -> str:
    """What a console ``width`` columns wide, without colour, prints for ``renderables``."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    for renderable in renderables:
        console.print(renderable)
    return buffer.getvalue()


def verdict_banner(report: Report, *, width: int = WIDTH) -> str:
    """The verdict line: what to do, and the number it rests on."""
    return _printed(width, report.decision.line)


def warnings_block(report: Report, *, width: int = WIDTH) -> str:
    """One ``warning:`` line per thing the reader must know before trusting the numbers.

    An A/B report's warnings include its scope's notes (other phases left out); the other designs
    warn with their scope's notes alone.
    """
    if isinstance(report, ABReport):
        warnings: Sequence[str] = report.warnings
    else:
        warnings = [] if report.scope is None else report.scope.notes
    return _printed(width, *(f"warning: {warning}" for warning in warnings))


def srm_block(report: ABReport, *, width: int = WIDTH) -> str:
    """The sample-ratio line: units per arm, their shares and the test's p-value."""
    if report.srm is None:
        return ""
    shares = ", ".join(
        f"{arm} {n:,} ({share(observed, 2)})"
        for arm, n, observed in zip(
            report.arms, report.srm.observed, report.srm.observed_shares, strict=True
        )
    )
    state = "MISMATCH" if report.srm.mismatch else "ok"
    return _printed(
        width, f"Sample ratio: {state} — {shares}; p = {num(report.srm.p_value, '.3g')}"
    )


def metric_table(report: ABReport, *, width: int = WIDTH) -> str:
    """The per-metric table: one row per metric and treatment arm."""
    kind = "always-valid" if report.sequential else "fixed"
    table = Table(box=box.SIMPLE_HEAD, caption=f"lift: relative; interval: {kind}")
    for header in (
        "metric",
        "role",
        "arm",
        "control",
        "treatment",
        "lift",
        "interval",
        "fixed interval",
        "win chance",
        "adj. p",
        "",
    ):
        table.add_column(
            header, justify="left" if header in ("metric", "role", "arm") else "right", no_wrap=True
        )
    for metric in report.metrics:
        control = metric.values[0]
        values = {v.arm: v for v in metric.values}
        for result in metric.results:
            d, f = result.decision, result.fixed.relative
            table.add_row(
                metric.name,
                metric.role,
                result.arm,
                num(control.value),
                num(values[result.arm].value),
                pct(d.point),
                interval(d.ci_low, d.ci_high, pct),
                interval(f.ci_low, f.ci_high, pct),
                chance(result.chance_to_win),
                num(result.p_adjusted, ".3g"),
                result.outcome if result.outcome != "flat" else "",
            )
        if metric.note:
            table.add_row(metric.name, metric.role, "", "", "", "", metric.note, "", "", "", "")
    return _printed(width, table)


def progress_block(report: ABReport, *, width: int = WIDTH) -> str:
    """Progress toward the planned sample (once the plan can size it), then the plan itself."""
    p = report.progress
    lines = []
    if p.share is not None:
        left = "" if p.days_left is None else f", about {days(p.days_left, more=True)}"
        if p.share >= 1:
            left = ", the planned sample is reached"
        lines.append(
            f"Progress: {p.share:.0%} of the planned {p.planned_per_arm:,} units per arm "
            f"(smallest arm {p.smallest_arm:,}, {p.daily_units:,.0f} units a day{left})"
        )
    lines.append(f"Plan: {p.basis}")
    return _printed(width, *lines)


def interleaving_block(report: InterleavingReport, *, width: int = WIDTH) -> str:
    """The impressions behind an interleaving test and its preference table, one row a pair."""
    table = Table(box=box.SIMPLE_HEAD)
    for header in (
        "pair",
        "impr. wins",
        "share",
        "interval",
        "p",
        "user share",
        "interval",
        "adj. p",
    ):
        table.add_column(header, justify="left" if header == "pair" else "right")
    for pair in report.pairs:
        imp, users = pair.impressions, pair.users
        table.add_row(
            f"{pair.arm} vs {pair.control}",
            f"{imp.wins_b:,} / {imp.wins_a:,}",
            share(imp.share_b),
            interval(imp.ci_low, imp.ci_high, share),
            num(imp.p_value, ".3g"),
            "-" if users is None else share(users.share_b),
            "-" if users is None else interval(users.ci_low, users.ci_high, share),
            num(pair.p_adjusted, ".3g"),
        )
    return _printed(
        width,
        f"{report.impressions:,} impressions ({report.clicked_impressions:,} with credited "
        f"clicks) from {report.units:,} units",
        table,
    )


def bandit_block(report: BanditReport, *, width: int = WIDTH) -> str:
    """A bandit's posterior per arm and its estimated regret."""
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("arm", "pulls", "rewards", "rate", "interval", "P(best)", "share"):
        table.add_column(header, justify="left" if header == "arm" else "right")
    for arm in report.summary.arms:
        table.add_row(
            arm.arm,
            f"{arm.trials:,}",
            f"{arm.successes:,}",
            share(arm.mean, 2),
            interval(arm.ci_low, arm.ci_high, lambda v: share(v, 2)),
            share(arm.probability_best),
            share(arm.allocation),
        )
    return _printed(
        width,
        table,
        f"Estimated regret: {report.summary.regret:,.1f} rewards (plug-in), "
        f"{report.summary.expected_regret:,.1f} in posterior expectation",
    )
