"""Benchmark: an A/B report over 10,000,000 exposures and 2,000,000 outcome events.

Generates (seeded) an event log as Parquet — ``exposures/part-*.parquet`` and
``outcomes/part-*.parquet`` with the event log's columns — then runs, each in its own process so
that peak memory is measured per contender (``os.wait4`` gives the child's own peak RSS):

- ``sameday``: the whole report (:func:`sameday.analysis.report.build_report` with
  ``--events parquet:///...``): DuckDB summaries per arm and day, then every statistic;
- ``pandas``: a straightforward pandas implementation of the same per-arm, per-day summaries
  (first exposure per unit, outcomes joined in their windows, per-unit values, capped, grouped
  sums of y, y², x, x², xy) — summaries only, no statistics, so it does strictly less work.

Both write their summaries to JSON and the parent checks that they agree. Run::

    .venv/bin/python benchmarks/report_bench.py                 # 10M exposures, 2M outcomes
    .venv/bin/python benchmarks/report_bench.py --exposures 1000000 --outcomes 200000

pandas comes with statsmodels (a dependency of the analysis extra); nothing else is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAY = 86_400.0
START = 19_700 * DAY
METRICS = {
    "ctr": "type: proportion\nevent: click\nwindow: 1d\n",
    "clicks": "type: count\nevent: click\nwindow: 7d\ncovariate: click\n",
    "revenue": "type: mean\nevent: purchase\nwindow: 7d\ncap: 100\n",
}
EXPERIMENT = """name: bench
surface: home
arms:
  - {name: control, result_set: popular}
  - {name: personal, result_set: personal}
metrics:
  primary: [ctr]
  secondary: [clicks, revenue]
plan: {baseline: 0.1, mde: 0.05, daily_units: 150000}
"""


def generate(folder: Path, exposures: int, outcomes: int, seed: int = 7) -> None:
    """Write the seeded log: units get ~5 exposures over 14 days; clicks and purchases follow."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    units = exposures // 5
    (folder / "exposures").mkdir(parents=True)
    (folder / "outcomes").mkdir(parents=True)
    arm_of_unit = rng.integers(0, 2, size=units)
    first = START + rng.uniform(0, 14 * DAY, size=units)
    chunk = 2_000_000
    for part, low in enumerate(range(0, exposures, chunk)):
        n = min(chunk, exposures - low)
        unit = rng.integers(0, units, size=n)
        when = first[unit] + rng.exponential(2 * DAY, size=n)
        ids = pc.cast(pa.array(np.arange(low, low + n)), pa.string())
        table = pa.table(
            {
                "request_id": pc.binary_join_element_wise("r", ids, ""),
                "time": when,
                "unit": _unit_names(unit),
                "surface": pa.array(["home"] * n),
                "experiment": pa.array(["bench"] * n),
                "arm": pa.DictionaryArray.from_arrays(
                    pa.array(arm_of_unit[unit], pa.int8()), ["control", "personal"]
                ).cast(pa.string()),
                "design": pa.array(["ab"] * n),
            }
        )
        pq.write_table(table, folder / "exposures" / f"part-{part}.parquet")
    unit = rng.integers(0, units, size=outcomes)
    lift = np.where(arm_of_unit[unit] == 1, 1.05, 1.0)
    when = first[unit] + rng.normal(1.5 * DAY, 3 * DAY, size=outcomes) / lift
    purchase = rng.random(outcomes) < 0.2
    value = np.where(purchase, rng.lognormal(3.0, 1.0, size=outcomes), 1.0)
    ids = pc.cast(pa.array(np.arange(outcomes)), pa.string())
    table = pa.table(
        {
            "event_id": pc.binary_join_element_wise("e", ids, ""),
            "request_id": pa.nulls(outcomes, pa.string()),
            "unit": _unit_names(unit),
            "name": pa.array(np.where(purchase, "purchase", "click")),
            "value": value,
            "time": when,
            "item": pa.nulls(outcomes, pa.string()),
        }
    )
    pq.write_table(table, folder / "outcomes" / "part-0.parquet")


def _unit_names(index):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise("u", pc.cast(pa.array(index), pa.string()), "")


def make_project(folder: Path) -> Path:
    from sameday.scaffold import init_project

    root = folder / "proj"
    init_project(root)
    for name, body in METRICS.items():
        (root / "metrics" / f"{name}.yaml").write_text(f"name: {name}\n{body}")
    (root / "experiments" / "home-personal.yaml").unlink()
    (root / "experiments" / "bench.yaml").write_text(EXPERIMENT)
    return root


def run_sameday(folder: Path, out: Path) -> None:
    from sameday.analysis.report import build_report
    from sameday.config import load_project

    started = time.perf_counter()
    report = build_report(
        load_project(folder / "proj"), "bench", events_url=f"parquet:///{folder.resolve()}"
    )
    elapsed = time.perf_counter() - started
    sums = {f"{m.name}/{v.arm}": [v.n, v.value] for m in report.metrics for v in m.values}
    out.write_text(json.dumps({"seconds": elapsed, "values": sums, "line": report.decision.line}))


