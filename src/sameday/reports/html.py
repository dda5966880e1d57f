"""A report as HTML: one self-contained page that works offline, or one part of it.

Styles and the tooltip script are inlined from ``assets/``, charts are inline SVG
(:mod:`sameday.reports.svg`), and the page references nothing outside itself — no CDN, no fonts,
no images — so it can be mailed, attached to a pull request or opened on a plane. An A/B page
shows the verdict, the sample-ratio check, progress toward the planned sample, the per-metric
table with a forest plot of the lifts, and the cumulative lift over time per metric and arm.

Each part of the page is a public function that returns an HTML fragment (no document around
it), so that another page — a dashboard — can embed one part: :func:`verdict_banner`,
:func:`warnings_block`, :func:`srm_block`, :func:`progress_block`, :func:`metric_table`,
:func:`lift_chart`, :func:`interleaving_block` and :func:`bandit_block`. The fragments rely on
:func:`stylesheet`, and their tooltips on :func:`tooltip_script`; :func:`to_html` is the parts in
order between the page's head and its glossary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from importlib import resources

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport, Report
from sameday.analysis.verdict import chance
from sameday.reports import svg
from sameday.reports.format import days, interval, num, pct, share
from sameday.reports.glossary import glossary
from sameday.reports.segments import who_benefits

_TONE = {
    "ship": "ship",
    "keep running": "keep",
    "stop for harm": "harm",
    "invalid: sample ratio mismatch": "invalid",
}


def to_html(report: Report) -> str:
    """``report`` as a complete HTML document: the parts below, in order, in one page."""
    if isinstance(report, ABReport):
        body = (
            _context(report)
            + warnings_block(report)
            + srm_block(report)
            + progress_block(report)
            + metric_table(report)
            + lift_chart(report)
            + who_benefits(report)
        )
    elif isinstance(report, InterleavingReport):
        body = warnings_block(report) + interleaving_block(report)
    else:
        body = warnings_block(report) + bandit_block(report)
    title = escape(f"{report.experiment} — sameday report")
    scope = (
        ""
        if report.scope is None
        else f'<p class="muted">Analysed: {escape(report.scope.line)}</p>'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{stylesheet()}</style></head><body><main>"
        f"<h1>{escape(report.experiment)}</h1>"
        f'<div class="muted">{escape(report.design)} · generated {escape(report.generated)}</div>'
        f"{verdict_banner(report)}{scope}{body}{glossary(report.design)}</main>"
        f'<div id="tip"></div><script>{tooltip_script()}</script></body></html>'
    )


def stylesheet() -> str:
    """The CSS every part relies on (tones, tables, the wide and narrow charts), to inline."""
    return (resources.files("sameday.reports") / "assets" / "report.css").read_text(
        encoding="utf-8"
    )


def tooltip_script() -> str:
    """The script that shows a mark's ``data-tip`` on hover; it needs ``<div id="tip">``."""
    return (resources.files("sameday.reports") / "assets" / "report.js").read_text(encoding="utf-8")


def verdict_banner(report: Report) -> str:
    """The verdict line, coloured by what it says (ship, keep running, harm, invalid)."""
    tone = _TONE[report.decision.verdict]
    return f'<div class="verdict {tone}">{escape(report.decision.line)}</div>'


def warnings_block(report: Report) -> str:
    """What the reader must know before trusting the numbers, one highlighted paragraph each.

    An A/B report's warnings include its scope's notes (other phases left out); the other designs
    warn with their scope's notes alone.
    """
    if isinstance(report, ABReport):
        warnings: Sequence[str] = report.warnings
    else:
        warnings = [] if report.scope is None else report.scope.notes
    return "".join(f'<p class="verdict invalid">{escape(w)}</p>' for w in warnings)


def _context(report: ABReport) -> str:
    """When the units came, which arm is the control, which intervals the page shows."""
    if not report.first_day:
        return ""
    return (
        f'<div class="muted">Units first exposed {report.first_day} to {report.last_day}; '
        f"control: {escape(report.control)}; "
        f"{'always-valid (sequential)' if report.sequential else 'fixed-horizon'} intervals "
        f"at alpha {report.alpha:g}</div>"
    )


def lift_chart(report: ABReport) -> str:
    """The cumulative lift over time of each metric and arm, with both intervals as bands."""
    parts = [
        "<h2>Cumulative lift over time</h2><section>",
        '<div class="legend muted"><span><i style="background:#1f4f85"></i>relative lift</span>'
        '<span><i style="background:#4c78a8;opacity:.25"></i>always-valid interval</span>'
        '<span><i style="border-top:1px dashed #4c78a8;height:0"></i>fixed interval</span></div>',
    ]
    for series in report.series:
        parts.append(
            f"<h3>{escape(series.metric)}: {escape(series.arm)} vs {escape(report.control)}</h3>"
        )
        parts.append(svg.lift_chart(series, report.control))
    if not report.series:
        parts.append("<p class='muted'>No units yet.</p>")
    parts.append("</section>")
    return "".join(parts)


