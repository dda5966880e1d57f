"""Each metric of an A/B report: per-arm values, lifts against the control, adjusted p-values.

For every metric and every treatment arm the report computes, from the arms' summaries:

- the fixed-horizon comparison (Welch; proportion, ratio by the delta method, or CUPED);
- the always-valid (sequential) version of it, tuned to the plan's sample size;
- the Bayesian view of the relative lift (chance to win, expected loss);
- the decision p-value: the sequential one when the plan is sequential (the default), else the
  fixed one, adjusted across the comparisons of its family — Holm over primary metrics x arms,
  Holm over guardrails x arms, Benjamini–Hochberg over secondary metrics x arms.

Decisions use the **relative** lift, the number the report leads with, so that "significant"
means "the interval shown excludes zero". Its interval is Fieller's and its p-value the absolute
lift's (see :mod:`~sameday.analysis.stats.fieller`), cut to the metric's range. (One exception:
a metric that may be negative, whose control cannot be told from zero, gets the whole line.)

No verdict is drawn on a metric until every compared arm has the metric's minimum sample:
``min_units`` units and ``min_nonzero`` of them with a non-zero value. Below it the normal
approximation has nothing to stand on (a revenue metric with a handful of buyers), so the
comparison stays ``flat``, its chance to win is not shown (NaN), and ``shortfall`` says what is
missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sameday.analysis.metric_sql import MetricColumns, columns
from sameday.analysis.stats.adjusted import (
    compare_cuped,
    compare_ratios,
    cuped_inputs,
    ratio,
    ratio_inputs,
)
from sameday.analysis.stats.bayesian import bayesian_view
from sameday.analysis.stats.frequentist import (
    Comparison,
    Estimate,
    LiftInputs,
    compare_means,
    compare_proportions,
    welch_inputs,
)
from sameday.analysis.stats.multiple import Correction, adjust
from sameday.analysis.stats.sequential import sequential_comparison
from sameday.analysis.stats.summary import ArmSummary
from sameday.analysis.summaries import Summaries
from sameday.config.metric import Metric
from sameday.errors import StatsInputError

Role = Literal["primary", "secondary", "guardrail"]
Outcome = Literal["better", "worse", "flat"]

CORRECTIONS: dict[Role, Correction] = {"primary": "holm", "guardrail": "holm", "secondary": "bh"}
"""Multiple-testing correction per family of comparisons."""


@dataclass(frozen=True)
class ArmValue:
    """One arm's value of a metric: units and the mean, proportion or ratio."""

    arm: str
    n: int
    value: float


@dataclass(frozen=True)
class ArmResult:
    """A treatment arm against the control on one metric.

    ``decision`` is the relative-lift estimate the verdict reads (sequential or fixed), and
    ``p_adjusted`` its p-value after the family's correction; ``outcome`` is ``better``/``worse``
    (in the metric's direction) when ``p_adjusted < alpha`` and the minimum sample is met, else
    ``flat``. ``shortfall`` says why no verdict may be drawn yet (``None``: it may); then
    ``chance_to_win`` and ``expected_loss`` are NaN.
    """

    arm: str
    fixed: Comparison
    sequential: Comparison
    decision: Estimate
    chance_to_win: float
    expected_loss: float
    p_adjusted: float
    outcome: Outcome
    shortfall: str | None = None


@dataclass(frozen=True)
class MetricResult:
    """A metric's row group: definition, per-arm values and one result per treatment arm."""

    name: str
    role: Role
    type: str
    method: str
    direction: str
    values: tuple[ArmValue, ...]
    results: tuple[ArmResult, ...]
    note: str | None = None


def compare(
    method: str,
    control: ArmSummary,
    treatment: ArmSummary,
    alpha: float,
    *,
    nonnegative: bool = True,
) -> Comparison:
    """The fixed-horizon comparison for ``method`` (see :attr:`MetricColumns.kind`).

    ``nonnegative``: the metric's values cannot be negative (relative lifts are >= -100%).
    """
    if method == "ratio":
        return compare_ratios(control, treatment, alpha=alpha, nonnegative=nonnegative)
    if method == "cuped":
        return compare_cuped(control, treatment, alpha=alpha, nonnegative=nonnegative)
    if method == "proportion":
        return compare_proportions(control, treatment, alpha=alpha)
    return compare_means(control, treatment, alpha=alpha, nonnegative=nonnegative)


def lift_inputs(method: str, control: ArmSummary, treatment: ArmSummary) -> LiftInputs:
    """What :func:`compare` reduces the arms to for ``method``, for many comparisons at once
    (:func:`~sameday.analysis.stats.lifts.relative_lifts`).

    Raises:
        StatsInputError: where :func:`compare` would (too few units, no x sums, a ratio's zero
            denominator).
    """
    if method == "ratio":
        return ratio_inputs(control, treatment)
    if method == "cuped":
        return cuped_inputs(control, treatment)[1]
    return welch_inputs(control, treatment, ddof=0 if method == "proportion" else 1)


def bounded_below(method: str, *, nonnegative: bool) -> bool:
    """Whether :func:`compare` cuts ``method``'s relative lift at -100%: a proportion always."""
    return nonnegative or method == "proportion"


