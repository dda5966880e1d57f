"""Progress toward the planned power, and the sequential tuning that follows from the plan.

The plan (``experiments/NAME.yaml: plan``) states a baseline, a minimum detectable effect and the
levels; :func:`sameday.analysis.stats.power.plan` turns them into units per arm. A proportion
metric needs nothing else; a mean, count or ratio metric needs a per-unit standard deviation,
taken from the control arm as observed so far (the plan's baseline stays the plan's). Progress is
the smallest arm's share of its planned units; the days left extrapolate the units a day seen so
far. The plan's per-arm size also tunes the always-valid intervals (``N*`` = two arms' worth), so
they are tightest when the decision is due; without a plan GrowthBook's ``N*`` of 5,000 is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sameday.analysis.stats.power import plan
from sameday.analysis.stats.sequential import DEFAULT_N_STAR, tuning_from_plan
from sameday.analysis.stats.summary import ArmSummary
from sameday.config.experiment import Plan
from sameday.errors import StatsInputError


@dataclass(frozen=True)
class Progress:
    """How far the experiment is toward the sample its plan needs.

    Attributes:
        planned_per_arm: units per arm for the planned power (``None`` without a usable plan).
        planned_total: the same for all arms.
        smallest_arm: units in the smallest arm so far.
        share: ``smallest_arm / planned_per_arm`` (``None`` without a plan).
        days: days with exposures so far.
        daily_units: units entering per day so far (all arms).
        days_left: days until the planned sample at that rate (``None`` without a plan).
        n_star: tuning of the always-valid intervals.
        basis: how the plan was made, in words; or why there is none.
    """

    planned_per_arm: int | None
    planned_total: int | None
    smallest_arm: int
    share: float | None
    days: int
    daily_units: float
    days_left: int | None
    n_star: float
    basis: str


def progress(
    spec: Plan,
    *,
    metric_type: str | None,
    control: ArmSummary | None,
    arms: int,
    counts: list[int],
    days: int,
) -> Progress:
    """Progress of an experiment with ``counts`` units per arm after ``days`` days.

    Args:
        spec: the experiment's plan.
        metric_type: the first primary metric's type (``None``: no primary metric).
        control: the control arm's summary of that metric (its sd plans a non-proportion).
        arms: number of arms.
        counts: units per arm so far.
        days: days with exposures so far.
    """
    smallest = min(counts) if counts else 0
    daily = sum(counts) / days if days else 0.0
    per_arm, basis = _planned(spec, metric_type, control, arms)
    if per_arm is None:
        return Progress(None, None, smallest, None, days, daily, None, DEFAULT_N_STAR, basis)
    total = per_arm * arms
    remaining = max(total - sum(counts), 0)
    days_left = math.ceil(remaining / daily) if daily > 0 else None
    return Progress(
        planned_per_arm=per_arm,
        planned_total=total,
        smallest_arm=smallest,
        share=smallest / per_arm,
        days=days,
        daily_units=daily,
        days_left=days_left,
        n_star=tuning_from_plan(per_arm),
        basis=basis,
    )


def _planned(
    spec: Plan, metric_type: str | None, control: ArmSummary | None, arms: int
) -> tuple[int | None, str]:
    if spec.baseline is None or spec.mde is None:
        return None, "no plan: set plan.baseline and plan.mde in the experiment to track power"
    if metric_type is None:
        return None, "no plan: the experiment has no primary metric"
    sd: float | None = None
    if metric_type != "proportion":
        if control is None or control.n < 2 or not control.variance() > 0:
            return None, "no plan yet: the control's spread is needed for a non-proportion metric"
        sd = math.sqrt(control.variance())
    try:
        result = plan(spec.baseline, spec.mde, arms=arms, alpha=spec.alpha, power=spec.power, sd=sd)
    except StatsInputError as exc:
        return None, f"no plan: {exc}"
    sd_note = "" if sd is None else f", sd {sd:.4g} observed in the control"
    basis = (
        f"baseline {spec.baseline:g}, +{spec.mde:.2%} relative{sd_note}, alpha {spec.alpha:g}, "
        f"power {spec.power:g}: {result.per_arm:,} units per arm"
    )
    return result.per_arm, basis
