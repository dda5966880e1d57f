"""Interleaving: merge two or more rankers' lists into the one list a user sees.

Three methods, all pure functions of the rankers' lists and a :class:`KeyedStream`, so a served
list is reproduced exactly from its key (``experiment, unit, request``):

- :func:`team_draft` (Radlinski, Kurup and Joachims, 2008), the default. Each round a coin says
  which team picks first; then each team, in that order, adds its highest-ranked item not yet
  shown. An item belongs to the team that added it, and clicks on it are credited to that team.
  Team sizes never differ by more than one, and each coin sequence has probability
  ``2**-rounds``.
- :func:`multileave`: team-draft multileaving (Schuth et al., 2014) for three or more rankers:
  each round a uniform random order of the teams replaces the coin.
- :func:`balanced` (Joachims, 2002), kept as a documented baseline: one coin says which ranker
  leads, then the lists are merged so that every prefix holds about as many of each ranker's
  top items. It is biased when rankers return similar, shifted lists (random clicks then favour
  the ranker whose list is shifted up; see ``docs/interleaving.md``), which is why team-draft is
  the default.

Every result carries the probability of the shown item sequence under the method's own
randomisation (summing over every coin outcome that shows the same items), computed round by
round as the list is built: an O(slots) addition, not an enumeration of coin sequences.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sameday.policies.keyed import KeyedStream


@dataclass(frozen=True, slots=True)
class Interleaved:
    """One interleaved list.

    Attributes:
        items: the items shown, in order.
        teams: the index (into the rankers given) of the team that placed each item.
        coins: the random draws, in order (team-draft: 1 means team 1 picked first that round;
            multileaving: the Fisher–Yates draws; balanced: the one leading coin).
        probability: the probability of showing exactly ``items`` in this order.
        shared: slots whose item is in every ranker's first ``len(items)``: with
            ``credit: competitive_pairs`` clicks on them earn no team credit.
    """

    items: tuple[str, ...]
    teams: tuple[int, ...]
    coins: tuple[int, ...]
    probability: float
    shared: tuple[int, ...] = ()


def team_draft(
    a: Sequence[str],
    b: Sequence[str],
    n: int,
    stream: KeyedStream,
    *,
    exclude: Collection[str] = (),
    competitive: bool = False,
) -> Interleaved:
    """Team-draft interleave rankers ``a`` (team 0) and ``b`` (team 1) into at most ``n`` slots.

    Items in ``exclude`` are never shown. When one ranker runs out, the other fills the
    remaining slots alone, with no coin (that round has probability 1).
    """
    used = set(exclude)
    items: list[str] = []
    teams: list[int] = []
    probability = 1.0
    ia = ib = 0
    la, lb = len(a), len(b)
    while len(items) < n:
        while ia < la and a[ia] in used:
            ia += 1
        while ib < lb and b[ib] in used:
            ib += 1
        if ia >= la or ib >= lb:
            if ia >= la and ib >= lb:
                break
            team, item = (1, b[ib]) if ia >= la else (0, a[ia])
            used.add(item)
            items.append(item)
            teams.append(team)
            continue
        room = n - len(items)
        head_a, head_b = a[ia], b[ib]
        if head_a != head_b or (
            room > 1 and _next_free(a, ia + 1, used, head_a) != _next_free(b, ib + 1, used, head_a)
        ):
            probability *= 0.5
        order = ((1, b), (0, a)) if stream.coin() else ((0, a), (1, b))
        for team, ranking in order:
            if len(items) >= n:
                break
            pointer = ia if team == 0 else ib
            while pointer < len(ranking) and ranking[pointer] in used:
                pointer += 1
            if pointer < len(ranking):
                item = ranking[pointer]
                used.add(item)
                items.append(item)
                teams.append(team)
            if team == 0:
                ia = pointer
            else:
                ib = pointer
    shared = _shared(items, (a, b)) if competitive else ()
    return Interleaved(tuple(items), tuple(teams), tuple(stream.draws), probability, shared)


def multileave(
    rankings: Sequence[Sequence[str]],
    n: int,
    stream: KeyedStream,
    *,
    exclude: Collection[str] = (),
    competitive: bool = False,
) -> Interleaved:
    """Team-draft multileaving of any number of rankers into at most ``n`` slots.

    Each round draws a uniform order of the teams; each team, in that order, adds its
    highest-ranked unshown item. The list probability counts, per round, the orders that show
    the same items (:func:`_orders_showing`), without listing the ``k!`` orders.
    """
    k = len(rankings)
    if k < 2:
        raise ValueError(f"interleaving needs at least two rankers, got {k}")
    used = set(exclude)
    pointers = [0] * k
    items: list[str] = []
    teams: list[int] = []
    probability = 1.0
    every_order = math.factorial(k)
    while len(items) < n:
        for t in range(k):
            pointers[t] = _advance(rankings[t], pointers[t], used)
        live = [t for t in range(k) if pointers[t] < len(rankings[t])]
        if not live:
            break
        if len(live) == 1:
            picked = _round(rankings, pointers, used, live, n - len(items))
        else:
            picked = _round(rankings, pointers, used, stream.permutation(k), n - len(items))
            shown = tuple(item for _, item in picked)
            same = _orders_showing(rankings, pointers, used, shown, n - len(items))
            probability *= same / every_order
        for team, item in picked:
            used.add(item)
            items.append(item)
            teams.append(team)
    shared = _shared(items, rankings) if competitive else ()
    return Interleaved(tuple(items), tuple(teams), tuple(stream.draws), probability, shared)


def balanced(
    a: Sequence[str],
    b: Sequence[str],
    n: int,
    stream: KeyedStream,
    *,
    exclude: Collection[str] = (),
) -> Interleaved:
    """Balanced interleaving (the baseline): one coin picks the leading ranker, then merge.

    ``teams`` names the ranker whose pointer added each item; credit for balanced interleaving
    uses ranks instead (:func:`sameday.policies.credit.balanced_credit`).
    """
    lead = stream.coin()
    items, teams = _balanced_merge(a, b, n, lead, exclude)
    other, _ = _balanced_merge(a, b, n, 1 - lead, exclude)
    probability = 1.0 if other == items else 0.5
    return Interleaved(tuple(items), tuple(teams), (lead,), probability)


def ranks(items: Sequence[str], rankings: Sequence[Sequence[str]]) -> list[list[int | None]]:
    """Each shown item's 1-based rank in every ranking (``None``: absent), for balanced credit."""
    positions = [{item: r for r, item in enumerate(ranking, start=1)} for ranking in rankings]
    return [[where.get(item) for where in positions] for item in items]