def srm_block(report: ABReport) -> str:
    """The sample-ratio check: the chi-square test and observed against planned shares."""
    srm = report.srm
    if srm is None:
        return "<h2>Sample ratio</h2><section><p class='muted'>No units yet.</p></section>"
    state = "mismatch — the verdict is blocked" if srm.mismatch else "ok"
    return (
        "<h2>Sample ratio</h2><section>"
        f"<p>{escape(state)}: chi-square {num(srm.chi2, '.3g')} with {srm.df} df, "
        f"p = {num(srm.p_value, '.3g')} (alarm below {srm.threshold:g}).</p>"
        + svg.share_bars(report.arms, srm.observed_shares, srm.weights)
        + "</section>"
    )


def progress_block(report: ABReport) -> str:
    """Progress toward the planned sample, as a bar and a sentence, and the plan behind it."""
    p = report.progress
    if p.share is None or p.planned_per_arm is None:
        return f"<h2>Progress</h2><section><p class='muted'>{escape(p.basis)}</p></section>"
    width = min(p.share, 1.0) * 100
    left = "" if p.days_left is None else f"; about {days(p.days_left, more=True)} at this rate"
    if p.share >= 1:
        left = "; the planned sample is reached"
    tip = escape(f"{p.smallest_arm:,} of {p.planned_per_arm:,} units in the smallest arm")
    return (
        "<h2>Progress toward the planned power</h2><section>"
        f'<div class="progress" role="img" aria-label="{p.share:.0%} of the planned sample" '
        f'data-tip="{tip}"><div style="width:{width:.1f}%" data-tip="{tip}"></div></div>'
        f"<p>{p.share:.0%} of the planned {p.planned_per_arm:,} units per arm "
        f"({p.daily_units:,.0f} units a day over {days(p.days)}{left}). "
        f'<span class="muted">Plan: {escape(p.basis)}.</span></p></section>'
    )


def metric_table(report: ABReport) -> str:
    """The per-metric table and a forest plot of its lifts with the intervals the verdict reads."""
    head = (
        "<tr><th>metric</th><th class='l'>role</th><th class='l'>arm</th><th>units</th>"
        "<th>value</th><th>lift</th><th>interval</th><th>fixed interval</th>"
        "<th>chance to win</th><th>expected loss</th><th>adj. p</th></tr>"
    )
    rows: list[str] = []
    intervals: list[svg.Interval] = []
    for metric in report.metrics:
        control = metric.values[0]
        rows.append(
            f"<tr><td>{escape(metric.name)}</td><td class='l'>{metric.role}</td>"
            f"<td class='l'>{escape(control.arm)}</td><td>{control.n:,}</td>"
            f"<td>{num(control.value)}</td><td colspan='6' class='l muted'>control "
            f"({escape(metric.method)}, {escape(metric.direction)} is better)"
            f"{'; ' + escape(metric.note) if metric.note else ''}</td></tr>"
        )
        values = {v.arm: v for v in metric.values}
        for r in metric.results:
            d, f = r.decision, r.fixed.relative
            rows.append(
                f"<tr><td></td><td></td><td class='l'>{escape(r.arm)}</td>"
                f"<td>{values[r.arm].n:,}</td><td>{num(values[r.arm].value)}</td>"
                f"<td class='{r.outcome}'>{pct(d.point)}</td>"
                f"<td>{interval(d.ci_low, d.ci_high, pct)}</td>"
                f"<td>{interval(f.ci_low, f.ci_high, pct)}</td>"
                f"<td>{chance(r.chance_to_win)}</td><td>{share(r.expected_loss, 3)}</td>"
                f"<td>{num(r.p_adjusted, '.3g')}</td></tr>"
            )
            intervals.append(
                svg.Interval(
                    label=f"{metric.name} · {r.arm}",
                    point=d.point,
                    low=d.ci_low,
                    high=d.ci_high,
                    tip=f"{metric.name}, {r.arm}: {pct(d.point)} "
                    f"{interval(d.ci_low, d.ci_high, pct)}, chance to win "
                    f"{chance(r.chance_to_win)}, adjusted p {num(r.p_adjusted, '.3g')}",
                    tone=r.outcome,
                )
            )
    shown = [r for r in intervals if math.isfinite(r.low) and math.isfinite(r.high)]
    clear = [f"{r.label} ({pct(r.point, 1)})" for r in shown if r.low > 0 or r.high < 0]
    sentence = (
        f"Relative lift over {report.control} of each metric and arm, with the interval the "
        "verdict reads; an interval that crosses the dashed line of no difference is not yet "
        "distinguishable from no change. "
        + (
            f"Clear of it: {', '.join(clear)}."
            if clear
            else f"None of the {len(shown)} intervals is clear of it yet."
        )
    )
    return (
        "<h2>Metrics</h2><section><div class='scroll'><table>"
        + head
        + "".join(rows)
        + "</table></div><h3>Relative lift with the interval the verdict reads</h3>"
        + svg.forest(intervals, title="Relative lift per metric and arm", sentence=sentence)
        + "</section>"
    )


