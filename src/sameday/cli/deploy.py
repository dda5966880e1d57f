"""``sameday plan``, ``apply`` and ``experiments``: the applied state against the project files."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option


@click.command("plan")
@project_option
@json_option
def plan(project_dir: Path | None, as_json: bool) -> None:
    """Show what `sameday apply` would change: new, changed and removed objects.

    Readable in a pull request; exits 1 when apply would refuse the change.
    """
    from sameday.config import load_project
    from sameday.deploy.apply import plan_project
    from sameday.deploy.plan import render_plan

    result = plan_project(load_project(project_dir))
    if as_json:
        echo_json(
            {
                "changes": [
                    {
                        "action": c.action,
                        "kind": c.kind,
                        "name": c.name,
                        "fields": [{"field": f, "before": b, "after": a} for f, b, a in c.fields],
                    }
                    for c in result.changes
                ],
                "refusals": result.refusals,
            }
        )
    else:
        click.echo(render_plan(result))
    if result.refusals:
        raise SystemExit(1)


@click.command("apply")
@project_option
def apply(project_dir: Path | None) -> None:
    """Apply the project files atomically: running servers pick the change up within seconds.

    Refuses (and changes nothing) when two running experiments on one surface could draw the same
    units (the second would be starved), when a running experiment's result sets have no live
    snapshot, or when a change would silently move units between arms.
    """
    from sameday.config import load_project
    from sameday.deploy.apply import apply_project
    from sameday.deploy.plan import render_plan

    result = apply_project(load_project(project_dir))
    click.echo(render_plan(result.plan))
    for name in result.acknowledged:
        click.echo(f"Acknowledged the stop of {name} by its health check.")
    click.echo("Applied." if result.applied else "Nothing to apply.")


@click.command("experiments")
@project_option
@json_option
def experiments(project_dir: Path | None, as_json: bool) -> None:
    """List applied experiments with their surface, design, phase, arms and traffic share.

    A running experiment's share is the part of its surface's requests (those matching its
    targeting) it is served: its layer slice times its coverage, less what experiments tried
    before it on the same surface take. A test its health check stopped (``health:
    {auto_stop: true}``) is listed with the reason, until its file says ``phase: stopped``.
    """
    from sameday.config import load_project
    from sameday.deploy.experiments import applied_experiments

    rows = [dataclasses.asdict(e) for e in applied_experiments(load_project(project_dir))]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No experiments applied yet: run 'sameday apply'.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("experiment", "surface", "design", "phase", "share", "arms", "winner")
    for row in rows:
        table.add_row(
            row["name"],
            row["surface"],
            row["design"],
            row["phase"],
            "" if row["share"] is None else f"{row['share']:.1%}",
            ", ".join(row["arms"]),
            row["winner"] or "",
        )
    Console().print(table)
    for row in rows:
        if row["stopped_by"] is not None:
            stop = row["stopped_by"]
            at = datetime.fromisoformat(stop["stopped_at"])
            click.echo(
                f"{row['name']}: stopped by {stop['cause']} at {at:%Y-%m-%d %H:%M} UTC: "
                f"{stop['summary']}"
            )


COMMANDS = [plan, apply, experiments]
