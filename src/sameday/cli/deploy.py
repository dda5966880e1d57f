"""``sameday plan``, ``apply`` and ``experiments``: the applied state against the project files."""

from __future__ import annotations

from pathlib import Path

import click

from sameday.cli._common import echo_json, json_option, project_option


def _open(project_dir: Path | None):  # type: ignore[no-untyped-def]
    from sameday.config import load_project

    project = load_project(project_dir)
    return project, project.open_metadata()


@click.command("plan")
@project_option
@json_option
def plan(project_dir: Path | None, as_json: bool) -> None:
    """Show what `sameday apply` would change: new, changed and removed objects.

    Readable in a pull request; exits 1 when apply would refuse the change.
    """
    from sameday.deploy.apply import plan_project
    from sameday.deploy.plan import render_plan

    project, metadata = _open(project_dir)
    with metadata:
        result = plan_project(project, metadata)
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
    from sameday.deploy.apply import apply_project
    from sameday.deploy.plan import render_plan

    project, metadata = _open(project_dir)
    with metadata:
        result = apply_project(project, metadata)
    click.echo(render_plan(result.plan))
    click.echo("Applied." if result.applied else "Nothing to apply.")


@click.command("experiments")
@project_option
@json_option
def experiments(project_dir: Path | None, as_json: bool) -> None:
    """List applied experiments with their surface, design, phase, arms and traffic share.

    A running experiment's share is the part of its surface's requests (those matching its
    targeting) it is served: its layer slice times its coverage, less what experiments tried
    before it on the same surface take.
    """
    from sameday.config.experiment import Experiment
    from sameday.config.traffic import shares

    _, metadata = _open(project_dir)
    with metadata:
        applied = metadata.applied("experiment")
    share = shares(Experiment.model_validate(o.spec) for o in applied)
    rows = [
        {
            "name": o.name,
            "surface": o.spec["surface"],
            "design": o.spec["design"],
            "phase": o.spec["phase"],
            "arms": [a["name"] for a in o.spec["arms"]],
            "winner": o.spec.get("winner"),
            "share": share.get(o.name),
            "applied_at": o.applied_at,
        }
        for o in applied
    ]
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


COMMANDS = [plan, apply, experiments]
