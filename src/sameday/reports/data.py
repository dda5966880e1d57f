"""A report as JSON-ready data: what ``sameday report --format json`` prints.

The report's dataclasses as they are (every number of the report, with NaN and infinity as
``null``, since JSON has neither) plus the derived flags a script wants and would otherwise
recompute: ``verdict``, ``srm.mismatch``, ``srm.observed_shares`` and ``scope.line``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sameday.analysis.report import ABReport, Report


def to_dict(report: Report) -> dict[str, Any]:
    """``report`` as plain data: dicts, lists, strings, numbers and ``None``."""
    data: dict[str, Any] = _clean(dataclasses.asdict(report))
    if isinstance(report, ABReport) and report.srm is not None:
        data["srm"]["mismatch"] = report.srm.mismatch
        data["srm"]["observed_shares"] = list(report.srm.observed_shares)
    data["verdict"] = report.decision.verdict
    if report.scope is not None:
        data["scope"]["line"] = report.scope.line
    return data


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
