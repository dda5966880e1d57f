"""``sameday bandit``: update a bandit's posteriors now, and show its parameter snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option


@click.group("bandit")
def bandit() -> None:
    """Bandit experiments: posterior updates and parameter snapshots."""


@bandit.command("update")
@project_option
@click.argument("experiment")
@json_option
def update(project_dir: Path | None, experiment: str, as_json: bool) -> None:
    """Count new rewards of EXPERIMENT and save its next parameter snapshot.

    `sameday serve` does this every bandit.update_interval; run it by hand to refresh now.
    """
    from sameday.policies.run import update_project_bandit

    result = update_project_bandit(project_dir, experiment)
    if as_json:
        echo_json(
            {
                "experiment": result.experiment,
                "version": result.version,
                "saved": result.saved,
                "counted": result.counted,
                "rewarded": result.rewarded,
                "params": result.params.to_json(),
            }
        )
        return
    if not result.saved:
        click.echo(
            f"{experiment}: no exposure's reward window closed since version "
            f"{result.version}; nothing to update"
        )
        return
    click.echo(
        f"{experiment}: version {result.version}, counted {result.counted} exposure(s), "
        f"{result.rewarded} rewarded"
    )
    for arm, share, s, n in zip(
        result.params.arms,
        result.params.allocation,
        result.params.successes,
        result.params.trials,
        strict=True,
    ):
        click.echo(f"  {arm}: {s}/{n} rewarded, serving {share:.1%}")


@bandit.command("history")
@project_option
@click.argument("experiment")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
def history(project_dir: Path | None, experiment: str, limit: int, as_json: bool) -> None:
    """List EXPERIMENT's parameter snapshots, newest (live) first."""
    from sameday.policies.run import project_bandit_history

    records = project_bandit_history(project_dir, experiment, limit)
    if as_json:
        echo_json(
            [
                {"version": r.version, "created_at": r.created_at.isoformat(), "params": r.params}
                for r in records
            ]
        )
        return
    if not records:
        click.echo(f"{experiment}: no parameter snapshot yet (run sameday bandit update)")
    for r in records:
        shares = ", ".join(
            f"{arm} {share:.1%}"
            for arm, share in zip(r.params["arms"], r.params["allocation"], strict=True)
        )
        when = r.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"v{r.version}  {when}  {shares}")


COMMANDS = [bandit]
