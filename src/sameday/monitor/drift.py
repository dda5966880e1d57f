"""Drift gates: a new snapshot's profile against the result set's recent history.

Two kinds of comparison, both judged by effect size (how much things moved), never by a
p-value (on a million rows everything is "significant"):

- **Relative changes** of a number (rows, keys, distinct items, mean list length, top-1%
  share, Gini) against the median of the last N snapshots: the median, so one odd snapshot in
  the history does not move the reference.
- **Distribution drift** of the scores and the list lengths against the element-wise median of
  the history's quantile functions (a quantile function again: the median is monotone), by the
  population stability index over the deciles of both (written here), the Kolmogorov-Smirnov
  statistic and the Wasserstein distance divided by the reference's spread (both over the
  101 percentiles, which stand for the distributions as equally weighted points; computed
  here as scipy's ``ks_2samp`` and ``wasserstein_distance`` compute them, which the tests
  check, because importing ``scipy.stats`` costs a publish 0.7-1.4 s); and of the items'
  shares of all recommendations (a categorical distribution) by the Jensen-Shannon divergence
  in bits (written here), against the history's mean shares.

Plus the overlap of the lists with the previous snapshot (mean Jaccard of the top 10 over a
fixed sample of keys), which catches a model that scrambled its ids while every count held.
Each check returns a :class:`~sameday.monitor.check.Finding` whatever it saw, healthy ones too,
so an open incident can resolve.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sameday.config.drift import Drift
from sameday.config.loader import Project
from sameday.monitor.check import Check, Context, Finding, Severity, Status

EPSILON = 1e-4
"""Floor of a bin's share in PSI, so an empty bin costs a large but finite amount."""
_NUMBERS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "rows": lambda p: p.get("rows"),
    "keys": lambda p: p.get("keys"),
    "items": lambda p: p.get("items"),
    "list_length": lambda p: (p.get("list_length") or {}).get("mean"),
    "top_share": lambda p: p.get("top_share"),
    "gini": lambda p: p.get("gini"),
}
_DISTRIBUTIONS = {"scores": "scores", "list_lengths": "list_length"}


def psi(reference: Sequence[float], current: Sequence[float]) -> float:
    """Population stability index of two distributions given by their 101 percentiles.

    Bins are cut at the reference's deciles, as usual; where those tie (a point mass, such as
    lists all of one length) the current deciles are added, or a whole change of the mass could
    fall in one bin. Each bin's share comes from the two quantile functions, floored at
    ``EPSILON``.
    ``PSI = sum((a - e) * ln(a / e))``: below 0.1 little change, above 0.25 a large one.
    """
    ref, cur = np.asarray(reference, dtype=float), np.asarray(current, dtype=float)
    edges = np.unique(ref[10:100:10])
    if len(edges) < 9:
        edges = np.unique(np.concatenate([edges, cur[10:100:10]]))
    expected = np.maximum(np.diff(_cdf(ref, edges), prepend=0.0, append=1.0), EPSILON)
    actual = np.maximum(np.diff(_cdf(cur, edges), prepend=0.0, append=1.0), EPSILON)
    return float(((actual - expected) * np.log(actual / expected)).sum())


def _cdf(percentiles: np.ndarray[Any, Any], points: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The share of a distribution at or below each point, read off its 101 percentiles."""
    below = np.searchsorted(percentiles, points, side="right")
    return np.clip((below - 1) / (len(percentiles) - 1), 0.0, 1.0) * (below > 0)


def ks(reference: Sequence[float], current: Sequence[float]) -> float:
    """The Kolmogorov-Smirnov statistic (largest gap between the empirical CDFs) of two
    distributions given by their percentiles: ``scipy.stats.ks_2samp(...).statistic``."""
    ref, cur = np.sort(np.asarray(reference, float)), np.sort(np.asarray(current, float))
    points = np.concatenate([ref, cur])
    gaps = _ecdf(ref, points) - _ecdf(cur, points)
    return float(np.max(np.abs(gaps)))


def _ecdf(sorted_values: np.ndarray[Any, Any], points: np.ndarray[Any, Any]) -> Any:
    """The share of ``sorted_values`` at or below each point."""
    return np.searchsorted(sorted_values, points, side="right") / len(sorted_values)


def wasserstein(reference: Sequence[float], current: Sequence[float]) -> float:
    """The Wasserstein distance of two distributions given by their percentiles (as
    ``scipy.stats.wasserstein_distance``: the area between the two CDFs), divided by the
    reference's spread, so 0.5 means "moved by half a spread" whatever the scale of the scores.
    The spread is the interquartile range / 1.349 (a normal distribution's standard deviation;
    the extreme percentiles would inflate a plain standard deviation), else the standard
    deviation, else the mean's size, else 1."""
    ref = np.asarray(reference, dtype=float)
    iqr = float(ref[75] - ref[25]) / 1.349 if len(ref) == 101 else 0.0
    scale = iqr or float(ref.std()) or abs(float(ref.mean())) or 1.0
    low, high = np.sort(ref), np.sort(np.asarray(current, float))
    points = np.sort(np.concatenate([low, high]))
    gaps = np.abs(_ecdf(low, points[:-1]) - _ecdf(high, points[:-1]))
    return float(np.sum(gaps * np.diff(points))) / scale


def js_divergence(reference: Mapping[str, float], current: Mapping[str, float]) -> float:
    """Jensen-Shannon divergence, in bits (0 same, 1 disjoint), of two categorical
    distributions given by their largest shares; what neither lists is one "other" category."""
    names = sorted({*reference, *current})
    p = np.array([reference.get(n, 0.0) for n in names] + [0.0])
    q = np.array([current.get(n, 0.0) for n in names] + [0.0])
    p[-1], q[-1] = max(0.0, 1.0 - p.sum()), max(0.0, 1.0 - q.sum())
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray[Any, Any]) -> float:
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / m[mask])).sum())

    return max(0.0, min(1.0, (kl(p) + kl(q)) / 2))


