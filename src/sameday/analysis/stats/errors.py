"""The one error the statistics engine raises on purpose, and the check every module shares."""

from __future__ import annotations

from sameday.errors import SamedayError


class StatsInputError(SamedayError, ValueError):
    """Inputs a statistical function cannot work with: an impossible summary (negative count,
    sum of squares below what the sum implies), too few units for the test, a rate outside
    (0, 1), an alpha outside (0, 1). The message names the quantity and what was expected.
    """


def check_alpha(alpha: float) -> None:
    """Raise :class:`StatsInputError` unless ``0 < alpha < 1``."""
    if not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be within (0, 1), got {alpha}")
