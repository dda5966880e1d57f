"""Copy any sink's events into a Parquet event log: ``sameday events export``.

The records are read through the sink's own ``read_exposures``/``read_outcomes`` (so every
backend exports the same way, with the same filters) and written straight to the files, in
chunks, one file per UTC day per chunk, laid out as the Parquet sink lays them out
(:mod:`sameday.events._lake`): ``sameday report --events`` and the Parquet sink's own reads see an
export and a shipped log alike, and an export into a log that a sink also writes adds to it.

Running an export twice writes the records twice, under new names; readers keep one row per
request and event id (see :mod:`sameday.events.parquet`), so the log still holds each once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

from sameday.events._arrow import TABLE_SCHEMAS, table_of_rows
from sameday.events._columns import exposure_rows, outcome_rows
from sameday.events.parquet import parse_url
from sameday.events.sink import EventSink

CHUNK = 100_000
"""Records per chunk: bounds the memory an export holds (about 200 MB of exposures)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Exported:
    """What an export wrote: records of each table, and files."""

    exposures: int
    outcomes: int
    files: int


def export_events(
    sink: EventSink,
    to: str,
    *,
    since: float | None = None,
    until: float | None = None,
    experiment: str | None = None,
    chunk: int = CHUNK,
) -> Exported:
    """Write ``sink``'s events to the Parquet event log at ``to``.

    Args:
        sink: the log to read (any backend).
        to: a Parquet event log URL (``parquet:///folder``, ``s3://bucket/prefix``; relative
            paths already resolved against the project).
        since, until, experiment: which records, as ``EventSink`` filters them: ``since``
            inclusive, ``until`` exclusive (epoch seconds); an experiment keeps its exposures
            and the outcomes of the units exposed to it.
        chunk: records per chunk (see :data:`CHUNK`).

    Raises:
        StoreUnavailable: the sink cannot be read or the files cannot be written.
        MissingDependency: an object-storage URL, and fsspec or s3fs is not installed.
    """
    lake = parse_url(to).lake
    name = f"export-{uuid.uuid4().hex[:12]}"
    filters: dict[str, Any] = {"since": since, "until": until, "experiment": experiment}
    counts: dict[str, int] = {}
    files = 0
    tables: list[tuple[str, Iterable[Any], Callable[[Any], list[tuple[Any, ...]]]]] = [
        ("exposures", sink.read_exposures(**filters), exposure_rows),
        ("outcomes", sink.read_outcomes(**filters), outcome_rows),
    ]
    for table, records, to_rows in tables:
        counts[table] = 0
        for number, part in enumerate(_chunks(records, chunk)):
            counts[table] += len(part)
            rows = table_of_rows(to_rows(part), TABLE_SCHEMAS[table])
            files += lake.write(table, rows, f"{name}-{number:05d}")
    return Exported(counts["exposures"], counts["outcomes"], files)


def _chunks(records: Iterable[T], size: int) -> Iterator[Sequence[T]]:
    iterator = iter(records)
    while part := list(islice(iterator, size)):
        yield part
