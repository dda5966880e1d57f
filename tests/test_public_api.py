"""The public surface and the import budget."""

from __future__ import annotations

import subprocess
import sys

import sameday


def test_public_names_are_pinned() -> None:
    assert sameday.__all__ == sorted(sameday.__all__)
    assert sameday.__all__ == ["Client", "ConfigError", "Problem", "SamedayError", "__version__"]
    from sameday.serve.client import Client

    assert sameday.Client is Client


HEAVY = ["pandas", "scipy", "statsmodels", "duckdb", "pyarrow"]


def test_light_imports() -> None:
    """``import sameday``, the config layer and the serving path load no analysis library."""
    code = (
        "import sys, sameday, sameday.config, sameday.errors\n"
        "import sameday.serve.app, sameday.serve.client, sameday.assign, sameday.store\n"
        "sameday.Client\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
