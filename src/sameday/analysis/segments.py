"""Segment effects: each segment's lift, corrected for the number of segments, and whether the
effect differs between segments at all.

``sameday report EXPERIMENT --by DIMENSION`` splits the units by a dimension (a unit attribute its
exposures record, see ``Experiment.dimensions``; a unit belongs to the value of its first exposure)
and compares each treatment arm with the control within every segment, with the same comparison
the report makes overall (:func:`sameday.analysis.comparisons.compare`: Welch, proportion, ratio or
CUPED, relative lift with Fieller's interval). Looking at many segments finds "winners" by luck,
so three rules keep the table honest:

- **Too small is said, never tested.** A segment in which either arm lacks the metric's minimum
  sample (``min_units`` units, ``min_nonzero`` of them non-zero) gets no p-value, no interval and
  no outcome: it shows as ``too small``, and it is not counted in the correction below.
- **Benjamini–Hochberg across the segments.** The p-values of every tested (segment, arm) pair of
  one metric and dimension form one family, adjusted by BH (false discovery rate at ``alpha``);
  a segment is ``better`` or ``worse`` only when its adjusted p-value is below ``alpha``. Its
  interval is the false-coverage-rate adjusted one of Benjamini & Yekutieli (2005): built at level
  ``1 - R·alpha/m`` for ``m`` tests and ``R`` discoveries (``1 - alpha/m`` when there are none),
  so an interval excludes zero exactly when its segment is a discovery.
- **An interaction test before any story.** Cochran's Q tests whether the absolute lifts of the
  tested segments are all equal (``Q = Σ w_i (d_i - d̄)²``, ``w_i = 1/se_i²``, chi-square with
  ``k - 1`` degrees of freedom), the inverse-variance form of the test of a treatment × segment
  interaction. A large p-value means the data cannot tell the segments apart, whatever one
  segment's lift looks like.

Everything is computed from the per-segment summaries (:attr:`Summaries.by_dimension`); the
intervals are fixed-horizon (segment reading is exploratory, after the fact: the sequential
guarantee covers the decision metric overall, not a search over segments).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sameday.analysis.comparisons import Role, arm_value, compare, shortfall
from sameday.analysis.metric_sql import columns
from sameday.analysis.stats import distributions as dist
from sameday.analysis.stats.frequentist import Comparison
from sameday.analysis.stats.multiple import benjamini_hochberg
from sameday.analysis.stats.summary import ArmSummary
from sameday.analysis.summaries import Summaries
from sameday.config.metric import Metric
from sameday.errors import StatsInputError

SegmentOutcome = Literal["better", "worse", "flat", "too small"]


@dataclass(frozen=True)
class SegmentEffect:
    """One treatment arm against the control within one segment.

    ``lift``, ``ci_low`` and ``ci_high`` are the relative lift and its interval at the corrected
    level (:attr:`SegmentEffects.level`); ``absolute`` and ``absolute_se`` the absolute lift the
    interaction test reads. For a segment that is ``too small`` every statistic is NaN and
    ``note`` says what it lacks.
    """

    value: str
    arm: str
    n_control: int
    n_treatment: int
    control: float
    treatment: float
    lift: float
    ci_low: float
    ci_high: float
    absolute: float
    absolute_se: float
    p_value: float
    p_adjusted: float
    outcome: SegmentOutcome
    note: str | None = None


@dataclass(frozen=True)
class Interaction:
    """Cochran's Q over the tested segments of one treatment arm: do the lifts differ at all?"""

    arm: str
    statistic: float
    df: int
    p_value: float

    def differs(self, alpha: float) -> bool:
        """Whether the segments' lifts differ at level ``alpha``."""
        return bool(self.p_value < alpha)


@dataclass(frozen=True)
class SegmentEffects:
    """A metric's effects per segment of one dimension, for every treatment arm.

    ``level`` is the confidence level of the intervals after the correction; ``interactions``
    holds one test per treatment arm with at least two tested segments.
    """

    dimension: str
    metric: str
    role: Role
    method: str
    direction: str
    control: str
    alpha: float
    level: float
    tested: int
    discoveries: int
    effects: tuple[SegmentEffect, ...]
    interactions: tuple[Interaction, ...]

    @property
    def headline(self) -> str:
        """One sentence: which segments differ, and whether the interaction test backs it."""
        wins = [e for e in self.effects if e.outcome in ("better", "worse")]
        small = sum(e.outcome == "too small" for e in self.effects)
        told = (
            "; ".join(f"{e.value} ({e.arm}: {e.outcome}, {e.lift:+.1%})" for e in wins)
            if wins
            else "no segment differs from the control after the correction"
        )
        tests = ", ".join(
            f"{i.arm}: p = {i.p_value:.3g}"
            + (" (the effect differs between segments)" if i.differs(self.alpha) else "")
            for i in self.interactions
        )
        parts = [f"{self.metric} by {self.dimension}: {told}"]
        if tests:
            parts.append(f"interaction test {tests}")
        if small:
            parts.append(f"{small} segment-arm pair{'s' if small != 1 else ''} too small to say")
        return "; ".join(parts)


