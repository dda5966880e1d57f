"""How a report writes its numbers, the same in text, HTML and SVG.

An undefined number (a lift over a control of zero, a share of no impressions) is written ``-``:
a report never prints ``nan`` or ``inf``.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def pct(value: float, digits: int = 2) -> str:
    """A signed percentage, or ``-`` when undefined."""
    return "-" if not math.isfinite(value) else f"{value:+.{digits}%}"


def share(value: float, digits: int = 1) -> str:
    """A percentage (a share, a rate), or ``-`` when undefined (no units, no impressions)."""
    return "-" if not math.isfinite(value) else f"{value:.{digits}%}"


def num(value: float, spec: str = ".4g") -> str:
    """A number in ``spec``, or ``-`` when undefined: a report never prints ``nan``."""
    return "-" if not math.isfinite(value) else f"{value:{spec}}"


def days(n: int, *, more: bool = False) -> str:
    """``1 day``, ``3 days``; with ``more``: ``1 more day``, ``3 more days``."""
    return f"{n}{' more' if more else ''} {'day' if n == 1 else 'days'}"


def interval(low: float, high: float, fmt: Callable[[float], str]) -> str:
    """``[low, high]``, or ``-`` when either end is undefined."""
    return "-" if not (math.isfinite(low) and math.isfinite(high)) else f"[{fmt(low)}, {fmt(high)}]"
