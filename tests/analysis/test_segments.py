"""Segment effects: against a direct computation on the logged rows, and the corrections."""

from __future__ import annotations

import math
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from sameday.analysis.segments import SegmentEffects, cochran_q, segment_effects
from sameday.analysis.summaries import summarise
from sameday.config.metric import Metric
from sameday.events import Exposure, Outcome, SQLiteSink
from sameday.serve.cache import ListCache, refresh_cache
from sameday.serve.engine import Engine
from sameday.serve.state import build_state
from sameday.store.memory import MemoryStore
from sameday.testing import experiment_spec, load_lists, surface_spec

CTR = Metric.model_validate(
    {"name": "ctr", "type": "proportion", "event": "click", "window": "1d", "min_units": 100}
)
CLICKS = Metric.model_validate(
    {"name": "clicks", "type": "count", "event": "click", "window": "1d", "min_units": 100}
)
PLATFORMS = {"ios": 2700, "android": 2700, "web": 570, "tv": 30}
RATE = {  # click probability per (arm, platform): only iOS users respond to the new list
    ("control", "ios"): 0.10,
    ("new", "ios"): 0.17,
    ("control", "android"): 0.10,
    ("new", "android"): 0.10,
    ("control", "web"): 0.12,
    ("new", "web"): 0.12,
    ("control", "tv"): 0.05,
    ("new", "tv"): 0.60,  # huge, but on 30 units: never a win
}


class _Log:
    def __init__(self) -> None:
        self.exposures: list[Exposure] = []

    def log_exposure(self, exposure: Exposure) -> None:
        self.exposures.append(exposure)


def serve_and_log(path: Path, *, seed: int = 3, revisits: bool = False) -> None:
    """Serve every unit through the real engine (its exposures record ``platform``), then log
    clicks drawn from :data:`RATE` into the SQLite event log at ``path``.

    With ``revisits``, a seventh of the units came a minute earlier without sending their
    platform (their first exposure records none), and another seventh came back a minute
    later from a television: a unit's segment is its value at its first exposure, missing or
    not, never a later one.
    """
    store = MemoryStore()
    load_lists(store, "popular", "p1", {"*": ["a", "b", "c"]})
    load_lists(store, "personal", "q1", {"*": ["x", "y", "z"]})
    specs = {
        ("surface", "home"): surface_spec("home", "popular", n=3),
        ("experiment", "test"): experiment_spec(
            "test", "home", {"control": "popular", "new": "personal"}, dimensions=["platform"]
        ),
    }
    state = build_state(specs)
    log = _Log()
    engine = Engine(
        store,
        state=state,
        cache=refresh_cache(store, state.result_sets, ListCache.empty()),
        log=log,
    )
    rng = np.random.default_rng(seed)
    platforms = [p for p, n in PLATFORMS.items() for _ in range(n)]
    outcomes = []
    for u, platform in enumerate(platforms):
        served = engine.recommend("home", f"u{u}", attributes={"platform": platform})
        exposure = log.exposures[-1]
        clicks = rng.binomial(3, RATE[(str(served.arm), platform)] / 2) + (
            rng.random() < RATE[(str(served.arm), platform)] / 2
        )
        outcomes += [
            Outcome(
                event_id=f"e{u}-{k}",
                unit=f"u{u}",
                name="click",
                time=exposure.time + 1 + k,
                request_id=exposure.request_id,
            )
            for k in range(int(clicks))
        ]
    for u, e in enumerate(list(log.exposures) if revisits else []):
        if u % 7 == 3:
            log.exposures.append(
                replace(e, request_id=f"{e.request_id}-0", time=e.time - 60, extra={})
            )
        elif u % 7 == 5:
            tv = {**e.extra, "platform": "tv"}
            log.exposures.append(
                replace(e, request_id=f"{e.request_id}-2", time=e.time + 60, extra=tv)
            )
    sink = SQLiteSink(path)
    try:
        sink.write_exposures(log.exposures)
        sink.write_outcomes(outcomes)
    finally:
        sink.close()


