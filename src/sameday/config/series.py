"""``series:`` in a monitor file: metric series watched by the anomaly detector.

A series is either **built in** (``builtin: units``: no SQL, read from the event log) or
**declared in SQL** (``sql: SELECT ...``), run over the event log (DuckDB, with the views
``exposures`` and ``outcomes``) or over any SQL source named by ``source:`` (PostgreSQL, a DuckDB
file, Parquet files). Rows come back as a time and a value; values of the same bucket (``grain``
``hour`` or ``day``, in ``timezone``) are added up. The check judges the newest complete bucket
with the detector (:mod:`sameday.monitor.detector`), from the buckets before it only.
"""

from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from sameday.config._base import Duration, Key, Name, StrictModel, empty_list
from sameday.config._cron import check_timezone

BUILTIN_SERIES: dict[str, str] = {
    "units": "units served per surface (UU)",
    "active_units": "units with an outcome event (AU)",
    "requests": "lists served per surface",
    "fallback_share": "share of a surface's lists filled from a fallback result set",
    "degraded_share": "share of a surface's lists served degraded (store or list missing)",
    "ctr": "click-through rate of each surface's default list (model decay)",
    "arm_exposures": "exposures of each arm of each running experiment",
    "snapshot_age": "hours since the snapshot a result set's lists are served from went live",
}
"""Built-in series, by name, with what they measure (``sameday.monitor.builtin_series``)."""

BuiltinName = Literal[
    "units",
    "active_units",
    "requests",
    "fallback_share",
    "degraded_share",
    "ctr",
    "arm_exposures",
    "snapshot_age",
]

Grain = Literal["hour", "day"]
Direction = Literal["drop", "rise", "both"]
Preset = Literal["sensitive", "default", "quiet"]

SOURCE_SCHEMES: tuple[str, ...] = (
    "postgresql://",
    "postgresql+psycopg://",
    "postgres://",
    "duckdb:///",
    "parquet:///",
)


class Series(StrictModel):
    """One metric series a monitor watches: what to read, how to bucket it, when to alert."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["builtin"],
                    "not": {"anyOf": [{"required": ["sql"]}, {"required": ["source"]}]},
                },
                {"required": ["sql"], "not": {"required": ["builtin"]}},
            ]
        }
    )

    name: Name = Field(description="Names the check (series.<name>) and its alerts.")
    description: str = ""
    builtin: BuiltinName | None = Field(
        None, description="A built-in series (no SQL): " + "; ".join(BUILTIN_SERIES) + "."
    )
    sql: str | None = Field(
        None,
        description="A query returning a time column and a value column; values of one "
        "bucket are added up. Over the event log (no source) it reads the views 'exposures' "
        "and 'outcomes', which have a 'bucket' column already.",
    )
    source: str | None = Field(
        None,
        description="Where the SQL runs: postgresql://..., duckdb:///file.duckdb or "
        "parquet:///folder-or-glob (a view 'data' over the files); default: the event log.",
    )
    time_column: str = Field(
        "bucket",
        description="The column of the SQL's rows that holds "
        "the time (a timestamp, a date, or epoch seconds).",
    )
    value_column: str = Field("value", description="The column that holds the value.")
    grain: Grain = Field("day", description="Bucket size: hour or day.")
    timezone: str = Field(
        "UTC",
        description="IANA timezone of the buckets (where a day starts) "
        "and of timestamps written without one.",
    )
    event: Key = Field(
        "click", description="Built-in ctr and active_units: the outcome event counted."
    )
    surfaces: list[Name] = Field(
        default_factory=empty_list, description="Built-in per-surface series: only these surfaces."
    )
    result_sets: list[Name] = Field(
        default_factory=empty_list, description="Built-in snapshot_age: only these result sets."
    )
    missing: Literal["zero", "skip"] | None = Field(
        None,
        description="A bucket without rows: 'zero' (counts; the built-in counts do this) or "
        "'skip' (shares and rates). Default: zero for SQL series.",
    )
    history: int = Field(
        0,
        ge=0,
        description="Buckets read before the judged one (0: 120 days of a daily series, 28 "
        "days of an hourly one).",
    )
    lag: Duration = Field(
        0.0, description="Wait this long after a bucket ends before judging it (late events)."
    )
    preset: Preset = Field("default", description="Detector sensitivity preset.")
    direction: Direction | None = Field(
        None,
        description="Which deviations alert: drop, rise or both (default: the built-in's own, "
        "both for SQL).",
    )
    abs_floor: float | None = Field(
        None, ge=0, description="Deviations smaller than this (in the series' unit) never alert."
    )
    rel_floor: float | None = Field(
        None,
        ge=0,
        description="Deviations smaller than this share of the expected value never "
        "alert (default: the built-in's own, 0.01 for SQL).",
    )
    min_history: int | None = Field(
        None,
        ge=5,
        description="Buckets the detector needs before it judges (default: the preset's, 20); "
        "fewer judges sooner, on a less certain history.",
    )
    severity: Literal["info", "warning", "critical"] = Field(
        "warning", description="Severity of this series' alerts."
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(SOURCE_SCHEMES):
            raise ValueError(
                f"source must start with one of {', '.join(SOURCE_SCHEMES)}; leave it out to "
                "query the event log"
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> "Series":
        if (self.builtin is None) == (self.sql is None):
            raise ValueError("give exactly one of 'builtin' (a built-in series) or 'sql'")
        if self.builtin is not None and self.source is not None:
            raise ValueError("a built-in series reads the event log: 'source' goes with 'sql'")
        return self

    @property
    def step(self) -> float:
        """Seconds in one bucket (a day is 24 hours here; DST days are cut by the calendar)."""
        return 3600.0 if self.grain == "hour" else 86400.0


__all__ = ["BUILTIN_SERIES", "Series"]
