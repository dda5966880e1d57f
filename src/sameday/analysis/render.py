"""A report as JSON-ready data and as the terminal table ``sameday report`` prints.

The JSON form is the dataclasses as they are (every number of the report, with NaN and infinity
as ``null``) plus the derived flags a script wants (``srm.mismatch``, ``srm.observed_shares``).
The text form leads with the verdict line, then the sample-ratio check, the per-metric table
(relative lift with the interval the verdict reads, the fixed-horizon interval, chance to win,
adjusted p-value) and progress toward the planned sample.
"""

from __future__ import annotations

import dataclasses
import io
import math
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, Report
from sameday.analysis.verdict import chance


def to_dict(report: Report) -> dict[str, Any]:
    """``report`` as plain data: dicts, lists, strings, numbers and ``None``."""
    data: dict[str, Any] = _clean(dataclasses.asdict(report))
    if isinstance(report, ABReport) and report.srm is not None:
        data["srm"]["mismatch"] = report.srm.mismatch
        data["srm"]["observed_shares"] = list(report.srm.observed_shares)
    data["verdict"] = report.decision.verdict
    if report.scope is not None:
        data["scope"]["line"] = report.scope.line
    return data


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_text(report: Report, *, width: int = 150) -> str:
    """``report`` as the plain-text tables the terminal shows."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    console.print(f"{report.experiment} ({report.design})")
    console.print(report.decision.line)
    if report.scope is not None:
        console.print(f"Analysed: {report.scope.line}")
    if isinstance(report, ABReport):
        _ab(console, report)
    elif isinstance(report, InterleavingReport):
        _interleaving(console, report)
    elif isinstance(report, BanditReport):
        _bandit(console, report)
    if not isinstance(report, ABReport) and report.scope is not None:
        for note in report.scope.notes:
            console.print(f"warning: {note}")
    return buffer.getvalue()


def pct(value: float, digits: int = 2) -> str:
    """A signed percentage, or ``-`` when undefined."""
    return "-" if not math.isfinite(value) else f"{value:+.{digits}%}"


def _ab(console: Console, report: ABReport) -> None:
    if report.srm is not None:
        shares = ", ".join(
            f"{arm} {n:,} ({share:.2%})"
            for arm, n, share in zip(
                report.arms, report.srm.observed, report.srm.observed_shares, strict=True
            )
        )
        state = "MISMATCH" if report.srm.mismatch else "ok"
        console.print(f"Sample ratio: {state} — {shares}; p = {report.srm.p_value:.3g}")
    interval = "always-valid" if report.sequential else "fixed"
    table = Table(box=box.SIMPLE_HEAD, caption=f"lift: relative; interval: {interval}")
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
                f"{control.value:.4g}",
                f"{values[result.arm].value:.4g}",
                pct(d.point),
                f"[{pct(d.ci_low)}, {pct(d.ci_high)}]",
                f"[{pct(f.ci_low)}, {pct(f.ci_high)}]",
                chance(result.chance_to_win),
                f"{result.p_adjusted:.3g}",
                result.outcome if result.outcome != "flat" else "",
            )
        if metric.note:
            table.add_row(metric.name, metric.role, "", "", "", "", metric.note, "", "", "", "")
    console.print(table)
    p = report.progress
    if p.share is not None:
        left = "" if p.days_left is None else f", about {p.days_left} more days"
        if p.share >= 1:
            left = ", the planned sample is reached"
        console.print(
            f"Progress: {p.share:.0%} of the planned {p.planned_per_arm:,} units per arm "
            f"(smallest arm {p.smallest_arm:,}, {p.daily_units:,.0f} units a day{left})"
        )
    console.print(f"Plan: {p.basis}")
    for warning in report.warnings:
        console.print(f"warning: {warning}")


def _interleaving(console: Console, report: InterleavingReport) -> None:
    console.print(
        f"{report.impressions:,} impressions ({report.clicked_impressions:,} with credited "
        f"clicks) from {report.units:,} units"
    )
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
            f"{imp.share_b:.1%}",
            f"[{imp.ci_low:.1%}, {imp.ci_high:.1%}]",
            f"{imp.p_value:.3g}",
            "-" if users is None else f"{users.share_b:.1%}",
            "-" if users is None else f"[{users.ci_low:.1%}, {users.ci_high:.1%}]",
            f"{pair.p_adjusted:.3g}",
        )
    console.print(table)


def _bandit(console: Console, report: BanditReport) -> None:
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("arm", "pulls", "rewards", "rate", "interval", "P(best)", "share"):
        table.add_column(header, justify="left" if header == "arm" else "right")
    for arm in report.summary.arms:
        table.add_row(
            arm.arm,
            f"{arm.trials:,}",
            f"{arm.successes:,}",
            f"{arm.mean:.2%}",
            f"[{arm.ci_low:.2%}, {arm.ci_high:.2%}]",
            f"{arm.probability_best:.1%}",
            f"{arm.allocation:.1%}",
        )
    console.print(table)
    console.print(
        f"Estimated regret: {report.summary.regret:,.1f} rewards (plug-in), "
        f"{report.summary.expected_regret:,.1f} in posterior expectation"
    )
