"""Cron expressions both schedulers read the same way, with errors that name the bad field, and
the timezones schedules and metric series are read in.

A pipeline's schedule goes to Argo's CronWorkflow controller, which uses robfig/cron's standard
parser; croniter is the Python parser a local scheduler would use (and the tests' oracle). This
accepts only what both accept: five fields of numbers, names (``jan``, ``mon``), ``*``, ``?``
(days only), ranges, lists and steps, or one of the shortcuts both know (``@daily`` and friends).
Day-of-week is 0-6 (robfig refuses croniter's 7 for Sunday), and a range may not run backwards
(croniter wraps ``5-1`` around, robfig refuses it).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SHORTCUTS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""Shortcuts croniter and robfig/cron both accept, and mean the same by."""

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ITEM = re.compile(r"^(?P<base>[^/]+)(?:/(?P<step>.*))?$")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    blank: bool = False  # accepts '?'

    @property
    def span(self) -> str:
        names = f" or a name {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"a number {self.low}-{self.high}{names}"


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31, blank=True),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 0, 6, _DAYS, blank=True),
)
_LAYOUT = "minute hour day-of-month month day-of-week"


class CronError(ValueError):
    """A cron expression either scheduler would refuse; the message says which part and why."""


def check_cron(expression: str) -> str:
    """``expression`` if both schedulers accept it.

    Raises:
        CronError: naming the field, the value and the allowed range.
    """
    text = expression.strip()
    if text.startswith("@"):
        if text.lower() in SHORTCUTS:
            return expression
        message = f"{text!r} is not a cron shortcut: use one of {', '.join(SHORTCUTS)}"
        close = difflib.get_close_matches(text.lower(), SHORTCUTS, n=1)
        raise CronError(message + (f"; did you mean {close[0]!r}?" if close else ""))
    parts = text.split()
    if len(parts) != 5:
        seconds = " (seconds are not supported)" if len(parts) == 6 else ""
        raise CronError(
            f"{expression!r} has {len(parts)} field{'s' if len(parts) != 1 else ''}{seconds}; "
            f"a cron expression has five ({_LAYOUT}), e.g. '0 3 * * *', or is a shortcut such "
            "as @daily"
        )
    values = [_expand(part, spec) for part, spec in zip(parts, _FIELDS, strict=True)]
    days, months, weekdays = values[2], values[3], values[4]
    if days is not None and weekdays is None and months is not None:
        longest = max(_DAYS_IN_MONTH[m - 1] for m in months)
        if min(days) > longest:
            raise CronError(
                f"{expression!r} never runs: day-of-month {min(days)} does not occur in month "
                f"{', '.join(str(m) for m in sorted(months))}"
            )
    return expression


def _expand(part: str, spec: _Field) -> set[int] | None:
    """The values a field allows, or None for every value (``*`` or ``?``)."""
    if part == "?" and spec.blank:
        return None
    if part == "*":
        return None
    allowed: set[int] = set()
    for item in part.split(","):
        match = _ITEM.match(item)
        if match is None:
            raise CronError(f"{spec.name} {part!r} has an empty item: write e.g. 1,15")
        base, step_text = match.group("base"), match.group("step")
        step = 1
        if step_text is not None:
            if not (step_text.isascii() and step_text.isdigit()) or int(step_text) == 0:
                raise CronError(f"{spec.name} step {step_text!r} must be a whole number above 0")
            step = int(step_text)
        if base == "*":
            low, high = spec.low, spec.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, spec), _value(last, spec)
            if low > high:
                raise CronError(
                    f"{spec.name} range {base!r} runs backwards: write it from low to high, or "
                    "as a list of two ranges"
                )
        else:
            low = _value(base, spec)
            high = spec.high if step_text is not None else low
        allowed.update(range(low, high + 1, step))
    return allowed


def _value(text: str, spec: _Field) -> int:
    if text.lower() in spec.names:
        return spec.names.index(text.lower()) + (spec.low if spec.name == "month" else 0)
    if not (text.isascii() and text.isdigit()):
        extra = " ('?' is only for the day fields)" if text == "?" and not spec.blank else ""
        raise CronError(f"{spec.name} {text!r} is not {spec.span}{extra}")
    value = int(text)
    if not spec.low <= value <= spec.high:
        sunday = " (0 is Sunday; Argo does not accept 7)" if spec.name == "day-of-week" else ""
        raise CronError(f"{spec.name} {value} is out of range {spec.low}-{spec.high}{sunday}")
    return value


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA timezone this machine knows (schedules and series read their
    times in it).

    Raises:
        ValueError: it is not, with the spelling to use.
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r}: use an IANA name such as 'UTC', 'Asia/Tokyo' or "
            "'Europe/Paris'"
        ) from None
    return name
