"""Charts a reader can read: round ticks, a labelled zero, one day of data, any width, alt text."""

from __future__ import annotations

import math
import re

import pytest

from sameday.analysis.series import LiftSeries, SeriesPoint
from sameday.reports.svg import (
    NARROW,
    WIDE,
    Interval,
    forest,
    lift_chart,
    nice_ticks,
    share_bars,
    stacked_area,
    tick_label,
)


def _point(day: int, lift: float, half: float) -> SeriesPoint:
    return SeriesPoint(
        date=f"2024-05-{day:02d}",
        units=1000 * day,
        lift=lift,
        fixed_low=lift - half / 2,
        fixed_high=lift + half / 2,
        sequential_low=lift - half,
        sequential_high=lift + half,
        p_value=0.2,
    )


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([-0.0337, 0.2626], [-0.1, 0.0, 0.1, 0.2, 0.3]),
        ([0.047, 0.132], [0.04, 0.06, 0.08, 0.1, 0.12, 0.14]),
        ([0.41, 0.63], [0.4, 0.5, 0.6, 0.7]),
        ([-3.0, 1.5], [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0]),
    ],
)
def test_ticks_are_round_and_enclose_the_data(values: list[float], expected: list[float]) -> None:
    ticks = nice_ticks(values, include=[0.0] if values[0] < 0 else [])
    assert ticks == pytest.approx(expected)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    assert ticks[0] <= min(values) and ticks[-1] >= max(values)


def test_tick_labels_have_the_decimals_the_step_needs() -> None:
    ticks = [-0.1, 0.0, 0.1, 0.2]
    assert [tick_label(t, ticks, signed=True) for t in ticks] == ["-10%", "0%", "+10%", "+20%"]
    fine = [0.04, 0.045, 0.05]
    assert [tick_label(t, fine, signed=False) for t in fine] == ["4.0%", "4.5%", "5.0%"]


def _labels(svg: str) -> list[str]:
    return re.findall(r'class="tick"[^>]*>([^<]*)<', svg)


def test_lift_chart_has_round_ticks_and_a_labelled_zero_line() -> None:
    series = LiftSeries("ctr", "personal", tuple(_point(d, 0.11, 0.4 / d) for d in range(1, 8)))
    html = lift_chart(series, "control")
    wide = html.split('class="chart narrow"')[0]
    assert {"-20%", "0%", "+20%", "+40%"} <= set(_labels(wide))
    assert 'class="zero"' in wide and ">no difference</text>" in wide
    assert "4.7%" not in html and "nan" not in html


def test_one_day_of_data_is_a_dot_with_its_interval() -> None:
    html = lift_chart(LiftSeries("ctr", "personal", (_point(1, 0.114, 0.149),)), "control")
    assert '<rect class="band"' in html and '<circle class="dot"' in html
    assert "<polyline" not in html
    assert "One day of data so far (2024-05-01, 1,000 units): lift +11.4%" in html
    assert "-3.5% to +26.3%, which includes 0" in html


def test_every_chart_is_drawn_for_a_phone_with_a_text_alternative() -> None:
    rows = [Interval("ctr · personal", 0.1, 0.02, 0.18, "tip", "better")]
    series = LiftSeries("ctr", "personal", (_point(1, 0.1, 0.05), _point(2, 0.1, 0.04)))
    charts = [
        lift_chart(series, "control"),
        forest(rows, title="Lift", sentence="The relative lift of ctr for personal."),
        share_bars(["control", "personal"], [0.497, 0.503], [0.5, 0.5]),
        stacked_area(["a", "b"], ["2024-05-01"], [[3, 1]]),
    ]
    for html in charts:
        assert html.startswith("<figure>") and html.endswith("</figcaption></figure>")
        boxes = re.findall(r'<svg viewBox="0 0 (\d+) \d+" class="chart (\w+)"', html)
        assert boxes == [(str(WIDE), "wide"), (str(NARROW), "narrow")]
        assert 'width="' not in re.sub(r"<(rect|line)[^>]*>", "", html)  # no fixed sizes
        assert html.count('role="img" aria-label="') == 2
        assert html.count("<title>") == 2 and html.count("<desc>") == 2
        caption = re.search(r"<figcaption>([^<]+)</figcaption>", html)
        assert caption is not None and len(caption.group(1).split()) >= 5
    assert "a 75%, b 25%" in charts[3] and "<rect" in charts[3]  # one day: one stacked bar
