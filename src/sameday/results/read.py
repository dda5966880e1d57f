"""Read a result set's source into normalised, ranked rows: the one table checks and publishing see.

DuckDB reads every supported source (Parquet, CSV, JSONL, globs of them, or a SQL query over
them) into Arrow, unsorted. The rows must then be in publishing order: key, then rank (when
declared), then score (highest first), then item. Pipelines usually write them that way, so a
few vectorised comparisons of each row with the next decide whether they already are (about a
tenth of the cost of sorting two million rows); only if not are they sorted, with Arrow's
multi-column sort, by each key's position rather than its text. Sources written key by key (the
usual case, even when a key's rows are in no particular order) give those positions in one
run-length pass; their sort leaves the key column in place and can be done a range of keys at a
time (:class:`Unranked`, :func:`read_source`), which publishing overlaps with the load. Missing
ranks and missing or NaN scores rank last. numpy then numbers each key's run of rows. The result
(:func:`read_rows`) is an Arrow table with the columns ``key``, ``item``, ``score``, ``rank`` and
the declared payload columns, truncated to ``max_items`` per key. Keys and items become text
whatever their source type, so lookups never depend on how a file spelled an id.

Problems that make the rows unusable (a missing column, a wrong type, an empty key or item) are
*structural*: they raise ``ResultCheckFailed`` here, and ``--force`` cannot skip them. A source
with no rows has no types to check (a header-only CSV reads as text columns): it reads as no rows,
which the count checks refuse, naming the file.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt

from sameday._arrow import from_numpy, to_numpy
from sameday.config.loader import Project
from sameday.config.results import Columns, ResultSet, Source
from sameday.errors import ConfigError, NotFound, Problem, ResultCheckFailed
from sameday.results.checks import CheckFailure, failed
from sameday.store.codec import MAX_ITEM_BYTES, SEPARATOR

RESERVED = ("key", "item", "score", "rank")
"""Normalised column names; payload columns may not take them."""
_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_INTEGER = re.compile(r"^U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?$")
_RANK = "__sameday_rank"
_KEY = "__sameday_key"
_ITEM_HASH = "__sameday_item_hash"
_HIDDEN = (_RANK, _KEY, _ITEM_HASH)
"""Columns :class:`Unranked` carries for ranking and checks, dropped from :class:`Rows`."""
_PEEK = 4096
"""Rows compared first: an unsorted source usually shows it there, sparing the full pass."""
_NUMERIC = re.compile(r"^(FLOAT|DOUBLE|REAL|DECIMAL\(\d+,\s*\d+\))$")


class KeyRuns:
    """Counts of a table whose keys are contiguous runs starting at ``starts`` (``len(table)``
    appended); the rows are the ones kept, already truncated to ``max_items`` per key."""

    starts: npt.NDArray[np.int64]

    @property
    def rows(self) -> int:
        """Number of rows kept."""
        return int(self.starts[-1])

    @property
    def keys(self) -> int:
        """Number of distinct keys."""
        return len(self.starts) - 1

    @property
    def counts(self) -> npt.NDArray[np.int64]:
        """Items per key, in key order."""
        return np.diff(self.starts)


@dataclass(frozen=True)
class Rows(KeyRuns):
    """Normalised rows of one result set, sorted by key then rank.

    Attributes:
        table: Arrow table ``key, item, score, rank, *payload``.
        starts: offsets of each key's first row, with ``len(table)`` appended.
        source: what was read, for the snapshot record.
        schema: the source's column names and DuckDB types.
        payload: the payload column names, in declared order.
        item_hashes: a 64-bit hash of each row's item, for the duplicate check; DuckDB takes
            it while it reads, on its own threads, where a later scan of the Arrow table
            would hold the GIL the load needs.
    """

    table: Any
    starts: npt.NDArray[np.int64]
    source: str
    schema: dict[str, str]
    payload: tuple[str, ...]
    item_hashes: npt.NDArray[np.uint64]

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        """Rows of consecutive key ranges (:meth:`Unranked.rank`) as one (tables not copied)."""
        import pyarrow as pa

        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        offsets = np.cumsum([0, *(part.rows for part in parts[:-1])])
        starts = np.concatenate(
            [[0], *(part.starts[1:] + offset for part, offset in zip(parts, offsets, strict=True))]
        ).astype(np.int64)
        return cls(
            pa.concat_tables([part.table for part in parts]),
            starts,
            first.source,
            first.schema,
            first.payload,
            np.concatenate([part.item_hashes for part in parts]),
        )


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def file_sql(path: Path, fmt: str) -> str:
    """The DuckDB table function reading ``path`` (a file or glob) in format ``fmt``.

    Raises:
        NotFound: no file matches ``path``.
        ConfigError: the format cannot be told from the extension.
    """
    if not glob.glob(str(path)):
        raise NotFound(f"no file matches {path}: run the job that writes it, or fix source.path")
    if fmt == "auto":
        fmt = _FORMATS.get(path.suffix.lower(), "")
        if not fmt:
            raise ConfigError(
                [
                    Problem(
                        path,
                        None,
                        None,
                        "cannot tell the format from the extension: name the file .parquet, "
                        ".csv or .jsonl, or set source.format",
                    )
                ]
            )
    if fmt == "parquet":
        return f"read_parquet({_literal(str(path))})"
    if fmt == "csv":
        return f"read_csv({_literal(str(path))}, auto_detect = true)"
    return f"read_json({_literal(str(path))}, format = 'newline_delimited')"


def source_sql(project: Project, source: Source, override: str | Path | None = None) -> str:
    """A ``SELECT`` over the declared source, or over ``override`` (a file or glob) if given."""
    if override is not None:
        return f"SELECT * FROM {file_sql(project.path(str(override)), 'auto')}"
    if source.path is not None:
        return f"SELECT * FROM {file_sql(project.path(source.path), source.format)}"
    return str(source.query)


def connect(project: Project) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that resolves relative paths against the project."""
    con = duckdb.connect()
    con.execute(f"SET file_search_path = {_literal(str(project.root))}")
    return con


