"""``sameday.analysis.preload`` and the import budget of a report's first stage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sameday.analysis.preload import SWITCH_INTERVAL, preload
from tests.analysis._logs import EXPERIMENT, make_project, write_ab_log


def test_nothing_to_do_when_every_module_is_imported() -> None:
    assert preload(("json", "sys")) is None


def test_a_module_that_cannot_be_imported_is_left_to_the_main_thread() -> None:
    thread = preload(("sameday_no_such_module",))
    assert thread is not None and not thread.daemon
    thread.join(10)
    assert not thread.is_alive()
    assert "sameday_no_such_module" not in sys.modules


def test_the_thread_yields_the_gil_sooner_only_while_it_imports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The main thread gets the GIL back within SWITCH_INTERVAL after each DuckDB statement;
    the interpreter's own interval is restored when the imports are done."""
    seen: list[float] = []
    monkeypatch.setattr(
        "sameday.analysis.preload.importlib.import_module",
        lambda name: seen.append(sys.getswitchinterval()),
    )
    before = sys.getswitchinterval()
    thread = preload(("sameday_not_yet_imported",))
    assert thread is not None
    thread.join(10)
    assert seen == [SWITCH_INTERVAL]
    assert sys.getswitchinterval() == before


def test_the_report_module_imports_no_statistics_library_before_the_queries() -> None:
    """numpy and scipy load on the preload thread while DuckDB reads, not before: importing
    the report module and the CLI's report command must not pull them in."""
    code = (
        "import sys\n"
        "import sameday.analysis.report, sameday.analysis.summaries, sameday.cli.report\n"
        "print(','.join(m for m in ('numpy', 'scipy', 'pandas', 'rich') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_overlapping_threads_restore_the_interval_when_the_last_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """numpy's thread and a design's statistics thread may overlap: the one that ends first
    must not restore the interval the other still needs, nor leave the shorter one behind."""
    import threading

    release = {name: threading.Event() for name in ("sameday_first", "sameday_second")}
    started = {name: threading.Event() for name in release}
    seen: dict[str, float] = {}

    def import_module(name: str) -> None:
        started[name].set()
        release[name].wait(10)
        seen[name] = sys.getswitchinterval()

    monkeypatch.setattr("sameday.analysis.preload.importlib.import_module", import_module)
    before = sys.getswitchinterval()
    first = preload(("sameday_first",))
    second = preload(("sameday_second",))
    assert first is not None and second is not None
    assert started["sameday_first"].wait(10) and started["sameday_second"].wait(10)
    release["sameday_first"].set()
    first.join(10)
    assert sys.getswitchinterval() == SWITCH_INTERVAL
    release["sameday_second"].set()
    second.join(10)
    assert seen == {"sameday_first": SWITCH_INTERVAL, "sameday_second": SWITCH_INTERVAL}
    assert sys.getswitchinterval() == before


def test_the_imports_wait_for_what_they_are_told_to_follow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``after`` (a report passes its log check's wait) is called on the thread, and nothing
    is imported until it returns."""
    import threading

    check_done = threading.Event()
    order: list[str] = []

    def wait_for_check() -> None:
        check_done.wait(10)
        order.append("check")

    monkeypatch.setattr(
        "sameday.analysis.preload.importlib.import_module", lambda name: order.append(name)
    )
    thread = preload(("sameday_stats_a", "sameday_stats_b"), after=wait_for_check)
    assert thread is not None
    thread.join(0.2)
    assert thread.is_alive() and order == []
    check_done.set()
    thread.join(10)
    assert order == ["check", "sameday_stats_a", "sameday_stats_b"]


def test_an_ab_report_imports_its_statistics_after_the_log_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``summarise`` starts the preload once the log is open, behind the log's own check, with
    what the A/B design asks for: numpy and its statistics modules."""
    from sameday.analysis import summaries
    from sameday.analysis.preload import STATISTICS
    from sameday.analysis.report import AB_STATISTICS, build_report
    from sameday.config import load_project
    from sameday.events.source import LogCheck

    calls: list[tuple[tuple[str, ...], object]] = []
    monkeypatch.setattr(
        summaries, "preload", lambda modules, *, after: calls.append((modules, after))
    )
    check = LogCheck()
    opened = summaries.open_events_unchecked
    monkeypatch.setattr(
        summaries,
        "open_events_unchecked",
        lambda source, query: (opened(source, query)[0], check),
    )
    project = make_project(tmp_path, EXPERIMENT)
    write_ab_log(project / ".sameday" / "events.db", units=200, rate={"control": 1.0}, seed=1)
    build_report(load_project(project), "test")
    assert calls == [((*STATISTICS, *AB_STATISTICS), check.wait)]
