"""``publish``: read a result set, check it, and make it live as a new immutable snapshot.

Nothing becomes visible until every check passes. The rows are read grouped by key; the count
checks decide at once, and nothing is written unless they pass. Then three things run side by
side (numpy, Arrow kernels, DuckDB, hashlib and socket writes release the GIL, so on two cores
they overlap): the checks that scan every row, in a thread; the ranking within keys and the
encoding, a range of keys at a time, in another (:mod:`sameday.results.pieces`); and the load of
each range into the serving store under a fresh version, as soon as it is encoded. The SQL
assertions, which may read ``rank``, run once the last range is ranked. The load cannot commit
before every check has passed: a failure abandons it, and the store is left as it was.
A fourth thread profiles the rows and runs the drift gates against the result set's history
(:mod:`sameday.results.profiling`); a gate that blocks refuses the load like a failed check.
The version is then recorded in the metadata database and made live with one pointer swap;
:mod:`sameday.results.lifecycle` explains the order and why a publish killed at any point
leaves the previous snapshot live and the next publish able to clean up.

``force`` skips the quality checks (row and key counts, scores, duplicates, catalogue, short
lists, change against the live snapshot, SQL assertions) but never the structural ones: a source
without the declared columns, with the wrong types or with empty ids cannot be published.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sameday.config.loader import Project
from sameday.errors import ResultCheckFailed, SamedayError
from sameday.metadata import new_snapshot_version
from sameday.results.checks import CheckFailure, Context, Kind, ordered, run_checks
from sameday.results.encode import EncodedLists
from sameday.results.lifecycle import (
    apply_retention,
    live_record,
    open_for_publish,
    publish_lock,
    repair,
    result_set,
)
from sameday.results.pieces import RankedPieces
from sameday.results.profiling import Profiling, previous
from sameday.results.read import connect, cursor, read_source
from sameday.store import Chunk, ServingStore

Progress = Callable[[int, int], None]
"""Called as ``progress(keys_done, keys_total)`` while lists are loaded into the store."""

CHUNK_DELAY_ENV = "SAMEDAY_TEST_CHUNK_DELAY"
"""Test hook: seconds to sleep after each loaded chunk, so tests can kill a publish mid-load."""


@dataclass(frozen=True)
class PublishResult:
    """What a publish did (or, with ``dry_run``, would do).

    Attributes:
        version: the new snapshot's version; ``None`` on a dry run.
        previous: the version that was live before, if any.
        forced: checks that failed but were skipped with ``force``.
        deleted: versions removed by retention.
        repaired: debris of interrupted publishes removed first.
        unchanged: the lists equal the previous live snapshot's (same content hash): readers
            see no difference, though a new snapshot was recorded (a daily job that found
            nothing new, say).
        warnings: drift checks that warned (the snapshot was published; the findings are
            recorded with its profile).
        seconds: time spent per phase (read, check, encode, load, profile, total).
    """

    result_set: str
    version: str | None
    content_hash: str
    rows: int
    keys: int
    source: str
    dry_run: bool
    previous: str | None = None
    forced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def redact(url: str) -> str:
    """``url`` without its password, fit for records and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _reported(
    chunks: Iterable[Chunk], total: int, progress: Progress | None, gate: Callable[[], None]
) -> Iterator[Chunk]:
    """``chunks``, reporting progress after each, then ``gate()`` before the store may commit."""
    delay = float(os.environ.get(CHUNK_DELAY_ENV) or 0)
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        if progress is not None:
            progress(done, total)
        if delay:
            time.sleep(delay)
    gate()


def _refuse(name: str, failures: list[CheckFailure]) -> ResultCheckFailed:
    count = len(failures)
    return ResultCheckFailed(
        f"result set {name!r} failed {count} check{'s' if count != 1 else ''}; nothing was "
        "published:\n"
        + "\n".join(f.render() for f in failures)
        + "\nFix the rows, or publish with --force to skip these (non-structural) checks.",
        result_set=name,
        failures=[f.check for f in failures],
    )


