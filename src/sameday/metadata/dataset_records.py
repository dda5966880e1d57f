"""What the metadata store hands out about datasets: observations and schema revisions.

Plain frozen records, like :mod:`sameday.metadata.records`; the tables behind them are in
``_datasets`` (revision 0006). :class:`Observed` is what a reader found, before it is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

Role = Literal["read", "write", "observe"]
"""Why a dataset was looked at: a job was about to read it, a job wrote it, or someone asked."""
ROLES: tuple[str, ...] = get_args(Role)

Columns = tuple[tuple[str, str], ...]
"""A schema: ``(column, type)`` pairs in the dataset's order."""


@dataclass(frozen=True)
class Observed:
    """What one look at a dataset found; ``None`` where the reader could not tell.

    ``columns`` is ``None`` for data read by file stats only; ``error`` says why nothing else
    could be read (the file is missing, the table unreachable).
    """

    columns: Columns | None = None
    row_count: int | None = None
    null_shares: Mapping[str, float] = field(default_factory=dict)
    freshness: datetime | None = None
    bytes: int | None = None
    files: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class DatasetObservation:
    """A recorded observation, with the columns of the schema revision it saw."""

    id: int
    dataset: str
    run_id: str | None
    job: str | None
    role: Role
    observed_at: datetime
    schema_revision: int | None
    columns: Columns | None
    row_count: int | None
    null_shares: dict[str, float]
    freshness: datetime | None
    bytes: int | None
    files: int | None
    error: str | None


@dataclass(frozen=True)
class SchemaRevision:
    """One schema of a dataset: its columns, and when (and in which run) it was first seen."""

    dataset: str
    revision: int
    columns: Columns
    first_seen_at: datetime
    run_id: str | None
