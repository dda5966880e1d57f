"""Assignment speed: ``sameday.assign`` against growthbook-python, measured in the same run.

The step timed is what a request pays to learn its arm in a two-arm experiment (50/50, 80%
coverage, hash version 2): hash, ranges, choose, coverage. For sameday that is
``Allocation.assign(unit)`` on an allocation built once; for GrowthBook it is
``set_attributes({"id": unit})`` then ``run(experiment)`` on one long-lived ``GrowthBook``, the
cheapest way its API gives an arm for a new unit. Both are checked to agree on every unit first.
A second table times one targeting condition: ``compile_condition`` (compiled once),
``eval_condition`` and growthbook-python's ``evalCondition``.

Run: ``.venv/bin/python benchmarks/assign_bench.py [--units 10000] [--repeat 7]``
Needs growthbook-python: ``pip install "sameday[bench]"``.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from sameday.assign import (
    Allocation,
    choose_variation,
    compile_condition,
    eval_condition,
    get_bucket_ranges,
    hash,
)

KEY = "home-feed-ranker-v2"
WEIGHTS = (0.5, 0.5)
COVERAGE = 0.8
CONDITION: dict[str, Any] = {
    "country": {"$in": ["DE", "FR", "NL", "SE"]},
    "app.version": {"$vgte": "4.2.0"},
    "$or": [{"plan": "pro"}, {"visits": {"$gte": 3}}],
}


def make_units(count: int, seed: int = 20240601) -> list[str]:
    """Unit ids shaped like UUIDs without dashes, from a seeded generator."""
    rng = random.Random(seed)
    return [f"{rng.getrandbits(128):032x}" for _ in range(count)]


def make_attributes(units: Sequence[str], seed: int = 7) -> list[dict[str, Any]]:
    """Request attributes that exercise every branch of ``CONDITION``."""
    rng = random.Random(seed)
    return [
        {
            "id": unit,
            "country": rng.choice(["DE", "FR", "US", "NL", "BR"]),
            "app": {"version": rng.choice(["4.1.9", "4.2.0", "4.10.1", "3.9.0"])},
            "plan": rng.choice(["free", "pro"]),
            "visits": rng.randrange(6),
        }
        for unit in units
    ]


def growthbook_assigner() -> Callable[[str], int | None]:
    """GrowthBook's way to the arm of one unit, on one long-lived instance."""
    from growthbook import Experiment, GrowthBook

    gb = GrowthBook(attributes={})
    experiment = Experiment(
        key=KEY,
        variations=[0, 1],
        weights=list(WEIGHTS),
        coverage=COVERAGE,
        hashVersion=2,
        seed=KEY,
    )

    def assign(unit: str) -> int | None:
        gb.set_attributes({"id": unit})
        result = gb.run(experiment)
        return result.variationId if result.inExperiment else None

    return assign


def building_blocks_assigner() -> Callable[[str], int | None]:
    """sameday's GrowthBook-shaped functions, recomputing the ranges on every call."""

    def assign(unit: str) -> int | None:
        n = hash(KEY, unit, 2)
        if n is None:
            return None
        arm = choose_variation(n, get_bucket_ranges(2, COVERAGE, WEIGHTS))
        return None if arm < 0 else arm

    return assign


def ns_per_call(
    contenders: Sequence[tuple[str, Callable[[Any], object]]], inputs: Sequence[Any], repeat: int
) -> list[tuple[str, float]]:
    """Best-of-``repeat`` mean time of one call over all ``inputs``, in nanoseconds.

    Contenders take turns within each round, so a change in machine load hits them alike.
    """
    best = [float("inf")] * len(contenders)
    gc.disable()
    try:
        for _ in range(repeat):
            for index, (_, call) in enumerate(contenders):
                start = time.perf_counter_ns()
                for item in inputs:
                    call(item)
                best[index] = min(best[index], (time.perf_counter_ns() - start) / len(inputs))
    finally:
        gc.enable()
    return [(name, ns) for (name, _), ns in zip(contenders, best, strict=True)]


def check_agreement(
    ours: Callable[[str], int | None], theirs: Callable[[str], int | None], units: Sequence[str]
) -> int:
    """Number of units on which the two assigners disagree."""
    return sum(1 for unit in units if ours(unit) != theirs(unit))


def main(argv: Sequence[str] | None = None) -> int:
    """Run both benchmarks and print ns/call and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        from growthbook import core as gb_core
    except ImportError:
        print('growthbook-python is missing: pip install "sameday[bench]"', file=sys.stderr)
        return 2

    units = make_units(args.units)
    allocation = Allocation(seed=KEY, arms=2, weights=WEIGHTS, coverage=COVERAGE, hash_version=2)
    growthbook = growthbook_assigner()
    blocks = building_blocks_assigner()
    disagreements = check_agreement(allocation.assign, growthbook, units)
    disagreements += check_agreement(blocks, growthbook, units)
    print(f"agreement on {len(units)} units: {'OK' if disagreements == 0 else 'MISMATCH'}")
    if disagreements:
        return 1

    rows = ns_per_call(
        [
            ("growthbook-python GrowthBook.run", growthbook),
            ("sameday building blocks", blocks),
            ("sameday Allocation.assign", allocation.assign),
        ],
        units,
        args.repeat,
    )
    _table("assignment, two arms, 80% coverage, hash v2", rows)

    attributes = make_attributes(units)
    compiled = compile_condition(CONDITION)
    if [compiled(a) for a in attributes] != [eval_condition(a, CONDITION) for a in attributes]:
        print("compiled and interpreted conditions disagree", file=sys.stderr)
        return 1
    rows = ns_per_call(
        [
            ("growthbook-python evalCondition", lambda a: gb_core.evalCondition(a, CONDITION)),
            ("sameday eval_condition", lambda a: eval_condition(a, CONDITION)),
            ("sameday compile_condition", compiled),
        ],
        attributes,
        args.repeat,
    )
    _table("targeting condition ($in, $vgte, $or of $eq/$gte)", rows)
    return 0


def _table(title: str, rows: list[tuple[str, float]]) -> None:
    baseline = rows[0][1]
    print(f"\n{title}")
    print(f"{'':36} {'ns/call':>10} {'speed-up':>9}")
    for name, ns in rows:
        print(f"{name:36} {ns:10.0f} {baseline / ns:8.1f}x")


if __name__ == "__main__":
    sys.exit(main())
