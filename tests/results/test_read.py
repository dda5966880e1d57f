"""Reading sources into normalised, ranked, truncated rows."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from sameday.config.results import ResultSet
from sameday.errors import NotFound, ResultCheckFailed
from sameday.results.read import in_order, key_ranks, key_runs, read_rows, read_source
from tests.results.conftest import MakeProject, rows, write_parquet


def table_of(project: MakeProject, **declaration: object) -> list[dict[str, object]]:
    loaded = project(**declaration)
    return read_rows(loaded, loaded.result_sets["recs"]).table.to_pylist()  # type: ignore[no-any-return]


def test_rows_are_sorted_by_key_then_score_and_ranked(make_project: MakeProject) -> None:
    records = [
        {"user": "b", "item": "x", "score": 0.1},
        {"user": "a", "item": "y", "score": 0.2},
        {"user": "b", "item": "z", "score": 0.9},
        {"user": "a", "item": "w", "score": 0.2},
    ]
    assert table_of(make_project, records=records) == [
        {"key": "a", "item": "w", "score": 0.2, "rank": 1},
        {"key": "a", "item": "y", "score": 0.2, "rank": 2},
        {"key": "b", "item": "z", "score": 0.9, "rank": 1},
        {"key": "b", "item": "x", "score": 0.1, "rank": 2},
    ]


def test_an_explicit_rank_column_wins_over_scores(make_project: MakeProject) -> None:
    records = [
        {"user": "a", "item": "x", "score": 0.9, "pos": 2},
        {"user": "a", "item": "y", "score": 0.1, "pos": 1},
    ]
    got = table_of(
        make_project,
        records=records,
        columns={"key": "user", "item": "item", "score": "score", "rank": "pos"},
    )
    assert [r["item"] for r in got] == ["y", "x"]


def test_lists_are_truncated_to_max_items(make_project: MakeProject) -> None:
    loaded = make_project(max_items=2)
    result = read_rows(loaded, loaded.result_sets["recs"])
    assert result.rows == 40 and result.keys == 20
    assert set(result.counts.tolist()) == {2}
    assert result.table.column("rank").to_pylist()[:4] == [1, 2, 1, 2]


def test_integer_ids_become_text_and_payloads_are_kept(make_project: MakeProject) -> None:
    records = [{"user": 7, "item": 42, "score": 1, "title": "T"}]
    got = table_of(
        make_project,
        records=records,
        key_type="integer",
        columns={"key": "user", "item": "item", "score": "score", "payload": ["title"]},
    )
    assert got == [{"key": "7", "item": "42", "score": 1.0, "rank": 1, "title": "T"}]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "glob", "query"])
def test_every_source_kind_reads_the_same_rows(
    make_project: MakeProject, tmp_path: Path, fmt: str
) -> None:
    expected = table_of(make_project)
    out = tmp_path / "proj" / "out"
    records = rows()
    if fmt == "csv":
        pacsv.write_csv(pa.Table.from_pylist(records), out / "recs.csv")
        source = {"path": "out/recs.csv"}
    elif fmt == "jsonl":
        (out / "recs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
        source = {"path": "out/recs.jsonl"}
    elif fmt == "glob":
        write_parquet(out / "parts" / "a.parquet", records[:50])
        write_parquet(out / "parts" / "b.parquet", records[50:])
        source = {"path": "out/parts/*.parquet"}
    else:
        source = {"query": "SELECT * FROM read_parquet('out/recs.parquet') WHERE score > 0"}
    loaded = make_project()
    declared = ResultSet.model_validate(
        {**loaded.result_sets["recs"].model_dump(), "source": source}
    )
    assert read_rows(loaded, declared).table.to_pylist() == expected


def test_missing_columns_are_structural(make_project: MakeProject) -> None:
    with pytest.raises(ResultCheckFailed, match="missing column") as caught:
        table_of(make_project, columns={"key": "member", "item": "item", "score": "score"})
    assert caught.value.failures == ["columns"]
    assert "user VARCHAR" in str(caught.value)


def test_wrong_types_are_structural(make_project: MakeProject) -> None:
    records = [{"user": "a", "item": "x", "score": "high"}]
    with pytest.raises(ResultCheckFailed, match="column score is VARCHAR, expected number"):
        table_of(make_project, records=records)
    with pytest.raises(ResultCheckFailed, match="column user is VARCHAR, expected integer"):
        table_of(make_project, key_type="integer")


def test_empty_keys_or_items_are_structural_with_examples(make_project: MakeProject) -> None:
    records = [{"user": None, "item": "x", "score": 1.0}, {"user": "a", "item": "y", "score": 1.0}]
    with pytest.raises(ResultCheckFailed, match="1 row\\(s\\) have no key") as caught:
        table_of(make_project, records=records)
    assert '"item":"x"' in str(caught.value)
    assert "__sameday" not in str(caught.value)


def test_item_ids_holding_nul_are_structural_with_examples(make_project: MakeProject) -> None:
    records = [
        {"user": "a", "item": "x\x00y", "score": 1.0},
        {"user": "a", "item": "z", "score": 0.5},
    ]
    with pytest.raises(ResultCheckFailed, match="may not contain the NUL character") as caught:
        table_of(make_project, records=records)
    assert caught.value.failures == ["types"]
    assert "x\\u0000y" in str(caught.value)
    assert "__sameday" not in str(caught.value)  # examples show the user's columns only


def test_a_missing_source_file_says_what_to_do(make_project: MakeProject) -> None:
    loaded = make_project()
    with pytest.raises(NotFound, match="run the job that writes it"):
        read_rows(loaded, loaded.result_sets["recs"], source="out/none-*.parquet")


def test_a_header_only_csv_reads_as_no_rows(make_project: MakeProject, tmp_path: Path) -> None:
    """With no rows DuckDB cannot tell a CSV's types: its columns are not wrong, it is empty."""
    project = make_project()
    header_only = tmp_path / "recs.csv"
    header_only.write_text("user,item,score\n")
    read = read_rows(project, project.result_sets["recs"], source=header_only)
    assert (read.rows, read.keys, read.source) == (0, 0, str(header_only))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("user,product,score\n")  # the columns still count
    with pytest.raises(ResultCheckFailed, match=r"missing column\(s\) item.*wrong.csv has no rows"):
        read_rows(project, project.result_sets["recs"], source=wrong)
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("")
    with pytest.raises(ResultCheckFailed, match=r"nothing\.csv has no rows"):
        read_rows(project, project.result_sets["recs"], source=nothing)


