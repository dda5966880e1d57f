"""Ranking and encoding a range of keys at a time gives what ranking everything at once gives."""

from __future__ import annotations

import random
import threading
from typing import Any

import numpy as np
import pytest

from sameday.results import pieces as pieces_module
from sameday.results.encode import CHUNK_KEYS, EncodedLists
from sameday.results.pieces import RankedPieces, piece_bounds
from sameday.results.read import Rows, connect, read_source
from tests.results.conftest import MakeProject

KEYS = 2 * CHUNK_KEYS + 1_234
"""Three ranges when ranges are one chunk of keys."""


def shuffled_rows(*, grouped: bool, items: int = 4, seed: int = 3) -> list[dict[str, Any]]:
    """Keys with ``items`` rows in random order within the key (or across keys)."""
    rng = random.Random(seed)
    records = [
        {"user": f"u{k:05d}", "item": f"i{rng.randrange(500)}-{j}", "score": rng.random()}
        for k in range(KEYS)
        for j in range(items)
    ]
    if not grouped:
        rng.shuffle(records)
    return records


def test_piece_bounds_cut_whole_chunks_of_about_piece_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    starts = np.arange(0, 4 * KEYS + 1, 4, dtype=np.int64)
    monkeypatch.setattr(pieces_module, "PIECE_ROWS", 10)
    assert piece_bounds(starts) == [0, CHUNK_KEYS, 2 * CHUNK_KEYS, KEYS]
    monkeypatch.setattr(pieces_module, "PIECE_ROWS", 4 * (CHUNK_KEYS + 1))
    assert piece_bounds(starts) == [0, 2 * CHUNK_KEYS, KEYS]
    assert piece_bounds(np.zeros(1, dtype=np.int64)) == [0, 0]


def ranked_in_pieces(project: Any) -> tuple[Rows, list[tuple[str, bytes]], str]:
    con = connect(project)
    unranked = read_source(project, project.result_sets["recs"], con=con)
    pieces = RankedPieces(unranked, con.cursor())
    worker = threading.Thread(target=pieces.produce)
    worker.start()
    pairs = [pair for chunk in pieces.chunks() for pair in chunk]
    worker.join()
    con.close()
    return pieces.rows.result(), pairs, pieces.content_hash.result()


def ranked_at_once(project: Any) -> tuple[Rows, list[tuple[str, bytes]], str]:
    con = connect(project)
    rows = read_source(project, project.result_sets["recs"], con=con).rank()
    encoded = EncodedLists(rows, con)
    pairs = [pair for chunk in encoded.chunks() for pair in chunk]
    digest = encoded.content_hash()
    con.close()
    return rows, pairs, digest


@pytest.mark.parametrize(
    ("grouped", "declaration"),
    [
        (True, {}),
        (False, {}),
        (True, {"max_items": 3}),  # truncated: ranked before the ranges are cut
        (True, {"columns": {"key": "user", "item": "item", "score": "score", "payload": ["w"]}}),
    ],
    ids=["grouped", "scattered", "truncated", "payload"],
)
def test_ranges_equal_the_whole(
    make_project: MakeProject,
    monkeypatch: pytest.MonkeyPatch,
    grouped: bool,
    declaration: dict[str, Any],
) -> None:
    monkeypatch.setattr(pieces_module, "PIECE_ROWS", 1_000)  # three ranges
    records = shuffled_rows(grouped=grouped)
    for record in records:
        record["w"] = len(record["item"])
    project = make_project(records=records, **declaration)
    rows, pairs, digest = ranked_in_pieces(project)
    whole_rows, whole_pairs, whole_digest = ranked_at_once(project)
    assert rows.table.to_pylist() == whole_rows.table.to_pylist()
    assert rows.starts.tolist() == whole_rows.starts.tolist()
    assert rows.item_hashes.tolist() == whole_rows.item_hashes.tolist()
    assert pairs == whole_pairs
    assert digest == whole_digest
    first = [row for row in whole_rows.table.to_pylist() if row["key"] == "u00000"]
    assert [row["rank"] for row in first] == list(range(1, len(first) + 1))
    assert sorted((row["score"] for row in first), reverse=True) == [row["score"] for row in first]


def test_an_error_in_the_thread_reaches_the_loader(make_project: MakeProject) -> None:
    project = make_project()
    con = connect(project)
    unranked = read_source(project, project.result_sets["recs"], con=con)
    pieces = RankedPieces(unranked, con.cursor())
    pieces.cancel()  # the loader gave up before the first range
    pieces.produce()
    with pytest.raises(RuntimeError, match="stopped before the lists were ranked"):
        list(pieces.chunks())
    with pytest.raises(RuntimeError):
        pieces.rows.result()
    con.close()
