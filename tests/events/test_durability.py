"""Acknowledged means durable: what a killed process acknowledged is in its SQLite event log."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

CHILD = r"""
import sys, time
from sameday.events import EventWriter, Exposure, Outcome, SQLiteSink

writer = EventWriter(SQLiteSink(sys.argv[1]), flush_interval=0.005)
round = 0
while True:  # until killed: log, acknowledge, report the acknowledged ids, keep going
    ids = [f"{round}-{k}" for k in range(20)]
    for i in ids:
        writer.log_exposure(Exposure(request_id="r" + i, time=time.time(), unit="u" + i,
                                     surface="home", items=("a", "b"), experiment="x"))
    if round % 2:
        writer.flush(10)  # exposures are acknowledged by a flush ...
    else:  # ... or by the ticket of outcomes logged after them
        events = [Outcome(event_id="e" + i, unit="u" + i, name="click", time=time.time())
                  for i in ids]
        writer.log_outcomes(events).wait(10)
    for k in range(50):  # more records, never acknowledged: in flight when the kill comes
        writer.log_exposure(Exposure(request_id=f"x{round}-{k}", time=time.time(), unit="u",
                                     surface="home", items=()))
    print(round, flush=True)
    round += 1
"""


def test_acknowledged_records_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acknowledged: list[int] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) == 60:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        _, stderr = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL, stderr
    assert acknowledged == list(range(60))

    with closing(sqlite3.connect(db)) as conn:
        exposures = {row[0] for row in conn.execute("SELECT request_id FROM exposures")}
        outcomes = {row[0] for row in conn.execute("SELECT event_id FROM outcomes")}
    for round in acknowledged:
        ids = [f"{round}-{k}" for k in range(20)]
        assert {"r" + i for i in ids} <= exposures, f"round {round} exposures lost"
        if round % 2 == 0:
            assert {"e" + i for i in ids} <= outcomes, f"round {round} outcomes lost"