def publish(
    project: Project,
    name: str,
    *,
    source: str | Path | None = None,
    dry_run: bool = False,
    force: bool = False,
    run_id: str | None = None,
    reason: str | None = None,
    progress: Progress | None = None,
) -> PublishResult:
    """Check the rows of result set ``name`` and publish them as its live snapshot.

    Args:
        project: the loaded project.
        name: the result set to publish.
        source: a file or glob to read instead of the declared source.
        dry_run: read and check only; change nothing.
        force: publish even if quality checks fail (structural ones still refuse).
        run_id: the pipeline run that produced the rows, recorded with the snapshot.
        reason: why, recorded in the history of what was live.
        progress: called while the lists are loaded, see :data:`Progress`.

    Raises:
        ResultCheckFailed: a check failed (with example rows); nothing was changed.
        NotFound: the result set or its source file does not exist.
        StoreUnavailable: the serving store or the metadata database cannot be reached.
    """
    declared = result_set(project, name)
    started = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(phase: str, since: float) -> float:
        now = time.perf_counter()
        seconds[phase] = round(now - since, 4)
        return now

    con = connect(project)
    try:
        unranked = read_source(project, declared, source=source, con=con)
        mark = lap("read", started)
        with ThreadPoolExecutor(4, thread_name_prefix="sameday-publish") as pool:
            # the checks that need neither order nor the live snapshot start at once, and run
            # beside everything else up to the end of the load
            unordered = Context(con, unranked.unordered(), declared.checks, project, None)
            scan_ctx = replace(unordered, con=cursor(con, project))
            scanning = pool.submit(_scans, scan_ctx, "scans", mark, seconds)
            with publish_lock(project, name), open_for_publish(project) as (meta, store):
                live = live_record(meta, store, name)
                profiling = Profiling(project, declared, *previous(meta, store, declared, live))
                judging = pool.submit(profiling.judge, unranked, cursor(con, project), seconds)
                failures = run_checks(replace(unordered, live=live), "counts")
                result = PublishResult(
                    name,
                    None,
                    "",
                    unranked.rows,
                    unranked.keys,
                    unranked.source,
                    dry_run,
                    previous=live.version if live else None,
                )
                if dry_run or (failures and not force):
                    rows = unranked.rank()
                    sql_ctx = replace(scan_ctx, con=cursor(con, project), rows=rows)
                    asserting = pool.submit(_scans, sql_ctx, "sql", mark, seconds)
                    failures = ordered(
                        failures + scanning.result() + asserting.result() + judging.result()
                    )
                    if failures and not force:
                        raise _refuse(name, failures)
                    content_hash = EncodedLists(rows, con).content_hash()
                    mark = lap("encode", mark)
                    seconds["total"] = round(time.perf_counter() - started, 4)
                    return replace(
                        result,
                        content_hash=content_hash,
                        forced=[f.check for f in failures],
                        unchanged=live is not None and live.content_hash == content_hash,
                        warnings=profiling.warnings,
                        seconds=seconds,
                    )
                version = new_snapshot_version(name)
                pieces = RankedPieces(unranked, cursor(con, project))
                pool.submit(pieces.produce)
                sql_ctx = replace(scan_ctx, con=cursor(con, project))
                asserting = pool.submit(_assertions_when_ranked, pieces, sql_ctx, mark, seconds)
                failures = _load_checked(
                    store,
                    name,
                    version,
                    pieces,
                    [scanning, asserting, judging],
                    counts=failures,
                    force=force,
                    progress=progress,
                    total=unranked.keys,
                )
                content_hash = pieces.content_hash.result()
                repaired = repair(meta, store, name, loading=version)
                meta.create_snapshot(
                    name,
                    version,
                    content_hash=content_hash,
                    rows=result.rows,
                    keys=result.keys,
                    schema={"source": unranked.schema, "columns": declared.columns.model_dump()},
                    source=unranked.source,
                    run_id=run_id,
                    store_url=redact(project.settings.storage.serving),
                )
                store.set_live(name, version)
                meta.set_live(name, version, action="publish", reason=reason)
                profiling.record(meta, version)
                mark = lap("load", mark)
                deleted = apply_retention(meta, store, name, declared.retention)
    finally:
        con.close()
    seconds["total"] = round(time.perf_counter() - started, 4)
    return replace(
        result,
        version=version,
        content_hash=content_hash,
        forced=[f.check for f in failures],
        deleted=deleted,
        repaired=repaired,
        unchanged=live is not None and live.content_hash == content_hash,
        warnings=profiling.warnings,
        seconds=seconds,
    )


def _scans(ctx: Context, kind: Kind, since: float, seconds: dict[str, float]) -> list[CheckFailure]:
    """The failures of the checks of ``kind``, noting their time in ``seconds`` (they overlap
    other phases); closes the context's connection."""
    try:
        return run_checks(ctx, kind)
    finally:
        ctx.con.close()
        seconds["check"] = max(seconds.get("check", 0.0), round(time.perf_counter() - since, 4))


def _assertions_when_ranked(
    pieces: RankedPieces, ctx: Context, since: float, seconds: dict[str, float]
) -> list[CheckFailure]:
    """The SQL assertions over the ranked rows (they may read ``rank``), once ``pieces`` has
    ranked the last range; none declared, nothing to wait for."""
    try:
        rows = pieces.rows.result()
    except BaseException:
        ctx.con.close()
        raise
    seconds["encode"] = round(time.perf_counter() - since, 4)
    if not ctx.checks.sql:
        ctx.con.close()
        return []
    return _scans(replace(ctx, rows=rows), "sql", since, seconds)


def _load_checked(
    store: ServingStore,
    name: str,
    version: str,
    pieces: RankedPieces,
    checking: list[Future[list[CheckFailure]]],
    *,
    counts: list[CheckFailure],
    force: bool,
    progress: Progress | None,
    total: int,
) -> list[CheckFailure]:
    """Load ``version`` of ``name`` as ``pieces`` ranks it, while the checks (``checking``) run
    in threads.

    The store commits only after the last chunk, and after the last chunk :func:`_reported`
    waits for the checks. If one fails and ``force`` is off, the load is abandoned before it
    commits (SQLite rolls its transaction back) and whatever it wrote is dropped (Redis), so
    readers see no change and no version is left behind; a publish killed meanwhile leaves
    debris that the next publish's :func:`repair` removes. Ranking, the checks, the content
    hash and the load spend most of their time outside the GIL (DuckDB, numpy, hashlib, Arrow
    kernels, sockets), so on two cores they overlap.

    Returns:
        ``counts`` (the count checks' failures, already forced) and the other checks'
        failures, in report order; all of them forced, since the load went through.
    """
    failures: list[CheckFailure] = []

    def gate() -> None:
        failures.extend(ordered(counts + [f for done in checking for f in done.result()]))
        if failures and not force:
            raise _refuse(name, failures)

    try:
        store.load(name, version, _reported(pieces.chunks(), total, progress, gate))
    except BaseException:
        pieces.cancel()
        with suppress(SamedayError):
            store.drop(name, version)
        raise
    return failures
