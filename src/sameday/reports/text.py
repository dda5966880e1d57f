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
from collections.abc import Callable
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


def share(value: float, digits: int = 1) -> str:
    """A percentage (a share, a rate), or ``-`` when undefined (no units, no impressions)."""
    return "-" if not math.isfinite(value) else f"{value:.{digits}%}"


def num(value: float, spec: str = ".4g") -> str:
    """A number in ``spec``, or ``-`` when undefined: a report never prints ``nan``."""
    return "-" if not math.isfinite(value) else f"{value:{spec}}"


def days(n: int, *, more: bool = False) -> str:
    """``1 day``, ``3 days``; with ``more``: ``1 more day``, ``3 more days``."""
    return f"{n}{' more' if more else ''} {'day' if n == 1 else 'days'}"


def interval(low: float, high: float, fmt: Callable[[float], str]) -> str:
    """``[low, high]``, or ``-`` when either end is undefined."""
    return "-" if not (math.isfinite(low) and math.isfinite(high)) else f"[{fmt(low)}, {fmt(high)}]"


def _ab(console: Console, report: ABReport) -> None:
    if report.srm is not None:
        shares = ", ".join(
            f"{arm} {n:,} ({share(observed, 2)})"
            for arm, n, observed in zip(
                report.arms, report.srm.observed, report.srm.observed_shares, strict=True
            )
        )
        state = "MISMATCH" if report.srm.mismatch else "ok"
        console.print(f"Sample ratio: {state} — {shares}; p = {num(report.srm.p_value, '.3g')}")
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
    console.print(table)
    p = report.progress
    if p.share is not None:
        left = "" if p.days_left is None else f", about {days(p.days_left, more=True)}"
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
            share(imp.share_b),
            interval(imp.ci_low, imp.ci_high, share),
            num(imp.p_value, ".3g"),
            "-" if users is None else share(users.share_b),
            "-" if users is None else interval(users.ci_low, users.ci_high, share),
            num(pair.p_adjusted, ".3g"),
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
            share(arm.mean, 2),
            interval(arm.ci_low, arm.ci_high, lambda v: share(v, 2)),
            share(arm.probability_best),
            share(arm.allocation),
        )
    console.print(table)
    console.print(
        f"Estimated regret: {report.summary.regret:,.1f} rewards (plug-in), "
        f"{report.summary.expected_regret:,.1f} in posterior expectation"
    )
