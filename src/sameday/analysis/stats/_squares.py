"""Squares as one comparison rounds them, for the kernels that also run many at once.

numpy squares an array by multiplying, ``x * x`` (correctly rounded), but a single number (a
Python float, or the numpy scalar a ufunc returns from 0-d arrays) by C's ``pow(x, 2)``, which
glibc rounds differently in the last bit for about 8 numbers in 10,000. So a kernel run on one
comparison squares some intermediates by ``pow`` and others (its 0-d array arguments) by
multiplication, while the same kernel run on arrays squares them all by multiplication: the two
can differ in the last bit, and Fieller's interval, whose leading coefficient ``b² - q²·var b``
may be a small difference of two squares, can magnify that.

A kernel's ``square`` says how it squares the intermediates that are single numbers when it runs
on one comparison: :func:`as_numpy` (the default) as numpy does, by type; :func:`as_single`
each element by ``pow``, so that a batch of comparisons gives each one's own digits
(:mod:`~sameday.analysis.stats.lifts`). A Python float's square is the same ``pow``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sameday.analysis.stats._types import FloatArray

Square = Callable[[FloatArray], FloatArray]
"""How a kernel squares an intermediate: :func:`as_numpy` or :func:`as_single`."""


def as_numpy(x: FloatArray) -> FloatArray:
    """``x ** 2`` as numpy computes it: ``pow`` for a single number, ``x * x`` for an array."""
    return x**2


def as_single(x: FloatArray) -> FloatArray:
    """Each element of ``x`` squared as a numpy scalar: by ``pow``, overflowing to ``inf``."""
    return np.array([v**2 for v in x], dtype=np.float64)