def segment_effects(
    summaries: Summaries,
    roles: Sequence[tuple[Metric, Role]],
    *,
    dimension: str,
    control: str,
    treatments: Sequence[str],
    alpha: float,
) -> list[SegmentEffects]:
    """Every metric's segment effects along ``dimension`` (see the module docstring).

    Raises:
        KeyError: ``summaries`` were not broken down by ``dimension``.
    """
    cells = summaries.by_dimension[dimension]
    values = sorted({value for (_, _, value) in cells})
    out: list[SegmentEffects] = []
    for col, (metric, role) in zip(columns([m for m, _ in roles]), roles, strict=True):
        empty = summaries.empty(metric.name)
        drafts: list[_Draft] = []
        for value in values:
            base = cells.get((metric.name, control, value), empty)
            for arm in treatments:
                treated = cells.get((metric.name, arm, value), empty)
                drafts.append(_draft(col.kind, metric, value, control, arm, base, treated, alpha))
        out.append(_corrected(dimension, metric, role, col.kind, control, drafts, alpha))
    return out


@dataclass(frozen=True)
class _Draft:
    value: str
    arm: str
    control: ArmSummary
    treatment: ArmSummary
    comparison: Comparison | None
    note: str | None


def _draft(
    method: str,
    metric: Metric,
    value: str,
    control: str,
    arm: str,
    base: ArmSummary,
    treated: ArmSummary,
    alpha: float,
) -> _Draft:
    missing = shortfall(metric, {control: base, arm: treated})
    if missing is not None:
        return _Draft(value, arm, base, treated, None, missing.replace("for a verdict", "to say"))
    try:
        comparison = compare(method, base, treated, alpha, nonnegative=metric.nonnegative)
    except StatsInputError as exc:
        return _Draft(value, arm, base, treated, None, f"cannot compare: {exc}")
    return _Draft(value, arm, base, treated, comparison, None)


def _corrected(
    dimension: str,
    metric: Metric,
    role: Role,
    method: str,
    control: str,
    drafts: list[_Draft],
    alpha: float,
) -> SegmentEffects:
    raw = [_p(d.comparison.relative.p_value) for d in drafts if d.comparison is not None]
    corrected = benjamini_hochberg(raw) if raw else []
    discoveries = sum(p < alpha for p in corrected)
    adjusted = iter(corrected)
    # Benjamini–Yekutieli's false-coverage-rate level: R·alpha/m (alpha/m without discoveries)
    corrected_alpha = max(discoveries, 1) * alpha / max(len(raw), 1)
    effects = [
        _effect(
            d,
            method,
            metric,
            alpha,
            corrected_alpha,
            None if d.comparison is None else next(adjusted),
        )
        for d in drafts
    ]
    interactions = []
    for arm in dict.fromkeys(d.arm for d in drafts):
        mine = [e for e in effects if e.arm == arm and e.outcome != "too small"]
        test = cochran_q([e.absolute for e in mine], [e.absolute_se for e in mine])
        if test is not None:
            interactions.append(Interaction(arm, *test))
    return SegmentEffects(
        dimension=dimension,
        metric=metric.name,
        role=role,
        method=method,
        direction=metric.direction,
        control=control,
        alpha=alpha,
        level=1.0 - corrected_alpha,
        tested=len(raw),
        discoveries=discoveries,
        effects=tuple(effects),
        interactions=tuple(interactions),
    )


def _effect(
    draft: _Draft,
    method: str,
    metric: Metric,
    alpha: float,
    corrected_alpha: float,
    p_adjusted: float | None,
) -> SegmentEffect:
    """The segment's row: the comparison at the corrected level, or ``too small``."""
    base, treated = draft.control, draft.treatment
    c_value = arm_value(method, base) if base.n else math.nan
    t_value = arm_value(method, treated) if treated.n else math.nan
    if draft.comparison is None or p_adjusted is None:
        nan = math.nan
        return SegmentEffect(
            draft.value,
            draft.arm,
            base.n,
            treated.n,
            c_value,
            t_value,
            lift=nan,
            ci_low=nan,
            ci_high=nan,
            absolute=nan,
            absolute_se=nan,
            p_value=nan,
            p_adjusted=nan,
            outcome="too small",
            note=draft.note,
        )
    wide = compare(method, base, treated, corrected_alpha, nonnegative=metric.nonnegative)
    rel = wide.relative
    return SegmentEffect(
        draft.value,
        draft.arm,
        base.n,
        treated.n,
        c_value,
        t_value,
        lift=rel.point,
        ci_low=rel.ci_low,
        ci_high=rel.ci_high,
        absolute=wide.absolute.point,
        absolute_se=wide.absolute.se,
        p_value=_p(rel.p_value),
        p_adjusted=p_adjusted,
        outcome=_outcome(rel.point, p_adjusted, alpha, metric.direction),
    )


def cochran_q(effects: Sequence[float], ses: Sequence[float]) -> tuple[float, int, float] | None:
    """Cochran's Q test that ``effects`` (with standard errors ``ses``) are equal.

    Returns ``(Q, df, p-value)``, or ``None`` with fewer than two usable effects (a standard
    error of zero or an undefined effect carries no weight the test can use).
    """
    d = np.asarray(effects, dtype=np.float64)
    se = np.asarray(ses, dtype=np.float64)
    usable = np.isfinite(d) & np.isfinite(se) & (se > 0)
    d, se = d[usable], se[usable]
    if d.size < 2:
        return None
    w = 1.0 / se**2
    pooled = float(np.sum(w * d) / np.sum(w))
    q = float(np.sum(w * (d - pooled) ** 2))
    df = int(d.size - 1)
    return q, df, float(dist.chdtrc(df, q))  # the chi-square survival function


def _p(value: float) -> float:
    """An undefined p-value (a control of exactly zero) counts as no evidence."""
    return 1.0 if math.isnan(value) else value


def _outcome(point: float, p_adjusted: float, alpha: float, direction: str) -> SegmentOutcome:
    if p_adjusted >= alpha or math.isnan(point):
        return "flat"
    return "better" if (point > 0) == (direction == "increase") else "worse"
