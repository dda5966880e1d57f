"""The checks a publication must pass before it can go live, each a small function.

Every check looks at the normalised rows (see :mod:`sameday.results.read`), registered in DuckDB
as the table ``rows``, and returns ``None`` or a :class:`CheckFailure` with a few offending rows,
so the person reading the error sees what is wrong, not only that something is.

Structural failures (unusable columns, types or ids) come from the reader and cannot be forced;
the checks here guard quality and can be skipped with ``publish(force=True)``.

The checks come in two kinds. *Count* checks look only at row and key counts, which the reader
already has: they are instant, so a publish runs them before writing anything. *Scan* checks
(scores, duplicates, catalogue, SQL assertions) read every row: a publish runs them in a thread
while the lists load, and abandons the load if one fails. Scores and duplicates, checked on every
publish, are cleared by numpy over whole columns (which releases the GIL the load needs); DuckDB
runs only to confirm a failure and fetch examples, and for the catalogue and SQL assertions
(its scans of an Arrow table hold the GIL much of the time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson

from sameday._arrow import from_numpy, to_numpy
from sameday.config.loader import Project
from sameday.config.results import Checks
from sameday.errors import NotFound
from sameday.metadata.records import SnapshotRecord

if TYPE_CHECKING:
    import duckdb

    from sameday.results.read import Rows

EXAMPLES = 5
"""Offending rows shown per failed check."""
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
"""Odd 64-bit constant (2^64 / golden ratio) spreading key positions over all hash bits."""


@dataclass(frozen=True)
class CheckFailure:
    """One failed check: its name, what is wrong, and a few offending rows."""

    check: str
    message: str
    examples: list[dict[str, Any]] = field(default_factory=list)
    structural: bool = False

    def render(self) -> str:
        """The failure as text: one line, then the example rows as JSON, indented."""
        lines = [f"- {self.check}: {self.message}"]
        lines += [f"    {orjson.dumps(row, default=str).decode()}" for row in self.examples]
        return "\n".join(lines)


def failed(
    check: str,
    message: str,
    examples: Sequence[dict[str, Any]] = (),
    *,
    structural: bool = False,
) -> CheckFailure:
    """A :class:`CheckFailure`, keeping at most ``EXAMPLES`` example rows."""
    return CheckFailure(check, message, list(examples)[:EXAMPLES], structural)


@dataclass(frozen=True)
class Context:
    """What a check may look at: the rows, the declared checks and the live snapshot."""

    con: duckdb.DuckDBPyConnection
    rows: Rows
    checks: Checks
    project: Project
    live: SnapshotRecord | None


def _examples(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[int, list[dict[str, Any]]]:
    """How many rows ``sql`` returns, and the first few of them as dictionaries."""
    cursor = con.execute(f"SELECT *, count(*) OVER () AS __total FROM ({sql}) LIMIT {EXAMPLES}")
    names = [d[0] for d in cursor.description or []]
    records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    total = int(records[0].pop("__total")) if records else 0
    for record in records:
        record.pop("__total", None)
    return total, records


def min_rows(ctx: Context) -> CheckFailure | None:
    """At least ``checks.min_rows`` rows."""
    if ctx.rows.rows >= ctx.checks.min_rows:
        return None
    if ctx.rows.rows == 0:  # say which file: the job that writes it produced nothing
        return failed(
            "min_rows",
            f"{ctx.rows.source} has no rows, at least {ctx.checks.min_rows} required; check "
            "the job that writes it",
        )
    return failed("min_rows", f"{ctx.rows.rows} rows, at least {ctx.checks.min_rows} required")


def min_keys(ctx: Context) -> CheckFailure | None:
    """At least ``checks.min_keys`` distinct keys."""
    if ctx.rows.keys >= ctx.checks.min_keys:
        return None
    return failed("min_keys", f"{ctx.rows.keys} keys, at least {ctx.checks.min_keys} required")


def finite_scores(ctx: Context) -> CheckFailure | None:
    """No NaN, infinite or missing score.

    numpy answers for the whole column in a millisecond (a missing score reads as NaN); only
    when some score is bad does DuckDB count and fetch examples.
    """
    if not ctx.checks.finite_scores:
        return None
    scores = to_numpy(ctx.rows.table.column("score"))
    if np.isfinite(scores).all():
        return None
    total, rows = _examples(
        ctx.con, "SELECT * FROM rows WHERE score IS NULL OR NOT isfinite(score)"
    )
    return failed("finite_scores", f"{total} row(s) have a missing, NaN or infinite score", rows)


def _pair_hashes_repeat(ctx: Context) -> bool:
    """Whether two rows share a 64-bit hash of ``(key, item)``: every repeated pair does.

    The reader hashed the items; each key's run of rows is mixed in by its position (the rows
    are grouped by key), and one numpy sort puts equal hashes side by side. numpy releases the
    GIL, and a grouping query over two million text pairs costs several times more.
    """
    runs = np.repeat(np.arange(ctx.rows.keys, dtype=np.uint64), ctx.rows.counts)
    mixed = np.sort(ctx.rows.item_hashes ^ (runs * _GOLDEN))
    return bool((mixed[1:] == mixed[:-1]).any())


def unique_items(ctx: Context) -> CheckFailure | None:
    """No item twice in one key's list.

    A fast hash test (:func:`_pair_hashes_repeat`) clears almost every snapshot; if hashes
    repeat (a duplicate, or a collision), the exact grouping query decides and finds examples.
    """
    if not ctx.checks.unique_items or not _pair_hashes_repeat(ctx):
        return None
    total, rows = _examples(
        ctx.con,
        "SELECT key, item, count(*) AS times FROM rows GROUP BY key, item HAVING count(*) > 1 "
        "ORDER BY key, item",
    )
    if not total:
        return None
    return failed("unique_items", f"{total} (key, item) pair(s) appear more than once", rows)


def short_lists(ctx: Context) -> CheckFailure | None:
    """At most ``max_share`` of keys with fewer than ``min_items`` items."""
    rule = ctx.checks.short_lists
    if rule is None or ctx.rows.keys == 0:
        return None
    short = ctx.rows.counts < rule.min_items
    share = float(short.mean())
    if share <= rule.max_share:
        return None
    firsts = from_numpy(ctx.rows.starts[:-1][short][:EXAMPLES])
    keys = ctx.rows.table.column("key").take(firsts).to_pylist()
    counts = ctx.rows.counts[short][:EXAMPLES].tolist()
    return failed(
        "short_lists",
        f"{share:.1%} of keys have fewer than {rule.min_items} items, at most "
        f"{rule.max_share:.1%} allowed",
        [{"key": k, "items": n} for k, n in zip(keys, counts, strict=True)],
    )


def catalogue(ctx: Context) -> CheckFailure | None:
    """Every item is in the catalogue file."""
    from sameday.results.read import file_sql, quote

    rule = ctx.checks.catalogue
    if rule is None:
        return None
    try:
        source = file_sql(ctx.project.path(rule.path), "auto")
    except NotFound as exc:
        return failed("catalogue", str(exc))
    total, rows = _examples(
        ctx.con,
        f"SELECT * FROM rows WHERE item NOT IN "
        f"(SELECT CAST({quote(rule.column)} AS VARCHAR) FROM {source} "
        f"WHERE {quote(rule.column)} IS NOT NULL)",
    )
    if not total:
        return None
    return failed("catalogue", f"{total} row(s) recommend items missing from {rule.path}", rows)


def key_coverage(ctx: Context) -> CheckFailure | None:
    """The number of keys drops by at most ``max_key_coverage_drop`` against the live snapshot."""
    limit = ctx.checks.max_key_coverage_drop
    if limit is None or ctx.live is None or ctx.live.keys == 0:
        return None
    drop = (ctx.live.keys - ctx.rows.keys) / ctx.live.keys
    if drop <= limit:
        return None
    return failed(
        "key_coverage",
        f"{ctx.rows.keys} keys against {ctx.live.keys} in live snapshot {ctx.live.version} "
        f"(-{drop:.1%}); at most -{limit:.1%} allowed",
    )


def row_count(ctx: Context) -> CheckFailure | None:
    """The row count changes by at most ``max_row_count_change`` against the live snapshot."""
    limit = ctx.checks.max_row_count_change
    if limit is None or ctx.live is None or ctx.live.rows == 0:
        return None
    change = (ctx.rows.rows - ctx.live.rows) / ctx.live.rows
    if abs(change) <= limit:
        return None
    return failed(
        "row_count",
        f"{ctx.rows.rows} rows against {ctx.live.rows} in live snapshot {ctx.live.version} "
        f"({change:+.1%}); at most ±{limit:.1%} allowed",
    )


def sql_assertions(ctx: Context) -> list[CheckFailure]:
    """Each custom query over ``rows`` returns no rows."""
    import duckdb

    failures = []
    for assertion in ctx.checks.sql:
        name = f"sql:{assertion.name}"
        try:
            total, rows = _examples(ctx.con, assertion.query)
        except duckdb.Error as exc:
            failures.append(failed(name, f"the query failed: {exc}"))
            continue
        if total:
            failures.append(failed(name, f"{total} offending row(s)", rows))
    return failures


Check = Callable[[Context], CheckFailure | None]
"""One built-in check."""
CHECKS: tuple[Check, ...] = (
    min_rows,
    min_keys,
    finite_scores,
    unique_items,
    short_lists,
    catalogue,
    key_coverage,
    row_count,
)
"""The built-in checks, in the order they run and report."""
COUNTS: frozenset[Check] = frozenset({min_rows, min_keys, short_lists, key_coverage, row_count})
"""The checks that look only at row and key counts: instant, run before anything is written."""
Kind = Literal["all", "counts", "scans", "sql"]
"""Which checks :func:`run_checks` runs: every one, the count checks, the other built-in checks
(they scan every row, but not in any order), or the SQL assertions (which may read ``rank``)."""


def run_checks(ctx: Context, kind: Kind = "all") -> list[CheckFailure]:
    """Every failure among the checks of ``kind``.

    Failures come in the order of :data:`CHECKS`, SQL assertions last; :func:`ordered` restores
    that order when the kinds ran apart.
    """
    if kind == "counts":
        chosen = [check for check in CHECKS if check in COUNTS]
        return [failure for check in chosen if (failure := check(ctx)) is not None]
    ctx.con.register("rows", ctx.rows.table)
    if kind == "sql":
        return sql_assertions(ctx)
    chosen = [check for check in CHECKS if kind == "all" or check not in COUNTS]
    failures = [failure for check in chosen if (failure := check(ctx)) is not None]
    return failures + sql_assertions(ctx) if kind == "all" else failures


def ordered(failures: list[CheckFailure]) -> list[CheckFailure]:
    """``failures`` in the order :func:`run_checks` reports them: built-in checks, then SQL."""
    position = {check.__name__: index for index, check in enumerate(CHECKS)}
    return sorted(failures, key=lambda failure: position.get(failure.check, len(CHECKS)))
