"""Simulation: error rates and coverage of the report's tests, the figures of ``docs/analysis.md``.

The metric is revenue per unit with 5% buyers, each spending ``lognormal(3, 1.5)``: heavy-tailed
and zero-inflated, the case where the relative lift's delta-method test rejected 15% of A/A tests.
For 500, 2,000 and 10,000 units per arm it measures, with the engine's own vectorised kernels
(``lift_arrays``, ``t_interval``, ``relative_interval_arrays``, ``halfwidth_arrays``,
``p_value_arrays``; the same code ``compare_means`` and ``sequential_comparison`` run, checked on
the first 200 tests):

- A/A, read once: the share of tests the relative lift's p-value rejects at 0.05, for the old
  delta-method test and the current one (the absolute lift's Welch test), and the share of
  verdicts once the default minimum sample (100 units, 30 non-zero per arm) is required;
- A/A, 30 equally spaced looks, acting at the first rejection: always-valid (``N*`` = the final
  total), with and without the minimum sample, the old always-valid delta test, and naive
  fixed-horizon looks;
- coverage of a +20% lift by the relative interval (Fieller), read once and at all 30 looks at
  once (an undefined interval, with no buyer yet in the control, claims nothing);
- naive fixed-horizon peeking on a normal metric and a conversion rate (the ``sequential``
  docstring's figure).

Run (about a minute on one core)::

    .venv/bin/python benchmarks/aa_heavy_tails.py
    .venv/bin/python benchmarks/aa_heavy_tails.py --fixed 2000 --sequential 400   # quicker
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from sameday.analysis.stats.frequentist import (
    compare_means,
    lift_arrays,
    relative_interval_arrays,
    t_interval,
)
from sameday.analysis.stats.sequential import (
    halfwidth_arrays,
    p_value_arrays,
    sequential_comparison,
)
from sameday.analysis.stats.summary import ArmSummary

Array = npt.NDArray[np.float64]
ALPHA, LOOKS, MIN_UNITS, MIN_NONZERO, SIZES = 0.05, 30, 100, 30, (500, 2000, 10_000)


def heavy(
    rng: np.random.Generator, tests: int, looks: int, m: int, lift: float = 0.0
) -> dict[str, Array]:
    """Cumulative n, non-zero units, Σy and Σy² per (test, look) of one arm."""
    k = rng.binomial(m, 0.05, size=(tests, looks))
    amounts = rng.lognormal(3.0, 1.5, size=int(k.sum())) * (1 + lift)
    ends = np.cumsum(k.ravel())
    starts = ends - k.ravel()
    out: dict[str, Array] = {"nonzero": np.cumsum(k, axis=1).astype(np.float64)}
    for name, values in (("sum", amounts), ("sq", amounts**2)):
        running = np.concatenate([[0.0], np.cumsum(values)])
        out[name] = np.cumsum((running[ends] - running[starts]).reshape(k.shape), axis=1)
    out["n"] = np.broadcast_to(np.arange(1, looks + 1) * float(m), k.shape)
    return out


def kernels(a: dict[str, Array], b: dict[str, Array]) -> dict[str, npt.NDArray[Any]]:
    """Every p-value and interval end the report could use, per (test, look)."""
    n = a["n"]
    mean_a, mean_b = a["sum"] / n, b["sum"] / n
    var_a = (a["sq"] - a["sum"] ** 2 / n) / (n - 1) / n
    var_b = (b["sq"] - b["sum"] ** 2 / n) / (n - 1) / n
    lift = lift_arrays(mean_a, var_a, n, mean_b, var_b, n)
    with np.errstate(all="ignore"):
        _, _, p_abs = t_interval(lift.absolute, lift.se_absolute, lift.df, ALPHA)
        _, _, p_delta = t_interval(lift.relative, lift.se_relative, lift.df, ALPHA)
        low, high = relative_interval_arrays(lift, special.stdtrit(lift.df, 1 - ALPHA / 2))
        n_star = float(2 * n[0, -1])
        seq_abs = p_value_arrays(lift.absolute, lift.se_absolute, 2 * n, n_star=n_star, alpha=ALPHA)
        seq_delta = p_value_arrays(
            np.nan_to_num(lift.relative), lift.se_relative, 2 * n, n_star=n_star, alpha=ALPHA
        )
        q = halfwidth_arrays(1.0, 2 * n, n_star=n_star, alpha=ALPHA)
        seq_low, seq_high = relative_interval_arrays(lift, q)
    gate = (n >= MIN_UNITS) & (np.minimum(a["nonzero"], b["nonzero"]) >= MIN_NONZERO)
    return {
        "p_abs": p_abs,
        "p_delta": np.where(np.isnan(p_delta), 1.0, p_delta),
        "low": low,
        "high": high,
        "seq_abs": seq_abs,
        "seq_delta": np.where(np.isnan(seq_delta), 1.0, seq_delta),
        "seq_low": seq_low,
        "seq_high": seq_high,
        "gate": gate,
        "rel": lift.relative,
    }


def check_against_the_public_api(
    a: dict[str, Array], b: dict[str, Array], k: dict[str, npt.NDArray[Any]]
) -> None:
    """The kernels above give what ``compare_means`` and ``sequential_comparison`` report."""
    for i in range(min(200, a["n"].shape[0])):
        j = a["n"].shape[1] - 1
        arms = [
            ArmSummary(int(x["n"][i, j]), float(x["sum"][i, j]), float(x["sq"][i, j]))
            for x in (a, b)
        ]
        fixed = compare_means(*arms)
        always = sequential_comparison(fixed, n_star=float(2 * a["n"][i, j]))
        got = (
            fixed.relative.p_value,
            fixed.relative.ci_low,
            always.relative.p_value,
            always.relative.ci_high,
        )
        want = (k["p_abs"][i, j], k["low"][i, j], k["seq_abs"][i, j], k["seq_high"][i, j])
        assert np.allclose(got, want, equal_nan=True), (got, want)


def rate(hits: npt.NDArray[np.bool_]) -> str:
    tests = hits.size
    share = float(hits.mean())
    return f"{share:6.2%} ± {1.96 * math.sqrt(max(share * (1 - share), 1e-12) / tests):.2%}"


def heavy_tails(fixed_tests: int, seq_tests: int, rng: np.random.Generator) -> None:
    print(f"A/A, read once ({fixed_tests:,} tests per size; ± is a 95% Monte-Carlo margin)")
    print("  units/arm   delta method     current test     current + min sample")
    for units in SIZES:
        hits: dict[str, list[npt.NDArray[np.bool_]]] = {"delta": [], "abs": [], "gated": []}
        for start in range(0, fixed_tests, 5000):
            size = min(5000, fixed_tests - start)
            a, b = heavy(rng, size, 1, units), heavy(rng, size, 1, units)
            k = kernels(a, b)
            if start == 0:
                check_against_the_public_api(a, b, k)
            hits["delta"].append(k["p_delta"][:, 0] < ALPHA)
            hits["abs"].append(k["p_abs"][:, 0] < ALPHA)
            hits["gated"].append((k["p_abs"][:, 0] < ALPHA) & k["gate"][:, 0])
        h = {key: np.concatenate(v) for key, v in hits.items()}
        print(f"  {units:9,}   {rate(h['delta'])}   {rate(h['abs'])}   {rate(h['gated'])}")
    print(f"A/A, {LOOKS} looks, act at the first rejection ({seq_tests:,} tests per size)")
    print("  units/arm   always-valid+min  always-valid     old delta a-v    naive fixed")
    for units in SIZES:
        a, b = (heavy(rng, seq_tests, LOOKS, units // LOOKS) for _ in range(2))
        k = kernels(a, b)
        check_against_the_public_api(a, b, k)
        gated = np.any((k["seq_abs"] < ALPHA) & k["gate"], axis=1)
        plain = np.any(k["seq_abs"] < ALPHA, axis=1)
        old = np.any(k["seq_delta"] < ALPHA, axis=1)
        naive = np.any(k["p_abs"] < ALPHA, axis=1)
        print(f"  {units:9,}   {rate(gated)}   {rate(plain)}   {rate(old)}   {rate(naive)}")
    print(f"Coverage of a +20% lift by the relative interval ({seq_tests:,} tests per size)")
    print("  units/arm   read once        all 30 looks     all looks past min   below -100%")
    for units in SIZES:
        a = heavy(rng, seq_tests, LOOKS, units // LOOKS)
        b = heavy(rng, seq_tests, LOOKS, units // LOOKS, lift=0.2)
        k = kernels(a, b)
        once = (k["low"][:, -1] <= 0.2) & (k["high"][:, -1] >= 0.2)
        # An undefined interval (no buyer yet in the control) claims nothing, so it cannot miss.
        every = ((k["seq_low"] <= 0.2) & (k["seq_high"] >= 0.2)) | np.isnan(k["seq_low"])
        past = np.all(every | ~k["gate"], axis=1)
        below = np.any(np.concatenate([k["low"], k["seq_low"]], axis=1) < -1, axis=1)
        every_look = rate(np.all(every, axis=1))
        print(f"  {units:9,}   {rate(once)}   {every_look}   {rate(past)}   {rate(below)}")


def naive_peeking(tests: int, rng: np.random.Generator) -> None:
    print(f"Naive fixed-horizon peeking, {LOOKS} looks of 400 units per arm ({tests:,} tests)")
    m = 400
    for name in ("normal(5, 3)", "conversion 10%"):
        if name.startswith("normal"):
            sums = [rng.normal(m * 5.0, math.sqrt(m) * 3.0, (tests, LOOKS)) for _ in range(2)]
            sqs = [9.0 * rng.chisquare(m - 1, (tests, LOOKS)) + s**2 / m for s in sums]
            ddof = 1
        else:
            sums = [rng.binomial(m, 0.1, (tests, LOOKS)).astype(np.float64) for _ in range(2)]
            sqs = sums
            ddof = 0
        n = np.arange(1, LOOKS + 1) * float(m)
        cs = [np.cumsum(s, axis=1) for s in sums]
        cq = [np.cumsum(q, axis=1) for q in sqs]
        mean = [c / n for c in cs]
        var = [(q - c**2 / n) / (n - ddof) / n for c, q in zip(cs, cq, strict=True)]
        lift = lift_arrays(mean[0], var[0], n, mean[1], var[1], n)
        _, _, p = t_interval(lift.absolute, lift.se_absolute, lift.df, ALPHA)
        seq = p_value_arrays(lift.absolute, lift.se_absolute, 2 * n, n_star=2 * n[-1], alpha=ALPHA)
        print(
            f"  {name:15} naive {rate(np.any(p < ALPHA, axis=1))}   "
            f"always-valid {rate(np.any(seq < ALPHA, axis=1))}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixed", type=int, default=20_000, help="A/A tests read once, per size")
    parser.add_argument("--sequential", type=int, default=4_000, help="tests with 30 looks")
    parser.add_argument("--peeking", type=int, default=20_000, help="normal/conversion tests")
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    heavy_tails(args.fixed, args.sequential, rng)
    naive_peeking(args.peeking, rng)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
