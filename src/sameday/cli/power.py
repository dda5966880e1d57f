"""``sameday power``: how many units, and how many days, a test needs to detect its effect."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option
from sameday.errors import NotFound


@click.command("power")
@click.option("--baseline", type=float, help="Control's expected rate (or mean, with --sd).")
@click.option("--mde", type=float, help="Minimum detectable effect (0.05 = +5% when relative).")
@click.option(
    "--relative/--absolute",
    default=True,
    show_default=True,
    help="Whether --mde is relative to the baseline or in the metric's units.",
)
@click.option("--daily-units", type=click.FloatRange(min=0, min_open=True), help="Units a day.")
@click.option("--arms", type=click.IntRange(min=2), help="Arms including the control [2].")
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Two-sided significance level [0.05, or the plan's].",
)
@click.option(
    "--power",
    "power_",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Chance to detect the effect if it is real [0.8, or the plan's].",
)
@click.option(
    "--cupedrho",
    type=click.FloatRange(-1, 1, min_open=True, max_open=True),
    default=0.0,
    help="Expected pre/post correlation when CUPED is used (shrinks n by 1 - rho²).",
)
@click.option(
    "--sd",
    type=click.FloatRange(min=0, min_open=True),
    help="Per-unit standard deviation: plan a mean metric (Cohen's d = effect / sd).",
)
@click.option(
    "--variance",
    type=click.Choice(["pooled", "unpooled"]),
    default="pooled",
    show_default=True,
    help="Proportions: variance under the null (pooled) or the alternative only (unpooled).",
)
@click.option("--continuity", is_flag=True, help="Proportions: Fleiss' continuity correction.")
@click.option("--experiment", help="Take the defaults from this experiment's plan and arms.")
@project_option
@json_option
def power(
    baseline: float | None,
    mde: float | None,
    relative: bool,
    daily_units: float | None,
    arms: int | None,
    alpha: float | None,
    power_: float | None,
    cupedrho: float,
    sd: float | None,
    variance: str,
    continuity: bool,
    experiment: str | None,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """Sample size per arm, in total, and duration for a test of a proportion or a mean.

    Example: `sameday power --baseline 0.1 --mde 0.1 --daily-units 5000` (10% → 11%).
    With --experiment NAME the plan in experiments/NAME.yaml fills the options you omit.
    """
    from sameday.analysis.stats.power import plan

    if experiment is not None:
        from sameday.config import load_project

        project = load_project(project_dir)
        if experiment not in project.experiments:
            raise NotFound(
                f"no experiment named {experiment!r} in {project.root}; "
                f"known: {', '.join(sorted(project.experiments)) or 'none'}"
            )
        spec = project.experiments[experiment]
        baseline = spec.plan.baseline if baseline is None else baseline
        mde = spec.plan.mde if mde is None else mde
        daily_units = spec.plan.daily_units if daily_units is None else daily_units
        arms = len(spec.arms) if arms is None else arms
        alpha = spec.plan.alpha if alpha is None else alpha
        power_ = spec.plan.power if power_ is None else power_
    if baseline is None or mde is None:
        raise click.UsageError("give --baseline and --mde, or --experiment NAME with a plan")
    result = plan(
        baseline,
        mde,
        relative=relative,
        arms=2 if arms is None else arms,
        alpha=0.05 if alpha is None else alpha,
        power=0.8 if power_ is None else power_,
        daily_units=daily_units,
        cuped_rho=cupedrho,
        sd=sd,
        variance="unpooled" if variance == "unpooled" else "pooled",
        continuity=continuity,
    )
    if as_json:
        echo_json(dataclasses.asdict(result))
        return
    change = f"{result.mde:+.2%} relative" if result.relative else f"{result.mde:+g} absolute"
    if result.metric == "proportion":
        target = result.baseline + result.effect
        click.echo(f"Proportion: {result.baseline:.2%} → {target:.2%} ({change})")
    else:
        click.echo(f"Mean: baseline {result.baseline:g}, {change}, Cohen's d {result.effect:.4g}")
    levels = f"alpha {result.alpha:g} two-sided, power {result.power:g}, {result.arms} arms"
    if result.comparison_alpha != result.alpha:
        levels += f" (each comparison at alpha {result.comparison_alpha:.4g}, Bonferroni)"
    if result.cuped_rho:
        levels += f", CUPED rho {result.cuped_rho:g} (n x {1 - result.cuped_rho**2:.3g})"
    click.echo(levels)
    click.echo(f"Per arm: {result.per_arm:,} units")
    click.echo(f"Total:   {result.total:,} units")
    if result.days is not None and result.daily_units is not None:
        click.echo(f"Duration: {result.days:,} days at {result.daily_units:,.0f} units a day")


COMMANDS = [power]
