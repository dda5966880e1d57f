"""``results/*.yaml``: a named table of ranked lists, where it comes from and how it is checked."""

from typing import Literal

from pydantic import Field, model_validator

from sameday.config._base import Duration, Key, Name, StrictModel, empty_list
from sameday.config.drift import Drift


class Source(StrictModel):
    """Where the rows come from: files (a path or glob), or a DuckDB query over files."""

    path: str | None = Field(
        None, description="Parquet, CSV or JSONL file or glob, relative to the project."
    )
    query: str | None = Field(
        None,
        description="DuckDB SQL returning the rows, e.g. "
        "SELECT * FROM read_parquet('out/als/*.parquet'). Paths are relative to the project.",
    )
    format: Literal["auto", "parquet", "csv", "jsonl"] = Field(
        "auto", description="File format; 'auto' goes by the file extension."
    )

    @model_validator(mode="after")
    def _one_of(self) -> "Source":
        if (self.path is None) == (self.query is None):
            raise ValueError("give exactly one of 'path' or 'query'")
        return self


class Columns(StrictModel):
    """Which source columns hold the key, the item, the score and the rest."""

    key: str = Field("key", description="Column the surface looks lists up by (user, item, query).")
    item: str = Field("item", description="Column of the recommended item id.")
    score: str = Field("score", description="Column of the score; higher ranks first.")
    rank: str | None = Field(None, description="Optional explicit rank column (1 = first).")
    payload: list[str] = Field(
        default_factory=empty_list, description="Extra columns served with each item."
    )


class ShortLists(StrictModel):
    """At most ``max_share`` of keys may have fewer than ``min_items`` items."""

    min_items: int = Field(ge=1)
    max_share: float = Field(ge=0, le=1)


class Catalogue(StrictModel):
    """Every item must exist in this catalogue file."""

    path: str = Field(description="Parquet, CSV or JSONL file of known items.")
    column: str = Field("item", description="Column of item ids in the catalogue.")


class SqlAssertion(StrictModel):
    """A custom check: a DuckDB query over the table ``rows`` that returns the offending rows."""

    name: Key
    query: str = Field(description="Returns offending rows; the check passes when it returns none.")


class Checks(StrictModel):
    """What a publication must satisfy before it can go live."""

    min_rows: int = Field(1, ge=0)
    min_keys: int = Field(1, ge=0)
    finite_scores: bool = Field(True, description="Reject NaN and infinite scores.")
    unique_items: bool = Field(True, description="Reject a (key, item) pair that appears twice.")
    short_lists: ShortLists | None = None
    catalogue: Catalogue | None = None
    max_key_coverage_drop: float | None = Field(
        0.5,
        ge=0,
        le=1,
        description="Largest allowed drop in the number of keys against the live snapshot "
        "(0.5 = may lose half). null turns the check off.",
    )
    max_row_count_change: float | None = Field(
        None,
        ge=0,
        description="Largest allowed relative change in rows against the live snapshot.",
    )
    sql: list[SqlAssertion] = Field(default_factory=empty_list)


class ResultSet(StrictModel):
    """A result set: ``key → ranked items``, published as immutable snapshots."""

    name: Name
    description: str = ""
    source: Source
    columns: Columns = Field(default_factory=Columns)
    key_type: Literal["string", "integer"] = "string"
    max_items: int = Field(100, ge=1, le=10_000, description="Longest list kept per key.")
    checks: Checks = Field(default_factory=Checks)
    retention: int = Field(5, ge=1, description="Snapshots kept; older ones are deleted.")
    max_age: Duration | None = Field(
        None,
        description="Oldest the live snapshot may be (e.g. 26h) before freshness reports it.",
    )
    drift: Drift = Field(
        default_factory=Drift,
        description="How a new snapshot's profile may differ from the last ones.",
    )