def run_pandas(folder: Path, out: Path) -> None:
    import numpy as np
    import pandas as pd

    started = time.perf_counter()
    exp = pd.read_parquet(folder / "exposures", columns=["unit", "arm", "time", "experiment"])
    exp = exp[exp["experiment"] == "bench"]
    first = exp.sort_values("time").drop_duplicates("unit")[["unit", "arm", "time"]]
    first = first.rename(columns={"time": "t0"})
    first["day"] = np.floor(first["t0"] / DAY).astype("int64")
    del exp
    outc = pd.read_parquet(folder / "outcomes", columns=["unit", "name", "value", "time"])
    joined = outc.merge(first[["unit", "t0"]], on="unit", how="inner")
    joined["dt"] = joined["time"] - joined["t0"]
    units = first.set_index("unit")
    clicks = joined[joined["name"] == "click"]
    in_day = clicks[(clicks["dt"] >= 0) & (clicks["dt"] < DAY)]
    in_week = clicks[(clicks["dt"] >= 0) & (clicks["dt"] < 7 * DAY)]
    before = clicks[(clicks["dt"] < 0) & (clicks["dt"] >= -7 * DAY)]
    buys = joined[(joined["name"] == "purchase") & (joined["dt"] >= 0) & (joined["dt"] < 7 * DAY)]
    units["ctr_y"] = (in_day.groupby("unit").size() > 0).astype(float)
    units["clicks_y"] = in_week.groupby("unit").size().astype(float)
    units["clicks_x"] = before.groupby("unit").size().astype(float)
    units["revenue_y"] = buys.groupby("unit")["value"].sum().clip(upper=100.0)
    values = units.fillna({"ctr_y": 0.0, "clicks_y": 0.0, "clicks_x": 0.0, "revenue_y": 0.0})
    for col in ("ctr_y", "clicks_y", "revenue_y"):
        values[col + "2"] = values[col] ** 2
    values["clicks_x2"] = values["clicks_x"] ** 2
    values["clicks_xy"] = values["clicks_x"] * values["clicks_y"]
    daily = values.groupby(["arm", "day"]).agg(
        n=("t0", "size"),
        **{c: (c, "sum") for c in values.columns if c.endswith(("_y", "_x", "2", "_xy"))},
    )
    per_arm = daily.groupby(level="arm").sum()
    elapsed = time.perf_counter() - started
    sums = {}
    for arm, row in per_arm.iterrows():
        n = int(row["n"])
        sums[f"ctr/{arm}"] = [n, row["ctr_y"] / n]
        sums[f"clicks/{arm}"] = [n, row["clicks_y"] / n]
        sums[f"revenue/{arm}"] = [n, row["revenue_y"] / n]
    out.write_text(json.dumps({"seconds": elapsed, "values": sums}))


def measure(contender: str, folder: Path) -> dict[str, float]:
    """Run one contender in a child process; its wall time and its own peak RSS."""
    out = folder / f"{contender}.json"
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", contender, str(folder)])
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{contender} failed with status {status}")
    result = json.loads(out.read_text())
    result.update(process_seconds=wall, peak_rss_mb=usage.ru_maxrss / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exposures", type=int, default=10_000_000)
    parser.add_argument("--outcomes", type=int, default=2_000_000)
    parser.add_argument("--keep", type=Path, help="Generate into (and keep) this folder.")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        contender, folder = args.child[0], Path(args.child[1])
        runner = run_sameday if contender == "sameday" else run_pandas
        runner(folder, folder / f"{contender}.json")
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sameday-report-bench-"))
    try:
        if not (folder / "exposures").exists():
            started = time.perf_counter()
            generate(folder, args.exposures, args.outcomes)
            make_project(folder)
            print(
                f"generated {args.exposures:,} exposures and {args.outcomes:,} outcomes "
                f"in {time.perf_counter() - started:.1f} s"
            )
        results = {name: measure(name, folder) for name in ("sameday", "pandas")}
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    ours, theirs = results["sameday"], results["pandas"]
    for key, (n, value) in theirs["values"].items():
        n_ours, value_ours = ours["values"][key]
        if n != n_ours or abs(value - value_ours) > 1e-9 * max(1.0, abs(value)):
            raise SystemExit(
                f"summaries disagree on {key}: pandas {n, value}, sameday {n_ours, value_ours}"
            )
    print(f"verdict: {ours['line']}")
    print("| contender | work | wall (s, in process) | process (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|")
    for name, work in (("sameday (DuckDB)", "full report"), ("pandas", "summaries only")):
        r = results["sameday" if name.startswith("sameday") else "pandas"]
        print(
            f"| {name} | {work} | {r['seconds']:.2f} | {r['process_seconds']:.2f} | "
            f"{r['peak_rss_mb']:,.0f} |"
        )
    print(
        f"speed-up {theirs['seconds'] / ours['seconds']:.1f}x (in process), "
        f"{theirs['process_seconds'] / ours['process_seconds']:.1f}x (process); memory "
        f"{ours['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}x of pandas"
    )


if __name__ == "__main__":
    main()