def shortfall(metric: Metric, arms: dict[str, ArmSummary]) -> str | None:
    """Why ``metric``'s minimum sample is not met yet in ``arms`` (``None``: it is).

    Each arm needs ``metric.min_units`` units, ``metric.min_nonzero`` of them with a non-zero
    value; an arm whose summary did not count its non-zero units is judged on units alone.
    """
    lacking = _lacking(metric, arms)
    if not lacking:
        return None
    return (
        f"too few units for a verdict: {', '.join(lacking)} (each arm needs "
        f"{metric.min_units:,} units, {metric.min_nonzero:,} of them non-zero: min_units and "
        "min_nonzero in the metric's file)"
    )


def _lacking(metric: Metric, arms: dict[str, ArmSummary]) -> list[str]:
    """What each arm lacks, shortly: ``control 80/100 units``, ``personal 24/30 non-zero``."""
    out: list[str] = []
    for arm, s in arms.items():
        if s.n < metric.min_units:
            out.append(f"{arm} {s.n:,}/{metric.min_units:,} units")
        if s.n_nonzero is not None and s.n_nonzero < metric.min_nonzero:
            out.append(f"{arm} {s.n_nonzero:,}/{metric.min_nonzero:,} non-zero")
    return out


def arm_value(method: str, summary: ArmSummary) -> float:
    """What the table shows for an arm: its ratio for a ratio metric, else its mean."""
    if method == "ratio" and summary.n and summary.mean_x:
        return ratio(summary)[0]
    return summary.mean


def analyse_metrics(
    summaries: Summaries,
    roles: Sequence[tuple[Metric, Role]],
    *,
    control: str,
    treatments: Sequence[str],
    alpha: float,
    sequential: bool,
    n_star: float,
) -> list[MetricResult]:
    """Compare every treatment with the control on every metric, then adjust the p-values."""
    cols = columns([m for m, _ in roles])
    drafts = [
        _draft(summaries, col, role, control, treatments, alpha, sequential, n_star)
        for col, (_, role) in zip(cols, roles, strict=True)
    ]
    return _adjusted(drafts, alpha)


def _draft(
    summaries: Summaries,
    col: MetricColumns,
    role: Role,
    control: str,
    treatments: Sequence[str],
    alpha: float,
    sequential: bool,
    n_star: float,
) -> MetricResult:
    metric = col.metric
    method = col.kind
    totals = {arm: summaries.total(metric.name, arm) for arm in (control, *treatments)}
    values = tuple(ArmValue(a, s.n, arm_value(method, s)) for a, s in totals.items())
    higher = metric.direction == "increase"
    results: list[ArmResult] = []
    notes: list[str] = []
    lacking: list[str] = []
    for arm in treatments:
        try:
            fixed = compare(
                method, totals[control], totals[arm], alpha, nonnegative=metric.nonnegative
            )
            always = sequential_comparison(fixed, n_star=n_star)
            view = bayesian_view(fixed, higher_is_better=higher).relative
        except StatsInputError as exc:
            notes.append(f"{arm}: {exc}")
            continue
        pair = {control: totals[control], arm: totals[arm]}
        missing = shortfall(metric, pair)
        lacking += _lacking(metric, pair)
        results.append(
            ArmResult(
                arm=arm,
                fixed=fixed,
                sequential=always,
                decision=always.relative if sequential else fixed.relative,
                chance_to_win=math.nan if missing else view.chance_to_win,
                expected_loss=math.nan if missing else view.expected_loss,
                p_adjusted=math.nan,
                outcome="flat",
                shortfall=missing,
            )
        )
    return MetricResult(
        name=metric.name,
        role=role,
        type=metric.type,
        method=method,
        direction=metric.direction,
        values=values,
        results=tuple(results),
        note="; ".join(notes + _no_verdict(lacking)) or None,
    )


def _no_verdict(lacking: list[str]) -> list[str]:
    """The metric's note on its minimum sample: every arm's shortfall, once."""
    return [f"no verdict yet: {', '.join(dict.fromkeys(lacking))}"] if lacking else []


def without_chances(metrics: Sequence[MetricResult]) -> list[MetricResult]:
    """``metrics`` with every chance to win and expected loss withheld (NaN).

    For a report that may draw no verdict at all (a sample ratio mismatch): a chance to win
    would read as one.
    """
    return [
        replace(
            m,
            results=tuple(
                replace(r, chance_to_win=math.nan, expected_loss=math.nan) for r in m.results
            ),
        )
        for m in metrics
    ]


def _adjusted(drafts: list[MetricResult], alpha: float) -> list[MetricResult]:
    out = list(drafts)
    for role, correction in CORRECTIONS.items():
        slots = [
            (i, j) for i, m in enumerate(drafts) if m.role == role for j in range(len(m.results))
        ]
        raw = [_p(drafts[i].results[j].decision.p_value) for i, j in slots]
        adjusted = adjust(raw, correction) if raw else []
        for (i, j), p in zip(slots, adjusted, strict=True):
            metric = out[i]
            result = metric.results[j]
            updated = replace(result, p_adjusted=p, outcome=_outcome(result, metric, p, alpha))
            results = list(metric.results)
            results[j] = updated
            out[i] = replace(metric, results=tuple(results))
    return out


def _p(value: float) -> float:
    """An undefined p-value (a control of exactly zero) counts as no evidence."""
    return 1.0 if math.isnan(value) else value


def _outcome(result: ArmResult, metric: MetricResult, p: float, alpha: float) -> Outcome:
    if p >= alpha or math.isnan(result.decision.point) or result.shortfall is not None:
        return "flat"
    up = result.decision.point > 0
    return "better" if up == (metric.direction == "increase") else "worse"
