"""The candidates a scorer orders: one object that is both rows and columns.

A scorer's ``predict(features)`` gets a :class:`Candidates`. It is a sequence of rows — one
mapping of feature name to value per candidate, the contract every scorer was written against —
and it also answers in columns: :meth:`Candidates.column` gives one feature for every candidate
as a 1-D numpy array, :meth:`Candidates.matrix` several numeric ones as a 2-D ``float64`` array.
Each form is built only when asked for, so a scorer pays for the one it reads.

Why both: building a mapping per candidate in Python costs about a microsecond per candidate
and feature set, which for a hundred candidates was most of online scoring's cost; a model
that computes on a matrix anyway (numpy, LightGBM, ONNX) gets its matrix from columns that a
server prepares once per snapshot (:class:`PayloadMatrix`), so a request only slices it. Rows
stay for scorers written as plain Python, and are exactly what they were.

A column's value for a candidate is the one its row holds (the same precedence: the request's
attributes, then the candidate's ``item``, ``score`` and ``rank``, its payload, the feature
tables' rows). A numeric column (every value an ``int``, ``float`` or ``bool``) is ``float64``
with ``NaN`` where a row lacks the name; any other is an ``object`` array with ``None`` there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, overload

import numpy as np
import numpy.typing as npt

from sameday.store.base import Item

Row = dict[str, Any]
Array = npt.NDArray[Any]
Matrix = npt.NDArray[np.float64]

_NUMERIC = (int, float, bool, np.integer, np.floating, np.bool_)
_MISSING = object()


class PayloadMatrix(NamedTuple):
    """The numeric payload columns of one ranked list, a row per item: built once when a
    server holds a snapshot whose lists a scorer orders (:func:`payload_matrix`)."""

    names: tuple[str, ...]
    """The payload columns every item of the list holds with a number, in the payload's order."""
    values: Matrix
    """``values[i, j]``: item ``i``'s value of ``names[j]`` (C-contiguous)."""

    def column_index(self, name: str) -> int | None:
        """The position of ``name`` in :attr:`names`, or ``None``."""
        try:
            return self.names.index(name)
        except ValueError:
            return None


def payload_matrix(
    items: Sequence[Item], names_seen: dict[tuple[str, ...], tuple[str, ...]]
) -> PayloadMatrix | None:
    """The :class:`PayloadMatrix` of ``items``, or ``None`` when no payload column is numeric in
    every item. ``names_seen`` interns the column names, which all lists of a snapshot share."""
    if not items or items[0].payload is None:
        return None
    first = items[0].payload
    names = [name for name, value in first.items() if isinstance(value, _NUMERIC)]
    for entry in items:
        payload = entry.payload
        if payload is None:
            return None
        names = [n for n in names if isinstance(payload.get(n, _MISSING), _NUMERIC)]
        if not names:
            return None
    key = tuple(names)
    interned = names_seen.setdefault(key, key)
    values = np.array([[entry.payload[n] for n in interned] for entry in items], dtype=np.float64)  # type: ignore[index]
    values.setflags(write=False)  # shared by every request: a scorer must not change it
    return PayloadMatrix(interned, values)


