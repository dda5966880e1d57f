"""The lift series, all days at once, against one comparison per day.

:func:`lift_series` computes the days of a series together
(:func:`sameday.analysis.stats.lifts.relative_lifts`); :func:`_per_day` below is what it did
before, one :func:`compare` and one :func:`sequential_comparison` per day, skipping the days
either refuses. Every point must be the same to the last bit (NaN where the day's is NaN), on the
report tests' logs and on random summaries with degenerate days mixed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sameday.analysis.comparisons import compare
from sameday.analysis.metric_sql import columns
from sameday.analysis.series import LiftSeries, SeriesPoint, date_of, lift_series
from sameday.analysis.stats.lifts import relative_lifts
from sameday.analysis.stats.sequential import sequential_comparison
from sameday.analysis.stats.summary import ArmSummary
from sameday.analysis.summaries import Summaries, summarise
from sameday.config import load_project
from sameday.config.metric import Metric
from sameday.errors import StatsInputError
from tests.analysis._logs import EXPERIMENT, make_project, write_ab_log

Settings = tuple[float, bool, float]
"""alpha, sequential, n_star."""

SETTINGS: list[Settings] = [
    (0.05, True, 5000.0),
    (0.05, False, 5000.0),
    (0.01, True, 123_456.0),
    (0.2, False, 37.5),
]


def _per_day(
    summaries: Summaries,
    metrics: Sequence[Metric],
    *,
    control: str,
    treatments: Sequence[str],
    alpha: float,
    sequential: bool,
    n_star: float,
) -> list[LiftSeries]:
    """The series one comparison per day: the reference the batched series must equal."""
    out: list[LiftSeries] = []
    for col in columns(metrics):
        name = col.metric.name
        base = summaries.cumulative(name, control)
        for arm in treatments:
            points: list[SeriesPoint] = []
            for day, a, b in zip(
                summaries.days, base, summaries.cumulative(name, arm), strict=True
            ):
                try:
                    fixed = compare(col.kind, a, b, alpha, nonnegative=col.metric.nonnegative)
                    always = sequential_comparison(fixed, n_star=n_star)
                except StatsInputError:
                    continue
                decision = always if sequential else fixed
                points.append(
                    SeriesPoint(
                        date=date_of(day),
                        units=a.n + b.n,
                        lift=fixed.relative.point,
                        fixed_low=fixed.relative.ci_low,
                        fixed_high=fixed.relative.ci_high,
                        sequential_low=always.relative.ci_low,
                        sequential_high=always.relative.ci_high,
                        p_value=decision.relative.p_value,
                    )
                )
            out.append(LiftSeries(metric=name, arm=arm, points=tuple(points)))
    return out


def _bits(series: list[LiftSeries]) -> list[tuple[object, ...]]:
    """Every field of every point, floats as their bits (so NaN equals NaN, and -0.0 is not 0.0)."""
    return [
        (s.metric, s.arm, p.date, p.units, *(_float_bits(v) for v in _floats(p)))
        for s in series
        for p in s.points
    ] + [(s.metric, s.arm, len(s.points)) for s in series]


def _floats(point: SeriesPoint) -> tuple[float, ...]:
    return (
        point.lift,
        point.fixed_low,
        point.fixed_high,
        point.sequential_low,
        point.sequential_high,
        point.p_value,
    )


def _float_bits(value: float) -> str:
    assert type(value) is float
    return "nan" if math.isnan(value) else value.hex()


def _assert_same(
    summaries: Summaries,
    metrics: Sequence[Metric],
    treatments: Sequence[str],
    settings_: Settings,
) -> list[LiftSeries]:
    alpha, sequential, n_star = settings_
    batched = lift_series(
        summaries,
        metrics,
        control="control",
        treatments=treatments,
        alpha=alpha,
        sequential=sequential,
        n_star=n_star,
    )
    reference = _per_day(
        summaries,
        metrics,
        control="control",
        treatments=treatments,
        alpha=alpha,
        sequential=sequential,
        n_star=n_star,
    )
    assert _bits(batched) == _bits(reference)
    return batched


# The report tests' logs (tests/analysis/test_report.py), and one too small for its first days.
LOGS: dict[str, dict[str, object]] = {
    "aa": {"units": 3000, "rate": {"control": 1.0, "personal": 1.0}, "seed": 3},
    "strong": {"units": 4000, "rate": {"control": 0.8, "personal": 1.1}, "seed": 1},
    "harm": {
        "units": 4000,
        "rate": {"control": 0.8, "personal": 1.1},
        "errors": {"control": 0.2, "personal": 0.6},
        "seed": 2,
    },
    "cuped": {"units": 3000, "rate": {"control": 1.0, "personal": 1.2}, "seed": 4},
    "tiny": {"units": 12, "rate": {"control": 1.0, "personal": 1.5}, "days": 9, "seed": 5},
}


@pytest.fixture(scope="module", params=sorted(LOGS))
def logged(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Summaries, list[Metric]]:
    """A report test's log summarised as the report does, with its metrics."""
    root = tmp_path_factory.mktemp(request.param)
    project = make_project(root, EXPERIMENT)
    db = project / ".sameday" / "events.db"
    write_ab_log(db, **LOGS[request.param])  # type: ignore[arg-type]
    metrics = list(load_project(project).metrics.values())
    summaries = summarise(f"sqlite:///{db}", "test", metrics, arms=["control", "personal"])
    return summaries, metrics


