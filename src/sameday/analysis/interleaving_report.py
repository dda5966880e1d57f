"""The report of an interleaving experiment: which ranker do users' clicks prefer?

An interleaved exposure mixes the arms' lists into one and records, per slot, the arm ("team")
that contributed it (``teams``, aligned with ``items``). A click is credited through its
``request_id`` and ``item`` to the team of the clicked slot (slots without a team, as
``competitive_pairs`` credit leaves them, earn nothing; repeated clicks on one slot count once).
Per impression, the arm with more credited clicks wins; equal non-zero credit is a tie and
impressions without credited clicks do not count. The control (first arm) is compared with each
other arm:

- the impression-level share of wins with an exact sign (binomial) test and Clopper–Pearson
  interval — optimistic when a few users see many impressions;
- the user-level preference: each user scores 1, 0 or 1/2, with a sign test over users and
  seeded bootstrap intervals that resample users — the numbers the verdict reads, Holm-adjusted
  across the compared arms.

The verdict: **ship ARM** when users significantly prefer ``ARM``; **stop for harm** when they
significantly prefer the control over it; **keep running** otherwise. There is no sample-ratio
check: every unit sees every arm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sameday.analysis.phases import CURRENT, Scope, Selection, restrict
from sameday.analysis.source import open_events
from sameday.analysis.stats.interleaving import (
    PreferenceTest,
    UserPreference,
    preference_test,
    user_preference,
)
from sameday.analysis.stats.multiple import holm
from sameday.analysis.verdict import Decision
from sameday.config.experiment import Experiment
from sameday.errors import StatsInputError
from sameday.events.source import EventQuery, EventSource

_CREDIT = """
CREATE OR REPLACE TEMP TABLE credit AS
WITH slots AS (
    SELECT request_id, unnest(from_json(items, '["VARCHAR"]')) AS item,
           unnest(from_json(teams, '["VARCHAR"]')) AS team
    FROM exposures WHERE teams IS NOT NULL
), clicks AS (
    SELECT DISTINCT request_id, item FROM outcomes
    WHERE request_id IS NOT NULL AND item IS NOT NULL
)
SELECT s.request_id, s.team, count(*) AS clicks
FROM slots s JOIN clicks c ON s.request_id = c.request_id AND s.item = c.item
WHERE s.team IS NOT NULL GROUP BY s.request_id, s.team
"""

# Balanced interleaving credits by rank, not by team (Joachims): with ``c`` the lowest clicked slot
# that a ranker placed and ``k`` the better of its ranks, each ranker earns the clicked slots it
# ranked within its own top ``k``. ``ranks`` holds each merged slot's rank in every arm's list
# (fallback fills have none); ``arms`` names the rankers in that order.
_BALANCED_CREDIT = """
CREATE OR REPLACE TEMP TABLE credit AS
WITH slots AS (
    SELECT request_id, from_json(arms, '["VARCHAR"]') AS arms,
           unnest(from_json(items, '["VARCHAR"]')) AS item,
           unnest(from_json(ranks, '[["INTEGER"]]')) AS r,
           generate_subscripts(from_json(items, '["VARCHAR"]'), 1) AS slot
    FROM exposures WHERE ranks IS NOT NULL
), clicked AS (
    SELECT DISTINCT s.request_id, s.arms, s.slot, s.r
    FROM slots s JOIN outcomes o ON s.request_id = o.request_id AND s.item = o.item
    WHERE s.r IS NOT NULL
), cut AS (
    SELECT request_id, list_min(arg_max(r, slot)) AS k FROM clicked GROUP BY request_id
), teams AS (
    SELECT c.request_id, c.arms[t.i] AS team, count(*) FILTER (WHERE c.r[t.i] <= k.k) AS clicks
    FROM clicked c JOIN cut k USING (request_id) CROSS JOIN range(1, 3) AS t(i)  -- two arms
    GROUP BY c.request_id, c.arms[t.i]
)
SELECT request_id, team, clicks FROM teams WHERE clicks > 0
"""

_PAIR = """
WITH per_impression AS (
    SELECT e.unit,
           coalesce(sum(c.clicks) FILTER (WHERE c.team = $a), 0) AS a,
           coalesce(sum(c.clicks) FILTER (WHERE c.team = $b), 0) AS b
    FROM exposures e JOIN credit c USING (request_id)
    GROUP BY e.request_id, e.unit
)
SELECT unit, count(*) FILTER (WHERE a > b), count(*) FILTER (WHERE b > a),
       count(*) FILTER (WHERE a = b AND a > 0)
