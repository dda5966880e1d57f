"""The detector's settings and presets (``sameday/monitor/presets.py``)."""

from __future__ import annotations

import pytest

from sameday.monitor.presets import PRESETS, DetectorSettings, beats_by, preset


def test_a_threshold_is_how_far_a_deviation_beats_the_bar() -> None:
    assert beats_by(0.10) == pytest.approx(1 / 11)
    assert PRESETS["default"].threshold == beats_by(0.10)
    assert preset("quiet", direction="drop").direction == "drop"
    assert preset("quiet", direction="drop").threshold == PRESETS["quiet"].threshold


def test_settings_errors_say_what_to_change() -> None:
    with pytest.raises(ValueError, match="unknown detector preset 'loud': use one of sensitive"):
        preset("loud")
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\)"):
        DetectorSettings(threshold=1.5)
    with pytest.raises(ValueError, match="direction must be drop, rise or both"):
        preset(direction="down")
    with pytest.raises(ValueError, match="lookback"):
        preset(lookback=50, windows=(12,))
    with pytest.raises(ValueError, match="windows must be one or more counts of at least 2"):
        preset(windows=())
