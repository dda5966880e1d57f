"""``sameday status``: pipelines, result sets, running experiments and open alerts at a glance."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sameday import design_registry
from sameday.cli._common import echo_json, json_option, project_option

if TYPE_CHECKING:
    from rich.console import Console

    from sameday.monitor.status import Status

_STATES = {"succeeded": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}


@click.command("status")
@project_option
@json_option
def status(project_dir: Path | None, as_json: bool) -> None:
    """Show the loop's health: every pipeline's last run and whether it is late, every result
    set's live snapshot and its change, running experiments' traffic and sample ratio, and
    open alerts.

    Colour on a terminal, plain text when piped; --json for scripts.
    """
    from datetime import UTC

    from rich.console import Console

    from sameday.config import load_project
    from sameday.monitor.status import status as board

    found = board(load_project(project_dir), datetime.now(UTC))
    if as_json:
        echo_json(dataclasses.asdict(found))
        return
    render(Console(), found)


def render(console: Console, found: Status) -> None:
    """Print the board as four tables (sections with nothing to show say so in one line)."""
    from rich.table import Table

    from sameday.monitor.freshness import age_text

    console.print(f"[bold]{found.project}[/] at {found.now:%Y-%m-%d %H:%M:%S %Z}")
    pipelines = Table(title="Pipelines", title_justify="left")
    for header in ("pipeline", "last run", "state", "started", "took (median)", "next run", ""):
        pipelines.add_column(header, overflow="fold")
    for p in found.pipelines:
        took = age_text(p.duration) if p.duration is not None else "-"
        median = f" ({age_text(p.median_duration)})" if p.median_duration is not None else ""
        pipelines.add_row(
            p.name,
            p.last_run or "never",
            f"[{_STATES.get(p.state or '', 'white')}]{p.state or '-'}[/]",
            f"{p.started_at:%m-%d %H:%M}" if p.started_at else "-",
            (f"[yellow]{took}[/]" if p.unusual_duration else took) + median,
            f"{p.next_run:%m-%d %H:%M}" if p.next_run else "unscheduled",
            "[red]late[/]" if p.late else "[green]on time[/]",
        )
    _print(console, pipelines, found.pipelines, "No pipelines declared.")
    for p in found.pipelines:
        if p.late:
            console.print(f"[red]{p.name} is late: {p.why}[/]")

    results = Table(title="Result sets", title_justify="left")
    for header in ("result set", "live", "age", "rows", "keys", "drift"):
        results.add_column(header, overflow="fold")
    for r in found.result_sets:
        if r.version is None:
            results.add_row(r.name, "[red]never published[/]", "-", "-", "-", "")
            continue
        age = age_text(r.age or 0.0)
        results.add_row(
            r.name,
            r.version,
            f"[red]{age} (max {age_text(r.max_age or 0)})[/]" if r.stale else age,
            _counted(r.rows, r.rows_change),
            _counted(r.keys, r.keys_change),
            f"[yellow]{len(r.drift)} warning(s)[/]" if r.drift else "[green]ok[/]",
        )
    _print(console, results, found.result_sets, "No result sets declared.")
    for r in found.result_sets:
        for summary in r.drift:
            console.print(f"[yellow]drift: {summary}[/]")

    experiments = Table(title="Running experiments", title_justify="left")
    for header in ("experiment", "design", "last hour", "last day", "units per arm", "ratio"):
        experiments.add_column(header, overflow="fold")
    for e in found.experiments:
        units = (
            ", ".join(f"{a.name} {a.units:,} ({a.weight:.0%})" for a in e.arms)
            if design_registry.design(e.design).fixed_split
            else f"{e.units:,} ({e.design}: " + ", ".join(a.name for a in e.arms) + ")"
        )
        ratio = e.srm if e.srm_p is None else f"{e.srm} (p {e.srm_p:.3g})"
        colour = {"mismatch": "red", "ok": "green"}.get(e.srm, "white")
        experiments.add_row(
            e.name,
            e.design,
            f"{e.exposures_hour:,}",
            f"{e.exposures_day:,}",
            units,
            f"[{colour}]{ratio}[/]",
        )
    _print(console, experiments, found.experiments, "No experiment is running.")
    for e in found.experiments:
        if e.stopped_by is not None:
            console.print(f"[red]{e.name} was stopped by its health check: {e.stopped_by}[/]")

    if not found.alerts:
        console.print("[green]No open alerts.[/]")
        return
    alerts = Table(title="Open alerts", title_justify="left")
    for header in ("since", "severity", "monitor", "subject", "summary"):
        alerts.add_column(header, overflow="fold")
    for a in found.alerts:
        colour = "red" if a.get("severity") == "critical" else "yellow"
        since = a.get("opened_at")
        alerts.add_row(
            f"{since:%m-%d %H:%M}" if isinstance(since, datetime) else str(since or "-"),
            f"[{colour}]{a.get('severity', '-')}[/]",
            str(a.get("monitor", "-")),
            str(a.get("subject", "-")),
            str(a.get("summary", "")),
        )
    console.print(alerts)


def _print(console: Console, table: object, rows: Sequence[object], empty: str) -> None:
    console.print(table if rows else empty)


def _counted(value: int | None, change: float | None) -> str:
    if value is None:
        return "-"
    if change is None:
        return f"{value:,}"
    colour = "yellow" if abs(change) > 0.2 else "white"
    return f"{value:,} [{colour}]({change:+.1%})[/]"


COMMANDS = [status]
