"""The scorer's input: rows as they always were, and the same values as columns."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from sameday.models.candidates import Candidates, PayloadMatrix, payload_matrix
from sameday.models.loader import LoadedModel
from sameday.models.scorer import PythonScorer
from sameday.store.base import Item

ITEMS = [
    Item("i1", 3.0, {"x": 1, "y": 0.5, "tag": "a"}),
    Item("i2", 2.0, {"x": 2, "y": 1.5, "tag": "b", "score": 9.0}),
    Item("i3", 1.0, {"x": 3, "y": -1.0, "tag": "c"}),
]
TABLE = {"i1": {"pop": 7, "x": 10}, "i3": None}
ATTRS = {"unit": "u1", "boost": 2.0, "x": -5}


def test_rows_hold_attributes_then_the_candidate_then_its_payload_then_the_tables() -> None:
    rows = list(Candidates.of(ITEMS, ATTRS, [TABLE]))
    assert rows[0] == {
        "unit": "u1",
        "boost": 2.0,
        "x": 10,  # the table's row wins over the payload and the attribute
        "item": "i1",
        "score": 3.0,
        "rank": 1,
        "y": 0.5,
        "tag": "a",
        "pop": 7,
    }
    assert rows[1]["score"] == 9.0 and rows[1]["x"] == 2 and "pop" not in rows[1]
    assert rows[2]["rank"] == 3 and rows[2]["x"] == 3


@pytest.mark.parametrize("matrix", [False, True])
def test_every_column_holds_what_the_rows_hold(matrix: bool) -> None:
    prepared = payload_matrix(ITEMS, {}) if matrix else None
    for tables in ([], [TABLE]):
        candidates = Candidates.of(ITEMS, ATTRS, tables, prepared)
        rows = Candidates.of(ITEMS, ATTRS, tables).rows()
        for name in ("unit", "boost", "x", "y", "tag", "item", "score", "rank", "pop", "none"):
            column = candidates.column(name)
            assert len(column) == len(ITEMS)
            for value, row in zip(column.tolist(), rows, strict=True):
                if name not in row:
                    assert value is None or math.isnan(value), name
                else:
                    assert value == row[name], name
    numeric = Candidates.of(ITEMS, ATTRS, [TABLE])
    assert numeric.column("pop").dtype == np.float64  # NaN where a candidate has no row
    assert np.isnan(numeric.column("pop")[1])
    assert numeric.column("tag").dtype == object
    assert numeric.column("none").dtype == np.float64 and np.isnan(numeric.column("none")).all()


def test_a_matrix_is_sliced_from_the_prepared_payload_columns_without_a_copy() -> None:
    prepared = payload_matrix([*ITEMS, Item("i4", 0.0, {"x": 4, "y": 2.0, "tag": "d"})], {})
    assert prepared is not None and prepared.names == ("x", "y")
    candidates = Candidates.of(ITEMS, ATTRS, (), prepared)  # the first three of the list
    matrix = candidates.matrix(["x", "y"])
    assert matrix.tolist() == [[1.0, 0.5], [2.0, 1.5], [3.0, -1.0]]
    assert np.shares_memory(matrix, prepared.values)
    with pytest.raises(ValueError, match="read-only"):  # shared by every request
        matrix -= 1.0
    assert candidates.matrix(["y", "x"]).tolist() == [[0.5, 1.0], [1.5, 2.0], [-1.0, 3.0]]
    # a name the prepared columns lack is read as the rows would give it
    assert candidates.matrix(["x", "boost", "rank"]).tolist() == [
        [1.0, 2.0, 1.0],
        [2.0, 2.0, 2.0],
        [3.0, 2.0, 3.0],
    ]
    # a feature table may override a payload column: the prepared columns are not used then
    tabled = Candidates.of(ITEMS, ATTRS, [TABLE], prepared)
    assert tabled.matrix(["x", "y"])[:, 0].tolist() == [10.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="'tag' is not numeric"):
        candidates.matrix(["x", "tag"])


def test_a_payload_matrix_keeps_only_columns_every_item_holds_as_a_number() -> None:
    names: dict[tuple[str, ...], tuple[str, ...]] = {}
    items = [Item("a", 1.0, {"x": 1, "y": "s", "z": 1.0}), Item("b", 0.0, {"x": 2, "y": 2})]
    first = payload_matrix(items, names)
    second = payload_matrix(list(reversed(items)), names)
    assert first == PayloadMatrix(("x",), first.values) and first.values.tolist() == [[1.0], [2.0]]
    assert second is not None and second.names is first.names  # interned: shared by every list
    assert payload_matrix([Item("a", 1.0)], names) is None
    assert payload_matrix([Item("a", 1.0, {"y": "s"})], names) is None


class Columnar:
    """A model that reads columns only (no row is built)."""

    def predict(self, candidates: Any) -> Any:
        return candidates.matrix(["x", "y"]) @ np.array([1.0, 10.0])


def test_models_and_python_scorers_taking_columns_accept_plain_rows_too() -> None:
    rows = [{"x": 1, "y": 0.5}, {"x": 2, "y": 1.0}]
    assert LoadedModel("m/1", Columnar(), None, None).predict(rows) == [6.0, 12.0]
    assert PythonScorer("recs:columnar", Columnar()).predict(rows) == [6.0, 12.0]
    candidates = Candidates.from_rows(rows)
    assert Candidates.from_rows(candidates) is candidates
    assert candidates[1] == {"x": 2, "y": 1.0} and len(candidates) == 2
    assert repr(candidates) == "Candidates(2 candidates)"


def test_scores_become_plain_floats() -> None:
    class Shaped:
        def __init__(self, scores: Any) -> None:
            self.scores = scores

        def predict(self, candidates: Any) -> Any:
            return self.scores

    rows = [{"x": 1}, {"x": 2}]
    assert LoadedModel("m/1", Shaped(np.array([1, 2])), None, None).predict(rows) == [1.0, 2.0]
    assert LoadedModel("m/1", Shaped((1, np.float32(2.5))), None, None).predict(rows) == [1.0, 2.5]
    ragged = [1.0, [2.0, 3.0]]  # not a number each: numpy refuses, then float() says why
    with pytest.raises(TypeError):
        LoadedModel("m/1", Shaped(ragged), None, None).predict(rows)
