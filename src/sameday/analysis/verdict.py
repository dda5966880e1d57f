"""The one-line verdict of an A/B report, and the order in which its rules apply.

1. **invalid: sample ratio mismatch** — the units per arm are off the configured weights
   (chi-square p < 0.001). Nothing else is read (the report withholds every chance to win): a
   broken assignment or exposure log biases every lift in an unknown direction.
2. **stop for harm** — a guardrail or a primary metric is significantly worse in some treatment
   arm (after Holm's correction within its family; always-valid when the plan is sequential, so
   it can be acted on the day it shows).
3. **keep running** while a primary metric or a guardrail lacks its minimum sample: a guardrail
   that cannot show harm yet cannot clear a winner either.
4. **ship ARM** — a primary metric is significantly better for ``ARM`` and nothing is worse; with
   several winners, the one with the largest lift on the first winning primary metric.
5. **keep running** — anything else: no primary metric has left the noise yet.

"Significantly" is the test of the absolute lift (the relative interval is Fieller's, which
excludes zero exactly when that test rejects), and only on a metric whose every compared arm has
its minimum sample (``min_units``, ``min_nonzero``): below it no rule fires and the chance to win
is not shown, because a handful of buyers can make any lift look certain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sameday.analysis.comparisons import ArmResult, MetricResult
from sameday.analysis.progress import Progress
from sameday.analysis.stats.srm import SampleRatioCheck


def chance(value: float) -> str:
    """A probability as a percentage that never rounds to a certainty it does not have."""
    if not math.isfinite(value):
        return "-"
    if value > 0.999:
        return ">99.9%"
    if value < 0.001:
        return "<0.1%"
    return f"{value:.1%}"


Verdict = Literal["ship", "keep running", "stop for harm", "invalid: sample ratio mismatch"]


@dataclass(frozen=True)
class Decision:
    """What to do (``verdict``), for which arm, and the line a person reads."""

    verdict: Verdict
    arm: str | None
    line: str


def decide(
    srm: SampleRatioCheck | None,
    arms: Sequence[str],
    metrics: Sequence[MetricResult],
    progress: Progress,
) -> Decision:
    """Apply the rules of the module docstring, in order."""
    if srm is not None and srm.mismatch:
        shares = " / ".join(
            f"{arm} {share:.2%}" for arm, share in zip(arms, srm.observed_shares, strict=True)
        )
        planned = "/".join(f"{w:.0%}" for w in srm.weights)
        return Decision(
            "invalid: sample ratio mismatch",
            None,
            f"invalid: sample ratio mismatch — units split {shares} against {planned} configured "
            f"(p = {srm.p_value:.2g}); fix assignment or exposure logging before reading any lift",
        )
    for metric in _guarding(metrics):
        for result in metric.results:
            if result.outcome == "worse":
                return Decision(
                    "stop for harm",
                    result.arm,
                    f"stop for harm — {result.arm} makes {metric.name} worse: "
                    f"{_lift(result)} (adjusted p = {result.p_adjusted:.2g})",
                )
    waiting = [m.name for m in _guarding(metrics) if any(r.shortfall for r in m.results)]
    if waiting:
        return Decision(
            "keep running",
            None,
            f"keep running — too few units for a verdict on {', '.join(waiting)} (see the "
            f"metric notes){_progress(progress)}",
        )
    for metric in metrics:
        if metric.role != "primary":
            continue
        winners = [r for r in metric.results if r.outcome == "better"]
        if winners:
            best = max(winners, key=lambda r: abs(r.decision.point))
            return Decision(
                "ship",
                best.arm,
                f"ship {best.arm} — {metric.name} {_lift(best)}, chance to win "
                f"{chance(best.chance_to_win)}",
            )
    return Decision("keep running", None, f"keep running — {_why_running(metrics, progress)}")


def _guarding(metrics: Sequence[MetricResult]) -> list[MetricResult]:
    """Guardrails first, then primary metrics: both can stop a test for harm."""
    return [m for m in metrics if m.role == "guardrail"] + [
        m for m in metrics if m.role == "primary"
    ]


def _lift(result: ArmResult) -> str:
    e = result.decision
    return f"{e.point:+.2%} [{_end(e.ci_low)}, {_end(e.ci_high)}]"


def _end(value: float) -> str:
    """An interval's end; an infinite end (the data cannot bound the ratio) is written ∞."""
    if math.isinf(value):
        return "+∞" if value > 0 else "-∞"
    return f"{value:+.2%}"


def _why_running(metrics: Sequence[MetricResult], progress: Progress) -> str:
    if not any(m.role == "primary" for m in metrics):
        reason = "no primary metric is defined (add metrics.primary to the experiment)"
    else:
        reason = "no primary metric is conclusive yet"
    if progress.share is not None and progress.share >= 1:
        return f"{reason}; the planned sample is reached: the effect is likely below the MDE"
    return reason + _progress(progress)


def _progress(progress: Progress) -> str:
    """``; N% of the planned sample, about D more days`` (empty without a plan or past it)."""
    if progress.share is None or progress.share >= 1:
        return ""
    left = "" if progress.days_left is None else f", about {progress.days_left} more days"
    return f"; {progress.share:.0%} of the planned sample{left}"
