"""The anomaly detector (``sameday/monitor/detector.py``) on seeded series with known incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pytest

from sameday.errors import StatsInputError
from sameday.monitor.detector import PRESETS, detect, preset

START = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


def hourly(days: int = 28, seed: int = 1, noise: float = 15.0) -> tuple[list[datetime], np.ndarray]:
    """Hourly active users: a daily cycle around 1,000 and seeded noise."""
    rng = np.random.default_rng(seed)
    hours = np.arange(days * 24)
    values = 1000 + 300 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, noise, len(hours))
    return [START + timedelta(hours=int(h)) for h in hours], values


def daily_with_weekends(weeks: int = 10, seed: int = 2) -> tuple[list[datetime], np.ndarray]:
    """Daily users: 1,000 on weekdays, 500 on weekends, 2% noise."""
    rng = np.random.default_rng(seed)
    days = np.arange(weeks * 7)
    base = np.where(days % 7 < 5, 1000.0, 500.0)
    return [START + timedelta(days=int(d)) for d in days], base * rng.normal(1, 0.02, len(days))


def test_appending_points_never_changes_the_verdict_on_earlier_ones() -> None:
    stamps, values = hourly(days=35)
    values[400] *= 0.5
    values[600:] += 200  # a level shift
    full = detect(stamps, values)
    for cut in (150, 401, 620, 700):
        part = detect(stamps[:cut], values[:cut])
        for name in ("score", "expected", "low", "high", "bar", "magnitude"):
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[:cut])
        for name in ("alarm", "anomalous", "learning", "signal", "model"):
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[:cut])


def test_it_says_learning_until_it_has_enough_history() -> None:
    stamps, values = hourly(days=3)
    settings = preset()
    detection = detect(stamps, values, settings)
    first_judged = settings.local + settings.min_history
    assert detection.learning[:first_judged].all()
    assert not detection.learning[first_judged:].any()
    early = detection.judgement(3)
    assert early.status == "learning"
    assert early.expected is None and early.score == 0.0 and not early.alarm
    assert early.summary().startswith("learning")


def test_a_drop_is_an_anomaly_that_explains_itself() -> None:
    stamps, values = hourly()
    values[500] = 0.5 * values[500]
    detection = detect(stamps, values)
    assert np.flatnonzero(detection.anomalous[480:520]).tolist() == [20]
    verdict = detection.judgement(500)
    assert verdict.status == "anomaly" and verdict.signal == "spike"
    assert verdict.model is not None and verdict.model.startswith("daily")
    expected = 1000 + 300 * np.sin(2 * np.pi * 500 / 24)
    assert verdict.expected == pytest.approx(expected, rel=0.05)
    assert verdict.low is not None and verdict.high is not None
    assert verdict.value < verdict.low < verdict.expected < verdict.high
    assert verdict.bar is not None and verdict.magnitude is not None
    assert verdict.magnitude > verdict.bar
    text = verdict.summary()
    assert "(spike)" in text and "expected" in text and "largest" in text
    evidence = orjson.loads(orjson.dumps(verdict.evidence()))
    assert evidence["observed"] == pytest.approx(values[500])
    assert evidence["signal"] == "spike"


def test_a_clean_seasonal_series_rarely_raises_an_alarm_once_learned() -> None:
    alarms = judged = 0
    for seed in range(5):
        stamps, values = hourly(days=42, seed=seed)
        alarms += int(detect(stamps, values).alarm[7 * 24 :].sum())
        judged += len(values) - 7 * 24
    # chance records of Gaussian noise beyond 3.5 robust deviations: about 0.8 per 1,000 points
    assert alarms / judged < 1.5 / 1000


def test_an_alarm_quiets_the_score_for_the_cooldown_but_not_the_verdicts() -> None:
    stamps, values = hourly(seed=2)  # its one chance alarm is at hour 110
    values[500] *= 0.5
    values[510] *= 0.5  # a second drop inside the first one's cooldown
    detection = detect(stamps, values)
    assert detection.alarm[500] and not detection.alarm[510]
    assert detection.anomalous[510] and detection.judgement(510).status == "anomaly"
    day = 24  # the cooldown (50 points) never outlasts the shortest season
    assert detection.score[501 : 501 + day].max() == 0.0


def test_the_weekly_season_of_a_daily_series_is_learned() -> None:
    stamps, values = daily_with_weekends()
    saturday = 9 * 7 + 5
    values[saturday] = 1000.0  # a Saturday as busy as a weekday: unusual for this metric
    detection = detect(stamps, values)
    verdict = detection.judgement(saturday)
    assert verdict.alarm and verdict.model is not None and verdict.model.startswith("weekly")
    assert verdict.expected == pytest.approx(500, rel=0.05)
    # the ordinary weekends after the learning period raise nothing
    assert np.flatnonzero(detection.alarm[35:]).tolist() == [saturday - 35]


def test_a_level_shift_alarms_once_then_the_new_level_is_learned() -> None:
    rng = np.random.default_rng(4)
    values = np.concatenate([rng.normal(100, 2, 400), rng.normal(130, 2, 600)])
    stamps = [START + timedelta(minutes=5 * i) for i in range(len(values))]
    detection = detect(stamps, values)
    alarms = np.flatnonzero(detection.alarm)
    first = alarms[(alarms >= 400)].min()
    assert first < 400 + 12
    verdict = detection.judgement(int(first))
    assert verdict.signal in ("spike", "shift", "level")
    if verdict.signal != "spike":
        assert verdict.window in (12, 24)
        assert f"the last {verdict.window} points" in verdict.summary()
    assert not detection.anomalous[500:].any()


def test_a_trend_is_not_an_anomaly() -> None:
    rng = np.random.default_rng(6)
    values = np.linspace(1000, 2000, 800) + rng.normal(0, 5, 800)
    stamps = [START + timedelta(days=i) for i in range(len(values))]
    detection = detect(stamps, values)
    assert not detection.alarm[60:].any()


def test_changes_below_the_floors_never_alarm() -> None:
    rng = np.random.default_rng(8)
    values = 1000 + rng.normal(0, 0.3, 600)
    values[300:] += 8  # +0.8%: a record for this quiet metric, but a tiny change
    stamps = [START + timedelta(hours=i) for i in range(len(values))]
    assert not detect(stamps, values, preset(rel_floor=0.01)).alarm[250:].any()
    assert detect(stamps, values, preset(rel_floor=0.0)).alarm[300:312].any()
    assert not detect(stamps, values, preset(rel_floor=0.0, abs_floor=10)).alarm[250:].any()


@pytest.mark.parametrize(("direction", "fires"), [("both", True), ("rise", True), ("drop", False)])
def test_only_the_chosen_direction_alarms(direction: str, fires: bool) -> None:
    stamps, values = hourly()
    values[500] *= 1.6
    detection = detect(stamps, values, preset(direction=direction))
    assert bool(detection.anomalous[500]) is fires
    if direction == "drop":
        assert detection.judgement(500).high is None  # no upper edge to the band
    if direction == "rise":
        assert detection.judgement(500).low is None


def test_presets_order_their_sensitivity() -> None:
    assert set(PRESETS) == {"sensitive", "default", "quiet"}
    assert PRESETS["sensitive"].threshold < PRESETS["default"].threshold
    assert PRESETS["default"].threshold < PRESETS["quiet"].threshold
    stamps, values = hourly()
    fired = {name: [] for name in PRESETS}
    for factor in np.linspace(0.70, 0.95, 11):
        spiked = values.copy()
        spiked[500] *= factor
        for name in PRESETS:
            if detect(stamps, spiked, preset(name)).anomalous[500]:
                fired[name].append(round(float(factor), 3))
    assert set(fired["quiet"]) <= set(fired["default"]) <= set(fired["sensitive"])
    assert len(fired["quiet"]) < len(fired["sensitive"])


def test_inputs_it_cannot_score_are_named() -> None:
    stamps, values = hourly(days=2)
    values[7] = np.nan
    with pytest.raises(StatsInputError, match=r"value 7 .* not a finite number"):
        detect(stamps, values)
    with pytest.raises(StatsInputError, match="47 timestamps for 48 values"):
        detect(stamps[:-1], values)
