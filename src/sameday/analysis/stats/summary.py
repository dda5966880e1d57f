"""Sufficient statistics of one arm, and the moments every test is built from.

An arm is described by a handful of sums over its units, never by the units themselves: ``n``, the
sum of the per-unit metric ``y`` and of its squares. A second per-unit quantity ``x`` is optional:
for a ratio metric it is the denominator (``y`` being the numerator), for CUPED it is the
pre-exposure covariate. With it come the sum of ``x``, of ``x²`` and the cross-product ``Σxy``.

One count rides along: ``n_nonzero``, the units whose ``y`` is not zero (the buyers of a revenue
metric, the converters of a proportion). On a zero-inflated metric it, not ``n``, says whether the
normal approximation has anything to stand on, so the report's minimum sample checks it.

These sums are what a database can compute in one pass (and add up across days), and every
estimator in this package needs nothing more. Summaries are therefore additive: ``a + b`` combines
two disjoint sets of units, which is how daily summaries become cumulative ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sameday.errors import StatsInputError

if TYPE_CHECKING:
    import numpy.typing as npt

# Sums of squares computed in floating point can undershoot sum**2 / n by rounding alone.
_ROUNDING = 1e-9


@dataclass(frozen=True)
class ArmSummary:
    """Per-arm sums: ``n`` units, ``Σy``, ``Σy²`` and optionally ``Σx``, ``Σx²``, ``Σxy``.

    For a proportion metric ``y`` is 0 or 1 per unit, so ``sum_sq == sum`` (see
    :meth:`from_proportion`). ``n_nonzero`` counts the units with ``y != 0`` (``None``: not
    counted).
    """

    n: int
    sum: float
    sum_sq: float
    sum_x: float | None = None
    sum_x_sq: float | None = None
    sum_xy: float | None = None
    n_nonzero: int | None = None

    def __post_init__(self) -> None:
        if self.n < 0:
            raise StatsInputError(f"n must be a count of units (>= 0), got {self.n}")
        if self.n_nonzero is not None and not 0 <= self.n_nonzero <= self.n:
            raise StatsInputError(
                f"n_nonzero counts units with a non-zero value: it must be within [0, n={self.n}], "
                f"got {self.n_nonzero}"
            )
        _check_square("y", self.n, self.sum, self.sum_sq)
        given = [v is not None for v in (self.sum_x, self.sum_x_sq, self.sum_xy)]
        if any(given) and not all(given):
            raise StatsInputError(
                "give sum_x, sum_x_sq and sum_xy together (the second per-unit quantity of a "
                "ratio metric or a CUPED covariate), or none of them"
            )
        if self.sum_x is not None and self.sum_x_sq is not None:
            _check_square("x", self.n, self.sum_x, self.sum_x_sq)

    @classmethod
    def from_proportion(cls, successes: int, n: int) -> ArmSummary:
        """The summary of ``n`` units of which ``successes`` converted (``y`` is 0 or 1)."""
        if not 0 <= successes <= n:
            raise StatsInputError(f"successes must be within [0, n={n}], got {successes}")
        return cls(n=n, sum=float(successes), sum_sq=float(successes), n_nonzero=successes)

    @classmethod
    def from_values(cls, y: npt.ArrayLike, x: npt.ArrayLike | None = None) -> ArmSummary:
        """Summarise raw per-unit values (tests, notebooks); ``x`` is the optional second value."""
        # numpy is imported here, not above: a report builds its summaries in DuckDB while
        # numpy is still being imported (sameday.analysis.preload), and never calls this.
        import numpy as np

        ys = np.asarray(y, dtype=np.float64)
        nonzero = int(np.count_nonzero(ys))
        if x is None:
            return cls(
                n=int(ys.size), sum=float(ys.sum()), sum_sq=float(ys @ ys), n_nonzero=nonzero
            )
        xs = np.asarray(x, dtype=np.float64)
        if xs.shape != ys.shape:
            raise StatsInputError(
                f"x and y must have the same shape, got {xs.shape} and {ys.shape}"
            )
        return cls(
            n=int(ys.size),
            sum=float(ys.sum()),
            sum_sq=float(ys @ ys),
            sum_x=float(xs.sum()),
            sum_x_sq=float(xs @ xs),
            sum_xy=float(xs @ ys),
            n_nonzero=nonzero,
        )

    def __add__(self, other: ArmSummary) -> ArmSummary:
        """Combine two disjoint groups of units (for example two days of the same arm)."""
        if (self.sum_x is None) != (other.sum_x is None):
            raise StatsInputError("cannot add a summary with x sums to one without them")
        nonzero = (
            None
            if self.n_nonzero is None or other.n_nonzero is None
            else self.n_nonzero + other.n_nonzero
        )
        if self.sum_x is None or other.sum_x is None:
            return ArmSummary(
                self.n + other.n,
                self.sum + other.sum,
                self.sum_sq + other.sum_sq,
                n_nonzero=nonzero,
            )
        return ArmSummary(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_sq=self.sum_sq + other.sum_sq,
            sum_x=self.sum_x + other.sum_x,
            sum_x_sq=_req(self.sum_x_sq) + _req(other.sum_x_sq),
            sum_xy=_req(self.sum_xy) + _req(other.sum_xy),
            n_nonzero=nonzero,
        )

    @property
    def has_x(self) -> bool:
        """Whether the second per-unit quantity (ratio denominator or covariate) is present."""
        return self.sum_x is not None

    @property
    def mean(self) -> float:
        """Mean of ``y`` per unit (NaN for an empty arm)."""
        return self.sum / self.n if self.n else math.nan

    @property
    def mean_x(self) -> float:
        """Mean of ``x`` per unit."""
        return _req(self.sum_x) / self.n if self.n else math.nan

    def variance(self, ddof: int = 1) -> float:
        """Variance of ``y`` across units; ``ddof=0`` gives ``p(1-p)`` for a proportion."""
        return max(_centred(self.n, self.sum, self.sum, self.sum_sq, ddof), 0.0)

    def variance_x(self, ddof: int = 1) -> float:
        """Variance of ``x`` across units."""
        sum_x = _req(self.sum_x)
        return max(_centred(self.n, sum_x, sum_x, _req(self.sum_x_sq), ddof), 0.0)

    def covariance(self, ddof: int = 1) -> float:
        """Covariance of ``x`` and ``y`` across units."""
        return _centred(self.n, _req(self.sum_x), self.sum, _req(self.sum_xy), ddof)

    def require(self, minimum: int, arm: str) -> None:
        """Raise :class:`StatsInputError` unless this arm has at least ``minimum`` units."""
        if self.n < minimum:
            raise StatsInputError(
                f"arm {arm!r} has {self.n} unit{'s' if self.n != 1 else ''}; this analysis needs "
                f"at least {minimum} per arm: wait for more traffic"
            )


def _centred(n: int, sum_a: float, sum_b: float, sum_ab: float, ddof: int) -> float:
    """``(Σab - Σa·Σb/n) / (n - ddof)``: a covariance, or a variance when a and b coincide."""
    if n - ddof <= 0:
        return math.nan
    return (sum_ab - sum_a * sum_b / n) / (n - ddof)


def _check_square(name: str, n: int, total: float, total_sq: float) -> None:
    """Cauchy–Schwarz: ``Σv² >= (Σv)²/n``; a violation means swapped or corrupted sums."""
    if total_sq < 0:
        raise StatsInputError(f"sum of squares of {name} must be >= 0, got {total_sq}")
    if n == 0:
        if total != 0 or total_sq != 0:
            raise StatsInputError(f"an arm with n=0 must have zero sums of {name}")
        return
    floor = total * total / n
    if total_sq < floor - _ROUNDING * max(1.0, floor):
        raise StatsInputError(
            f"sum of squares of {name} ({total_sq}) is below (sum of {name})²/n ({floor}); "
            "check that the sums were not swapped"
        )


def _req(value: float | None) -> float:
    """The value of an x sum, which the caller must have checked is present."""
    if value is None:
        raise StatsInputError(
            "this analysis needs x sums (sum_x, sum_x_sq, sum_xy): the ratio denominator or the "
            "CUPED covariate"
        )
    return value