def relative_change(value: float, reference: float) -> float:
    """``(value - reference) / |reference|``; infinite when the reference is 0 and the value
    is not."""
    if reference == 0:
        return 0.0 if value == 0 else math.inf
    return (value - reference) / abs(reference)


def evaluate(
    result_set: str,
    profile: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    settings: Drift,
) -> list[Finding]:
    """Every drift check of ``profile`` against ``history`` (older profiles, newest first).

    Checks whose action is ``off`` or whose limit is ``null`` are left out; with fewer than
    ``settings.min_history`` profiles the history-based checks say ``learning``.
    """
    if settings.action == "off" and not settings.actions:
        return []
    past = list(history[: settings.history])
    findings: list[Finding | None] = []
    for name, limit in settings.changes.model_dump().items():
        findings.append(_change(result_set, name, limit, profile, past, settings))
    for name, field in _DISTRIBUTIONS.items():
        findings.append(_distribution(result_set, name, field, profile, past, settings))
    findings.append(_item_mix(result_set, profile, past, settings))
    findings.append(_overlap(result_set, profile, settings))
    return [
        f
        for f in findings
        if f is not None and settings.action_of(f.monitor.removeprefix("drift.")) != "off"
    ]


def _finding(
    result_set: str,
    name: str,
    passed: bool | None,
    summary: str,
    settings: Drift,
    evidence: dict[str, Any],
) -> Finding:
    """The finding of check ``name``: ``None`` means learning; a failure is ``fail`` when the
    check blocks and ``warn`` when it warns."""
    action = settings.action_of(name)
    status: Status
    severity: Severity = "info"
    if passed is None:
        status = "learning"
    elif passed:
        status = "ok"
    else:
        status = "fail" if action == "block" else "warn"
        severity = "critical" if action == "block" else "warning"
    return Finding(
        f"drift.{name}",
        result_set,
        status,
        f"{result_set} {summary}",
        severity,
        {**evidence, "action": action},
    )


def _learning(result_set: str, name: str, past: list[Any], settings: Drift) -> Finding:
    return _finding(
        result_set,
        name,
        None,
        f"{name}: {len(past)} earlier snapshot(s) with a profile, {settings.min_history} "
        "needed before drift is judged",
        settings,
        {"history": len(past)},
    )


def _change(
    result_set: str,
    name: str,
    limit: float | None,
    profile: Mapping[str, Any],
    past: list[Mapping[str, Any]],
    settings: Drift,
) -> Finding | None:
    read = _NUMBERS[name]
    value = read(profile)
    values = [v for v in map(read, past) if v is not None]
    if limit is None:
        return None
    if value is None or len(values) < settings.min_history:
        return _learning(result_set, name, values, settings)
    reference = float(np.median(values))
    change = relative_change(float(value), reference)
    evidence = {
        "observed": value,
        "reference": reference,
        "change": change if math.isfinite(change) else None,
        "limit": limit,
        "history": len(values),
    }
    shown = f"{change:+.1%}" if math.isfinite(change) else "from 0"
    return _finding(
        result_set,
        name,
        abs(change) <= limit,
        f"{name}: {_number(value)} against a median of {_number(reference)} over the last "
        f"{len(values)} snapshot(s) ({shown}); at most ±{limit:.0%} allowed",
        settings,
        evidence,
    )


