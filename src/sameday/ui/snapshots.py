"""Result sets and snapshots: every result set's freshness, one result set's versions with
their profiles and what was live when, the diff of two snapshots, and rollback.

The diff compares what the profiles recorded when each snapshot was published (counts, list
lengths, scores, concentration, the most recommended items) and the two fixed samples of keys
side by side: the sample is the same keys in every snapshot that has them
(:mod:`sameday.monitor.profile`), so keys in one column only really came or went.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sameday.errors import NotFound
from sameday.metadata import LiveChange, ProfileRecord, ProfileSummary, SnapshotRecord
from sameday.results.lifecycle import RollbackResult, rollback, undo_stack
from sameday.ui.morning import Freshest, freshest, freshness
from sameday.ui.state import Dashboard

SHOWN = 50
"""Snapshots and history entries shown on a result set's page."""
SAMPLE_SHOWN = 40
"""Sampled keys listed in each column of a diff."""


@dataclass(frozen=True)
class Version:
    """One snapshot with its profile's summary (``None``: published before profiles, or never
    live)."""

    snapshot: SnapshotRecord
    profile: ProfileSummary | None

    @property
    def warnings(self) -> list[str]:
        """What the drift checks said when it was published."""
        findings = self.profile.findings if self.profile else []
        return [str(f["summary"]) for f in findings if f.get("status") in ("warn", "fail")]


@dataclass(frozen=True)
class Profiled:
    """One snapshot with its whole profile (``None``: it has none)."""

    snapshot: SnapshotRecord
    profile: ProfileRecord | None


@dataclass(frozen=True)
class ResultSetPage:
    """One result set: its declaration, versions, history and the rollback it offers."""

    name: str
    declared: bool
    status: Freshest | None
    versions: list[Version]
    history: list[LiveChange]
    undo_to: str | None


@dataclass(frozen=True)
class Row:
    """One line of a diff: a measure of each snapshot and the change."""

    measure: str
    a: str
    b: str
    change: str


@dataclass(frozen=True)
class Diff:
    """Two snapshots of one result set compared."""

    result_set: str
    a: Profiled
    b: Profiled
    rows: list[Row]
    top: list[tuple[str, str, str, str]]
    only_a: list[str]
    only_b: list[str]
    both: int


def result_sets(dash: Dashboard) -> list[Freshest]:
    """Every declared result set's live snapshot and age (two queries in all)."""
    return freshness(dash, dash.now())


def result_set_page(dash: Dashboard, name: str) -> ResultSetPage:
    """The page of result set ``name``.

    Raises:
        NotFound: the result set is neither declared nor ever published.
    """
    project = dash.project()
    snapshots = dash.meta.list_snapshots(name)[:SHOWN]
    if name not in project.result_sets and not snapshots:
        known = ", ".join(sorted(project.result_sets)) or "none"
        raise NotFound(f"no result set {name!r} (declared: {known})")
    summaries = dash.meta.profile_summaries([s.version for s in snapshots])
    versions = [Version(s, summaries.get(s.version)) for s in snapshots]
    history = dash.meta.history(name, SHOWN)
    live = dash.meta.live_snapshot(name)
    declared = project.result_sets.get(name)
    status = (
        freshest(
            declared, live, _findings(summaries.get(live.version)) if live else None, dash.now()
        )
        if declared is not None
        else None
    )
    stack = undo_stack(dash.meta.history(name))
    kept = {s.version for s in snapshots if s.status in ("live", "retired")}
    below = [v for v in stack[:-1] if v in kept]
    return ResultSetPage(
        name, name in project.result_sets, status, versions, history, below[-1] if below else None
    )


def _findings(summary: ProfileSummary | None) -> list[dict[str, Any]] | None:
    return summary.findings if summary is not None else None


def jaccard(profile: dict[str, Any]) -> float | None:
    """The profile's overlap with the snapshot before it (``None`` for the first)."""
    overlap = profile.get("overlap")
    value = overlap.get("jaccard") if isinstance(overlap, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _number(value: Any, spec: str = ",.0f") -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, spec)
    return "-"


