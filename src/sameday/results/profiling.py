"""A publish's profile of its snapshot and the drift gates over it.

Before the new snapshot is loaded, :func:`previous` reads what it is compared with: the
profiles of the result set's last snapshots (metadata) and the live snapshot's lists of its
sampled keys (the serving store; read now, before the store is busy loading). Then
:meth:`Profiling.judge` computes the profile (:mod:`sameday.monitor.profile`) from the rows as
read, ranking only the keys the overlap compares, and runs the drift checks
(:mod:`sameday.monitor.drift`) in a thread beside the ranking and the load, like the scan
checks: a check that blocks becomes a :class:`CheckFailure` named ``drift:<check>``, which
refuses the publish exactly as a failed quality check does (and ``--force`` skips it); a check
that warns lets it through, and its finding is recorded with the profile and reported.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from sameday.config.loader import Project
from sameday.config.results import ResultSet
from sameday.errors import NotFound, SamedayError
from sameday.metadata.records import SnapshotRecord
from sameday.metadata.snapshot_ledger import SnapshotBook
from sameday.monitor.check import Finding
from sameday.monitor.drift import evaluate
from sameday.monitor.profile import TOP, Previous, profile_lists
from sameday.results.checks import CheckFailure, failed
from sameday.results.read import Unranked, file_sql, quote
from sameday.store import ServingStore


def previous(
    meta: SnapshotBook,
    store: ServingStore,
    declared: ResultSet,
    live: SnapshotRecord | None,
) -> tuple[Previous, list[dict[str, Any]]]:
    """The live snapshot's profile and lists of its sampled keys, and the profiles of the last
    ``drift.history`` snapshots (newest first) to judge drift against."""
    history = [p.profile for p in meta.profiles(declared.name, declared.drift.history)]
    if live is None:
        return Previous(), history
    record = meta.profile(live.version)
    if record is None or not record.profile.get("sample"):
        return Previous(record.profile if record else None), history
    keys = [key for _, key in record.profile["sample"]]
    try:
        lists = store.get_many(declared.name, keys)
    except NotFound:
        lists = {}
    held = {key: [entry.item for entry in items] for key, items in lists.items() if items}
    return Previous(record.profile, held), history


@dataclass
class Profiling:
    """The profile of the snapshot being published and the drift findings about it.

    Attributes:
        profile: set by :meth:`judge`.
        findings: every drift finding (healthy ones too), set by :meth:`judge`.
    """

    project: Project
    declared: ResultSet
    before: Previous
    history: list[dict[str, Any]]
    profile: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)

    def judge(self, rows: Unranked, con: Any, seconds: dict[str, float]) -> list[CheckFailure]:
        """Profile ``rows``, run the drift checks, and return the failures of those that block.

        Closes ``con`` (a DuckDB connection of the calling thread's own).
        """
        started = time.perf_counter()
        unordered = rows.unordered()
        try:
            self.profile = profile_lists(
                con,
                unordered.table,
                unordered.starts,
                unordered.item_hashes,
                previous=self.before,
                catalogue=self._catalogue(con),
                top=lambda positions: rows.top_items(positions, TOP),
            )
        finally:
            con.close()
        drift = self.declared.drift
        self.findings = evaluate(self.declared.name, self.profile, self.history, drift)
        seconds["profile"] = round(time.perf_counter() - started, 4)
        return [
            failed(f"drift:{f.monitor.removeprefix('drift.')}", f.summary + _why(f))
            for f in self.findings
            if f.status == "fail"
        ]

    @property
    def warnings(self) -> list[str]:
        """The summaries of the checks that warned."""
        return [f.summary for f in self.findings if f.status == "warn"]

    def record(self, meta: SnapshotBook, version: str) -> None:
        """Record the profile and findings of ``version`` (live now)."""
        if self.profile is None:
            return
        findings = [dataclasses.asdict(f) for f in self.findings]
        meta.record_profile(version, self.declared.name, self.profile, findings)

    def _catalogue(self, con: Any) -> int | None:
        """The number of distinct items in the declared catalogue, if any and readable."""
        import duckdb

        rule = self.declared.checks.catalogue
        if rule is None:
            return None
        try:
            source = file_sql(self.project.path(rule.path), "auto")
            found = con.execute(
                f"SELECT count(DISTINCT {quote(rule.column)}) FROM {source}"
            ).fetchall()
        except (SamedayError, duckdb.Error):
            return None  # the catalogue check reports it
        return int(found[0][0])


def _why(finding: Finding) -> str:
    """What to do about a blocking drift finding."""
    name = finding.monitor.removeprefix("drift.")
    return (
        f". If the change is intended, publish with --force, or set drift.actions.{name} "
        "to warn in the result set's file"
    )
