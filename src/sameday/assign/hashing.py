"""GrowthBook's hash: FNV-1a 32 over UTF-16 code units, scaled to a bucket in [0, 1).

GrowthBook's JavaScript SDK hashes ``str.charCodeAt(i)`` for every ``i``, so it sees UTF-16 code
units: a character outside the Basic Multilingual Plane (an emoji, say) counts as its two
surrogates, and a lone surrogate counts as itself. Hashing Python code points instead would put
such units in other buckets than every other GrowthBook SDK, so we encode to UTF-16 first. ASCII,
by far the common case, is hashed from its bytes, which are its code units.

Two versions exist and both stay forever, since changing a unit's bucket silently would corrupt
running experiments:

- version 1, ``fnv(value + seed) % 1000 / 1000``: the original, biased for similar seeds;
- version 2, ``fnv(str(fnv(seed + value))) % 10000 / 10000``: the default for new experiments.
"""

from __future__ import annotations

import sys

__all__ = ["code_units", "fnv1a32", "fnv1a32_continue", "hash"]

FNV_OFFSET = 0x811C9DC5
FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF
# One code unit per 2 bytes, in the machine's order so a memoryview cast reads them back.
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"


def code_units(text: str) -> bytes | memoryview:
    """The UTF-16 code units of ``text``, as an iterable of ints (bytes when ``text`` is ASCII)."""
    if text.isascii():
        return text.encode("ascii")
    return memoryview(text.encode(_UTF16, "surrogatepass")).cast("H")


def fnv1a32_continue(state: int, text: str) -> int:
    """Feed ``text`` into an FNV-1a 32 state, so a fixed prefix (the seed) is hashed only once."""
    for unit in code_units(text):
        state = ((state ^ unit) * FNV_PRIME) & _MASK
    return state


def fnv1a32(text: str) -> int:
    """FNV-1a 32 of ``text``'s UTF-16 code units, as GrowthBook's SDKs compute it."""
    return fnv1a32_continue(FNV_OFFSET, text)


def hash(seed: str, value: str, version: int) -> float | None:
    """Bucket of ``value`` under ``seed``: a float in [0, 1), or ``None`` for an unknown version.

    Named (and shadowing the builtin inside this module) as in every GrowthBook SDK, so the
    conformance cases read the same here as there.

    Args:
        seed: the experiment's seed (its key unless set), or ``"__" + namespace`` for layers.
        value: the unit's hash attribute, already a string.
        version: GrowthBook hash version, 1 or 2.

    Returns:
        ``n / 1000`` (version 1) or ``n / 10000`` (version 2); ``None`` for any other version,
        which callers treat as "not in the experiment", as GrowthBook does.
    """
    if version == 2:
        inner = fnv1a32(seed + value)
        return (fnv1a32_continue(FNV_OFFSET, str(inner)) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None