@pytest.mark.parametrize("settings_", SETTINGS)
def test_the_report_logs_series_equal_the_per_day_comparisons(
    logged: tuple[Summaries, list[Metric]], settings_: Settings
) -> None:
    summaries, metrics = logged
    # Each metric as it is, and as one whose values may be negative (no -100% bound).
    signed = [m.model_copy(update={"nonnegative": False}) for m in metrics]
    kinds = {c.kind for c in columns(metrics)}
    assert kinds == {"ratio", "cuped", "proportion", "mean"}
    for chosen in (metrics, signed):
        # "ghost" has no units: every day of its series is skipped.
        series = _assert_same(summaries, chosen, ["personal", "ghost"], settings_)
        assert any(s.points for s in series)
        assert all(not s.points for s in series if s.arm == "ghost")


def test_a_day_too_small_is_skipped_on_the_tiny_log(tmp_path: Path) -> None:
    project = make_project(tmp_path, EXPERIMENT)
    db = project / ".sameday" / "events.db"
    write_ab_log(db, **LOGS["tiny"])  # type: ignore[arg-type]
    metrics = list(load_project(project).metrics.values())
    summaries = summarise(f"sqlite:///{db}", "test", metrics, arms=["control", "personal"])
    series = _assert_same(summaries, metrics, ["personal"], SETTINGS[0])
    assert all(len(s.points) < len(summaries.days) for s in series)


# Random summaries, with what makes a day fail or degenerate mixed in.

_KINDS = ("proportion", "mean", "cuped", "ratio")


def _metric(kind: str, nonnegative: bool) -> Metric:
    if kind == "ratio":
        return Metric(
            name=kind, type="ratio", numerator="a", denominator="b", nonnegative=nonnegative
        )
    return Metric(
        name=kind,
        type="proportion" if kind == "proportion" else "mean",
        event="a",
        covariate="b" if kind == "cuped" else None,
        nonnegative=nonnegative,
    )


def _values(rng: np.random.Generator, kind: str, n: int) -> tuple[npt.NDArray[np.float64], ...]:
    """Per-unit ``y`` (and ``x``) of one arm and day, sometimes degenerate."""
    shape = rng.integers(6)
    if kind == "proportion":
        y = (rng.random(n) < [0.0, 1.0, 0.3, 0.05, 0.5, 0.9][shape]).astype(float)
    elif shape == 0:
        y = np.zeros(n)  # a control of zero: no relative lift
    elif shape == 1:
        y = np.full(n, 2.5)  # no variance
    elif shape == 2:
        y = rng.normal(0.0, 1.0, n)  # negative values
    elif shape == 3:
        buyers = rng.random(n) < 0.05
        y = np.where(buyers, rng.lognormal(3.0, 1.5, n), 0.0).astype(np.float64)
    else:
        y = rng.poisson(rng.uniform(0.1, 4.0), n).astype(float)
    if kind not in ("cuped", "ratio"):
        return (y,)
    if rng.random() < 0.2:
        x = np.zeros(n)  # a ratio's zero denominator; a covariate that does not vary
    elif kind == "ratio":
        x = 1.0 + rng.poisson(1.0, n).astype(np.float64)
    else:
        x = y * rng.uniform(0.0, 1.5) + rng.poisson(1.0, n).astype(np.float64)
    return y, x


def _random_summaries(seed: int, kind: str) -> Summaries:
    """``kind``'s summaries for three arms over up to 30 days; some days have 0 or 1 units."""
    rng = np.random.default_rng(seed)
    days = tuple(range(19_700, 19_700 + int(rng.integers(1, 31))))
    arms = ("control", "personal", "other")
    cells: dict[tuple[str, str, int], ArmSummary] = {}
    units: dict[tuple[str, int], int] = {}
    for arm in arms:
        for day in days:
            n = int(rng.choice([0, 1, 1, 2, 3, 10, 50, 400]))
            if n == 0 and rng.random() < 0.5:
                continue  # an absent cell: no units that day
            cells[(kind, arm, day)] = ArmSummary.from_values(*_values(rng, kind, n))
            units[(arm, day)] = n
    return Summaries(
        arms=arms,
        days=days,
        metrics=(kind,),
        units=units,
        cells=cells,
        with_x=frozenset({kind} if kind in ("cuped", "ratio") else ()),
    )


@pytest.mark.parametrize("kind", _KINDS)
@pytest.mark.parametrize("seed", range(60))
def test_random_series_equal_the_per_day_comparisons(kind: str, seed: int) -> None:
    summaries = _random_summaries(seed, kind)
    rng = np.random.default_rng(seed + 1000)
    alpha = float(rng.choice([0.01, 0.05, 0.1, 0.3]))
    n_star = float(rng.choice([10.0, 5000.0, 1e6, rng.uniform(1.0, 1e5)]))
    for nonnegative in (True, False):
        for sequential in (True, False):
            _assert_same(
                summaries,
                [_metric(kind, nonnegative)],
                ["personal", "other"],
                (alpha, sequential, n_star),
            )