def direct_rows(path: Path) -> dict[str, tuple[str, str, int]]:
    """unit → (arm, platform at its first exposure or ``(none)``, clicks within a day of its
    first exposure), straight from SQL."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "WITH e AS (SELECT unit, arm, time, extra, "
            " row_number() OVER (PARTITION BY unit ORDER BY time) AS visit FROM exposures) "
            "SELECT e.unit, e.arm, coalesce(json_extract(e.extra, '$.platform'), '(none)'), "
            "(SELECT count(*) FROM outcomes o WHERE o.unit = e.unit AND o.name = 'click' "
            " AND o.time >= e.time AND o.time < e.time + 86400) FROM e WHERE visit = 1"
        ).fetchall()
    finally:
        con.close()
    return {unit: (arm, platform, int(clicks)) for unit, arm, platform, clicks in rows}


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    path = tmp_path / "events.db"
    serve_and_log(path)
    return path


def _effects(path: Path) -> dict[str, SegmentEffects]:
    summaries = summarise(
        f"sqlite:///{path}", "test", [CTR, CLICKS], arms=["control", "new"], dimensions=["platform"]
    )
    blocks = segment_effects(
        summaries,
        [(CTR, "primary"), (CLICKS, "secondary")],
        dimension="platform",
        control="control",
        treatments=["new"],
        alpha=0.05,
    )
    return {b.metric: b for b in blocks}


@pytest.fixture(params=[False, True], ids=["one-visit", "revisits"])
def logged_either_way(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Path, bool]:
    path = tmp_path / "events.db"
    serve_and_log(path, revisits=request.param)
    return path, request.param


def test_segment_effects_match_a_direct_computation(logged_either_way: tuple[Path, bool]) -> None:
    logged, revisits = logged_either_way
    blocks = _effects(logged)
    rows = direct_rows(logged)
    ctr, clicks = blocks["ctr"], blocks["clicks"]
    values = ["android", "ios", "tv", "web"]
    assert [e.value for e in ctr.effects] == (["(none)", *values] if revisits else values)
    tested = [e for e in ctr.effects if e.outcome != "too small"]
    raw_p = []
    for e in tested:
        y = {
            arm: np.array([c > 0 for a, p, c in rows.values() if a == arm and p == e.value], float)
            for arm in ("control", "new")
        }
        n_c, n_t = y["control"].size, y["new"].size
        p_c, p_t = y["control"].mean(), y["new"].mean()
        v_c, v_t = p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t  # per-unit p(1-p), as GrowthBook
        df = (v_c + v_t) ** 2 / (v_c**2 / (n_c - 1) + v_t**2 / (n_t - 1))
        p = 2 * stats.t.sf(abs(p_t - p_c) / math.sqrt(v_c + v_t), df)
        assert (e.n_control, e.n_treatment) == (n_c, n_t)
        assert e.control == pytest.approx(p_c, abs=1e-12)
        assert e.lift == pytest.approx(p_t / p_c - 1, rel=1e-9)
        assert e.absolute == pytest.approx(p_t - p_c, abs=1e-12)
        assert e.absolute_se == pytest.approx(math.sqrt(v_c + v_t), rel=1e-9)
        assert e.p_value == pytest.approx(p, rel=1e-6)
        raw_p.append(p)
    # Benjamini–Hochberg over the tested segments, as statsmodels computes it
    expected = multipletests(raw_p, method="fdr_bh")[1]
    assert [e.p_adjusted for e in tested] == pytest.approx(list(expected), rel=1e-9)
    # the count metric: Welch's t-test on the per-unit click counts, as scipy computes it
    for e in clicks.effects:
        if e.outcome == "too small":
            continue
        counts = {
            arm: [c for a, p, c in rows.values() if a == arm and p == e.value]
            for arm in ("control", "new")
        }
        welch = stats.ttest_ind(counts["new"], counts["control"], equal_var=False)
        assert e.p_value == pytest.approx(float(welch.pvalue), rel=1e-6)
    # the interaction test is Cochran's Q, as statsmodels' meta-analysis computes it
    (interaction,) = ctr.interactions
    q = combine_effects(
        np.array([e.absolute for e in tested]), np.array([e.absolute_se**2 for e in tested])
    ).test_homogeneity()
    assert interaction.statistic == pytest.approx(float(q.statistic), rel=1e-9)
    assert interaction.p_value == pytest.approx(float(q.pvalue), rel=1e-9)
    assert interaction.df == len(tested) - 1 == (3 if revisits else 2)


def test_who_benefits_is_found_and_too_small_is_never_a_win(logged: Path) -> None:
    ctr = _effects(logged)["ctr"]
    by_value = {e.value: e for e in ctr.effects}
    assert by_value["ios"].outcome == "better"
    assert by_value["android"].outcome == "flat" and by_value["web"].outcome == "flat"
    tv = by_value["tv"]
    assert tv.outcome == "too small" and math.isnan(tv.lift) and math.isnan(tv.p_adjusted)
    assert tv.note is not None and "/100 units" in tv.note
    assert ctr.tested == 3  # the too-small segment is not in the family
    assert ctr.interactions[0].differs(0.05)
    assert "ios (new: better" in ctr.headline and "1 segment-arm pair too small" in ctr.headline


def test_corrected_intervals_exclude_zero_exactly_for_discoveries(logged: Path) -> None:
    ctr = _effects(logged)["ctr"]
    assert ctr.discoveries == 1 and ctr.level == pytest.approx(1 - 1 * 0.05 / 3)
    for e in ctr.effects:
        if e.outcome == "too small":
            continue
        excludes = e.ci_low > 0 or e.ci_high < 0
        assert excludes == (e.p_adjusted < 0.05), e


def test_cochran_q_needs_two_usable_segments() -> None:
    assert cochran_q([0.1], [0.01]) is None
    assert cochran_q([0.1, 0.2], [0.0, 0.01]) is None  # a zero standard error carries no weight
    q, df, p = cochran_q([0.1, 0.1, 0.1], [0.01, 0.02, 0.03]) or (1.0, 0, 0.0)
    assert (q, df, p) == (pytest.approx(0.0, abs=1e-20), 2, pytest.approx(1.0))