def _change(a: Any, b: Any) -> str:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if not numbers:
        return ""
    if a == 0:
        return "" if b == 0 else "new"
    return f"{(b - a) / abs(a):+.1%}"


def _quantile(profile: dict[str, Any], field: str, level: int) -> Any:
    values = (profile.get(field) or {}).get("quantiles") or []
    return values[level] if len(values) > level else None


def measures(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    """The profile measures of two snapshots side by side, with the relative change."""
    rows: list[Row] = []
    spec: list[tuple[str, Any, Any, str]] = [
        ("rows", a.get("rows"), b.get("rows"), ",.0f"),
        ("keys", a.get("keys"), b.get("keys"), ",.0f"),
        ("distinct items", a.get("items"), b.get("items"), ",.0f"),
        ("catalogue coverage", a.get("coverage"), b.get("coverage"), ".1%"),
        ("mean list length", (a.get("list_length") or {}).get("mean"),
         (b.get("list_length") or {}).get("mean"), ".1f"),
        ("median score", _quantile(a, "scores", 50), _quantile(b, "scores", 50), ".4g"),
        ("share to the top 1% of items", a.get("top_share"), b.get("top_share"), ".1%"),
        ("Gini of item frequencies", a.get("gini"), b.get("gini"), ".3f"),
        ("new keys (vs the one before)", a.get("new_keys"), b.get("new_keys"), ",.0f"),
        ("lost keys (vs the one before)", a.get("lost_keys"), b.get("lost_keys"), ",.0f"),
        ("top-10 overlap (vs the one before)", jaccard(a), jaccard(b), ".1%"),
    ]  # fmt: skip
    for label, left, right, fmt in spec:
        if left is None and right is None:
            continue
        rows.append(Row(label, _number(left, fmt), _number(right, fmt), _change(left, right)))
    return rows


def _top(profile: dict[str, Any]) -> list[tuple[str, float]]:
    return [(str(item), float(share)) for item, share in profile.get("top_items") or []]


def _sample(profile: dict[str, Any]) -> list[str]:
    return [str(pair[1]) for pair in profile.get("sample") or []]


def diff(dash: Dashboard, name: str, a: str, b: str) -> Diff:
    """Snapshots ``a`` and ``b`` (versions or unique prefixes) of result set ``name``.

    Raises:
        NotFound: a version does not exist or is ambiguous.
    """
    first = dash.meta.find_snapshot(name, a)
    second = dash.meta.find_snapshot(name, b)
    va = Profiled(first, dash.meta.profile(first.version))
    vb = Profiled(second, dash.meta.profile(second.version))
    pa = va.profile.profile if va.profile else {"rows": first.rows, "keys": first.keys}
    pb = vb.profile.profile if vb.profile else {"rows": second.rows, "keys": second.keys}
    top_a, top_b = _top(pa)[:10], _top(pb)[:10]
    top = [
        (
            top_a[i][0] if i < len(top_a) else "",
            f"{top_a[i][1]:.2%}" if i < len(top_a) else "",
            top_b[i][0] if i < len(top_b) else "",
            f"{top_b[i][1]:.2%}" if i < len(top_b) else "",
        )
        for i in range(max(len(top_a), len(top_b)))
    ]
    keys_a = _sample(pa)
    keys_b = _sample(pb)
    in_a, in_b = set(keys_a), set(keys_b)
    return Diff(
        name,
        va,
        vb,
        measures(pa, pb),
        top,
        [k for k in keys_a if k not in in_b][:SAMPLE_SHOWN],
        [k for k in keys_b if k not in in_a][:SAMPLE_SHOWN],
        len(in_a & in_b),
    )


def roll_back(
    dash: Dashboard, name: str, to: str | None, *, actor: str, reason: str | None
) -> RollbackResult:
    """Roll result set ``name`` back (to ``to``, or undoing the latest change), as
    ``sameday rollback`` does, recording who did it from the dashboard.

    Raises:
        NotFound: see :func:`sameday.results.lifecycle.rollback`.
    """
    why = f"from the dashboard by {actor}" + (f": {reason}" if reason else "")
    return rollback(dash.project(), name, to, reason=why)
