"""Checks of declared datasets against their own history: readable, schema, volume, nulls, age.

Each check looks at every dataset the project declares and returns one finding per dataset
(healthy ones included, so an open incident can resolve). They judge what the runs recorded
(:meth:`MetadataStore.dataset_observations`), never read the data themselves: observing is the
runner's job (:mod:`sameday.monitor.run_hooks`), judging is cheap and can run every few minutes.

* ``dataset.read``: the newest observation could not read the dataset (missing file,
  unreachable table, a ``time_column`` that is not a column);
* ``dataset.schema``: columns removed, retyped or added since the observation before;
* ``dataset.volume``: rows against the median of the last ``history`` observations;
* ``dataset.nulls``: each column's share of nulls against its median;
* ``dataset.freshness``: the newest value of ``time_column`` older than ``max_age``.

Volume and nulls are judged by a relative change and a rise in points, not by a test: with
millions of rows any test calls a 0.1% wobble significant.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sameday.config.datasets import Dataset, Reaction, declared
from sameday.metadata.dataset_records import Columns, DatasetObservation
from sameday.monitor.check import Check, Context, Finding, Status

if TYPE_CHECKING:
    from sameday.config.loader import Project

_SEVERITY = {"fail": "critical", "warn": "warning"}


@dataclass(frozen=True)
class SchemaChange:
    """How one schema became another: columns added, removed, and retyped (name, old, new)."""

    added: Columns = ()
    removed: Columns = ()
    retyped: tuple[tuple[str, str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retyped)

    def describe(self) -> str:
        """``removed a (INT); retyped b INT -> TEXT; added c (DATE)``, or ``unchanged``."""
        parts = []
        if self.removed:
            parts.append("removed " + ", ".join(f"{n} ({t})" for n, t in self.removed))
        if self.retyped:
            parts.append("retyped " + ", ".join(f"{n} {a} -> {b}" for n, a, b in self.retyped))
        if self.added:
            parts.append("added " + ", ".join(f"{n} ({t})" for n, t in self.added))
        return "; ".join(parts) or "unchanged"


def schema_change(old: Columns, new: Columns) -> SchemaChange:
    """The difference between two schemas, by column name (order changes are not changes)."""
    before, after = dict(old), dict(new)
    return SchemaChange(
        added=tuple((n, t) for n, t in new if n not in before),
        removed=tuple((n, t) for n, t in old if n not in after),
        retyped=tuple((n, t, after[n]) for n, t in old if n in after and after[n] != t),
    )


Judge = Callable[[str, Dataset, list[DatasetObservation], Context], Finding | None]


@dataclass
class DatasetCheck:
    """One aspect of every declared dataset, judged from its recorded observations."""

    name: str
    judge: Judge

    def evaluate(self, context: Context) -> list[Finding]:
        """One finding per declared dataset (none where the aspect is turned off)."""
        findings: list[Finding] = []
        for name, (_, dataset) in sorted(declared(context.project).items()):
            limit = dataset.checks.history + 1
            try:
                history = context.metadata.dataset_observations(name, limit=limit)
            except Exception as exc:  # a check reports, never raises (see Check.evaluate)
                findings.append(Finding(self.name, name, "error", f"could not read history: {exc}"))
                continue
            if not history:
                findings.append(
                    Finding(self.name, name, "learning", f"dataset {name} not observed yet")
                )
                continue
            finding = self.judge(name, dataset, history, context)
            if finding is not None:
                findings.append(finding)
        return findings


def _finding(
    check: str, subject: str, reaction: Reaction, summary: str, evidence: dict[str, object]
) -> Finding:
    status: Status = "fail" if reaction == "fail" else "warn"
    return Finding(check, subject, status, summary, _SEVERITY[reaction], evidence)  # type: ignore[arg-type]


def _read(
    name: str, dataset: Dataset, history: list[DatasetObservation], context: Context
) -> Finding:
    latest = history[0]
    evidence: dict[str, object] = {"observed_at": latest.observed_at.isoformat()}
    if latest.error is not None:
        return _finding(
            "dataset.read",
            name,
            "fail",
            f"dataset {name} could not be read: {latest.error}",
            {**evidence, "error": latest.error, "run_id": latest.run_id},
        )
    return Finding("dataset.read", name, "ok", f"dataset {name} read", evidence=evidence)


def _schema(
    name: str, dataset: Dataset, history: list[DatasetObservation], context: Context
) -> Finding:
    seen = [o for o in history if o.columns is not None]
    if len(seen) < 2:
        return Finding("dataset.schema", name, "learning", f"dataset {name}: no earlier schema")
    latest, before = seen[0], seen[1]
    assert latest.columns is not None and before.columns is not None
    change = schema_change(before.columns, latest.columns)
    checks = dataset.checks
    reactions = [
        checks.removed_columns if change.removed else "off",
        checks.retyped_columns if change.retyped else "off",
        checks.added_columns if change.added else "off",
    ]
    evidence: dict[str, object] = {
        "revision": latest.schema_revision,
        "previous_revision": before.schema_revision,
        "added": [list(c) for c in change.added],
        "removed": [list(c) for c in change.removed],
        "retyped": [list(c) for c in change.retyped],
    }
    worst: Reaction | None = (
        "fail" if "fail" in reactions else "warn" if "warn" in reactions else None
    )
    if worst is None:
        summary = f"dataset {name}: schema unchanged (revision {latest.schema_revision})"
        return Finding("dataset.schema", name, "ok", summary, evidence=evidence)
    summary = (
        f"dataset {name}: schema changed (revision {before.schema_revision} -> "
        f"{latest.schema_revision}): {change.describe()}"
    )
    return _finding("dataset.schema", name, worst, summary, evidence)


def _enough(check: str, name: str, dataset: Dataset, earlier: Sequence[object]) -> Finding | None:
    need = dataset.checks.min_history
    if len(earlier) < need:
        return Finding(
            check,
            name,
            "learning",
            f"dataset {name}: {len(earlier)} earlier observations, {need} needed to judge",
        )
    return None


def _volume(
    name: str, dataset: Dataset, history: list[DatasetObservation], context: Context
) -> Finding | None:
    limit = dataset.checks.max_row_change
    if limit is None:
        return None
    counts = [o.row_count for o in history if o.row_count is not None]
    if not counts:
        return Finding("dataset.volume", name, "learning", f"dataset {name}: no row count yet")
    latest, earlier = counts[0], counts[1:]
    waiting = _enough("dataset.volume", name, dataset, earlier)
    if waiting is not None:
        return waiting
    median = statistics.median(earlier)
    change = (latest - median) / median if median else (0.0 if latest == 0 else float("inf"))
    evidence: dict[str, object] = {
        "rows": latest,
        "median": median,
        "change": change if change != float("inf") else None,
        "max_change": limit,
        "history": len(earlier),
    }
    text = f"{change:+.0%}" if change != float("inf") else "from none"
    summary = (
        f"dataset {name}: {latest:,} rows, {text} against the median {median:,.0f} of the last "
        f"{len(earlier)} observations (limit ±{limit:.0%})"
    )
    if abs(change) > limit:
        return _finding("dataset.volume", name, "fail", summary, evidence)
    return Finding("dataset.volume", name, "ok", summary, evidence=evidence)


def _nulls(
    name: str, dataset: Dataset, history: list[DatasetObservation], context: Context
) -> Finding | None:
    limit = dataset.checks.max_null_increase
    if limit is None:
        return None
    judged = [o for o in history if o.row_count]
    if not judged:
        return Finding("dataset.nulls", name, "learning", f"dataset {name}: no rows yet")
    latest, earlier = judged[0], judged[1:]
    waiting = _enough("dataset.nulls", name, dataset, earlier)
    if waiting is not None:
        return waiting
    rises: dict[str, tuple[float, float]] = {}
    for column, share in latest.null_shares.items():
        past = [o.null_shares[column] for o in earlier if column in o.null_shares]
        if len(past) >= dataset.checks.min_history:
            median = statistics.median(past)
            if share - median > limit:
                rises[column] = (share, median)
    evidence: dict[str, object] = {
        "columns": {c: {"share": s, "median": m} for c, (s, m) in rises.items()},
        "max_increase": limit,
    }
    if not rises:
        summary = f"dataset {name}: null shares within {limit:.0%} points of their medians"
        return Finding("dataset.nulls", name, "ok", summary, evidence=evidence)
    worst = sorted(rises.items(), key=lambda item: item[1][1] - item[1][0])
    shown = ", ".join(f"{c} {s:.0%} (median {m:.0%})" for c, (s, m) in worst[:5])
    summary = f"dataset {name}: more nulls than usual in {shown}"
    return _finding("dataset.nulls", name, "fail", summary, evidence)


def _freshness(
    name: str, dataset: Dataset, history: list[DatasetObservation], context: Context
) -> Finding | None:
    max_age = dataset.checks.max_age
    if max_age is None:
        return None
    newest = next((o.freshness for o in history if o.freshness is not None), None)
    if newest is None:
        return Finding(
            "dataset.freshness", name, "learning", f"dataset {name}: no time value seen yet"
        )
    age = (context.now - newest).total_seconds()
    evidence: dict[str, object] = {
        "newest": newest.isoformat(),
        "age_seconds": age,
        "max_age_seconds": max_age,
    }
    summary = (
        f"dataset {name}: newest {dataset.time_column} is {age / 3600:.1f} h old "
        f"(limit {max_age / 3600:g} h)"
    )
    if age > max_age:
        return _finding("dataset.freshness", name, "fail", summary, evidence)
    return Finding("dataset.freshness", name, "ok", summary, evidence=evidence)


def builtin_checks(project: Project | None = None, monitor: object = None) -> list[Check]:
    """The built-in dataset checks, each over every declared dataset, for the monitor registry
    (``dataset``); their settings live on each dataset (``checks:``), so neither argument
    changes them."""
    return [
        DatasetCheck("dataset.read", _read),
        DatasetCheck("dataset.schema", _schema),
        DatasetCheck("dataset.volume", _volume),
        DatasetCheck("dataset.nulls", _nulls),
        DatasetCheck("dataset.freshness", _freshness),
    ]