class Candidates(Sequence[Mapping[str, Any]]):
    """One request's candidates, as rows and as columns (see the module docstring).

    Built by the server (:meth:`of`) or from rows (:meth:`from_rows`, what
    ``LoadedModel.predict`` and the MLflow export do with a plain list of mappings).
    """

    __slots__ = ("_attrs", "_columns", "_items", "_matrix", "_rows", "_tables")

    def __init__(
        self,
        items: Sequence[Item] | None,
        attrs: Mapping[str, Any],
        tables: Sequence[Mapping[str, Row | None]] = (),
        matrix: PayloadMatrix | None = None,
        rows: list[Row] | None = None,
    ) -> None:
        self._items = items
        self._attrs = attrs
        self._tables = tables
        self._matrix = matrix
        self._rows = rows
        self._columns: dict[str, Array] = {}

    @classmethod
    def of(
        cls,
        items: Sequence[Item],
        attrs: Mapping[str, Any],
        tables: Sequence[Mapping[str, Row | None]] = (),
        matrix: PayloadMatrix | None = None,
    ) -> Candidates:
        """The candidates ``items`` of a request with attributes ``attrs``; ``tables`` holds
        the rows of each feature table keyed by item (by item id), ``matrix`` the list's
        prepared payload columns (its first ``len(items)`` rows are these items')."""
        return cls(items, attrs, tables, matrix)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> Candidates:
        """Candidates whose rows are ``rows`` (columns are read out of them)."""
        if isinstance(rows, Candidates):
            return rows
        return cls(None, {}, rows=[dict(row) for row in rows])

    def __repr__(self) -> str:
        return f"Candidates({len(self)} candidates)"

    # Rows.

    def __len__(self) -> int:
        if self._items is not None:
            return len(self._items)
        assert self._rows is not None
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        return self.rows()[index]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows())

    def rows(self) -> list[Row]:
        """One mapping per candidate: the request's attributes (``unit`` included), the
        candidate's ``item``, batch ``score`` and ``rank`` (from 1), its payload columns, then
        each feature table's row for it; a later source wins a name they share."""
        rows = self._rows
        if rows is None:
            items = self._items
            assert items is not None
            rows = []
            for rank, candidate in enumerate(items, 1):
                row = {
                    **self._attrs,
                    "item": candidate.item,
                    "score": candidate.score,
                    "rank": rank,
                }
                if candidate.payload:
                    row.update(candidate.payload)
                for table in self._tables:
                    found = table.get(candidate.item)
                    if found:
                        row.update(found)
                rows.append(row)
            self._rows = rows
        return rows

    # Columns.

    def column(self, name: str) -> Array:
        """Feature ``name`` of every candidate: ``float64`` when numeric (``NaN`` where a
        candidate lacks it), else ``object`` (``None`` there). It may be a read-only view of
        what the server holds: copy it to change it."""
        found = self._columns.get(name)
        if found is None:
            found = self._prepared(name)
            if found is None:
                found = _array(self._values(name))
            self._columns[name] = found
        return found

    def matrix(self, names: Sequence[str]) -> Matrix:
        """Features ``names`` as a ``float64`` matrix, one row per candidate and one column per
        name, in that order (``NaN`` where a candidate lacks one); possibly a read-only view of
        what the server holds, as :meth:`column`.

        Raises:
            ValueError: a feature is not numeric.
        """
        prepared = self._matrix
        if prepared is not None and not self._tables:
            if tuple(names) == prepared.names:
                return prepared.values[: len(self)]
            index = [prepared.column_index(name) for name in names]
            if None not in index:  # every name a prepared column: the payload's value wins
                return prepared.values[: len(self), index]  # type: ignore[index]
        columns = [self.column(name) for name in names]
        for name, column in zip(names, columns, strict=True):
            if column.dtype != np.float64:
                raise ValueError(f"feature {name!r} is not numeric; matrix() takes numbers only")
        if not columns:
            return np.empty((len(self), 0), dtype=np.float64)
        return np.column_stack(columns)

    def _prepared(self, name: str) -> Array | None:
        """``name``'s column straight from the prepared payload matrix, when it holds it and no
        feature table could override it."""
        prepared = self._matrix
        if prepared is None or self._tables:
            return None
        position = prepared.column_index(name)
        if position is None:
            return None
        return prepared.values[: len(self), position]

    def _values(self, name: str) -> list[Any]:
        """Each candidate's value of ``name`` (``_MISSING`` where its row lacks it), read with
        the rows' precedence without building the rows."""
        if self._items is None:
            assert self._rows is not None
            return [row.get(name, _MISSING) for row in self._rows]
        items = self._items
        if name == "item":
            values: list[Any] = [candidate.item for candidate in items]
        elif name == "score":
            values = [candidate.score for candidate in items]
        elif name == "rank":
            values = list(range(1, len(items) + 1))
        else:
            values = [self._attrs.get(name, _MISSING)] * len(items)
        for position, candidate in enumerate(items):
            payload = candidate.payload
            if payload and name in payload:
                values[position] = payload[name]
            for table in self._tables:
                found = table.get(candidate.item)
                if found and name in found:
                    values[position] = found[name]
        return values


def _array(values: list[Any]) -> Array:
    """``values`` as a column: ``float64`` with ``NaN`` for the missing when every present value
    is a number, else ``object`` with ``None`` for them."""
    if all(value is _MISSING or isinstance(value, _NUMERIC) for value in values):
        return np.array(
            [np.nan if value is _MISSING else value for value in values], dtype=np.float64
        )
    column = np.empty(len(values), dtype=object)
    column[:] = [None if value is _MISSING else value for value in values]
    return column
