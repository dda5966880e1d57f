"""The anomaly detector on the Numenta Anomaly Benchmark (NAB), scored by NAB's published rules.

Reads the vendored subset (``../shared/vendor/nab``: 41 labelled series of NAB's 58), runs the
detector causally over each series (as ``sameday monitor score`` does), and prints Markdown:

- the corpus score per cost profile with the product's default threshold (the ``alarm`` column)
  and with NAB's per-profile optimised threshold (swept over the ``anomaly_score`` column);
- the same for NAB's windowed-Gaussian detector, re-implemented here, in the same run;
- per category, and leave-one-category-out: each category scored at the threshold optimised
  on the four others, so a figure that only a tuned threshold reaches shows up;
- each sensitivity preset at its own threshold;
- CPU time per thousand points (process time, detector only).

Run: .venv/bin/python benchmarks/anomaly_bench.py [--nab DIR] [--cli] [--set NAME=VALUE ...]
``--cli`` also runs ``sameday monitor score`` on every file and checks that its CSV columns give
the same scores as the library (slower: one process per file). ``--set windows=8,16`` scores the
default preset with a setting changed, to see how much a figure owes to one choice.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from sameday.monitor.detector import PRESETS, DetectorSettings, detect, preset
from sameday.monitor.nab import PROFILES, CostProfile, LabelledSeries, best_threshold, corpus_score

ROOT = Path(__file__).resolve().parent.parent
NAB = ROOT.parent / "shared" / "vendor" / "nab"
Array = np.ndarray


@dataclass(frozen=True)
class Series:
    """One NAB file: its category, timestamps, values and labelled windows."""

    category: str
    path: Path
    timestamps: list[datetime]
    values: Array
    labels: LabelledSeries


def load(nab: Path) -> list[Series]:
    """Every series under ``nab/data`` with its windows from ``windows.json``."""
    windows = json.loads((nab / "windows.json").read_text())
    out = []
    for path in sorted((nab / "data").glob("*/*.csv")):
        key = f"{path.parent.name}/{path.name}"
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        stamps = [datetime.fromisoformat(r["timestamp"]) for r in rows]
        first: dict[datetime, int] = {}
        for i, stamp in enumerate(stamps):
            first.setdefault(stamp, i)
        limits = tuple(
            (first[datetime.fromisoformat(a)], first[datetime.fromisoformat(b)])
            for a, b in windows[key]
        )
        values = np.array([float(r["value"]) for r in rows])
        out.append(
            Series(path.parent.name, path, stamps, values, LabelledSeries(key, len(values), limits))
        )
    return out


def windowed_gaussian(values: Array, window: int = 6400, step: int = 100) -> Array:
    """NAB's windowed-Gaussian baseline: the two-sided tail of each value under a Gaussian fitted
    to up to ``window`` earlier values (refitted every ``step`` once the window is full);
    score = 1 - Q(|z|)."""
    n = len(values)
    scores = np.zeros(n)
    mean, std = 0.0, 1.0
    fitted_until = 0  # the fit uses values[start:fitted_until]
    for i in range(n):
        if i > 0:
            z = abs(values[i] - mean) / std
            scores[i] = 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))
        grow = i + 1 <= window
        if grow or (i + 1 - window) % step == 0:
            fitted_until = i + 1
            data = values[max(0, fitted_until - window) : fitted_until]
            mean = float(data.mean())
            std = float(data.std()) or 1e-6
    return scores


Run = list[tuple[Series, Array, Array]]  # series, scores, default alarms


def run(corpus: list[Series], scorer: Callable[[Series], tuple[Array, Array]]) -> tuple[Run, float]:
    """Score every series; return the runs and CPU milliseconds per thousand points."""
    started = time.process_time()
    runs = [(s, *scorer(s)) for s in corpus]
    spent = time.process_time() - started
    return runs, 1000.0 * spent / sum(len(s.values) for s in corpus) * 1000.0


def default_score(runs: Run, profile: CostProfile) -> float:
    return corpus_score([(s.labels, alarms) for s, _, alarms in runs], profile).normalized


def optimised(runs: Run, profile: CostProfile) -> tuple[float, float]:
    best = best_threshold([(s.labels, scores) for s, scores, _ in runs], profile)
    return best.normalized, float(best.threshold or math.inf)


def leave_one_out(runs: Run, profile: CostProfile, categories: list[str]) -> dict[str, float]:
    """Each category scored at the threshold optimised on the others, and the corpus total."""
    out: dict[str, float] = {}
    total_raw = total_null = total_perfect = 0.0
    for held in categories:
        train = [(s.labels, sc) for s, sc, _ in runs if s.category != held]
        test = [(s, sc) for s, sc, _ in runs if s.category == held]
        threshold = best_threshold(train, profile).threshold or math.inf
        result = corpus_score([(s.labels, sc >= threshold) for s, sc in test], profile)
        out[held] = result.normalized
        total_raw += result.raw
        total_null += result.null
        total_perfect += result.perfect
    out["corpus"] = 100.0 * (total_raw - total_null) / (total_perfect - total_null)
    return out


def check_cli(corpus: list[Series], runs: Run) -> str:
    """Run ``sameday monitor score`` on every file; compare its columns with the library's."""
    worst = 0.0
    mismatched = 0
    with tempfile.TemporaryDirectory() as tmp:
        for series, scores, alarms in runs:
            out = Path(tmp) / "scored.csv"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "sameday",
                    "monitor",
                    "score",
                    str(series.path),
                    "-o",
                    str(out),
                ],
                check=True,
                capture_output=True,
            )
            with out.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
            cli_scores = np.array([float(r["anomaly_score"]) for r in rows])
            cli_alarms = np.array([r["alarm"] == "1" for r in rows])
            worst = max(worst, float(np.abs(cli_scores - scores).max()))
            mismatched += int((cli_alarms != alarms).sum())
    return (
        f"`sameday monitor score` on all {len(runs)} files: max score difference {worst:.1e},"
        f" {mismatched} alarms differ"
    )