def cursor(con: duckdb.DuckDBPyConnection, project: Project) -> duckdb.DuckDBPyConnection:
    """A new connection to ``con``'s database, for another thread (a DuckDB connection must not
    be shared), resolving relative paths against the project as :func:`connect` does."""
    other = con.cursor()
    other.execute(f"SET file_search_path = {_literal(str(project.root))}")
    return other


def _type_failures(columns: Columns, key_type: str, types: dict[str, str]) -> list[CheckFailure]:
    expected = {
        columns.key: ("integer",) if key_type == "integer" else ("text", "integer"),
        columns.item: ("text", "integer"),
        columns.score: ("number",),
        **({columns.rank: ("integer",)} if columns.rank else {}),
    }
    failures: list[CheckFailure] = []
    missing = [c for c in (*expected, *columns.payload) if c not in types]
    if missing:
        found = ", ".join(f"{name} {kind}" for name, kind in types.items())
        failures.append(
            failed(
                "columns",
                f"missing column(s) {', '.join(missing)}; the source has {found}. Fix the "
                "source or the result set's 'columns' mapping",
                structural=True,
            )
        )
    for name, kinds in expected.items():
        kind = types.get(name)
        if kind is None:
            continue
        actual = (
            "integer"
            if _INTEGER.match(kind)
            else "number"
            if _NUMERIC.match(kind)
            else "text"
            if kind == "VARCHAR"
            else kind
        )
        if actual not in kinds and not (actual == "integer" and "number" in kinds):
            failures.append(
                failed(
                    "types",
                    f"column {name} is {kind}, expected {' or '.join(kinds)}",
                    structural=True,
                )
            )
    clash = [c for c in columns.payload if c in RESERVED]
    if clash:
        failures.append(
            failed(
                "columns",
                f"payload column(s) {', '.join(clash)} clash with the normalised names "
                f"{', '.join(RESERVED)}: rename them in the source",
                structural=True,
            )
        )
    return failures


