"""The uplift analysis's units: read from the event log as the report computes the metric."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sameday.analysis.uplift.data import MIN_UNITS_PER_ARM, check_design, load_units
from sameday.config import load_project
from sameday.errors import UnsupportedAnalysis
from tests.analysis.uplift._log import logged_project


def test_units_dimensions_and_outcomes(tmp_path: Path) -> None:
    root, values = logged_project(tmp_path, units=1500)
    project = load_project(root)
    experiment = project.experiments["test"]
    with project.open_event_source() as source:
        data, scope = load_units(source, experiment, project.metrics["ctr"], arm="new")
    assert scope is not None and data.units == 1500
    assert [(f.name, f.kind) for f in data.features] == [
        ("platform", "category"),
        ("is_new", "category"),
        ("visits", "number"),
    ]
    platform, is_new, _ = data.features
    assert platform.labels == ("ios", "android", "web")  # most frequent first
    assert is_new.labels == ("false", "true")  # booleans read as their JSON text
    # the rows come in the order of the units' ids, whatever order DuckDB grouped them in (the
    # folds are drawn by row: the same seed must give the same folds)
    got = np.column_stack([data.y, data.treated, data.x])
    expected = np.column_stack(
        [
            values["clicked"],
            values["treated"],
            [platform.labels.index(p) for p in values["platform"]],
            [is_new.labels.index(str(n).lower()) for n in values["is_new"]],
            values["visits"],
        ]
    ).astype(float)[sorted(range(1500), key=lambda u: f"u{u}")]
    assert np.array_equal(got, expected, equal_nan=True)
    assert np.isnan(data.x[:, 2]).sum() == np.isnan(values["visits"]).sum() > 0
    assert data.treated.sum() == values["treated"].sum()
    assert data.outcome == "binary" and math.isclose(data.share_treated, values["treated"].mean())


def test_a_count_metric_is_a_continuous_outcome(tmp_path: Path) -> None:
    root, _ = logged_project(tmp_path, units=600)
    project = load_project(root)
    with project.open_event_source() as source:
        data, _ = load_units(
            source, project.experiments["test"], project.metrics["clicks"], arm="new"
        )
    # clicks has a CUPED covariate: the same event before exposure is a feature
    assert data.outcome == "continuous" and data.features[0].name == "pre_click"


def test_what_cannot_be_modelled_is_refused(tmp_path: Path) -> None:
    root, _ = logged_project(tmp_path, units=2 * MIN_UNITS_PER_ARM - 100)
    project = load_project(root)
    experiment = project.experiments["test"]
    with project.open_event_source() as source:
        with pytest.raises(UnsupportedAnalysis, match="ratio of sums"):
            load_units(source, experiment, project.metrics["clicks-per-list"], arm="new")
        with pytest.raises(UnsupportedAnalysis, match=f"at least {MIN_UNITS_PER_ARM} per arm"):
            load_units(source, experiment, project.metrics["ctr"], arm="new")
    interleaved = experiment.model_copy(update={"design": "interleave"})
    with pytest.raises(UnsupportedAnalysis, match="no treated and untreated units"):
        check_design(interleaved)
    with pytest.raises(UnsupportedAnalysis, match="allocation changes"):
        check_design(experiment.model_copy(update={"design": "bandit"}))
    with pytest.raises(UnsupportedAnalysis, match="declares no dimensions"):
        check_design(experiment.model_copy(update={"dimensions": []}))
