"""Comparisons that need a second per-unit quantity ``x``: ratio metrics and CUPED.

**Ratio metrics** (revenue per session, clicks per impression) divide two per-unit sums whose
units are the randomisation units: ``r = Σy / Σx``. Units are independent, the sessions within a
unit are not, so the variance comes from the delta method over units (Deng et al., 2018):
``var(r) = (var(y)/x̄² - 2·ȳ·cov(x, y)/x̄³ + ȳ²·var(x)/x̄⁴) / n``.

**CUPED** (Deng, Xu, Kohavi and Walker, 2013) subtracts ``θ·x`` from each unit's metric, ``x`` being
the same metric measured before exposure. With ``θ = cov(x, y) / var(x)`` the variance shrinks by
``ρ²`` (the squared pre/post correlation) and, because ``x`` is measured before randomisation takes
effect, the expected lift is unchanged. ``θ`` is pooled across the arms (within-arm covariances and
variances weighted by their degrees of freedom) so that both arms are adjusted identically.
"""

from __future__ import annotations

from dataclasses import replace

from sameday.analysis.stats.errors import check_alpha
from sameday.analysis.stats.frequentist import Comparison, LiftInputs, from_lift, lift_of
from sameday.analysis.stats.summary import ArmSummary
from sameday.errors import StatsInputError


def ratio(summary: ArmSummary) -> tuple[float, float]:
    """The arm's ratio ``Σy/Σx`` and the variance of that ratio by the delta method."""
    mean_y, mean_x = summary.mean, summary.mean_x
    if mean_x == 0:
        raise StatsInputError(
            "the ratio's denominator sums to zero in an arm; a ratio metric needs a denominator "
            "event that every analysed arm has seen"
        )
    var = (
        summary.variance() / mean_x**2
        - 2 * mean_y * summary.covariance() / mean_x**3
        + mean_y**2 * summary.variance_x() / mean_x**4
    ) / summary.n
    return mean_y / mean_x, max(var, 0.0)


def compare_ratios(
    control: ArmSummary, treatment: ArmSummary, *, alpha: float = 0.05, nonnegative: bool = True
) -> Comparison:
    """Welch test on a ratio metric: ``y`` is the numerator, ``x`` the denominator, per unit.

    ``nonnegative``: the ratio cannot be negative, so its relative lift is >= -100%.
    """
    check_alpha(alpha)
    inputs = ratio_inputs(control, treatment)
    return from_lift(
        "ratio",
        control,
        treatment,
        (inputs.est_a, inputs.est_b),
        lift_of(inputs),
        alpha,
        nonnegative=nonnegative,
    )


def ratio_inputs(control: ArmSummary, treatment: ArmSummary) -> LiftInputs:
    """The arms' ratios and their variances, as :func:`compare_ratios` compares them.

    Raises:
        StatsInputError: an arm has fewer than two units, no x sums, or a zero denominator.
    """
    _require_x(control, "control", 2)
    _require_x(treatment, "treatment", 2)
    r_a, v_a = ratio(control)
    r_b, v_b = ratio(treatment)
    return LiftInputs(r_a, v_a, control.n, r_b, v_b, treatment.n, r_a, v_a, v_a)


def pooled_theta(control: ArmSummary, treatment: ArmSummary) -> float:
    """The CUPED coefficient ``θ = Σ_arms cov(x, y)·(n-1) / Σ_arms var(x)·(n-1)``.

    Returns 0 (no adjustment) when the covariate does not vary.
    """
    cov = sum(s.covariance() * (s.n - 1) for s in (control, treatment))
    var_x = sum(s.variance_x() * (s.n - 1) for s in (control, treatment))
    return cov / var_x if var_x > 0 else 0.0


def compare_cuped(
    control: ArmSummary,
    treatment: ArmSummary,
    *,
    alpha: float = 0.05,
    theta: float | None = None,
    nonnegative: bool = True,
) -> Comparison:
    """Welch test on CUPED-adjusted means; ``x`` is the pre-exposure covariate.

    Args:
        control, treatment: arm summaries with ``sum_x``, ``sum_x_sq`` and ``sum_xy``.
        alpha: level of the intervals.
        theta: the adjustment coefficient; by default :func:`pooled_theta`.
        nonnegative: the metric's values cannot be negative (its relative lift is >= -100%).

    Returns:
        A comparison whose ``control`` and ``treatment`` are the unadjusted means, whose lifts
        are adjusted, and which records ``theta`` and the variance reduction achieved.
    """
    check_alpha(alpha)
    coef, inputs = cuped_inputs(control, treatment, theta=theta)
    lift = lift_of(inputs)
    unadjusted = inputs.var_base + treatment.variance() / treatment.n
    reduction = 1 - float(lift.se_absolute) ** 2 / unadjusted if unadjusted > 0 else 0.0
    result = from_lift(
        "cuped",
        control,
        treatment,
        (control.mean, treatment.mean),
        lift,
        alpha,
        nonnegative=nonnegative,
    )
    return replace(result, theta=coef, variance_reduction=reduction)


def cuped_inputs(
    control: ArmSummary, treatment: ArmSummary, *, theta: float | None = None
) -> tuple[float, LiftInputs]:
    """The coefficient used (by default :func:`pooled_theta`) and the adjusted means of the arms
    with their variances, as :func:`compare_cuped` compares them.

    The relative lift's denominator is the control's unadjusted mean.

    Raises:
        StatsInputError: an arm has fewer than two units or no x sums.
    """
    _require_x(control, "control", 2)
    _require_x(treatment, "treatment", 2)
    coef = pooled_theta(control, treatment) if theta is None else theta
    mean_a, var_a = _adjusted(control, coef)
    mean_b, var_b = _adjusted(treatment, coef)
    return coef, LiftInputs(
        mean_a,
        var_a,
        control.n,
        mean_b,
        var_b,
        treatment.n,
        control.mean,
        control.variance() / control.n,
        # cov(ȳ - θx̄, ȳ) for the control arm.
        (control.variance() - coef * control.covariance()) / control.n,
    )


def _adjusted(summary: ArmSummary, theta: float) -> tuple[float, float]:
    """Mean of ``y - θx`` and its variance of the mean."""
    var = summary.variance() - 2 * theta * summary.covariance() + theta**2 * summary.variance_x()
    return summary.mean - theta * summary.mean_x, max(var, 0.0) / summary.n


def _require_x(summary: ArmSummary, arm: str, minimum: int) -> None:
    summary.require(minimum, arm)
    if not summary.has_x:
        raise StatsInputError(
            f"arm {arm!r} has no x sums (sum_x, sum_x_sq, sum_xy); ratio metrics need the "
            "denominator and CUPED needs the pre-exposure covariate"
        )