def test_in_order_compares_each_row_with_the_next() -> None:
    order = [("key", "ascending"), ("score", "descending"), ("item", "ascending")]
    ordered = pa.table({"key": ["a", "a", "b"], "score": [0.5, 0.5, 0.9], "item": ["x", "y", "x"]})
    assert in_order(ordered, order)
    assert in_order(ordered.slice(0, 1), order)
    for swapped in (
        {"key": ["b", "a", "a"]},
        {"score": [0.5, 0.6, 0.9]},
        {"item": ["y", "x", "x"]},
    ):
        columns = {name: ordered.column(name) for name in ordered.column_names} | swapped
        assert not in_order(pa.table(columns), order)
    nan = pa.table({"key": ["a", "a"], "score": [0.9, math.nan], "item": ["x", "y"]})
    assert not in_order(nan, order)  # left to the sort, which puts NaN last


def test_key_ranks_follow_the_text_order() -> None:
    keys = pa.array(["b", "é", "a", "b", "B"])
    assert key_ranks(keys).to_pylist() == [3, 4, 2, 3, 1]


def test_key_runs_are_found_only_for_keys_written_in_order() -> None:
    assert key_runs(pa.array(["a", "a", "b", "c", "c"])).tolist() == [0, 2, 3, 5]
    assert key_runs(pa.array(["a"])).tolist() == [0, 1]
    assert key_runs(pa.array([], pa.string())).tolist() == [0]
    assert key_runs(pa.array(["b", "b", "a"])) is None  # grouped, but not in order
    assert key_runs(pa.array(["a", "b", "a"])) is None  # not grouped


def test_ordered_and_shuffled_sources_give_the_same_rows(make_project: MakeProject) -> None:
    ranks = {"i0": 1, "i1": 2, "i3": 4, "i4": 5, "i2": None}  # missing ranks go last
    ordered = [
        {"user": f"u{k}", "item": item, "score": int(item[1]) / 10, "pos": rank}
        for k in range(6)
        for item, rank in ranks.items()
    ]
    shuffled = ordered[:]
    random.Random(3).shuffle(shuffled)
    by_key = [ordered[k * 5 : k * 5 + 5] for k in range(6)]
    for run in by_key:
        random.Random(4).shuffle(run)
    grouped = [row for run in by_key for row in run]  # key by key, each key's rows shuffled
    backwards = [row for run in reversed(by_key) for row in run]
    declaration = {"columns": {"key": "user", "item": "item", "score": "score", "rank": "pos"}}
    first = table_of(make_project, records=ordered, **declaration)
    for records in (shuffled, grouped, backwards):
        assert table_of(make_project, records=records, **declaration) == first
    assert [r["item"] for r in first[:5]] == list(ranks)
    assert [r["rank"] for r in first[:5]] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("grouped", [True, False])
def test_top_items_of_some_keys_equal_ranking_each_key(
    make_project: MakeProject, grouped: bool
) -> None:
    records = rows(keys=30, items=6)
    for record in records:  # ties on score, broken by item
        record["score"] = round(float(record["score"]), 1) if record["item"] < "i3" else 0.5
    shuffle = random.Random(7).random
    if grouped:  # keys grouped, each key's rows out of rank order: ranked a range at a time
        records.sort(key=lambda r: (r["user"], shuffle()))
    else:  # keys mixed: the reader sorts everything at once
        records.sort(key=lambda r: shuffle())
    loaded = make_project(records=records)
    unranked = read_source(loaded, loaded.result_sets["recs"])
    assert bool(unranked.order) == grouped
    positions = [7, 2, 29, 2, 0]
    one_by_one = [unranked.rank(p, p + 1).table.column("item")[:4].to_pylist() for p in positions]
    assert unranked.top_items(positions, 4) == one_by_one
    assert unranked.top_items([], 4) == []
