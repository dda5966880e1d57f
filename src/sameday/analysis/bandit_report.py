"""The report of a bandit experiment: allocation over time, posteriors, estimated regret.

Each exposure is a pull of its arm; it is a success when a reward event (``bandit.reward.event``)
with the same ``request_id`` arrives within ``bandit.reward.window`` after it. Per arm the report
gives the Beta posterior (the bandit's own prior), the probability of being the best arm
(seeded Monte Carlo), the share of pulls per day, and the regret: rewards lost to pulls of arms
other than the best, by the plug-in estimate per day and in posterior expectation.

The verdict: **ship ARM** once one arm is best with probability at least 0.95 (GrowthBook's
bandit stopping rule); **keep running** before. A bandit's posteriors are biased by its adaptive
allocation, so the lifts they imply are not effect estimates; use off-policy evaluation for that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sameday.analysis.phases import CURRENT, Scope, Selection, restrict
from sameday.analysis.series import date_of
from sameday.analysis.source import open_events
from sameday.analysis.stats.bandit import BanditSummary, bandit_summary, cumulative_regret
from sameday.analysis.verdict import Decision
from sameday.config.experiment import Bandit, Experiment
from sameday.events.source import EventQuery, EventSource

SHIP_PROBABILITY = 0.95
"""Probability of being best at which a bandit's leading arm is called."""

_PULLS = """
WITH pulls AS (
    SELECT e.arm, CAST(floor(e.time / 86400) AS BIGINT) AS day,
           coalesce(max(CASE WHEN o.time >= e.time AND o.time < e.time + $window
                             THEN 1 ELSE 0 END), 0) AS success
    FROM exposures e LEFT JOIN outcomes o ON o.request_id = e.request_id
    GROUP BY e.request_id, e.arm, e.time
)
SELECT arm, day, count(*), sum(success) FROM pulls GROUP BY arm, day ORDER BY day, arm
"""


@dataclass(frozen=True)
class BanditReport:
    """The analysis of a bandit experiment; ``decision.line`` is the verdict.

    ``allocation`` holds, per day in ``days``, the pulls of each arm (in ``arms`` order), and
    ``regret`` the plug-in regret accumulated up to that day.
    """

    experiment: str
    design: str
    generated: str
    arms: tuple[str, ...]
    days: tuple[str, ...]
    allocation: tuple[tuple[int, ...], ...]
    regret: tuple[float, ...]
    summary: BanditSummary
    decision: Decision
    scope: Scope | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What to know before trusting the numbers: the scope's notes (phases left out)."""
        return () if self.scope is None else tuple(self.scope.notes)


def bandit_report(
    source: EventSource | str,
    experiment: Experiment,
    *,
    seed: int = 0,
    selection: Selection = CURRENT,
) -> BanditReport:
    """Read ``experiment``'s pulls and rewards from ``source`` (an event source or its URL)
    and summarise the bandit."""
    settings = experiment.bandit or Bandit()
    query = EventQuery(experiment=experiment.name, events=(settings.reward.event,))
    con = open_events(source, query)
    try:
        scope = restrict(con, experiment, selection)
        rows = con.execute(_PULLS, {"window": float(settings.reward.window)}).fetchall()
    finally:
        con.close()
    arms = tuple(a.name for a in experiment.arms)
    days = sorted({int(r[1]) for r in rows})
    pulls = {(str(r[0]), int(r[1])): (int(r[2]), int(r[3])) for r in rows}
    allocation = tuple(tuple(pulls.get((a, d), (0, 0))[0] for a in arms) for d in days)
    trials = [sum(pulls.get((a, d), (0, 0))[0] for d in days) for a in arms]
    successes = [sum(pulls.get((a, d), (0, 0))[1] for d in days) for a in arms]
    summary = bandit_summary(
        arms,
        successes,
        trials,
        prior_alpha=settings.prior_alpha,
        prior_beta=settings.prior_beta,
        alpha=experiment.plan.alpha,
        seed=seed,
    )
    means = [arm.mean for arm in summary.arms]
    regret = cumulative_regret(allocation, means) if allocation else []
    return BanditReport(
        experiment=experiment.name,
        design=experiment.design,
        generated=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        arms=arms,
        days=tuple(date_of(d) for d in days),
        allocation=allocation,
        regret=tuple(regret),
        summary=summary,
        decision=_decide(summary),
        scope=scope,
    )


def _decide(summary: BanditSummary) -> Decision:
    best = max(summary.arms, key=lambda arm: arm.probability_best)
    if best.trials and best.probability_best >= SHIP_PROBABILITY:
        return Decision(
            "ship",
            best.arm,
            f"ship {best.arm} — best arm with probability {best.probability_best:.1%} "
            f"(reward rate {best.mean:.2%}, estimated regret {summary.regret:,.0f} rewards)",
        )
    return Decision(
        "keep running",
        None,
        f"keep running — the leading arm, {best.arm}, is best with probability "
        f"{best.probability_best:.1%} (ship at {SHIP_PROBABILITY:.0%})",
    )
