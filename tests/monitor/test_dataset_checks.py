"""Dataset checks: each fires on a case that must alert and stays quiet on one that must not,
against real SQLite and PostgreSQL metadata."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sameday.config import Project
from sameday.metadata import MetadataStore
from sameday.metadata.dataset_records import Columns, Observed
from sameday.monitor.check import Check, Context, Finding
from sameday.monitor.datasets import builtin_checks, schema_change

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
V1: Columns = (("user", "VARCHAR"), ("item", "VARCHAR"), ("ts", "TIMESTAMP"))
SEEN = {"user": 0.0, "item": 0.01, "ts": 0.0}


def check(name: str) -> Check:
    (found,) = [c for c in builtin_checks() if c.name == name]
    return found


def judge(name: str, project: Project, metadata: MetadataStore) -> Finding:
    (finding,) = check(name).evaluate(Context(project, metadata, NOW))
    assert finding.monitor == name and finding.subject == "events"
    return finding


def record(metadata: MetadataStore, *rows: dict[str, Any]) -> None:
    for row in rows:
        values = {"columns": V1, "row_count": 1000, "null_shares": SEEN, **row}
        metadata.record_observation("events", Observed(**values))


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Project:
    return make_project(
        {
            "events": {
                "path": "data/events.parquet",
                "time_column": "ts",
                "checks": {"max_age": "1d"},
            }
        }
    )


def test_every_check_is_learning_before_any_observation(
    project: Project, metadata: MetadataStore
) -> None:
    for each in builtin_checks():
        assert judge(each.name, project, metadata).status == "learning"


def test_read_fires_on_an_unreadable_dataset_and_resolves(
    project: Project, metadata: MetadataStore
) -> None:
    record(metadata, {"columns": None, "row_count": None, "error": "no file matches x"})
    fired = judge("dataset.read", project, metadata)
    assert (fired.status, fired.severity) == ("fail", "critical")
    assert "could not be read: no file matches x" in fired.summary
    record(metadata, {})
    assert judge("dataset.read", project, metadata).status == "ok"


def test_schema_fires_on_removed_and_retyped_columns(
    project: Project, metadata: MetadataStore
) -> None:
    record(metadata, {}, {"columns": (("user", "BIGINT"), ("ts", "TIMESTAMP"))})
    fired = judge("dataset.schema", project, metadata)
    assert fired.status == "fail"
    assert "revision 1 -> 2" in fired.summary
    assert "removed item (VARCHAR)" in fired.summary
    assert "retyped user VARCHAR -> BIGINT" in fired.summary
    assert fired.evidence["removed"] == [["item", "VARCHAR"]]
    assert fired.evidence["retyped"] == [["user", "VARCHAR", "BIGINT"]]


def test_schema_warns_on_an_added_column_and_is_quiet_when_unchanged(
    project: Project, metadata: MetadataStore
) -> None:
    record(metadata, {}, {})
    assert judge("dataset.schema", project, metadata).status == "ok"
    record(metadata, {"columns": (*V1, ("country", "VARCHAR"))})
    added = judge("dataset.schema", project, metadata)
    assert (added.status, added.severity) == ("warn", "warning")
    assert "added country (VARCHAR)" in added.summary
    record(metadata, {"columns": (*V1, ("country", "VARCHAR"))})
    assert judge("dataset.schema", project, metadata).status == "ok"


def test_schema_reactions_come_from_the_dataset(
    make_project: Callable[..., Project], metadata: MetadataStore
) -> None:
    quiet = make_project(
        {"events": {"path": "e.csv", "checks": {"removed_columns": "off", "added_columns": "off"}}}
    )
    record(metadata, {}, {"columns": (("user", "VARCHAR"), ("new", "INTEGER"))})
    assert judge("dataset.schema", quiet, metadata).status == "ok"


def test_volume_fires_when_rows_halve_and_is_quiet_on_ordinary_wobble(
    project: Project, metadata: MetadataStore
) -> None:
    record(metadata, *({"row_count": n} for n in (1000, 1040, 980, 1010)))
    quiet = judge("dataset.volume", project, metadata)
    assert quiet.status == "ok"
    assert quiet.evidence["median"] == 1000
    record(metadata, {"row_count": 400})
    fired = judge("dataset.volume", project, metadata)
    assert fired.status == "fail"
    assert fired.evidence["change"] == pytest.approx(400 / 1005 - 1)
    assert "400 rows, -60% against the median 1,005" in fired.summary


def test_volume_waits_for_history(project: Project, metadata: MetadataStore) -> None:
    record(metadata, {"row_count": 1000}, {"row_count": 10})
    waiting = judge("dataset.volume", project, metadata)
    assert waiting.status == "learning"
    assert "1 earlier observations, 3 needed" in waiting.summary


def test_nulls_fire_on_a_column_going_empty_and_are_quiet_otherwise(
    project: Project, metadata: MetadataStore
) -> None:
    record(metadata, {}, {}, {}, {"null_shares": {**SEEN, "item": 0.05}})
    assert judge("dataset.nulls", project, metadata).status == "ok"
    record(metadata, {"null_shares": {**SEEN, "item": 0.6}})
    fired = judge("dataset.nulls", project, metadata)
    assert fired.status == "fail"
    assert "more nulls than usual in item 60% (median 1%)" in fired.summary
    assert fired.evidence["columns"] == {"item": {"share": 0.6, "median": 0.01}}


def test_freshness_fires_on_stale_data(project: Project, metadata: MetadataStore) -> None:
    record(metadata, {"freshness": NOW - timedelta(hours=5)})
    assert judge("dataset.freshness", project, metadata).status == "ok"
    record(metadata, {"freshness": NOW - timedelta(days=2)})
    fired = judge("dataset.freshness", project, metadata)
    assert fired.status == "fail"
    assert fired.evidence["age_seconds"] == 2 * 86400
    assert "newest ts is 48.0 h old (limit 24 h)" in fired.summary


def test_checks_turned_off_say_nothing(
    make_project: Callable[..., Project], metadata: MetadataStore
) -> None:
    off = make_project(
        {"events": {"path": "e.csv", "checks": {"max_row_change": None, "max_null_increase": None}}}
    )
    record(metadata, *({"row_count": n} for n in (1000, 1000, 1000, 1)))
    context = Context(off, metadata, NOW)
    for name in ("dataset.volume", "dataset.nulls", "dataset.freshness"):
        assert check(name).evaluate(context) == []


def test_schema_change_ignores_column_order() -> None:
    change = schema_change(V1, tuple(reversed(V1)))
    assert not change
    assert change.describe() == "unchanged"