FROM per_impression GROUP BY unit ORDER BY unit
"""


@dataclass(frozen=True)
class PairResult:
    """The control against one arm: impression- and user-level preference."""

    control: str
    arm: str
    impressions: PreferenceTest
    users: UserPreference | None
    p_adjusted: float


@dataclass(frozen=True)
class InterleavingReport:
    """The analysis of an interleaving experiment; ``decision.line`` is the verdict."""

    experiment: str
    design: str
    generated: str
    arms: tuple[str, ...]
    alpha: float
    impressions: int
    units: int
    clicked_impressions: int
    pairs: tuple[PairResult, ...]
    decision: Decision
    scope: Scope | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What to know before trusting the numbers: the scope's notes (phases left out)."""
        return () if self.scope is None else tuple(self.scope.notes)


def interleaving_report(
    source: EventSource | str,
    experiment: Experiment,
    *,
    seed: int = 0,
    n_boot: int = 2000,
    selection: Selection = CURRENT,
) -> InterleavingReport:
    """Read ``experiment``'s interleaved exposures and clicks from ``source`` (an event source
    or its URL) and analyse them."""
    settings = experiment.interleave
    events = tuple(settings.events if settings else ["click"])
    balanced = settings is not None and settings.method == "balanced"
    dimensions = ("ranks", "arms") if balanced else ()
    query = EventQuery(experiment=experiment.name, events=events, slots=True, dimensions=dimensions)
    con = open_events(source, query)
    try:
        scope = restrict(con, experiment, selection)
        con.execute(_BALANCED_CREDIT if balanced else _CREDIT)
        totals = con.execute(
            "SELECT count(*), count(DISTINCT unit), "
            "(SELECT count(DISTINCT request_id) FROM credit) FROM exposures"
        ).fetchone()
        arms = tuple(a.name for a in experiment.arms)
        rows = {arm: con.execute(_PAIR, {"a": arms[0], "b": arm}).fetchall() for arm in arms[1:]}
    finally:
        con.close()
    alpha = experiment.plan.alpha
    pairs = [_pair(arms[0], arm, rows[arm], alpha, seed, n_boot) for arm in arms[1:]]
    adjusted = holm([p.users.p_value if p.users else 1.0 for p in pairs])
    pairs = [
        PairResult(p.control, p.arm, p.impressions, p.users, q)
        for p, q in zip(pairs, adjusted, strict=True)
    ]
    impressions, units, clicked = (int(v) for v in totals) if totals else (0, 0, 0)
    return InterleavingReport(
        experiment=experiment.name,
        design=experiment.design,
        generated=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        arms=arms,
        alpha=alpha,
        impressions=impressions,
        units=units,
        clicked_impressions=clicked,
        pairs=tuple(pairs),
        decision=_decide(pairs, alpha),
        scope=scope,
    )


def _pair(
    control: str, arm: str, rows: list[tuple[object, ...]], alpha: float, seed: int, n_boot: int
) -> PairResult:
    counts = np.asarray([r[1:] for r in rows], dtype=np.int64).reshape(-1, 3)
    wins_a, wins_b, ties = (int(v) for v in counts.sum(axis=0))
    impressions = preference_test(wins_a, wins_b, ties, alpha=alpha)
    decided = counts[:, 0] + counts[:, 1] > 0
    users: UserPreference | None = None
    if decided.any():
        try:
            users = user_preference(
                counts[decided, 0], counts[decided, 1], alpha=alpha, n_boot=n_boot, seed=seed
            )
        except StatsInputError:
            users = None
    return PairResult(control, arm, impressions, users, 1.0)


def _decide(pairs: list[PairResult], alpha: float) -> Decision:
    significant = [p for p in pairs if p.users is not None and p.p_adjusted < alpha]
    for pair in significant:
        if pair.users is not None and pair.users.share_b < 0.5:
            return Decision(
                "stop for harm",
                pair.arm,
                f"stop for harm — users prefer {pair.control} over {pair.arm}: "
                f"{1 - pair.users.share_b:.1%} of users with a preference "
                f"(adjusted p = {pair.p_adjusted:.2g})",
            )
    winners = [p for p in significant if p.users is not None and p.users.share_b > 0.5]
    if winners:
        best = max(winners, key=lambda p: p.users.share_b if p.users else 0.0)
        share = best.users.share_b if best.users else float("nan")
        return Decision(
            "ship",
            best.arm,
            f"ship {best.arm} — {share:.1%} of users with a preference prefer it over "
            f"{best.control} (adjusted p = {best.p_adjusted:.2g})",
        )
    return Decision("keep running", None, "keep running — no arm is preferred beyond noise yet")
