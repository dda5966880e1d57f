"""``sameday monitor score``: run the anomaly detector over one series in a CSV file.

This is the detector's public benchmark interface (the NAB benchmark drives it): it reads
``timestamp,value`` rows and writes ``timestamp,value,anomaly_score,alarm``, one row per input
row in the same order. Keep the columns stable.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path

import click

from sameday.monitor.presets import PRESETS


@click.command("score")
@click.argument("series", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the scored CSV here (default: standard output).",
)
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="default",
    show_default=True,
    help="Detector sensitivity.",
)
@click.option(
    "--direction",
    type=click.Choice(["both", "drop", "rise"]),
    default="both",
    show_default=True,
    help="Which deviations count.",
)
def score(series: Path, output: Path | None, preset: str, direction: str) -> None:
    """Score SERIES (a CSV with timestamp,value columns) causally with the anomaly detector.

    Writes timestamp,value,anomaly_score,alarm: anomaly_score in [0, 1] (how far the point beats
    the largest deviation of its kind in the lookback; 0 while learning or during the cooldown
    after an alarm) and alarm 1 where the preset's threshold fires.

    Example: `sameday monitor score nyc_taxi.csv -o scored.csv`
    """
    from sameday.monitor.detector import detect
    from sameday.monitor.presets import preset as settings_of

    stamps, rows, values = _read(series)
    detection = detect(stamps, values, settings_of(preset, direction=direction))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score", "alarm"])
    for i, (stamp_text, value_text) in enumerate(rows):
        writer.writerow(
            [stamp_text, value_text, f"{detection.score[i]:.6f}", int(detection.alarm[i])]
        )
    if output is None:
        sys.stdout.write(buffer.getvalue())
        return
    output.write_text(buffer.getvalue(), encoding="utf-8")
    click.echo(
        f"{series.name}: {len(detection)} points, {int(detection.learning.sum())} learning,"
        f" {_count(int(detection.alarm.sum()), 'alarm')} -> {output}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _read(path: Path) -> tuple[list[datetime], list[tuple[str, str]], list[float]]:
    """The file's timestamps, its rows as written (echoed in the output), and the values.

    Raises:
        click.BadParameter: a missing column or an unreadable row, named by its line number.
    """
    stamps: list[datetime] = []
    rows: list[tuple[str, str]] = []
    values: list[float] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "timestamp" not in columns or "value" not in columns:
            raise click.BadParameter(
                f"{path} has columns {columns}: it needs a header with timestamp and value",
                param_hint="SERIES",
            )
        for row in reader:
            line = reader.line_num
            try:
                stamps.append(datetime.fromisoformat(row["timestamp"].strip()))
                number = float(row["value"])
            except (ValueError, AttributeError) as exc:
                raise click.BadParameter(
                    f"{path}:{line}: cannot read timestamp {row['timestamp']!r} and value"
                    f" {row['value']!r} ({exc}); timestamps look like 2024-05-01 13:00:00",
                    param_hint="SERIES",
                ) from None
            if number != number or number in (float("inf"), float("-inf")):
                raise click.BadParameter(
                    f"{path}:{line}: value {row['value']!r} is not a finite number; drop or"
                    " fill missing points first",
                    param_hint="SERIES",
                )
            rows.append((row["timestamp"].strip(), row["value"].strip()))
            values.append(number)
    if not values:
        raise click.BadParameter(f"{path} has no rows to score", param_hint="SERIES")
    return stamps, rows, values