def read_rows(
    project: Project,
    result_set: ResultSet,
    *,
    source: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Rows:
    """Read, normalise, rank and truncate the rows of ``result_set``: :func:`read_source`,
    then :meth:`Unranked.rank` of every key.

    Raises:
        ResultCheckFailed: the rows are structurally unusable (columns, types, empty ids).
        NotFound: no source file exists.
    """
    return read_source(project, result_set, source=source, con=con).rank()


@dataclass(frozen=True)
class Unranked(KeyRuns):
    """Rows read and normalised, grouped by key in key order, perhaps not yet ranked within keys.

    Ranking within keys is left to :meth:`rank`, one range of keys at a time, so publishing can
    load the lists of one range while the next is ranked. The row set is final: when a key has
    more than ``max_items`` rows, :func:`read_source` has ranked and truncated every key already.

    Attributes:
        table: Arrow table ``key, item, score, *payload`` plus the hidden columns ``rank`` and
            ``sort`` need; each key's rows are one contiguous run.
        starts: offsets of each key's first row, with ``len(table)`` appended.
        order: the order within a key (``(column, direction)`` pairs) that :meth:`rank` checks
            and, where the rows are not in it yet, sorts by; empty when they are known to be.
        source, schema, payload: as in :class:`Rows`.
    """

    table: Any
    starts: npt.NDArray[np.int64]
    order: tuple[tuple[str, str], ...]
    source: str
    schema: dict[str, str]
    payload: tuple[str, ...]

    def unordered(self) -> Rows:
        """The rows as checks that need no order see them: the rows, keys and counts
        :meth:`rank` gives, each key's rows perhaps in another order, and no ``rank`` column."""
        return Rows(
            self.table.drop_columns([n for n in _HIDDEN if n in self.table.column_names]),
            self.starts,
            self.source,
            self.schema,
            self.payload,
            to_numpy(self.table.column(_ITEM_HASH)),
        )

    def rank(self, low: int = 0, high: int | None = None) -> Rows:
        """The ranked rows of keys ``low`` to ``high`` (every key by default).

        Keys never straddle two ranges, so ranges ranked apart and concatenated
        (:meth:`Rows.concat`) equal the whole ranked at once.
        """
        import pyarrow.compute as pc

        high = self.keys if high is None else high
        first, last = int(self.starts[low]), int(self.starts[high])
        table = self.table.slice(first, last - first)
        starts = self.starts[low : high + 1] - first
        order = [(_KEY, "ascending"), *self.order]
        if self.order and not _in_order(table, order):
            # rows stay in their key's run: only the other columns move
            keys = table.column("key")
            indices = pc.sort_indices(table, sort_keys=order)
            table = table.drop_columns(["key"]).take(indices).add_column(0, "key", keys)
        position = np.arange(len(table), dtype=np.int64) - np.repeat(starts[:-1], np.diff(starts))
        item_hashes = to_numpy(table.column(_ITEM_HASH))
        table = table.drop_columns([n for n in _HIDDEN if n in table.column_names])
        table = table.add_column(3, "rank", from_numpy(position + 1))
        return Rows(table, starts, self.source, self.schema, self.payload, item_hashes)

    def top_items(self, positions: Sequence[int], n: int) -> list[list[str]]:
        """The first ``n`` items, in rank order, of each key at ``positions`` (in key order).

        One sort of those keys' rows, where :meth:`rank` of each key alone costs a few Arrow
        calls per key: the profile asks for the 256 keys its overlap compares.
        """
        import pyarrow.compute as pc

        wanted = np.unique(np.asarray(positions, dtype=np.int64))
        firsts, ends = self.starts[wanted], self.starts[wanted + 1]
        spans = [np.arange(a, b, dtype=np.int64) for a, b in zip(firsts, ends, strict=True)]
        rows = self.table.take(from_numpy(np.concatenate([np.empty(0, np.int64), *spans])))
        if self.order:
            rows = rows.take(pc.sort_indices(rows, sort_keys=[(_KEY, "ascending"), *self.order]))
        items = rows.column("item").to_pylist()
        bounds = np.concatenate([[0], np.cumsum(ends - firsts)]).tolist()
        best = {
            int(p): items[low : min(low + n, high)]
            for p, low, high in zip(wanted, bounds, bounds[1:], strict=False)
        }
        return [best[p] for p in positions]


def read_source(
    project: Project,
    result_set: ResultSet,
    *,
    source: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Unranked:
    """Read and normalise the rows of ``result_set``, grouped by key (see :class:`Unranked`).

    Args:
        project: the loaded project (resolves relative paths).
        result_set: the declaration.
        source: a file or glob read instead of the declared source.
        con: the DuckDB connection to use (checks reuse it); a new one by default.

    Raises:
        ResultCheckFailed: the rows are structurally unusable (columns, types, empty ids).
        NotFound: no source file exists.
    """
    import pyarrow.compute as pc

    con = con or connect(project)
    sql = source_sql(project, result_set.source, source)
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW source AS {sql}")
        types = {str(r[0]): str(r[1]) for r in con.execute("DESCRIBE source").fetchall()}
    except duckdb.Error as exc:
        raise ResultCheckFailed(
            f"cannot read the source of result set {result_set.name!r}: {exc}",
            result_set=result_set.name,
            failures=["source"],
        ) from exc
    cols = result_set.columns
    where = str(source) if source is not None else (result_set.source.path or "query")
    failures = _type_failures(cols, result_set.key_type, types)
    if failures and con.execute("SELECT 1 FROM source LIMIT 1").fetchone() is None:
        failures = _of_no_rows(failures, where)
    _raise(result_set.name, failures)
    rank = f", {quote(cols.rank)} AS {_RANK}" if cols.rank else ""
    payload = "".join(f", {quote(p)}" for p in cols.payload)
    table: Any = con.sql(
        f"SELECT CAST({quote(cols.key)} AS VARCHAR) AS key, "
        f"CAST({quote(cols.item)} AS VARCHAR) AS item, "
        f"CAST({quote(cols.score)} AS DOUBLE) AS score{payload}{rank}, "
        f"hash(CAST({quote(cols.item)} AS VARCHAR)) AS {_ITEM_HASH} FROM source"
    ).to_arrow_table()
    _raise(result_set.name, _null_failures(table, cols))
    table = table.combine_chunks()
    keys = table.column("key").combine_chunks()
    within = [("score", "descending"), ("item", "ascending")]
    if cols.rank:
        within.insert(0, (_RANK, "ascending"))
    order = [(_KEY, "ascending"), *within]
    starts = key_runs(keys)
    if starts is None:  # keys not grouped: one sort by key position and rank does everything
        table = table.append_column(_KEY, key_ranks(keys))
        table = table.take(pc.sort_indices(table, sort_keys=order))
        starts, within = _key_starts(table), []
    else:  # whether each key's rows are in rank order is left to `rank`, a range at a time
        runs = np.repeat(np.arange(len(starts) - 1, dtype=np.int64), np.diff(starts))
        table = table.append_column(_KEY, from_numpy(runs))
    counts = np.diff(starts)
    if len(counts) and int(counts.max()) > result_set.max_items:
        # which rows are kept depends on the ranking: rank every key now, then keep the top
        if within and not _in_order(table, order):
            indices = pc.sort_indices(table, sort_keys=order)
            table = table.drop_columns(["key"]).take(indices).add_column(0, "key", keys)
            within = []
        position = np.arange(len(table), dtype=np.int64) - np.repeat(starts[:-1], counts)
        table = table.filter(from_numpy(position < result_set.max_items))
        kept = np.minimum(counts, result_set.max_items)
        starts = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
    return Unranked(table, starts, tuple(within), where, types, tuple(cols.payload))


def _of_no_rows(failures: list[CheckFailure], where: str) -> list[CheckFailure]:
    """``failures`` of a source with no rows: type failures are dropped, since with no rows
    there are no types to check (DuckDB reads every column of a header-only CSV as text), and
    missing columns say that the source has no rows. A header-only source that has the
    declared columns thus reads as no rows, which the count checks report, naming the file."""
    return [
        replace(f, message=f"{f.message} ({where} has no rows)")
        for f in failures
        if f.check != "types"
    ]


def key_ranks(keys: Any) -> Any:
    """Each row's key (a text Arrow array) as its position among the distinct keys, in order.

    Sorting and comparing by these integers orders rows exactly as by the key text, at a
    fraction of the cost: the text of each distinct key is compared once, not once per row.
    """
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(keys)
    ranks = pc.rank(encoded.dictionary, sort_keys="ascending", tiebreaker="first")
    return pc.take(ranks, encoded.indices)


def _in_order(table: Any, order: list[tuple[str, str]]) -> bool:
    """:func:`in_order`, looking at the first rows first: rows out of order usually show it
    there, sparing the pass over all of them."""
    return in_order(table.slice(0, _PEEK), order) and in_order(table, order)


def in_order(table: Any, order: list[tuple[str, str]]) -> bool:
    """Whether the rows of ``table`` are sorted by ``order`` (``(column, direction)`` pairs).

    Compares every row with the next in a handful of Arrow kernels. Nulls and NaNs in a sort
    column answer ``False``: where they go is left to the sort, which puts them last.
    """
    import pyarrow.compute as pc

    if len(table) < 2:
        return True
    for name, _ in order:
        column = table.column(name)
        if column.null_count or (column.type == "double" and pc.any(pc.is_nan(column)).as_py()):
            return False
    size = len(table) - 1
    ordered: Any = None
    for name, direction in reversed(order):
        column = table.column(name)
        this, after = column.slice(0, size), column.slice(1)
        before = pc.less if direction == "ascending" else pc.greater
        if ordered is None:
            ordered = pc.or_(before(this, after), pc.equal(this, after))
        else:
            ordered = pc.or_(before(this, after), pc.and_(pc.equal(this, after), ordered))
    return bool(pc.all(ordered).as_py())


def _null_failures(table: Any, cols: Columns) -> list[CheckFailure]:
    import pyarrow.compute as pc

    failures: list[CheckFailure] = []
    visible = table.drop_columns([n for n in _HIDDEN if n in table.column_names])
    longest = pc.max(pc.binary_length(table.column("item"))).as_py() or 0
    if longest > MAX_ITEM_BYTES:
        failures.append(
            failed(
                "types",
                f"an item id is {longest} bytes long; at most {MAX_ITEM_BYTES} are allowed",
                structural=True,
            )
        )
    if _holds_separator(table.column("item")):
        examples = visible.filter(pc.match_substring(table.column("item"), SEPARATOR))
        failures.append(
            failed(
                "types",
                "item ids may not contain the NUL character (\\x00): remove it in the source",
                examples.slice(0, 5).to_pylist(),
                structural=True,
            )
        )
    for name, source_name in (("key", cols.key), ("item", cols.item)):
        column = table.column(name)
        if column.null_count:
            examples = visible.filter(pc.is_null(column)).slice(0, 5).to_pylist()
            failures.append(
                failed(
                    "nulls",
                    f"{column.null_count} row(s) have no {name} (column {source_name})",
                    examples,
                    structural=True,
                )
            )
    return failures


def string_buffers(column: Any) -> tuple[npt.NDArray[np.int64], Any]:
    """The offsets and the data buffer of a text or binary Arrow column (the offsets index the
    buffer); other types are cast to text first."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    small = (pa.types.is_string, pa.types.is_binary)
    large = (pa.types.is_large_string, pa.types.is_large_binary)
    if not any(test(array.type) for test in (*small, *large)):
        array = array.cast(pa.large_string())
    wide = any(test(array.type) for test in large)
    width = np.int64 if wide else np.int32
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=width)[array.offset : array.offset + len(array) + 1]
    data = buffers[2] if buffers[2] is not None else pa.py_buffer(b"")
    return offsets.astype(np.int64), data


def _holds_separator(column: Any) -> bool:
    """Whether a text value of ``column`` contains NUL, which the stored format reserves
    (:data:`sameday.store.codec.SEPARATOR`): one scan of the bytes for a zero, no per-row work."""
    for chunk in column.chunks:
        offsets, data = string_buffers(chunk)
        if not np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]].all():
            return True
    return False


def key_runs(keys: Any) -> npt.NDArray[np.int64] | None:
    """Where each key's run starts (``len(keys)`` appended) if the keys of a text Arrow array
    are already grouped and in order, else ``None``.

    Pipelines usually write rows key by key, so one run-length pass (and a comparison of each
    run's key with the next) usually finds every key's position without hashing a row.
    """
    import pyarrow.compute as pc

    runs = pc.run_end_encode(keys)
    values = runs.values
    if len(values) > 1 and not pc.all(pc.less(values[:-1], values[1:])).as_py():
        return None
    return np.concatenate([[0], to_numpy(runs.run_ends)]).astype(np.int64)


def _key_starts(table: Any) -> npt.NDArray[np.int64]:
    """Offsets where each key's run of rows starts (the table is sorted by key)."""
    import pyarrow.compute as pc

    if len(table) == 0:
        return np.zeros(1, dtype=np.int64)
    runs = pc.run_end_encode(table.column("key").combine_chunks())
    ends = to_numpy(runs.run_ends).astype(np.int64)
    return np.concatenate([[0], ends])


def _raise(name: str, failures: list[CheckFailure]) -> None:
    if failures:
        raise ResultCheckFailed(
            f"result set {name!r} cannot be read:\n" + "\n".join(f.render() for f in failures),
            result_set=name,
            failures=[f.check for f in failures],
        )
