"""Cron expressions: errors name the field, shortcuts work, and croniter agrees."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from croniter import croniter

from sameday.config._cron import SHORTCUTS, CronError, check_cron


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 25 * * *", "hour 25 is out of range 0-23"),
        ("60 3 * * *", "minute 60 is out of range 0-59"),
        ("0 3 0 * *", "day-of-month 0 is out of range 1-31"),
        ("0 3 * 13 *", "month 13 is out of range 1-12"),
        ("0 3 * * 7", "day-of-week 7 is out of range 0-6 (0 is Sunday; Argo does not accept 7)"),
        ("0 3 * * 1-9", "day-of-week 9 is out of range 0-6"),
        ("0 3,24 * * *", "hour 24 is out of range 0-23"),
        ("0 3 * *", "'0 3 * *' has 4 fields; a cron expression has five (minute hour"),
        ("0 0 3 * * *", "has 6 fields (seconds are not supported)"),
        ("*/0 * * * *", "minute step '0' must be a whole number above 0"),
        ("0 x * * *", "hour 'x' is not a number 0-23"),
        ("0 3 * foo *", "month 'foo' is not a number 1-12 or a name jan-dec"),
        ("? 3 * * *", "minute '?' is not a number 0-59 ('?' is only for the day fields)"),
        ("0 3 5-1 * *", "day-of-month range '5-1' runs backwards"),
        ("0 3 30 2 *", "never runs: day-of-month 30 does not occur in month 2"),
        ("0 3 ١ * *", "day-of-month '١' is not a number 1-31"),
        ("@dayly", "'@dayly' is not a cron shortcut: use one of @yearly"),
        ("@dayly", "did you mean '@daily'?"),
    ],
)
def test_errors_name_the_field_and_its_range(expression: str, message: str) -> None:
    with pytest.raises(CronError) as info:
        check_cron(expression)
    assert message in str(info.value)


ACCEPTED = [
    "0 3 * * *",
    "*/15 * * * *",
    "5/15 * * * *",
    "0-59/5 * * * *",
    "0 0 1,15 * *",
    "0 0 ? * mon-fri",
    "0 0 * JAN-MAR MON",
    "0 0 29 2 *",
    "0 0 31 * 1",
    "30 6 * * 1-5/2",
    *SHORTCUTS,
    "@DAILY",
]


@pytest.mark.parametrize("expression", ACCEPTED)
def test_accepted_expressions_run_locally(expression: str) -> None:
    assert check_cron(expression) == expression
    after = croniter(expression, datetime(2026, 1, 1)).get_next(datetime)
    assert after > datetime(2026, 1, 1)


def test_whatever_is_accepted_croniter_accepts() -> None:
    """A seeded sample of expressions built from the tokens both parsers know."""
    rng = random.Random(12)
    near = ["*", "?", "x", "0", "1", "7", "12", "13", "24", "31", "32", "60"]
    pools = [
        ["0", "5", "30", "59", *near],
        ["0", "3", "23", *near],
        ["1", "15", "29", "30", *near],
        ["1", "2", "jan", "DEC", *near],
        ["0", "1", "6", "mon", "sun", *near],
    ]
    accepted = 0
    for _ in range(10_000):
        fields = []
        for pool in pools:
            token = rng.choice(pool)
            shape = rng.random()
            if shape < 0.2:
                token = f"{token}-{rng.choice(pool)}"
            elif shape < 0.3:
                token = f"{token}/{rng.choice(['0', '2', '15'])}"
            elif shape < 0.4:
                token = f"{token},{rng.choice(pool)}"
            fields.append(token)
        expression = " ".join(fields)
        try:
            check_cron(expression)
        except CronError:
            continue
        accepted += 1
        assert croniter.is_valid(expression), expression
    assert accepted > 250
