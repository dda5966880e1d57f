"""What the access log costs: ``sameday serve`` throughput with it off and on, alternating rounds.

The same project as ``serve_bench.py`` (an A/B experiment with exposure logging, the SQLite
store, UNITS units); one server per round, started with ``--log-level warning`` (no access log)
or ``info`` (an access line per request, text or JSON; or a tenth of them, sampled), its stderr
a pipe drained by a reader thread, as a log collector would. wrk drives each round with one
thread and 32 connections.
The issue allows sampling the access log only if it costs more than 3% of throughput.

Run: ``.venv/bin/python benchmarks/access_log_bench.py`` (needs Debian's ``wrk``);
``BENCH_ROUNDS`` (default 4) and ``BENCH_SECONDS`` (default 10) set the length.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

from _servers import cpu_seconds, free_port, stop
from serve_bench import DURATION, UNITS, sameday_project, wait_ready, write_results

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))


class Round(NamedTuple):
    rps: float
    p99_ms: float
    cpu_us: float
    """The server's CPU time per request, in microseconds: throughput on a core of its own is
    its inverse, so this ratio holds however busy the machine is."""
    log_bytes: float
    """Bytes of log per request."""


CONFIGS = {
    "off (--log-level warning)": ["--log-level", "warning"],
    "on, text": ["--log-format", "text", "--log-level", "info"],
    "on, json": ["--log-format", "json", "--log-level", "info"],
    "on, json, sampled 0.1": ["--log-format", "json", "--log-level", "info", "serve:0.1"],
}


def load(base: str, script: Path) -> tuple[int, float, float]:
    """Requests made, requests/s and p99 ms of one wrk run against ``base``."""
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{DURATION}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"failed responses from {base}:\n{out}")
    made = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return made, rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def one_round(project_dir: Path, options: list[str], script: Path) -> Round:
    """One server started with ``options``, warmed up, then measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMEDAY_")}
    port = free_port()
    sample = [o.removeprefix("serve:") for o in options if o.startswith("serve:")]
    options = [o for o in options if not o.startswith("serve:")]
    command = [sys.executable, "-m", "sameday", *options, "serve", "--project", str(project_dir)]
    if sample:
        command += ["--access-log-sample", sample[0]]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=project_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    written = [0]

    def drain() -> None:
        assert process.stderr is not None
        while chunk := process.stderr.read1(1 << 16):
            written[0] += len(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + "/readyz", process)
        subprocess.run(
            ["wrk", "-t1", "-c32", "-d2s", "-s", str(script), base], check=True, capture_output=True
        )  # warm-up
        cpu, logged = cpu_seconds(process.pid), written[0]
        made, rps, p99 = load(base, script)
        cpu = cpu_seconds(process.pid) - cpu
        logged = written[0] - logged
    finally:
        stop(process)
        reader.join(10)
    return Round(rps, p99, cpu * 1e6 / made, logged / made)


def main() -> None:
    results: dict[str, list[Round]] = {label: [] for label in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lists = root / "lists"
        lists.mkdir()
        write_results(lists)
        project_dir = sameday_project(root, "sqlite:///.sameday/serving.db", lists)
        script = root / "random_unit.lua"
        script.write_text(
            'math.randomseed(42)\nrequest = function()\n  return wrk.format("GET", '
            f'"/v1/recommend/home?unit=user-" .. math.random(0, {UNITS - 1}) .. "&n=10")\nend\n'
        )
        for index in range(ROUNDS):
            order = list(CONFIGS.items())
            if index % 2:
                order.reverse()  # alternate which goes first: load drifts during a run
            for label, options in order:
                results[label].append(one_round(project_dir, options, script))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average: {' '.join(load)}; {ROUNDS} alternating rounds of {DURATION} s")
    off = results["off (--log-level warning)"]
    off_rps = statistics.median(r.rps for r in off)
    off_cpu = statistics.median(r.cpu_us for r in off)
    print(
        "| access log | req/s per round | median req/s | vs off | CPU µs/req per round "
        "| median | vs off | p99 ms | log bytes/req |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, rounds in results.items():
        rps = statistics.median(r.rps for r in rounds)
        cpu = statistics.median(r.cpu_us for r in rounds)
        print(
            f"| {label} | {', '.join(f'{r.rps:,.0f}' for r in rounds)} | {rps:,.0f} | "
            f"{rps / off_rps:.3f}x | {', '.join(f'{r.cpu_us:.1f}' for r in rounds)} | "
            f"{cpu:.1f} | {cpu / off_cpu:.3f}x | "
            f"{statistics.median(r.p99_ms for r in rounds):.2f} | "
            f"{statistics.median(r.log_bytes for r in rounds):.0f} |"
        )


if __name__ == "__main__":
    main()
