"""Each check refuses bad rows with a message and example rows; force skips quality checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sameday.errors import ResultCheckFailed
from sameday.results import publish
from tests.results.conftest import MakeProject, rows, write_parquet


def refused(make_project: MakeProject, **kwargs: object) -> ResultCheckFailed:
    records = kwargs.pop("records", None)
    project = make_project(records=records, **kwargs)
    with pytest.raises(ResultCheckFailed) as caught:
        publish(project, "recs", dry_run=True)
    return caught.value


def test_clean_rows_pass(make_project: MakeProject) -> None:
    result = publish(make_project(), "recs", dry_run=True)
    assert (result.rows, result.keys, result.version) == (100, 20, None)


def test_min_rows_and_min_keys(make_project: MakeProject) -> None:
    error = refused(make_project, checks={"min_rows": 101, "min_keys": 21})
    assert error.failures == ["min_rows", "min_keys"]
    assert "100 rows, at least 101 required" in str(error)


def test_scores_must_be_finite(make_project: MakeProject) -> None:
    records = rows()
    records[3]["score"] = math.nan
    records[7]["score"] = math.inf
    records[9]["score"] = None
    error = refused(make_project, records=records)
    assert error.failures == ["finite_scores"]
    assert "3 row(s)" in str(error) and '"key":"u000"' in str(error)


def test_duplicate_items_in_a_list(make_project: MakeProject) -> None:
    records = [*rows(), {"user": "u001", "item": "i1", "score": 0.01}]
    error = refused(make_project, records=records)
    assert error.failures == ["unique_items"]
    assert '{"key":"u001","item":"i1","times":2}' in str(error)


def test_short_lists_share(make_project: MakeProject) -> None:
    records = rows(keys=10, items=5) + rows(keys=2, items=1, prefix="z")
    records = [r | {"user": "x" + r["user"]} if r["item"].startswith("z") else r for r in records]
    error = refused(
        make_project, records=records, checks={"short_lists": {"min_items": 3, "max_share": 0.1}}
    )
    assert error.failures == ["short_lists"]
    assert "16.7% of keys have fewer than 3 items" in str(error)
    assert '{"key":"xu000","items":1}' in str(error)


def test_catalogue_membership(make_project: MakeProject, tmp_path: Path) -> None:
    write_parquet(tmp_path / "proj" / "catalogue.parquet", [{"id": f"i{n}"} for n in range(10)])
    error = refused(
        make_project, checks={"catalogue": {"path": "catalogue.parquet", "column": "id"}}
    )
    assert error.failures == ["catalogue"]
    assert "missing from catalogue.parquet" in str(error) and '"item":"i1' in str(error)


def test_sql_assertions_report_offending_rows_and_broken_queries(make_project: MakeProject) -> None:
    checks = {
        "sql": [
            {
                "name": "top-score",
                "query": "SELECT key, score FROM rows WHERE rank = 1 AND score < 1",
            },
            {"name": "no-low", "query": "SELECT * FROM rows WHERE score < 0.7"},
            {"name": "typo", "query": "SELECT * FROM rowz"},
        ]
    }
    error = refused(make_project, checks=checks)
    assert error.failures == ["sql:no-low", "sql:typo"]
    assert "sql:no-low: 20 offending row(s)" in str(error)
    assert "sql:typo: the query failed" in str(error)


def test_change_against_the_live_snapshot(make_project: MakeProject) -> None:
    project = make_project(checks={"max_key_coverage_drop": 0.3, "max_row_count_change": 0.5})
    publish(project, "recs")
    project = make_project(
        records=rows(keys=10, items=5),
        checks={"max_key_coverage_drop": 0.3, "max_row_count_change": 0.4},
    )
    with pytest.raises(ResultCheckFailed) as caught:
        publish(project, "recs")
    assert caught.value.failures == ["key_coverage", "row_count"]
    assert "10 keys against 20 in live snapshot" in str(caught.value)
    assert "(-50.0%); at most ±40.0% allowed" in str(caught.value)


def test_force_skips_quality_checks_only(make_project: MakeProject) -> None:
    records = rows()
    records[0]["score"] = math.nan
    project = make_project(records=records, checks={"min_keys": 50})
    result = publish(project, "recs", force=True)
    assert result.forced == ["min_keys", "finite_scores"]
    assert result.version is not None
    broken = make_project(columns={"key": "nobody", "item": "item", "score": "score"})
    with pytest.raises(ResultCheckFailed, match="missing column"):
        publish(broken, "recs", force=True)
