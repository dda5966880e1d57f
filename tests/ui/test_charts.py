"""The dashboard's own charts: round ticks, labelled axes, a sentence that says what they show."""

from __future__ import annotations

import re

from sameday.ui.charts import Bar, duration_text, timeline


def test_durations_read_as_people_say_them() -> None:
    assert [duration_text(s) for s in (0, 4.25, 45, 125, 3600, 4500)] == [
        "0s", "4.2s", "45s", "2m 5s", "1h", "1h 15m",
    ]  # fmt: skip


def test_the_time_line_has_round_ticks_in_a_unit_that_fits_and_says_what_failed() -> None:
    bars = [Bar("extract #1", 0, 95, "succeeded"), Bar("train #1", 100, 1730, "failed")]
    svg = timeline(bars, title="Job attempts")
    wide = svg.split('class="chart narrow"')[0]
    ticks = [float(t) for t in re.findall(r'class="tick"[^>]*>([-\d.]+)<', wide)]
    assert ticks == [0, 10, 20, 30]  # 28.8 minutes, on an axis ending on a round tick
    assert "minutes since the run started" in svg
    assert (
        "2 job attempts over 28m 50s; the longest, train #1, took 27m 10s; failed: train #1." in svg
    )
    assert 'role="img"' in svg and "<desc>" in svg and "<figcaption>" in svg
    assert 'class="chart wide"' in svg and 'class="chart narrow"' in svg


def test_an_empty_time_line_says_so() -> None:
    assert "No job attempts" in timeline([], title="x")
