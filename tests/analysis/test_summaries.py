"""Metric semantics on a hand-made log: first exposure, windows, capping, ratio and CUPED sums."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.analysis.source import open_events
from sameday.analysis.summaries import Summaries, summarise
from sameday.config.metric import Metric
from sameday.errors import ConfigError, StoreUnavailable
from sameday.events import EventSink, Exposure, Outcome, PostgresSink, SQLiteSink
from sameday.events.source import EventQuery

METRICS = [
    Metric(name="ctr", type="proportion", event="click", window="1h"),
    Metric(name="clicks", type="count", event="click", window="1h", covariate="click"),
    Metric(name="revenue", type="mean", event="purchase", cap=60),
    Metric(name="per-list", type="ratio", numerator="click", denominator="exposure", window="1h"),
]


def _log(path: Path) -> str:
    _write(SQLiteSink(path))
    return f"sqlite:///{path}"


def _write(sink: EventSink) -> None:
    exposures = [
        ("u1", "control", 1000.0),
        ("u1", "control", 5000.0),
        ("u2", "control", 2000.0),
        ("u3", "personal", 3000.0),
        ("u3", "personal", 4000.0),
        ("u4", "personal", 2500.0),
        ("u5", None, 100.0),  # outside the experiment's arms: ignored
    ]
    outcomes = [
        ("u1", "click", 1.0, 900.0),  # before exposure: covariate only
        ("u1", "click", 1.0, 1000.0),  # at exposure: counts
        ("u1", "click", 1.0, 4599.0),  # last second of the window
        ("u1", "click", 1.0, 4600.0),  # window over
        ("u1", "purchase", 30.0, 1100.0),
        ("u1", "purchase", 50.0, 1200.0),  # 80 capped at 60
        ("u3", "click", 1.0, 2000.0),
        ("u3", "click", 1.0, 2500.0),
        ("u3", "click", 1.0, 3500.0),
        ("u3", "click", 1.0, 3600.0),
        ("u3", "purchase", 10.0, 3100.0),
        ("u4", "click", 1.0, 2400.0),
        ("u9", "click", 1.0, 2400.0),  # never exposed
    ]
    try:
        sink.write_exposures(
            [
                Exposure(
                    request_id=f"r{i}",
                    time=t,
                    unit=u,
                    surface="home",
                    items=("a",),
                    experiment="exp",
                    arm=arm,
                    extra={"platform": "ios" if u in ("u1", "u3") else "web"},
                )
                for i, (u, arm, t) in enumerate(exposures)
            ]
        )
        sink.write_outcomes(
            [
                Outcome(event_id=f"e{i}", unit=u, name=n, value=v, time=t)
                for i, (u, n, v, t) in enumerate(outcomes)
            ]
        )
    finally:
        sink.close()


def test_windows_caps_ratio_and_covariate(tmp_path: Path) -> None:
    url = _log(tmp_path / "events.db")
    s = summarise(url, "exp", METRICS, arms=["control", "personal"], dimensions=["platform"])
    assert s.arms == ("control", "personal")
    assert s.unit_counts() == [2, 2]
    assert s.crossed == 0
    ctr = s.total("ctr", "control"), s.total("ctr", "personal")
    assert (ctr[0].sum, ctr[1].sum) == (1.0, 1.0)
    clicks_a, clicks_b = s.total("clicks", "control"), s.total("clicks", "personal")
    assert (clicks_a.sum, clicks_a.sum_sq) == (2.0, 4.0)
    assert (clicks_a.sum_x, clicks_a.sum_x_sq, clicks_a.sum_xy) == (1.0, 1.0, 2.0)
    assert (clicks_b.sum, clicks_b.sum_x, clicks_b.sum_x_sq, clicks_b.sum_xy) == (
        2.0,
        3.0,
        5.0,
        4.0,
    )
    assert s.total("revenue", "control").sum == 60.0
    assert s.total("revenue", "control").sum_sq == 3600.0
    assert s.total("revenue", "personal").sum == 10.0
    # Units with a non-zero value: u1's capped 60 and u3's 10; u2 and u4 bought nothing.
    assert [s.total("revenue", arm).n_nonzero for arm in s.arms] == [1, 1]
    assert [s.total("clicks", arm).n_nonzero for arm in s.arms] == [1, 1]
    assert platform_nonzero(s) == 1
    ratio_a, ratio_b = s.total("per-list", "control"), s.total("per-list", "personal")
    assert (ratio_a.sum, ratio_a.sum_x) == (2.0, 2.0)
    assert (ratio_b.sum, ratio_b.sum_x, ratio_b.sum_xy) == (2.0, 3.0, 4.0)
    platform = s.by_dimension["platform"]
    assert platform[("ctr", "control", "ios")].n == 1
    assert platform[("ctr", "personal", "web")].sum == 0.0
    assert s.by_dimension["surface"][("ctr", "control", "home")].n == 2


def platform_nonzero(s: Summaries) -> int | None:
    """Buyers among the control's iOS units (u1): dimension summaries count them too."""
    return s.by_dimension["platform"][("revenue", "control", "ios")].n_nonzero


