"""The ``units`` table: each unit's arm and surface are those of its first exposure."""

from __future__ import annotations

import duckdb
import pytest

from sameday.analysis.metric_sql import coded, statements

EXPOSURES = [
    # unit, arm, surface, time
    ("u1", "control", None, 0.5),  # the first exposure lacks a surface: the next one's counts
    ("u1", "control", "home", 1.0),
    ("u2", "personal", None, 1.0),  # never a surface
    ("u2", "personal", None, 2.0),
    ("u3", "control", "home", None),  # no time: skipped, as arg_min skips it
    ("u3", "personal", "home", 5.0),  # so u3 is crossed
    ("u4", "personal", "home", None),
    ("u4", "personal", None, 3.0),
    ("u5", "control", "feed", 6.0),  # two surfaces: the first one counts
    ("u5", "control", "home", 7.0),
]


def _units(surfaces: list[str]) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """(units as built, units by ``arg_min``) for the units that are not crossed."""
    con = duckdb.connect()
    con.execute("CREATE TABLE exposures (unit VARCHAR, arm VARCHAR, surface VARCHAR, time DOUBLE)")
    con.executemany("INSERT INTO exposures VALUES (?, ?, ?, ?)", EXPOSURES)
    arms = ["control", "personal"]
    con.execute(statements([], arms=arms, surfaces=surfaces)[0])
    built = con.execute(
        "SELECT unit, arm, surface, t0 FROM units WHERE NOT crossed ORDER BY unit"
    ).fetchall()
    arm, surface = coded("arm", arms), coded("surface", surfaces)
    expected = con.execute(
        f"SELECT unit, arg_min({arm}, time), arg_min({surface}, time), min(time) FROM exposures "
        f"GROUP BY unit HAVING min({arm}) = max({arm}) ORDER BY unit"
    ).fetchall()
    crossed = con.execute("SELECT unit FROM units WHERE crossed").fetchall()
    assert crossed == [("u3",)]
    return built, expected


@pytest.mark.parametrize("surfaces", [["home"], ["feed", "home"]])
def test_arm_and_surface_are_the_first_exposures(surfaces: list[str]) -> None:
    built, expected = _units(surfaces)
    assert built == expected
    assert [row[0] for row in built] == ["u1", "u2", "u4", "u5"]


def test_one_surface_is_read_without_comparing_times() -> None:
    """The cheaper form is used where it gives the same answer, and only there."""
    one = statements([], arms=["a", "b"], surfaces=["home"])[0]
    two = statements([], arms=["a", "b"], surfaces=["home", "feed"])[0]
    assert "arg_min" not in one
    assert one.count("FILTER (WHERE time IS NOT NULL)") == 2
    assert "arg_min(CAST(CASE surface" in two
