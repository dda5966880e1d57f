"""The grammar of a training gate's conditions, shared by the config check and the gate itself.

``METRIC OP THRESHOLD``: ``OP`` is ``>=``, ``>``, ``<=`` or ``<``; the threshold is a number or
follows the champion's value of the same metric (``champion``, ``champion - 0.002``,
``champion + 0.01``, ``champion * 1.1``). It lives in the config layer so that ``sameday
validate`` refuses a misspelt condition before any training runs; ``sameday.models.gate``
evaluates it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_CONDITION = re.compile(
    rf"^\s*(?P<metric>[A-Za-z_][\w@.:/-]*)\s*(?P<op>>=|<=|>|<)\s*"
    rf"(?:(?P<value>{_NUMBER})|champion\s*(?:(?P<sign>[-+*])\s*(?P<amount>{_NUMBER}))?)\s*$"
)


@dataclass(frozen=True)
class Condition:
    """One parsed condition; ``relative`` when its threshold follows the champion."""

    text: str
    metric: str
    op: str
    value: float | None
    sign: str | None
    amount: float

    @property
    def relative(self) -> bool:
        """Whether the threshold is computed from the champion's value."""
        return self.value is None

    def threshold(self, champion: float) -> float:
        """The threshold given the champion's value of the metric."""
        if self.sign == "-":
            return champion - self.amount
        if self.sign == "+":
            return champion + self.amount
        if self.sign == "*":
            return champion * self.amount
        return champion


def read_condition(text: str) -> Condition:
    """Parse one condition.

    Raises:
        ValueError: it is not ``METRIC OP NUMBER`` or ``METRIC OP champion [+-*] NUMBER``.
    """
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(
            f"gate condition {text!r} is not 'METRIC OP NUMBER' or 'METRIC OP champion [+-*] "
            "NUMBER' (OP: >=, >, <=, <), e.g. 'ndcg@10 >= champion - 0.002' or 'coverage >= 0.2'"
        )
    value = float(match["value"]) if match["value"] is not None else None
    amount = float(match["amount"]) if match["amount"] is not None else 0.0
    return Condition(text.strip(), match["metric"], match["op"], value, match["sign"], amount)
