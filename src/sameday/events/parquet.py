"""``ParquetSource``: an exported event log in Parquet files, the form for large logs.

``parquet:///path/to/folder`` holds ``exposures/*.parquet`` (or ``exposures.parquet``) and
``outcomes/*.parquet`` (or ``outcomes.parquet``) with the SQL tables' columns (JSON columns as
text, times as float seconds since the epoch). DuckDB reads them directly and lazily, through
views, so a report over a log larger than memory never loads it whole. There is no Parquet sink:
the log is exported to Parquet, not served into it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sameday.errors import StoreUnavailable
from sameday.events.source import EventQuery, EventSource

if TYPE_CHECKING:
    import duckdb


class ParquetSource(EventSource):
    """The Parquet event log in ``folder``; see the module docstring.

    Args:
        folder: the folder holding the ``exposures`` and ``outcomes`` files.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def from_url(cls, url: str) -> ParquetSource:
        """The source of ``parquet:///path/to/folder`` (``parquet:////path`` is the same)."""
        rest = url.partition("://")[2]
        return cls(rest[1:] if rest.startswith("//") else rest)

    def __repr__(self) -> str:
        return f"ParquetSource({str(self.folder)!r})"

    def load(self, con: duckdb.DuckDBPyConnection, query: EventQuery) -> None:
        """Create views of ``query``'s rows in ``con`` (see :meth:`EventSource.load`)."""
        sources = {table: self._files(table) for table in ("exposures", "outcomes")}
        slots = "items, teams" if query.slots else "NULL::VARCHAR AS items, NULL::VARCHAR AS teams"
        dims = "".join(f", json_extract_string(extra, '$.{d}') AS {d}" for d in query.dimensions)
        arm = "" if query.slots else " AND arm IS NOT NULL"
        files = literal(sources["exposures"])
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({files})").fetchall()
        # A log exported before seeds were recorded has no column: its phases cannot be told apart.
        seed = "seed::VARCHAR" if "seed" in {str(row[0]) for row in described} else "NULL::VARCHAR"
        con.execute(
            "CREATE VIEW log_exposures AS SELECT request_id::VARCHAR AS request_id, "
            "time::DOUBLE AS time, unit::VARCHAR AS unit, arm::VARCHAR AS arm, "
            f"surface::VARCHAR AS surface, {slots}, {seed} AS seed{dims} "
            f"FROM read_parquet({files}) WHERE experiment = {literal(query.experiment)}{arm}"
        )
        names = ", ".join(literal(e) for e in query.events) or "NULL"
        con.execute(
            "CREATE VIEW log_outcomes AS SELECT request_id::VARCHAR AS request_id, "
            "unit::VARCHAR AS unit, name::VARCHAR AS name, value::DOUBLE AS value, "
            "time::DOUBLE AS time, item::VARCHAR AS item "
            f"FROM read_parquet({literal(sources['outcomes'])}) WHERE name IN ({names})"
        )

    def _files(self, table: str) -> str:
        if (self.folder / table).is_dir():
            return str(self.folder / table / "*.parquet")
        if (self.folder / f"{table}.parquet").is_file():
            return str(self.folder / f"{table}.parquet")
        raise StoreUnavailable(
            f"no {table} in the Parquet event log {self.folder}: expected {table}/*.parquet or "
            f"{table}.parquet there"
        )


def literal(text: str) -> str:
    """``text`` as a SQL string literal (DuckDB has no parameters in CREATE VIEW)."""
    return "'" + text.replace("'", "''") + "'"
