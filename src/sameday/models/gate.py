"""The training gate: may a freshly trained candidate replace the champion?

Conditions are one line each, a metric of the evaluate job, a comparison, and a threshold that
is a number or relative to the champion's value of the same metric::

    ndcg@10 >= champion - 0.002     # may lose at most 0.002 against the champion
    coverage >= 0.2                 # an absolute floor
    latency_ms <= champion * 1.10   # at most 10 % slower

The champion's values come from the evaluate job when it scored the champion on the same
data (the metrics file's ``champion`` part, the fairest comparison), else from the metrics
registered with the champion version. Without a champion (the first training) the relative
conditions have nothing to compare with and pass; absolute ones still apply.

The grammar lives in :mod:`sameday.config.gate` (``sameday validate`` checks it). The decision
is a :class:`~sameday.monitor.check.Finding` with every check's numbers as
evidence, so it reads the same in ``sameday models history`` and in an alert.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sameday.config.gate import Condition, read_condition
from sameday.errors import GateError
from sameday.monitor.check import Finding

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
MONITOR = "model.gate"
"""The ``monitor`` of the gate's findings."""


def parse_condition(text: str) -> Condition:
    """Read one condition.

    Raises:
        GateError: it is not ``METRIC OP NUMBER`` or ``METRIC OP champion [+-*] NUMBER``.
    """
    try:
        return read_condition(text)
    except ValueError as exc:
        raise GateError(str(exc)) from exc


@dataclass(frozen=True)
class CheckOutcome:
    """One condition's verdict and the numbers behind it."""

    condition: str
    metric: str
    candidate: float
    threshold: float | None
    champion: float | None
    passed: bool
    note: str | None = None


@dataclass(frozen=True)
class GateVerdict:
    """Every check's outcome; ``blessed`` when all passed."""

    blessed: bool
    checks: tuple[CheckOutcome, ...]

    def failed(self) -> list[CheckOutcome]:
        """The checks that did not pass."""
        return [check for check in self.checks if not check.passed]


def _number(metrics: Mapping[str, Any], metric: str, whose: str) -> float:
    if metric not in metrics:
        known = ", ".join(sorted(metrics)) or "none"
        raise GateError(
            f"the gate checks {metric!r} but the {whose}'s metrics have no such metric "
            f"(metrics: {known}): make the evaluate job write it, or fix the condition"
        )
    value = metrics[metric]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise GateError(f"the {whose}'s metric {metric!r} is {value!r}, not a number")
    return float(value)


def evaluate(
    conditions: Sequence[str | Condition],
    candidate: Mapping[str, Any],
    champion: Mapping[str, Any] | None,
) -> GateVerdict:
    """Check the candidate's metrics against every condition.

    Args:
        conditions: as written, or parsed.
        candidate: the candidate's offline metrics.
        champion: the champion's, or ``None`` when there is no champion yet.

    Raises:
        GateError: a condition is malformed or names a metric either side lacks.
    """
    if not conditions:
        raise GateError("a gate needs at least one condition, e.g. 'ndcg@10 >= champion - 0.002'")
    outcomes = []
    for item in conditions:
        condition = item if isinstance(item, Condition) else parse_condition(item)
        value = _number(candidate, condition.metric, "candidate")
        compare = _OPS[condition.op]
        if not condition.relative:
            assert condition.value is not None
            passed = compare(value, condition.value)
            outcomes.append(
                CheckOutcome(condition.text, condition.metric, value, condition.value, None, passed)
            )
        elif champion is None:
            outcomes.append(
                CheckOutcome(
                    condition.text,
                    condition.metric,
                    value,
                    None,
                    None,
                    True,
                    "no champion yet: nothing to compare with",
                )
            )
        else:
            reference = _number(champion, condition.metric, "champion")
            threshold = condition.threshold(reference)
            outcomes.append(
                CheckOutcome(
                    condition.text,
                    condition.metric,
                    value,
                    threshold,
                    reference,
                    compare(value, threshold),
                )
            )
    return GateVerdict(all(o.passed for o in outcomes), tuple(outcomes))


def read_metrics(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The candidate's metrics and, when the evaluate job scored it too, the champion's.

    The file is JSON: either the candidate's metrics (``{"ndcg@10": 0.31, …}``), or
    ``{"candidate": {…}, "champion": {…}}``.

    Raises:
        GateError: the file is missing or not such JSON.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise GateError(
            f"metrics file {path} does not exist: the evaluate job must write it"
        ) from exc
    except json.JSONDecodeError as exc:
        raise GateError(f"metrics file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise GateError(f"metrics file {path} must hold a JSON object of metric: value")
    if "candidate" in data and isinstance(data["candidate"], dict):
        champion = data.get("champion")
        return dict(data["candidate"]), dict(champion) if isinstance(champion, dict) else None
    return data, None


def summary(name: str, verdict: GateVerdict, champion_version: int | None) -> str:
    """The one line a person reads: what was decided and, when refused, why."""
    against = f"champion {name}/{champion_version}" if champion_version else "no champion yet"
    if verdict.blessed:
        return f"gate blessed the candidate of {name!r} ({against}): every check passed"
    reasons = "; ".join(
        f"{c.metric} = {c.candidate:.6g}, needs {c.condition.split(None, 1)[1]}"
        + (f" = {c.threshold:.6g}" if c.champion is not None and c.threshold is not None else "")
        for c in verdict.failed()
    )
    return f"gate refused the candidate of {name!r} ({against}): {reasons}"


def finding(
    name: str, verdict: GateVerdict, champion_version: int | None, evidence: dict[str, Any]
) -> Finding:
    """The decision as a monitor finding: ``ok`` when blessed, ``fail`` when refused."""
    return Finding(
        monitor=MONITOR,
        subject=name,
        status="ok" if verdict.blessed else "fail",
        summary=summary(name, verdict, champion_version),
        severity="info" if verdict.blessed else "warning",
        evidence=evidence,
    )


def checks_evidence(verdict: GateVerdict) -> list[dict[str, Any]]:
    """The checks as JSON-able dictionaries."""
    return [asdict(check) for check in verdict.checks]
