"""``sameday ope``: estimate a candidate policy's reward from logged exposures."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option


@click.command("ope")
@project_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["sameday", "obd"]),
    default="sameday",
    show_default=True,
    help="sameday: the project's event log; obd: an Open Bandit Dataset CSV (--logs).",
)
@click.option("--logs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--experiment", default=None, help="Only this experiment's exposures (sameday).")
@click.option(
    "--level",
    type=click.Choice(["item", "arm"]),
    default="item",
    show_default=True,
    help="item: each shown item is a round; arm: each exposure is a round of its arm.",
)
@click.option("--event", default="click", show_default=True, help="The reward outcome.")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    default=["uniform"],
    show_default=True,
    help="uniform, fixed:ACTION, bts:PRIORS.yaml[#campaign] or result-set:NAME (repeatable).",
)
@click.option(
    "--estimator",
    "estimators",
    multiple=True,
    type=click.Choice(["ips", "snips", "dm", "dr"]),
    help="Estimators to run (default: all four).",
)
@click.option("--clip", type=float, default=None, help="Cap on importance weights (IPS, DR).")
@click.option("--n-boot", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@json_option
def ope(
    project_dir: Path | None,
    fmt: str,
    logs: Path | None,
    experiment: str | None,
    level: str,
    event: str,
    policies: tuple[str, ...],
    estimators: tuple[str, ...],
    clip: float | None,
    n_boot: int,
    seed: int,
    as_json: bool,
) -> None:
    """Estimate what candidate policies would have earned per round, from logged propensities.

    Example: sameday ope --format obd --logs bts/all/all.csv --policy uniform
    """
    from rich.console import Console
    from rich.table import Table

    from sameday.ope.run import run_ope

    results = run_ope(
        project_dir=project_dir,
        fmt=fmt,
        logs=logs,
        experiment=experiment,
        level=level,
        event=event,
        policies=list(policies),
        estimators=list(estimators) or None,
        clip=clip,
        n_boot=n_boot,
        seed=seed,
    )
    if as_json:
        echo_json([asdict(r) for r in results])
        return
    table = Table(title=f"off-policy estimates ({results[0].rounds} rounds)")
    for column in ("policy", "estimator", "value", "95% interval"):
        table.add_column(column)
    for r in results:
        table.add_row(r.policy, r.estimator, f"{r.value:.6f}", f"[{r.ci_low:.6f}, {r.ci_high:.6f}]")
    Console().print(table)


COMMANDS = [ope]
