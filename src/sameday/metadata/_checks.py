"""Argument checks shared by the store's functions, so bad values fail before any SQL runs.

These are programming errors (a misspelt status, a set where JSON was expected), so they raise
the builtin ``ValueError``/``TypeError`` rather than a sameday error meant for end users.
"""

from __future__ import annotations

import json
from typing import Any


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> None:
    """Raise ``ValueError`` naming the allowed values when ``value`` is not one of them."""
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not one of {', '.join(allowed)}")


def check_json(value: Any, what: str) -> None:
    """Raise ``TypeError`` when ``value`` cannot be stored as JSON, before the database does."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be JSON-serialisable: {exc}") from exc
