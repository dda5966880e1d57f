"""The JSON-ready form of a report: plain data, no NaN, and the flags a script reads."""

from __future__ import annotations

import dataclasses
import json
import math

from sameday.analysis.bandit_report import BanditReport
from sameday.analysis.interleaving_report import InterleavingReport
from sameday.analysis.report import ABReport
from sameday.reports.data import to_dict


def test_every_design_is_plain_json(
    ab_report: ABReport, interleaving_report: InterleavingReport, bandit_report: BanditReport
) -> None:
    for report in (ab_report, interleaving_report, bandit_report):
        data = to_dict(report)
        assert json.loads(json.dumps(data, allow_nan=False)) == data
        assert data["verdict"] == report.decision.verdict
        assert data["decision"]["line"] == report.decision.line


def test_ab_adds_the_derived_flags(ab_report: ABReport) -> None:
    srm = ab_report.srm
    assert srm is not None and ab_report.scope is not None
    data = to_dict(ab_report)
    assert data["srm"]["mismatch"] is srm.mismatch is False
    assert data["srm"]["observed_shares"] == list(srm.observed_shares)
    assert data["scope"]["line"] == ab_report.scope.line


def test_undefined_numbers_are_null(ab_report: ABReport) -> None:
    undefined = dataclasses.replace(ab_report, alpha=math.nan, generated="x")
    data = to_dict(undefined)
    assert data["alpha"] is None and json.dumps(data, allow_nan=False)
