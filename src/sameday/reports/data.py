"""A report as JSON-ready data: what ``sameday report --format json`` prints.

The report's dataclasses as they are (every number of the report, with NaN and infinity as
``null``, since JSON has neither) plus the derived flags a script wants and would otherwise
recompute: ``verdict`` and ``scope.line`` for every design (:func:`report_data`), and what the
design adds (``Design.data``, :mod:`sameday.designs`: an A/B test's ``srm.mismatch`` and
``srm.observed_shares``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from sameday import design_registry
from sameday.analysis.report import Report


def to_dict(report: Report) -> dict[str, Any]:
    """``report`` as plain data: dicts, lists, strings, numbers and ``None``."""
    return design_registry.design(report.design).data(report)


def report_data(report: Report) -> dict[str, Any]:
    """The fields every design's report has as plain data, with ``verdict`` and ``scope.line``
    (a design's ``data`` starts from it)."""
    data: dict[str, Any] = _clean(dataclasses.asdict(report))
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