def setting(text: str) -> tuple[str, object]:
    """``window=8`` or ``windows=8,16`` as a settings override of the right type."""
    name, _, value = text.partition("=")
    current = getattr(PRESETS["default"], name)
    if isinstance(current, tuple):
        return name, tuple(int(v) for v in value.split(","))
    return name, type(current)(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--nab", type=Path, default=NAB, help="the NAB folder (data/, windows.json)"
    )
    parser.add_argument("--cli", action="store_true", help="also check the CLI on every file")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting"
    )
    args = parser.parse_args()
    overrides = dict(setting(a) for a in args.set)
    presets = {**PRESETS, "default": preset("default", **overrides)}
    detect(np.array([0.0, 1.0]), np.zeros(2))  # import what the detector imports before timing it
    corpus = load(args.nab)
    categories = sorted({s.category for s in corpus})
    points = sum(len(s.values) for s in corpus)
    windows = sum(len(s.labels.windows) for s in corpus)

    def ours(name: str) -> Callable[[Series], tuple[Array, Array]]:
        settings: DetectorSettings = presets[name]

        def score(s: Series) -> tuple[Array, Array]:
            d = detect(s.timestamps, s.values, settings)
            return d.score, d.alarm

        return score

    def gaussian(s: Series) -> tuple[Array, Array]:
        scores = windowed_gaussian(s.values)
        return scores, np.zeros(len(scores), dtype=bool)

    detector, detector_cpu = run(corpus, ours("default"))
    baseline, baseline_cpu = run(corpus, gaussian)
    busy = os.getloadavg()[0]
    print(
        f"NAB subset: {len(corpus)} series, {points:,} points, {windows} windows; load {busy:.1f}\n"
    )
    print("| detector | profile | default threshold | optimised (at) | CPU ms / 1,000 points |")
    print("|---|---|---|---|---|")
    for name, runs, cpu in (
        ("sameday", detector, detector_cpu),
        ("windowed Gaussian", baseline, baseline_cpu),
    ):
        for profile in PROFILES:
            opt, at = optimised(runs, profile)
            fixed = f"{default_score(runs, profile):.1f}" if name == "sameday" else "—"
            print(f"| {name} | {profile.name} | {fixed} | {opt:.1f} ({at:.4f}) | {cpu:.1f} |")

    print(
        "\nPer category, standard and reward_low_FP_rate (default threshold / optimised on the"
        " category / leave-one-category-out: threshold optimised on the other four):\n"
    )
    loo = {p.name: leave_one_out(detector, p, categories) for p in PROFILES[:2]}
    print("| category | windows | false alarms | standard | low FP |")
    print("|---|---|---|---|---|")
    for category in [*categories, "corpus"]:
        part = [r for r in detector if category in ("corpus", r[0].category)]
        count = sum(len(s.labels.windows) for s, _, _ in part)
        false_alarms = corpus_score([(s.labels, a) for s, _, a in part], PROFILES[0]).false_alarms
        cells = []
        for profile in PROFILES[:2]:
            opt, _ = optimised(part, profile)
            held_out = loo[profile.name][category]
            cells.append(f"{default_score(part, profile):.1f} / {opt:.1f} / {held_out:.1f}")
        if not count:
            cells = ["—", "—"]  # no window: only the false alarms count
        print(f"| {category} | {count} | {false_alarms} | {' | '.join(cells)} |")

    print("\nPresets, each at its own threshold (standard / low FP / low FN):\n")
    print("| preset | threshold | cooldown | standard | low FP | low FN | alarms |")
    print("|---|---|---|---|---|---|---|")
    for name, settings in presets.items():
        runs = detector if name == "default" else run(corpus, ours(name))[0]
        scores = " | ".join(f"{default_score(runs, p):.1f}" for p in PROFILES)
        alarms = sum(int(a.sum()) for _, _, a in runs)
        print(f"| {name} | {settings.threshold:.3f} | {settings.cooldown} | {scores} | {alarms} |")
    if args.cli:
        print("\n" + check_cli(corpus, detector))


if __name__ == "__main__":
    main()
