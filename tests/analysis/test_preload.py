"""``sameday.analysis.preload`` and the import budget of a report's first stage."""

from __future__ import annotations

import subprocess
import sys

from sameday.analysis.preload import preload


def test_nothing_to_do_when_every_module_is_imported() -> None:
    assert preload(("json", "sys")) is None


def test_a_module_that_cannot_be_imported_is_left_to_the_main_thread() -> None:
    thread = preload(("sameday_no_such_module",))
    assert thread is not None and not thread.daemon
    thread.join(10)
    assert not thread.is_alive()
    assert "sameday_no_such_module" not in sys.modules


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