def interleaving_block(report: InterleavingReport) -> str:
    """An interleaving test's preference table and the share of users who prefer each arm."""
    rows: list[svg.Interval] = []
    table = [
        "<tr><th>pair</th><th>impression wins (B / A)</th><th>impression share</th><th>p</th>"
        "<th>users (B / A / tied)</th><th>user share</th><th>interval</th><th>adj. p</th></tr>"
    ]
    for pair in report.pairs:
        imp, users = pair.impressions, pair.users
        label = f"{pair.arm} vs {pair.control}"
        table.append(
            f"<tr><td>{escape(label)}</td><td>{imp.wins_b:,} / {imp.wins_a:,}</td>"
            f"<td>{share(imp.share_b)}</td><td>{num(imp.p_value, '.3g')}</td>"
            + (
                "<td>-</td><td>-</td><td>-</td>"
                if users is None
                else f"<td>{users.prefer_b:,} / {users.prefer_a:,} / {users.tied:,}</td>"
                f"<td>{share(users.share_b)}</td>"
                f"<td>{interval(users.ci_low, users.ci_high, share)}</td>"
            )
            + f"<td>{num(pair.p_adjusted, '.3g')}</td></tr>"
        )
        if users is not None:
            rows.append(
                svg.Interval(
                    label,
                    users.share_b,
                    users.ci_low,
                    users.ci_high,
                    f"{label}: {share(users.share_b)} of users with a preference prefer "
                    f"{pair.arm}, {interval(users.ci_low, users.ci_high, share)}",
                )
            )
    sentence = "Share of users with a preference who prefer each arm over the control: " + (
        ", ".join(f"{r.label} {share(r.point)} {interval(r.low, r.high, share)}" for r in rows)
        + "; above the dashed 50% line users prefer the arm."
    )
    return (
        f"<h2>Preference</h2><section><p>{report.impressions:,} impressions, "
        f"{report.clicked_impressions:,} with credited clicks, from {report.units:,} units.</p>"
        f"<div class='scroll'><table>{''.join(table)}</table></div>"
        "<h3>Users who prefer the arm</h3>"
        + svg.forest(
            rows,
            title="Share of users who prefer each arm",
            sentence=sentence,
            reference=0.5,
            reference_label="no preference",
            signed=False,
        )
        + "</section>"
    )


def bandit_block(report: BanditReport) -> str:
    """A bandit's posteriors, estimated regret and allocation of pulls over time."""
    summary = report.summary
    table = [
        "<tr><th>arm</th><th>pulls</th><th>rewards</th><th>reward rate</th><th>interval</th>"
        "<th>P(best)</th><th>share</th></tr>"
    ]
    for arm in summary.arms:
        table.append(
            f"<tr><td>{escape(arm.arm)}</td><td>{arm.trials:,}</td><td>{arm.successes:,}</td>"
            f"<td>{share(arm.mean, 2)}</td>"
            f"<td>{interval(arm.ci_low, arm.ci_high, lambda v: share(v, 2))}</td>"
            f"<td>{share(arm.probability_best)}</td><td>{share(arm.allocation)}</td></tr>"
        )
    rows = [
        svg.Interval(
            a.arm,
            a.mean,
            a.ci_low,
            a.ci_high,
            f"{a.arm}: {share(a.mean, 2)} {interval(a.ci_low, a.ci_high, share)}, "
            f"P(best) {share(a.probability_best)}",
        )
        for a in summary.arms
    ]
    sentence = (
        "Reward rate of each arm with its credible interval: "
        + ", ".join(f"{r.label} {share(r.point)} {interval(r.low, r.high, share)}" for r in rows)
        + "."
    )
    legend = "".join(
        f'<span><i style="background:{svg.PALETTE[k % len(svg.PALETTE)]}"></i>{escape(a)}</span>'
        for k, a in enumerate(report.arms)
    )
    return (
        f"<h2>Posteriors</h2><section><div class='scroll'><table>{''.join(table)}</table></div>"
        + svg.forest(
            rows, title="Reward rate per arm", sentence=sentence, reference=None, signed=False
        )
        + f"<p>Estimated regret: {num(summary.regret, ',.1f')} rewards (plug-in), "
        f"{num(summary.expected_regret, ',.1f')} in posterior expectation.</p></section>"
        f"<h2>Allocation over time</h2><section><div class='legend'>{legend}</div>"
        f"{svg.stacked_area(report.arms, report.days, report.allocation)}</section>"
    )
