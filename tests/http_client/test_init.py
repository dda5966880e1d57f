"""The public surface of ``sameday.http_client`` and what importing it costs."""

from __future__ import annotations

import subprocess
import sys

import sameday.http_client


def test_public_names_are_pinned() -> None:
    assert sameday.http_client.__all__ == sorted(sameday.http_client.__all__)
    assert sameday.http_client.__all__ == [
        "AsyncHttpClient",
        "Event",
        "Fallback",
        "Health",
        "HttpClient",
        "Item",
        "Recommendation",
        "RequestRejected",
        "Retry",
        "SamedayUnavailable",
        "Timeouts",
    ]


def test_it_imports_nothing_of_the_server_and_nothing_heavy() -> None:
    """Product code pulls in httpx and the error tree, not the serving stack."""
    banned = [
        "sameday.serve",
        "sameday.store",
        "sameday.events",
        "sameday.config",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "pydantic",
        "redis",
        "psycopg",
        "pandas",
        "numpy",
        "duckdb",
        "pyarrow",
    ]
    code = (
        "import sys, sameday.http_client\n"
        f"print(','.join(m for m in {banned!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
