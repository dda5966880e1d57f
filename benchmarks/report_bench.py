"""Benchmark: ``sameday report`` against a pandas script, each a whole process, start to exit.

Generates (seeded) an event log as Parquet — ``exposures/part-*.parquet`` and
``outcomes/part-*.parquet`` with the event log's columns — then times, in alternating rounds,
two processes from their start to their exit (imports included: a person waits for both):

- ``sameday``: ``python -m sameday report bench --events parquet:///... --format json``, the
  whole command: the CLI, the project, DuckDB summaries per arm and day, every statistic, the
  JSON written;
- ``pandas``: ``python benchmarks/report_bench.py --child pandas DIR``, a straightforward pandas
  script computing the same per-arm, per-day summaries (first exposure per unit, outcomes
  joined in their windows, per-unit values, capped, grouped sums of y, y², x, x², xy) —
  summaries only, no statistics, so it does strictly less work. Its module imports only the
  standard library before pandas.

Each round runs both, in an order that flips every round (ABBA), so a busy spell on the shared
machine hits both; every round's times, peak RSS (``os.wait4``: each child's own) and ratio are
printed, then the median ratio. Both write their summaries to JSON and the parent checks that
they agree. It also times ``python -m sameday --help`` and an empty ``python -c pass`` in each
round: what starting the CLI costs. Run::

    .venv/bin/python benchmarks/report_bench.py                 # 1M exposures, 200k outcomes
    .venv/bin/python benchmarks/report_bench.py --exposures 10000000 --outcomes 2000000

pandas comes with statsmodels (a dependency of the analysis extra); nothing else is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _servers import CHILD_ENV, loadavg

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


def run_pandas(folder: Path, out: Path) -> None:
    import numpy as np
    import pandas as pd

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
    sums = {}
    for arm, row in per_arm.iterrows():
        n = int(row["n"])
        sums[f"ctr/{arm}"] = [n, row["ctr_y"] / n]
        sums[f"clicks/{arm}"] = [n, row["clicks_y"] / n]
        sums[f"revenue/{arm}"] = [n, row["revenue_y"] / n]
    out.write_text(json.dumps({"values": sums}))


def child_command(contender: str, folder: Path) -> list[str]:
    """The whole command a contender runs as, writing its result to ``folder/<contender>.json``."""
    out = folder / f"{contender}.json"
    if contender == "pandas":
        return [sys.executable, __file__, "--child", "pandas", str(folder)]
    if contender == "help":
        return [sys.executable, "-m", "sameday", "--help"]
    if contender == "python":
        return [sys.executable, "-c", "pass"]
    events = f"parquet:///{folder.resolve()}"
    return [
        *(sys.executable, "-m", "sameday", "report", "bench", "--project", str(folder / "proj")),
        *("--events", events, "--format", "json", "--output", str(out)),
    ]


def measure(contender: str, folder: Path) -> tuple[float, float, float]:
    """Wall seconds from starting ``contender``'s process to its exit, its CPU seconds (user and
    system, all threads) and its peak RSS (MB)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        child_command(contender, folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=CHILD_ENV,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    errors = child.stderr.read().decode() if child.stderr else ""
    if status != 0:
        raise SystemExit(f"{contender} failed with status {status}: {errors}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def sums_of(contender: str, folder: Path) -> dict[str, tuple[int, float]]:
    """``metric/arm -> (n, mean)`` from a contender's JSON."""
    data = json.loads((folder / f"{contender}.json").read_text())
    if contender == "pandas":
        return {key: (n, value) for key, (n, value) in data["values"].items()}
    return {
        f"{m['name']}/{v['arm']}": (v["n"], v["value"])
        for m in data["metrics"]
        for v in m["values"]
    }


def check_agreement(folder: Path) -> None:
    ours, theirs = sums_of("sameday", folder), sums_of("pandas", folder)
    for key, (n, value) in theirs.items():
        n_ours, value_ours = ours[key]
        if n != n_ours or abs(value - value_ours) > 1e-9 * max(1.0, abs(value)):
            raise SystemExit(
                f"summaries disagree on {key}: pandas {n, value}, sameday {n_ours, value_ours}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exposures", type=int, default=1_000_000)
    parser.add_argument("--outcomes", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Generate into (and keep) this folder.")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder = Path(args.child[1])
        run_pandas(folder, folder / "pandas.json")
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sameday-report-bench-"))
    rounds = []
    try:
        if not (folder / "exposures").exists():
            started = time.perf_counter()
            generate(folder, args.exposures, args.outcomes)
            make_project(folder)
            print(
                f"generated {args.exposures:,} exposures and {args.outcomes:,} outcomes "
                f"in {time.perf_counter() - started:.1f} s"
            )
        measure("sameday", folder)  # a first, unrecorded run of each: file caches, .pyc files
        measure("pandas", folder)
        check_agreement(folder)
        print(
            "| round | load | sameday s | pandas s | ratio | sameday CPU s | pandas CPU s "
            "| sameday MB | pandas MB | `sameday --help` s | `python -c pass` s |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for number in range(1, args.rounds + 1):
            load = loadavg()
            order = ("sameday", "pandas") if number % 2 else ("pandas", "sameday")
            runs = {name: measure(name, folder) for name in order}
            helped, bare = measure("help", folder)[0], measure("python", folder)[0]
            (ours, our_cpu, our_mb), (theirs, their_cpu, their_mb) = (
                runs["sameday"],
                runs["pandas"],
            )
            rounds.append(theirs / ours)
            print(
                f"| {number} | {load} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.2f}x "
                f"| {our_cpu:.2f} | {their_cpu:.2f} | {our_mb:,.0f} | {their_mb:,.0f} "
                f"| {helped:.2f} | {bare:.2f} |",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    met = sum(r >= 2.0 for r in rounds)
    print(
        f"median: sameday {statistics.median(rounds):.2f}x faster than pandas, as whole "
        f"processes ({met} of {len(rounds)} rounds at least 2x); load now {loadavg()}"
    )


if __name__ == "__main__":
    main()
