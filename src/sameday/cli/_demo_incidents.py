"""``sameday demo --days 60 --incidents``: the quickstart through days of known incidents.

The work is :func:`sameday.sim.timeline.run_timeline`; this prints its grading: for every
incident whether the metric monitors caught it and how many daily checks late, and every alert
opened on a day no incident touched (a false alarm).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def incidents_demo(users: int | None, seed: int, folder: Path | None, days: int) -> None:
    """Run the timeline and print its grading (see the module docstring)."""
    import dataclasses

    from sameday.demo import prepare_folder
    from sameday.sim.timeline import MONITOR, TimelineSettings, run_timeline

    settings = TimelineSettings(days=days, seed=seed)
    if users is not None:
        settings = dataclasses.replace(settings, users=users, visits=users // 2)
    target = prepare_folder(folder or Path(tempfile.mkdtemp(prefix="sameday-incidents-")))
    console = Console()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("simulated days", total=days)
        result = run_timeline(settings, target, lambda day: progress.advance(task))
    table = Table(title=f"Incidents over {days} days (seed {seed}): caught by the metric monitors?")
    for column in ("incident", "days", "size", "detected", "late", "first alert"):
        table.add_column(column)
    for found in result.detections:
        incident, alert = found.incident, found.alert
        span = str(incident.start) if incident.days == 1 else f"{incident.start}-{incident.end}"
        late = "-" if found.late is None else f"{found.late} check(s)"
        table.add_row(
            incident.kind,
            span,
            f"{incident.size:.0%}",
            "[green]yes[/]" if alert else "[red]no[/]",
            late,
            "" if alert is None else f"{alert.check} {alert.subject}",
        )
    console.print(table)
    if not result.detections:
        console.print("No incidents: a timeline shorter than 40 days only learns.")
    false = Counter(alert.check for alert in result.false_alarms)
    console.print(
        f"False alarms on incident-free days: {len(result.false_alarms)} "
        + (f"({', '.join(f'{c} {n}' for c, n in sorted(false.items()))})" if false else "")
    )
    for alert in result.false_alarms:
        console.print(f"  day {alert.day}: {alert.check} {alert.subject}: {alert.summary}")
    visits = sum(day.visits for day in result.days)
    stages = ", ".join(f"{name} {value:.0f}s" for name, value in result.timings.items())
    console.print(
        f"{visits:,} visits, {len(result.checks)} series checked daily; {stages}; total "
        f"{result.seconds:.0f}s.\nThe project is in {result.folder}: `sameday alerts --all` "
        f"lists the incidents the '{MONITOR}' monitor opened."
    )
