"""Qini and uplift curves, their areas and intervals, and calibration by decile."""

from __future__ import annotations

import numpy as np
import pytest

from sameday.analysis.uplift.curves import calibration, curves, ranking


def _direct(score: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[list, list, list]:
    """The curves after each unit of the ranking, straight from their definitions."""
    order = ranking(score, 0)
    n_t_all = t.sum()
    fractions, qini, uplift = [0.0], [0.0], [0.0]
    for k in range(1, y.size + 1):
        top = order[:k]
        nt, nc = t[top].sum(), (~t[top]).sum()
        st, sc = y[top][t[top]].sum(), y[top][~t[top]].sum()
        fractions.append(k / y.size)
        if nt and nc:
            qini.append((st - sc * nt / nc) / n_t_all)
            uplift.append((st / nt - sc / nc) * k / y.size)
        else:
            qini.append(0.0)
            uplift.append(0.0)
    return fractions, qini, uplift


def test_curves_match_their_definitions_on_a_small_ranking() -> None:
    rng = np.random.default_rng(4)
    y = rng.random(60).round(1)
    t = rng.random(60) < 0.5
    score = rng.random(60)
    c = curves(score, t, y, bootstrap=20)
    fractions, qini, uplift = _direct(score, t, y)
    assert c.fraction.tolist() == pytest.approx(fractions)  # 60 units: one point a unit
    assert c.qini.tolist() == pytest.approx(qini)
    assert c.uplift.tolist() == pytest.approx(uplift)
    ate = y[t].mean() - y[~t].mean()
    assert c.ate == pytest.approx(ate) and c.qini[-1] == pytest.approx(ate)
    gap = np.array(qini) - np.array(fractions) * ate
    area = np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(fractions))
    assert c.qini_area.point == pytest.approx(area)


def test_a_good_ranking_has_area_and_a_random_one_none() -> None:
    rng = np.random.default_rng(5)
    n = 40_000
    tau = np.where(rng.random(n) < 0.5, 0.2, -0.1)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.3 + t * tau).astype(float)
    good = curves(tau + rng.normal(0, 0.01, n), t, y)
    blind = curves(rng.random(n), t, y)
    assert good.qini_area.low > 0.02
    assert blind.qini_area.low < 0 < blind.qini_area.high
    assert good.uplift_area.low > 0 and blind.uplift_area.low < 0 < blind.uplift_area.high


def test_intervals_agree_with_the_exact_poisson_bootstrap() -> None:
    rng = np.random.default_rng(6)
    n = 20_000
    tau = rng.normal(0.05, 0.1, n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < np.clip(0.3 + t * tau, 0, 1)).astype(float)
    score = tau + rng.normal(0, 0.1, n)
    fast = curves(score, t, y, bootstrap=400, seed=1)
    # the exact Poisson bootstrap: a weight per unit and replicate, the curve recomputed
    order = ranking(score, 1)
    ts, ys = t[order], y[order]
    ends = np.linspace(0, n, 101).astype(int)[1:] - 1
    areas = []
    for _ in range(400):
        w = rng.poisson(1.0, n)
        n_t, n_c = np.cumsum(w * ts)[ends], np.cumsum(w * ~ts)[ends]
        s_t, s_c = np.cumsum(w * ys * ts)[ends], np.cumsum(w * ys * ~ts)[ends]
        ate = s_t[-1] / n_t[-1] - s_c[-1] / n_c[-1]
        q = np.concatenate([[0.0], (s_t - s_c * n_t / n_c) / n_t[-1]])
        f = np.concatenate([[0.0], (n_t + n_c) / (n_t[-1] + n_c[-1])])
        gap = q - f * ate
        areas.append(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(f)))
    low, high = np.percentile(areas, [2.5, 97.5])
    width = high - low
    assert fast.qini_area.low == pytest.approx(low, abs=0.15 * width)
    assert fast.qini_area.high == pytest.approx(high, abs=0.15 * width)


def test_calibration_by_decile() -> None:
    rng = np.random.default_rng(7)
    n = 60_000
    tau = rng.uniform(-0.1, 0.3, n)
    t = rng.random(n) < 0.5
    y = (rng.random(n) < 0.4 + t * tau).astype(float)
    honest = calibration(tau, t, y)
    assert [d.decile for d in honest.deciles] == list(range(1, 11))
    assert sum(d.units for d in honest.deciles) == n
    assert honest.deciles[0].predicted > honest.deciles[-1].predicted
    assert honest.slope == pytest.approx(1.0, abs=0.15)
    covered = sum(d.low <= d.predicted <= d.high for d in honest.deciles)
    assert covered >= 8
    overconfident = calibration(3 * tau, t, y)  # right order, three times too large
    assert overconfident.slope == pytest.approx(1 / 3, abs=0.07)