def _balanced_merge(
    a: Sequence[str], b: Sequence[str], n: int, lead: int, exclude: Collection[str]
) -> tuple[list[str], list[int]]:
    used = set(exclude)
    items: list[str] = []
    teams: list[int] = []
    ka = kb = 0
    while len(items) < n and (ka < len(a) or kb < len(b)):
        take_a = kb >= len(b) or (ka < len(a) and (ka < kb or (ka == kb and lead == 0)))
        if take_a:
            item, team, ka = a[ka], 0, ka + 1
        else:
            item, team, kb = b[kb], 1, kb + 1
        if item not in used:
            used.add(item)
            items.append(item)
            teams.append(team)
    return items, teams


def _next_free(ranking: Sequence[str], start: int, used: set[str], also: str) -> str | None:
    for index in range(start, len(ranking)):
        item = ranking[index]
        if item != also and item not in used:
            return item
    return None


def _advance(ranking: Sequence[str], pointer: int, used: set[str]) -> int:
    while pointer < len(ranking) and ranking[pointer] in used:
        pointer += 1
    return pointer


def _round(
    rankings: Sequence[Sequence[str]],
    pointers: Sequence[int],
    used: set[str],
    order: Sequence[int],
    room: int,
) -> list[tuple[int, str]]:
    """The ``(team, item)`` picks of one round in ``order``, without changing any state."""
    taken: set[str] = set()
    picks: list[tuple[int, str]] = []
    for team in order:
        if len(picks) >= room:
            break
        ranking = rankings[team]
        pointer = pointers[team]
        while pointer < len(ranking) and (ranking[pointer] in used or ranking[pointer] in taken):
            pointer += 1
        if pointer < len(ranking):
            taken.add(ranking[pointer])
            picks.append((team, ranking[pointer]))
    return picks


def _orders_showing(
    rankings: Sequence[Sequence[str]],
    pointers: Sequence[int],
    used: set[str],
    shown: tuple[str, ...],
    room: int,
) -> int:
    """How many orders of the teams make :func:`_round` show exactly ``shown``.

    Built team by team: a team placed next either adds the next shown item (its highest-ranked
    item not used nor taken earlier in the round), or adds nothing (it has none left), or breaks
    the sequence; once the round is full, the teams left may come in any order. Counting over
    the sets of teams placed (memoised) costs at most ``2**k * k`` steps, not ``k!``: 1,024
    sets at ten arms, where listing the orders meant 3.6 million rounds.
    """

    prefixes = [frozenset(shown[:taken]) for taken in range(len(shown) + 1)]

    def pick(team: int, taken: int) -> str | None:
        ranking, pointer, before = rankings[team], pointers[team], prefixes[taken]
        while pointer < len(ranking) and (ranking[pointer] in used or ranking[pointer] in before):
            pointer += 1
        return ranking[pointer] if pointer < len(ranking) else None

    k = len(rankings)
    memo: dict[tuple[int, int], int] = {}

    def count(placed: int, taken: int) -> int:
        if taken == room:  # full: the teams left are never asked
            return math.factorial(k - placed.bit_count())
        if placed == (1 << k) - 1:
            return 1 if taken == len(shown) else 0
        known = memo.get((placed, taken))
        if known is not None:
            return known
        total = 0
        for team in range(k):
            if placed >> team & 1:
                continue
            item = pick(team, taken)
            if item is None:
                total += count(placed | 1 << team, taken)
            elif taken < len(shown) and item == shown[taken]:
                total += count(placed | 1 << team, taken + 1)
        memo[placed, taken] = total
        return total

    return count(0, 0)


def _shared(items: Sequence[str], rankings: Sequence[Sequence[str]]) -> tuple[int, ...]:
    size = len(items)
    tops = [set(ranking[:size]) for ranking in rankings]
    return tuple(s for s, item in enumerate(items) if all(item in top for top in tops))
