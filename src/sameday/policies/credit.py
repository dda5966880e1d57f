"""Credit for interleaved impressions: which team earned each click, and who won.

Outcomes are joined to exposures by ``request_id`` and to a slot by ``item``; list-level outcomes
(no item) and items filled from a fallback (no team) earn no team credit.

- **Team-draft and multileaving**: a slot clicked (any outcome named in ``events``, repeats
  counted once) credits that slot's team with one. With ``credit="competitive_pairs"``, slots
  whose item every ranker would have placed (``extra["shared"]``; the server also logs their
  team as ``None``) earn nothing: both rankers agree on them, so clicks say nothing about which
  is better.
- **Balanced** (``extra["method"] == "balanced"``): Joachims' rule. With ``c`` the lowest clicked
  slot and ``k`` the better of its ranks in A and B, each ranker earns the number of clicked
  items in its own top ``k`` (ranks are logged per slot in ``extra["ranks"]``).

Per impression, the team with more credit wins (:func:`impression_outcomes`); per user, each
team's share of the user's credited engagement is the preference Netflix and Airbnb report
(:func:`user_credit`). :func:`preference` feeds both into the stats engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sameday.events.records import Exposure, Outcome

if TYPE_CHECKING:
    from sameday.analysis.stats.interleaving import PreferenceTest, UserPreference

Credit = Literal["all", "competitive_pairs"]
Result = Literal["win", "loss", "tie"]


@dataclass(frozen=True, slots=True)
class ImpressionCredit:
    """The credit each team earned on one interleaved impression."""

    request_id: str
    unit: str
    experiment: str | None
    credit: dict[str, float]

    def result(self, a: str, b: str) -> Result:
        """``win`` when team ``a`` earned more than ``b``, ``loss`` when less, else ``tie``."""
        mine, theirs = self.credit.get(a, 0.0), self.credit.get(b, 0.0)
        return "win" if mine > theirs else "loss" if mine < theirs else "tie"


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Impressions won by ``a``, won by ``b``, and tied (including those with no credit)."""

    a: str
    b: str
    wins_a: int
    wins_b: int
    ties: int


@dataclass(frozen=True, slots=True)
class UserCredit:
    """Each user's credited engagement per team: the input of the per-user preference."""

    a: str
    b: str
    units: tuple[str, ...]
    credit_a: tuple[float, ...]
    credit_b: tuple[float, ...]

    def share_b(self) -> list[float | None]:
        """Each user's share of engagement credited to ``b`` (``None``: no credited event)."""
        return [
            cb / (ca + cb) if ca + cb else None
            for ca, cb in zip(self.credit_a, self.credit_b, strict=True)
        ]


def credit_impressions(
    exposures: Iterable[Exposure],
    outcomes: Iterable[Outcome],
    *,
    events: Sequence[str] = ("click",),
    credit: Credit = "all",
) -> list[ImpressionCredit]:
    """The team credit of every interleaved exposure (see the module docstring), in log order.

    Exposures without ``teams`` (not interleaved) are skipped.
    """
    wanted = set(events)
    clicked: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.name in wanted and outcome.request_id is not None and outcome.item is not None:
            clicked[outcome.request_id].append(outcome.item)
    impressions: list[ImpressionCredit] = []
    for exposure in exposures:
        if exposure.teams is None:
            continue
        items = clicked.get(exposure.request_id, [])
        if exposure.extra.get("method") == "balanced":
            earned = balanced_credit(exposure, items)
        else:
            earned = _team_credit(exposure, items, credit)
        impressions.append(
            ImpressionCredit(exposure.request_id, exposure.unit, exposure.experiment, earned)
        )
    return impressions


def balanced_credit(exposure: Exposure, clicked_items: Iterable[str]) -> dict[str, float]:
    """Joachims' credit of a balanced-interleaved exposure for the clicked items."""
    teams = _team_names(exposure)
    slot_of = {item: s for s, item in enumerate(exposure.items)}
    ranks: list[list[int | None]] = exposure.extra["ranks"]
    slots = sorted(
        {
            slot_of[item]
            for item in clicked_items
            if item in slot_of and slot_of[item] < len(ranks)  # fallback fills have no rank
        }
    )
    earned = dict.fromkeys(teams, 0.0)
    if not slots:
        return earned
    lowest = ranks[slots[-1]]
    cutoff = min(r for r in lowest if r is not None)
    for t, team in enumerate(teams):
        earned[team] = float(sum(1 for s in slots if (ranks[s][t] or cutoff + 1) <= cutoff))
    return earned


def impression_outcomes(impressions: Iterable[ImpressionCredit], a: str, b: str) -> Outcomes:
    """Count the impressions each of ``a`` and ``b`` won, and the ties."""
    counts = {"win": 0, "loss": 0, "tie": 0}
    for impression in impressions:
        counts[impression.result(a, b)] += 1
    return Outcomes(a, b, counts["win"], counts["loss"], counts["tie"])


def user_credit(impressions: Iterable[ImpressionCredit], a: str, b: str) -> UserCredit:
    """Sum each user's credit for ``a`` and ``b`` over their impressions, users sorted."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for impression in impressions:
        pair = totals[impression.unit]
        pair[0] += impression.credit.get(a, 0.0)
        pair[1] += impression.credit.get(b, 0.0)
    units = tuple(sorted(totals))
    return UserCredit(
        a,
        b,
        units,
        tuple(totals[u][0] for u in units),
        tuple(totals[u][1] for u in units),
    )


def preference(
    impressions: Sequence[ImpressionCredit],
    a: str,
    b: str,
    *,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[PreferenceTest, UserPreference]:
    """Per-impression sign test and per-user bootstrap preference of ``b`` over ``a``.

    Raises:
        StatsInputError: no impression has a user (nothing to analyse).
    """
    from sameday.analysis.stats.interleaving import preference_test, user_preference

    counts = impression_outcomes(impressions, a, b)
    users = user_credit(impressions, a, b)
    per_impression = preference_test(counts.wins_a, counts.wins_b, counts.ties, alpha=alpha)
    per_user = user_preference(
        list(users.credit_a), list(users.credit_b), alpha=alpha, n_boot=n_boot, seed=seed
    )
    return per_impression, per_user


def _team_credit(
    exposure: Exposure, clicked_items: Iterable[str], credit: Credit
) -> dict[str, float]:
    teams = exposure.teams or ()
    earned = dict.fromkeys(_team_names(exposure), 0.0)
    slot_of = {item: s for s, item in enumerate(exposure.items)}
    shared = set(exposure.extra.get("shared", ())) if credit == "competitive_pairs" else set()
    for item in set(clicked_items):  # repeated clicks on one slot count once
        slot = slot_of.get(item)
        if slot is None or slot in shared:
            continue
        team = teams[slot]
        if team is not None:
            earned[team] = earned.get(team, 0.0) + 1.0
    return earned


def _team_names(exposure: Exposure) -> list[str]:
    """The experiment's teams in ranker order (``extra["arms"]``), else those seen in slots."""
    names = exposure.extra.get("arms")
    if names:
        return [str(name) for name in names]
    return sorted({team for team in exposure.teams or () if team is not None})
