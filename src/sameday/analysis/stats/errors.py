"""The one error the statistics engine raises on purpose, and the check every module shares."""

from __future__ import annotations

from sameday.errors import StatsInputError


def check_alpha(alpha: float) -> None:
    """Raise :class:`StatsInputError` unless ``0 < alpha < 1``."""
    if not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be within (0, 1), got {alpha}")