def test_random_series_cover_what_each_day_refuses() -> None:
    """The random summaries above do hit the skipped days and the undefined lifts."""
    skipped = undefined = unbounded = 0
    for kind in _KINDS:
        for seed in range(60):
            summaries = _random_summaries(seed, kind)
            for series in lift_series(
                summaries,
                [_metric(kind, True)],
                control="control",
                treatments=["personal", "other"],
                alpha=0.05,
                sequential=True,
                n_star=5000.0,
            ):
                skipped += len(summaries.days) - len(series.points)
                undefined += sum(math.isnan(p.lift) for p in series.points)
                unbounded += sum(math.isinf(p.sequential_high) for p in series.points)
    assert skipped > 100 and undefined > 10 and unbounded > 10


@pytest.mark.parametrize(("alpha", "n_star"), [(0.0, 5000.0), (1.0, 5000.0), (0.05, 0.0)])
def test_invalid_levels_skip_every_day_as_each_comparison_does(alpha: float, n_star: float) -> None:
    for kind in _KINDS:
        summaries = _random_summaries(7, kind)
        series = _assert_same(summaries, [_metric(kind, True)], ["personal"], (alpha, True, n_star))
        assert all(not s.points for s in series)


def _cell(y: list[int], x: list[int] | None) -> ArmSummary:
    if x is None:
        return ArmSummary.from_values(y)
    return ArmSummary.from_values(y, x[: len(y)] + [0] * (len(y) - len(x)))


_DAY = st.tuples(st.lists(st.integers(-3, 5), max_size=5), st.lists(st.integers(0, 4), max_size=5))


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(_KINDS),
    nonnegative=st.booleans(),
    sequential=st.booleans(),
    alpha=st.sampled_from([0.01, 0.05, 0.5]),
    n_star=st.floats(0.5, 1e7),
    control=st.lists(_DAY, min_size=1, max_size=8),
    treatment=st.lists(_DAY, min_size=1, max_size=8),
)
def test_small_integer_series_equal_the_per_day_comparisons(
    kind: str,
    nonnegative: bool,
    sequential: bool,
    alpha: float,
    n_star: float,
    control: list[tuple[list[int], list[int]]],
    treatment: list[tuple[list[int], list[int]]],
) -> None:
    """Tiny arms of small integers: ties, zero variances, zero controls and denominators."""
    days = tuple(range(19_700, 19_700 + max(len(control), len(treatment))))
    with_x = kind in ("cuped", "ratio")
    cells: dict[tuple[str, str, int], ArmSummary] = {}
    for arm, given_days in (("control", control), ("personal", treatment)):
        for day, (y, x) in zip(days, given_days, strict=False):
            if kind == "proportion":
                y = [int(v > 0) for v in y]
            cells[(kind, arm, day)] = _cell(y, x if with_x else None)
    summaries = Summaries(
        arms=("control", "personal"),
        days=days,
        metrics=(kind,),
        units={},
        cells=cells,
        with_x=frozenset({kind} if with_x else ()),
    )
    _assert_same(summaries, [_metric(kind, nonnegative)], ["personal"], (alpha, sequential, n_star))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(
    "cell",
    [
        ArmSummary(n=3, sum=math.inf, sum_sq=math.inf),
        # A finite mean whose variance is undefined (inf - inf): the always-valid p-value is
        # the fixed one (NaN), not the 0 its formula gives a NaN standard error.
        ArmSummary(n=3, sum=1e200, sum_sq=math.inf),
        ArmSummary(n=3, sum=1e300, sum_sq=1e300),
    ],
)
@pytest.mark.parametrize("kind", ["mean", "proportion"])
def test_non_finite_sums_give_the_per_day_numbers(cell: ArmSummary, kind: str) -> None:
    ordinary = ArmSummary(n=4, sum=2.0, sum_sq=3.0)
    for control, treatment in ((cell, ordinary), (ordinary, cell), (cell, cell)):
        summaries = Summaries(
            arms=("control", "personal"),
            days=(19_700,),
            metrics=(kind,),
            units={},
            cells={(kind, "control", 19_700): control, (kind, "personal", 19_700): treatment},
        )
        for sequential in (True, False):
            series = _assert_same(
                summaries, [_metric(kind, True)], ["personal"], (0.05, sequential, 5000.0)
            )
            assert len(series[0].points) == 1


def test_no_comparable_day_gives_empty_lifts_and_invalid_levels_still_raise() -> None:
    lifts = relative_lifts([], alpha=0.05, nonnegative=True, n_star=5000.0)
    assert lifts.point.shape == lifts.sequential_p.shape == (0,)
    with pytest.raises(StatsInputError, match="n_star"):
        relative_lifts([], alpha=0.05, nonnegative=True, n_star=0.0)
    with pytest.raises(StatsInputError, match="alpha"):
        relative_lifts([], alpha=1.0, nonnegative=True, n_star=5000.0)
