"""Which part of an experiment's log a report analyses: one phase, optionally a time range.

Bumping ``hashing.bucket_version`` re-hashes every unit with a new seed (``NAME:vN``) and starts a
new phase: a unit may now be in the other arm, so the old phase's exposures and outcomes say
nothing about the new assignment. Every exposure records the seed it was hashed with, which is
how the log tells phases apart: phase ``N`` is the exposures whose seed is the experiment's seed
at ``bucket_version: N`` (``hashing.seed`` or the name, plus ``:vN`` when ``N > 0``). Exposures
hashed with another seed (an older ``hashing.seed``) form phases without a number, known by
their seed. Like GrowthBook, a report analyses one phase, by default the current one (the
experiment file's ``bucket_version``), and a new phase is a new analysis.

A phase ends where the next one starts (its first exposure): outcomes from then on are not
credited to the earlier phase, whose units may by then be served another arm. A time range
(``since``/``until``) narrows the analysis further: exposures in ``[since, until)``, outcomes
before ``until`` (earlier outcomes still feed the CUPED covariate).

A log whose exposures record no seed (written by another tool) cannot be split: the whole log is
analysed and the report says so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import duckdb

from sameday.config.experiment import Experiment
from sameday.errors import NotFound


@dataclass(frozen=True)
class Phase:
    """One phase found in the log.

    Attributes:
        number: the ``bucket_version`` it was served under; ``None`` for a seed the experiment
            file no longer produces.
        seed: the hash seed its exposures record.
        start: time of its first exposure (epoch seconds).
        end: start of the next phase, or ``None`` when none follows.
        exposures: its exposures.
        units: its distinct units; counted only when the log holds a phase besides the one
            analysed.
    """

    number: int | None
    seed: str
    start: float
    end: float | None
    exposures: int
    units: int | None

    @property
    def label(self) -> str:
        """``phase 2``, or ``seed 'old-seed'`` for a phase without a number."""
        return f"phase {self.number}" if self.number is not None else f"seed {self.seed!r}"


@dataclass(frozen=True)
class Selection:
    """What to analyse: a phase number (default: the current one) and an optional time range."""

    phase: int | None = None
    since: float | None = None
    until: float | None = None


CURRENT = Selection()
"""The default: the whole of the current phase."""


@dataclass(frozen=True)
class Scope:
    """What a report analysed.

    Attributes:
        phase: the phase number analysed (``None`` when the log records no seeds).
        current: the experiment file's ``bucket_version`` (the phase being served).
        since: exposures before this time were left out: the requested start, else the phase's
            first exposure (``None``: from the start of the log).
        until: exposures and outcomes from this time on were left out (the end of the phase or
            of the requested range; ``None``: up to now).
        phases: every phase in the log, oldest first.
        unseeded: exposures without a recorded seed, left out because phases cannot place them.
    """

    phase: int | None
    current: int
    since: float | None
    until: float | None
    phases: tuple[Phase, ...]
    unseeded: int = 0

    @property
    def line(self) -> str:
        """One sentence: which phase and time range the report covers."""
        if self.phase is None:
            what = "the whole log (it records no hash seeds, so phases cannot be told apart)"
        else:
            state = "current" if self.phase == self.current else f"current is {self.current}"
            what = f"phase {self.phase} (hashing.bucket_version {self.phase}, {state})"
        start = "the start" if self.since is None else _when(self.since)
        end = "now" if self.until is None else _when(self.until)
        return f"{what}, exposures from {start} to {end}"

    @property
    def notes(self) -> list[str]:
        """Warnings about what the scope left out."""
        out: list[str] = []
        others = [p for p in self.phases if p.number != self.phase]
        if others:
            listed = ", ".join(
                p.label if p.units is None else f"{p.label} ({p.units:,} units)" for p in others
            )
            out.append(
                f"other phases in the log are not in this analysis: {listed}; "
                "pass --phase N to analyse one"
            )
        if self.unseeded:
            out.append(
                f"{self.unseeded:,} exposures record no hash seed and are left out: "
                "their phase is unknown"
            )
        return out


def parse_time(text: str) -> float:
    """An ISO date or date-time (UTC unless it says otherwise) as epoch seconds.

    Raises:
        ValueError: ``text`` is not ISO 8601; the message says what is expected.
    """
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or time: use ISO 8601, e.g. 2024-05-01 or "
            "2024-05-01T12:00 (UTC unless an offset is given)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def phase_number(experiment: Experiment, seed: str) -> int | None:
    """The ``bucket_version`` that makes ``experiment`` hash with ``seed``, if any."""
    base = experiment.hashing.seed or experiment.name
    if seed == base:
        return 0
    match = re.fullmatch(re.escape(base) + r":v([1-9][0-9]*)", seed)
    return int(match.group(1)) if match else None


def restrict(con: duckdb.DuckDBPyConnection, experiment: Experiment, selection: Selection) -> Scope:
    """Point the views ``exposures`` and ``outcomes`` at the selected part of the log.

    ``con`` holds the experiment's whole log as ``log_exposures`` and ``log_outcomes`` (see
    :func:`sameday.analysis.source.open_events`).

    Raises:
        NotFound: ``selection.phase`` names a phase the log has no exposures of.
    """
    rows = con.execute(
        "SELECT seed, min(time), count(*) FROM log_exposures GROUP BY seed ORDER BY min(time)"
    ).fetchall()
    seeded = [r for r in rows if r[0] is not None]
    unseeded = sum(int(r[2]) for r in rows if r[0] is None)
    current = experiment.hashing.bucket_version
    wanted = current if selection.phase is None else selection.phase
    # Distinct units cost a hash of every unit (seconds over 10 million exposures): counted only
    # when a phase is left out, for the note that names it.
    units: dict[str, int] = {}
    if any(str(r[0]) != _seed(experiment, wanted) for r in seeded):
        counted = con.execute(
            "SELECT seed, count(DISTINCT unit) FROM log_exposures WHERE seed IS NOT NULL "
            "GROUP BY seed"
        ).fetchall()
        units = {str(seed): int(n) for seed, n in counted}
    starts = [float(r[1]) for r in seeded]
    phases = tuple(
        Phase(
            number=phase_number(experiment, str(seed)),
            seed=str(seed),
            start=float(start),
            end=next((s for s in starts if s > float(start)), None),
            exposures=int(n),
            units=units.get(str(seed)),
        )
        for seed, start, n in seeded
    )
    chosen = next((p for p in phases if p.number == wanted), None)
    if not phases:
        chosen_seed, number, end, unseeded = None, None, None, 0
    elif chosen is None and selection.phase is not None:
        listed = ", ".join(p.label for p in phases)
        raise NotFound(
            f"experiment {experiment.name!r} has no exposures in phase {selection.phase} "
            f"(seed {_seed(experiment, selection.phase)!r}); the log holds: {listed}"
        )
    else:
        chosen_seed, number = _seed(experiment, wanted), wanted
        end = chosen.end if chosen is not None else None
    until = _earliest(selection.until, end)
    where = ["TRUE"]
    if chosen_seed is not None:
        where.append(f"seed = {_literal(chosen_seed)}")
    if selection.since is not None:
        where.append(f"time >= {selection.since!r}")
    if until is not None:
        where.append(f"time < {until!r}")
    outcome_filter = "TRUE" if until is None else f"time < {until!r}"
    con.execute(
        f"CREATE OR REPLACE VIEW exposures AS SELECT * FROM log_exposures "
        f"WHERE {' AND '.join(where)}"
    )
    con.execute(
        f"CREATE OR REPLACE VIEW outcomes AS SELECT * FROM log_outcomes WHERE {outcome_filter}"
    )
    since = selection.since
    if since is None and chosen is not None:
        since = chosen.start
    return Scope(
        phase=number,
        current=current,
        since=since,
        until=until,
        phases=phases,
        unseeded=unseeded,
    )


def _seed(experiment: Experiment, version: int) -> str:
    base = experiment.hashing.seed or experiment.name
    return base if version == 0 else f"{base}:v{version}"


def _earliest(a: float | None, b: float | None) -> float | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
