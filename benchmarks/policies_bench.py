"""Hot-path policies: team-draft interleaving of two 50-item lists into 20 slots, and a
Thompson-sampling pick over 20 arms, each against a plain reference implementation in the same run.

Run: .venv/bin/python benchmarks/policies_bench.py  (prints a Markdown table; p50 per call).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from sameday.config.experiment import Bandit
from sameday.policies.bandit import BanditParams, BanditPolicy, allocation, initial_params
from sameday.policies.interleave import team_draft
from sameday.policies.keyed import KeyedStream

CALLS = 20_000


def p50_us(func: Callable[[int], object], calls: int = CALLS) -> float:
    """Median wall time of one call, in microseconds (timed in batches of 100)."""
    samples = []
    for start in range(0, calls, 100):
        began = time.perf_counter_ns()
        for i in range(start, start + 100):
            func(i)
        samples.append((time.perf_counter_ns() - began) / 100 / 1000)
    return statistics.median(samples)


def reference_team_draft(a: list[str], b: list[str], n: int, rng: random.Random) -> list[str]:
    """Textbook team-draft: random.Random coins, list membership via a set, no bookkeeping."""
    out: list[str] = []
    seen: set[str] = set()
    size_a = size_b = 0
    while len(out) < n:
        pick_a = size_a < size_b or (size_a == size_b and rng.random() < 0.5)
        source = a if pick_a else b
        item = next((x for x in source if x not in seen), None)
        if item is None:
            break
        out.append(item)
        seen.add(item)
        size_a, size_b = (size_a + 1, size_b) if pick_a else (size_a, size_b + 1)
    return out


def main() -> None:
    rng = random.Random(1)
    catalogue = [f"item-{i}" for i in range(120)]
    a = rng.sample(catalogue, 50)
    b = rng.sample(catalogue, 50)
    ref_rng = random.Random(2)
    ours = p50_us(lambda i: team_draft(a, b, 20, KeyedStream.for_request("exp", "u", str(i))))
    ref = p50_us(lambda i: reference_team_draft(a, b, 20, ref_rng))

    arms = [f"arm-{k}" for k in range(20)]
    settings = Bandit()
    successes = [rng.randrange(0, 50) for _ in arms]
    trials = [200] * len(arms)
    params = initial_params(arms, settings, start=0.0)
    shares = allocation(settings, successes, trials)
    policy = BanditPolicy.build("exp", _with(params, shares), 1)
    alphas = [1 + s for s in successes]
    betas = [1 + n - s for s, n in zip(successes, trials, strict=True)]
    ts_rng = random.Random(3)

    def reference_pick(_: int) -> int:
        draws = [ts_rng.betavariate(al, be) for al, be in zip(alphas, betas, strict=True)]
        return max(range(len(draws)), key=draws.__getitem__)

    pick = p50_us(lambda i: policy.pick("user-1", str(i)))
    pick_ref = p50_us(reference_pick)
    print("| operation | sameday p50 (µs) | reference p50 (µs) | target |")
    print("|---|---|---|---|")
    print(f"| team-draft, 2 × 50 items → 20 slots | {ours:.1f} | {ref:.1f} | ≤ 20 |")
    print(f"| Thompson pick, 20 arms | {pick:.2f} | {pick_ref:.1f} | ≤ 30 |")


def _with(params: BanditParams, shares: list[float]) -> BanditParams:
    return BanditParams.from_json({**params.to_json(), "allocation": shares})


if __name__ == "__main__":
    main()