def test_daily_partials_add_up(tmp_path: Path) -> None:
    from tests.analysis._logs import write_ab_log

    path = tmp_path / "events.db"
    write_ab_log(path, units=600, rate={"control": 1.0, "personal": 1.0}, days=5, seed=9)
    s = summarise(f"sqlite:///{path}", "test", METRICS[:2], arms=["control", "personal"])
    assert len(s.days) == 5
    assert s.cumulative("clicks", "personal")[-1] == s.total("clicks", "personal")
    assert sum(s.unit_counts()) == 600


def _export(url: str, folder: Path, *, event_ids: bool = False, twice: tuple[str, ...] = ()) -> str:
    """The log at ``url`` as a Parquet log in ``folder``; the tables named in ``twice`` hold
    every record twice (with ``event_ids``, the outcomes get ids to be told apart by)."""
    folder.mkdir()
    con = open_events(url, EventQuery("exp", ("click", "purchase")))
    try:
        for table in ("exposures", "outcomes"):
            extra = ", 'exp' AS experiment, '{}' AS extra" if table == "exposures" else ""
            if table == "outcomes" and event_ids:
                extra = ", 'e' || hash(unit, name, time) AS event_id"
            again = " UNION ALL SELECT * FROM rows" if table in twice else ""
            con.execute(
                f"COPY (WITH rows AS (SELECT *{extra} FROM {table}) SELECT * FROM rows{again}) "
                f"TO '{folder / table}.parquet'"
            )
    finally:
        con.close()
    return f"parquet:///{folder}"


def test_parquet_log_gives_the_same_summaries(tmp_path: Path) -> None:
    url = _log(tmp_path / "events.db")
    ours = summarise(
        _export(url, tmp_path / "parquet"), "exp", METRICS, arms=["control", "personal"]
    )
    theirs = summarise(url, "exp", METRICS, arms=["control", "personal"])
    assert ours.cells == theirs.cells


@pytest.mark.parametrize("repeated", [("exposures",), ("outcomes",), ("exposures", "outcomes")])
def test_a_parquet_log_read_before_its_repeats_were_found_is_read_again(
    tmp_path: Path, repeated: tuple[str, ...]
) -> None:
    """The views are read while the repeat check runs (``LogCheck``): a log holding every
    record twice must give the summaries of the log holding it once, so what was read before the
    check found the repeats is thrown away. The ratio metric counts exposures, the others count
    outcomes: a repeat left in either table would change them."""
    url = _log(tmp_path / "events.db")
    parquet = _export(url, tmp_path / "parquet", event_ids=True, twice=repeated)
    ours = summarise(parquet, "exp", METRICS, arms=["control", "personal"])
    theirs = summarise(url, "exp", METRICS, arms=["control", "personal"])
    assert ours.cells == theirs.cells
    assert ours.units == theirs.units


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="does not exist"):
        summarise(f"sqlite:///{tmp_path / 'missing.db'}", "exp", METRICS)
    with pytest.raises(ConfigError, match=r"storage\.events: unsupported event log URL"):
        summarise("redis://localhost", "exp", METRICS)
    with pytest.raises(StoreUnavailable, match="no exposures"):
        summarise(f"parquet:///{tmp_path}", "exp", METRICS)
    with pytest.raises(ConfigError, match="dimension"):
        EventQuery("exp", (), dimensions=("a; DROP",))


def test_postgres_log_gives_the_same_summaries(tmp_path: Path, postgres_url: str) -> None:
    _write(PostgresSink(postgres_url))
    ours = summarise(postgres_url, "exp", METRICS, arms=["control", "personal"])
    theirs = summarise(_log(tmp_path / "events.db"), "exp", METRICS, arms=["control", "personal"])
    assert ours.cells == theirs.cells
    assert ours.crossed == 0
