"""Drift measures against scipy and textbook formulas; each check fires and stays quiet."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

from sameday.config.drift import Drift
from sameday.monitor.drift import evaluate, js_divergence, ks, psi, wasserstein

LEVELS = np.linspace(0, 1, 101)
RNG = np.random.default_rng(16)
BASE = RNG.normal(0.0, 1.0, 50_000)
SHIFTED = RNG.normal(1.0, 1.0, 50_000)


def percentiles(values: np.ndarray) -> list[float]:
    return list(np.quantile(values, LEVELS))


def textbook_psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI over the reference's deciles, counted on the raw values."""
    edges = np.quantile(reference, np.linspace(0.1, 0.9, 9))
    e = np.bincount(np.searchsorted(edges, reference), minlength=10) / len(reference)
    a = np.bincount(np.searchsorted(edges, current), minlength=10) / len(current)
    return float(((a - e) * np.log(a / e)).sum())


def test_psi_agrees_with_the_textbook_on_raw_values() -> None:
    assert psi(percentiles(BASE), percentiles(BASE)) == pytest.approx(0.0, abs=1e-9)
    measured = psi(percentiles(BASE), percentiles(SHIFTED))
    assert measured == pytest.approx(textbook_psi(BASE, SHIFTED), rel=0.15)
    assert measured > 0.25  # a shift of one standard deviation is a large one


def test_psi_sees_a_point_mass_move() -> None:
    assert psi([20.0] * 101, [10.0] * 101) > 5


def test_ks_and_wasserstein_match_scipy_on_the_raw_values() -> None:
    raw = ks_2samp(BASE, SHIFTED).statistic
    assert ks(percentiles(BASE), percentiles(SHIFTED)) == pytest.approx(raw, abs=0.03)
    scale = BASE.std()  # the spread of a normal: what the IQR / 1.349 estimates
    expected = wasserstein_distance(BASE, SHIFTED) / scale
    assert wasserstein(percentiles(BASE), percentiles(SHIFTED)) == pytest.approx(expected, rel=0.05)


def test_jensen_shannon_matches_scipy() -> None:
    p = {"a": 0.5, "b": 0.3}  # "other" 0.2
    q = {"a": 0.2, "c": 0.6}  # "other" 0.2
    expected = jensenshannon([0.5, 0.3, 0.0, 0.2], [0.2, 0.0, 0.6, 0.2], base=2) ** 2
    assert js_divergence(p, q) == pytest.approx(expected, rel=1e-9)
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence({"a": 1.0}, {"b": 1.0}) == pytest.approx(1.0)


def snapshot(keys: int = 1000, shift: float = 0.0, items: str = "abc") -> dict[str, Any]:
    scores = RNG.normal(shift, 1.0, 5000)
    return {
        "rows": keys * 10,
        "keys": keys,
        "items": 400,
        "list_length": {"mean": 10.0, "quantiles": [10.0] * 101},
        "scores": {"quantiles": percentiles(scores)},
        "top_share": 0.1,
        "gini": 0.4,
        "top_items": [[name, 0.1] for name in items],
        "overlap": {"jaccard": 0.6, "keys": 200},
    }


HISTORY = [snapshot() for _ in range(4)]


def by_check(findings: list[Any]) -> dict[str, Any]:
    return {f.monitor.removeprefix("drift."): f for f in findings}


def test_every_check_stays_quiet_on_a_snapshot_like_its_history() -> None:
    found = by_check(evaluate("als", snapshot(), HISTORY, Drift(min_overlap=0.3)))
    assert set(found) == {
        "rows", "keys", "items", "list_length", "top_share", "gini",
        "scores", "list_lengths", "item_mix", "overlap",
    }  # fmt: skip
    assert {f.status for f in found.values()} == {"ok"}


def test_checks_fire_on_what_moved_and_follow_their_action() -> None:
    moved = snapshot(keys=300, shift=2.0, items="xyz") | {"overlap": {"jaccard": 0.01, "keys": 9}}
    drift = Drift(min_overlap=0.3, action="warn", actions={"keys": "block", "gini": "off"})
    found = by_check(evaluate("als", moved, HISTORY, drift))
    assert "gini" not in found
    assert found["keys"].status == "fail" and found["keys"].severity == "critical"
    assert "300 against a median of 1,000" in found["keys"].summary
    assert "-70.0%" in found["keys"].summary
    for name in ("rows", "scores", "item_mix", "overlap"):
        assert found[name].status == "warn", found[name]
    assert found["list_lengths"].status == "ok" and found["items"].status == "ok"
    assert found["scores"].evidence["psi"] > 1


def test_too_little_history_is_learning() -> None:
    found = evaluate("als", snapshot(keys=1), HISTORY[:2], Drift(min_history=3))
    assert {f.status for f in found} == {"learning"}


def test_the_reference_is_the_median_so_one_odd_snapshot_does_not_move_it() -> None:
    history = [snapshot(), snapshot(keys=10), snapshot()]
    found = by_check(evaluate("als", snapshot(), history, Drift(min_history=3)))
    assert found["keys"].status == "ok" and found["keys"].evidence["reference"] == 1000


def test_action_off_turns_the_gate_off() -> None:
    assert evaluate("als", snapshot(keys=1), HISTORY, Drift(action="off")) == []


@pytest.mark.parametrize("seed", range(5))
def test_ks_and_wasserstein_are_scipys_statistics_exactly(seed: int) -> None:
    """Written here (importing scipy.stats costs a publish 0.7-1.4 s); scipy is the oracle,
    with ties, repeated values and different sizes."""
    rng = np.random.default_rng(seed)
    ref = np.round(np.sort(rng.normal(size=101)), 1)
    cur = np.round(np.sort(rng.normal(0.3, 1.2, size=101 if seed % 2 else 57)), 1)
    assert ks(ref, cur) == pytest.approx(ks_2samp(ref, cur).statistic, abs=1e-12)
    scale = float(ref[75] - ref[25]) / 1.349 if len(ref) == 101 else float(ref.std())
    expected = wasserstein_distance(ref, cur) / scale
    assert wasserstein(ref, cur) == pytest.approx(expected, rel=1e-12)
