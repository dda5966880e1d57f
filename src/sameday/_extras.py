"""Optional extras: one line that names the extra, instead of a ``ModuleNotFoundError`` traceback.

The base install runs the whole local loop (SQLite everywhere, DuckDB for reports, the HTTP
server); only the scale-out backends and a few tools are extras. Each lazy import of one of them
runs inside :func:`extra`, and ``tests/test_dependencies.py`` checks that every third-party module
the package imports is either a base dependency or listed in :data:`OPTIONAL`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sameday.errors import MissingDependency

OPTIONAL: dict[str, str] = {
    "redis": "redis",
    "psycopg": "postgres",
    "jsonschema": "argo",
    "implicit": "demo",
    "threadpoolctl": "demo",
    "openlineage": "lineage",
    "fsspec": "s3",
    "s3fs": "s3",
    "mlflow": "mlflow",
    "pandas": "mlflow",
    "sklearn": "uplift",
}
"""Third-party modules that are not base dependencies, and the extra that installs each."""


@contextmanager
def extra(name: str, purpose: str) -> Iterator[None]:
    """Turn a failed import inside the block into :class:`MissingDependency` naming ``name``.

    Args:
        name: the extra, as in ``pip install 'sameday[name]'``.
        purpose: what needs it, e.g. ``"storage.serving redis://…"``; starts the message.
    """
    try:
        yield
    except ImportError as exc:
        module = exc.name or getattr(exc.__cause__, "name", None) or str(exc)
        raise MissingDependency(
            f"{purpose} needs {module}, which is not installed: pip install 'sameday[{name}]'"
        ) from exc
