"""Result sets: read, check and publish snapshots; roll back; list them.

Importing this package loads DuckDB, pyarrow and numpy (through the reader); the serving hot
path imports :mod:`sameday.store` only.
"""

from sameday.errors import PublishInProgress
from sameday.results.checks import CheckFailure
from sameday.results.lifecycle import RollbackResult, history, rollback, snapshots
from sameday.results.publish import PublishResult, publish

__all__ = [
    "CheckFailure",
    "PublishInProgress",
    "PublishResult",
    "RollbackResult",
    "history",
    "publish",
    "rollback",
    "snapshots",
]