def _distribution(
    result_set: str,
    name: str,
    field: str,
    profile: Mapping[str, Any],
    past: list[Mapping[str, Any]],
    settings: Drift,
) -> Finding | None:
    def read(p: Mapping[str, Any]) -> list[float] | None:
        value = (p.get(field) or {}).get("quantiles")
        return list(value) if value else None

    current = read(profile)
    references = [q for q in map(read, past) if q is not None]
    if current is None or len(references) < settings.min_history:
        return _learning(result_set, name, references, settings)
    reference = np.median(np.asarray(references, dtype=float), axis=0).tolist()
    limits = settings.distributions
    if limits.psi is None and limits.ks is None and limits.wasserstein is None:
        return None
    measured = {
        "psi": psi(reference, current),
        "ks": ks(reference, current),
        "wasserstein": wasserstein(reference, current),
    }
    over = [
        f"{measure} {value:.3f} > {limit}"
        for measure, value in measured.items()
        if (limit := getattr(limits, measure)) is not None and value > limit
    ]
    shown = ", ".join(f"{m} {v:.3f}" for m, v in measured.items())
    summary = f"{name} distribution: {shown} against the last {len(references)} snapshot(s)"
    if over:
        summary += f"; over the limit: {', '.join(over)}"
    evidence = {
        **{m: round(v, 6) for m, v in measured.items()},
        "limits": {m: getattr(limits, m) for m in measured},
        "median": {"observed": current[50], "reference": reference[50]},
        "history": len(references),
    }
    return _finding(result_set, name, not over, summary, settings, evidence)


def _shares(profile: Mapping[str, Any]) -> dict[str, float] | None:
    top = profile.get("top_items")
    return None if top is None else {str(item): float(share) for item, share in top}


def _item_mix(
    result_set: str,
    profile: Mapping[str, Any],
    past: list[Mapping[str, Any]],
    settings: Drift,
) -> Finding | None:
    current = _shares(profile)
    references = [s for s in map(_shares, past) if s is not None]
    limit = settings.distributions.js
    if limit is None:
        return None
    if current is None or len(references) < settings.min_history:
        return _learning(result_set, "item_mix", references, settings)
    names = {name for shares in references for name in shares}
    reference = {n: float(np.mean([s.get(n, 0.0) for s in references])) for n in names}
    divergence = js_divergence(reference, current)
    return _finding(
        result_set,
        "item_mix",
        divergence <= limit,
        f"item_mix: Jensen-Shannon divergence {divergence:.3f} bits of the items' shares "
        f"against the last {len(references)} snapshot(s); at most {limit} allowed",
        settings,
        {"js": round(divergence, 6), "limit": limit, "history": len(references)},
    )


def _overlap(result_set: str, profile: Mapping[str, Any], settings: Drift) -> Finding | None:
    limit = settings.min_overlap
    measured = profile.get("overlap")
    if limit is None:
        return None
    if not measured:
        return _finding(
            result_set,
            "overlap",
            None,
            "overlap: no earlier snapshot with a profile shares sampled keys with this one",
            settings,
            {},
        )
    jaccard = float(measured["jaccard"])
    return _finding(
        result_set,
        "overlap",
        jaccard >= limit,
        f"overlap: mean Jaccard {jaccard:.3f} of the top 10 with the previous snapshot over "
        f"{measured['keys']} sampled key(s); at least {limit} required",
        settings,
        {"jaccard": jaccard, "keys": measured["keys"], "limit": limit},
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.4g}"


@dataclass
class LiveDrift:
    """What the drift checks said about each result set's live snapshot when it was published
    (recorded with its profile), so a warning becomes an alert and resolves when a snapshot
    without it goes live."""

    name: str = "drift"

    def evaluate(self, context: Context) -> list[Finding]:
        """The recorded findings of every live snapshot that has a profile."""
        findings = []
        for name in sorted(context.project.result_sets):
            live = context.metadata.live_snapshot(name)
            record = context.metadata.profile(live.version) if live else None
            for found in record.findings if record else []:
                findings.append(
                    Finding(
                        str(found["monitor"]),
                        str(found["subject"]),
                        found["status"],
                        str(found["summary"]),
                        found["severity"],
                        {**found["evidence"], "version": record.version} if record else {},
                    )
                )
        return findings


def builtin_checks(project: Project, monitor: object = None) -> list[Check]:
    """The drift check of a project, for the monitor registry (``drift``); its settings live
    on each result set (``drift:``), so ``monitor`` adds none."""
    return [LiveDrift()]
