"""OPE on the vendored Open Bandit Dataset sample: the published numbers, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sameday.cli.ope import ope
from sameday.errors import LoggedDataError
from sameday.events.records import Exposure, Outcome
from sameday.ope.data import from_exposures, from_obd
from sameday.ope.estimators import estimate
from sameday.ope.policies import BernoulliTS, Fixed, Uniform
from tests.conftest import SHARED

OBD = SHARED / "vendor" / "obd"


@pytest.fixture(scope="module")
def random_logs():
    return from_obd(OBD / "random" / "all" / "all.csv")


@pytest.fixture(scope="module")
def bts_logs():
    return from_obd(OBD / "bts" / "all" / "all.csv")


def test_random_policy_on_its_own_logs_is_the_on_policy_ctr(random_logs) -> None:
    values = {e.estimator: e for e in estimate(random_logs, Uniform(), n_boot=200)}
    assert values["ips"].value == pytest.approx(0.0038, abs=1e-12)
    assert values["snips"].value == pytest.approx(0.0038, abs=1e-12)
    assert random_logs.rewards.mean() == 0.0038
    assert values["ips"].ci_low < 0.0038 < values["ips"].ci_high


def test_uniform_policy_on_bts_logs_matches_the_published_ips_and_snips(bts_logs) -> None:
    values = {e.estimator: e.value for e in estimate(bts_logs, Uniform(80), n_boot=200)}
    assert values["ips"] == pytest.approx(0.002360, abs=1e-6)
    assert values["snips"] == pytest.approx(0.002334, abs=1e-6)
    assert values["dm"] > 0 and values["dr"] > 0


def test_bernoulli_ts_from_priors_matches_the_published_ips(random_logs) -> None:
    policy = BernoulliTS.from_yaml(OBD / "prior_bts_all.yaml")
    (ips,) = estimate(random_logs, policy, estimators=["ips"], n_boot=200)
    assert ips.value == pytest.approx(0.004553, rel=0.02)


def test_clipping_and_bootstrap_are_deterministic(bts_logs) -> None:
    one = estimate(bts_logs, Uniform(80), estimators=["ips"], clip=1.0, n_boot=300, seed=3)
    two = estimate(bts_logs, Uniform(80), estimators=["ips"], clip=1.0, n_boot=300, seed=3)
    assert one == two and one[0].value <= 0.002360


def test_fixed_arm_on_arm_level_sameday_logs() -> None:
    exposures = [
        Exposure(
            request_id=f"r{i}",
            time=float(i),
            unit=f"u{i}",
            surface="s",
            items=("x",),
            arm="a" if i % 4 else "b",
            propensity=0.75 if i % 4 else 0.25,
        )
        for i in range(400)
    ]
    outcomes = [
        Outcome(event_id=f"e{i}", unit=f"u{i}", name="click", time=i + 1.0, request_id=f"r{i}")
        for i in range(400)
        if i % 8 == 0 or (i % 4 and i % 5 == 0)
    ]
    data = from_exposures(exposures, outcomes, level="arm", window=10.0)
    b = {e.estimator: e.value for e in estimate(data, Fixed("b"), n_boot=100)}
    assert b["ips"] == pytest.approx(0.5) and b["snips"] == pytest.approx(0.5)
    assert b["dm"] == pytest.approx(0.5) and b["dr"] == pytest.approx(0.5)
    assert np.all(data.pscores > 0)


def test_logs_without_propensities_are_refused() -> None:
    exposures = [Exposure(request_id="r", time=0.0, unit="u", surface="s", items=("x",))]
    with pytest.raises(LoggedDataError, match="lack a propensity"):
        from_exposures(exposures, [], level="item")


def test_cli_on_obd(runner) -> None:
    logs = str(OBD / "bts" / "all" / "all.csv")
    result = runner.invoke(
        ope,
        [
            "--format",
            "obd",
            "--logs",
            logs,
            "--estimator",
            "ips",
            "--estimator",
            "snips",
            "--n-boot",
            "100",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    values = {r["estimator"]: r["value"] for r in json.loads(result.output)}
    assert values == pytest.approx({"ips": 0.002360, "snips": 0.002334}, abs=1e-6)
    text = runner.invoke(
        ope, ["--format", "obd", "--logs", logs, "--estimator", "ips", "--n-boot", "100"]
    )
    assert text.exit_code == 0 and "0.002360" in text.output
    bad = runner.invoke(ope, ["--format", "obd", "--logs", logs, "--policy", "nope"])
    assert bad.exit_code != 0
