"""``sameday/policies/_keyed.py`` against its own written spec, so other languages can replay it.

The reference below is written from the module docstring alone: BLAKE2b-256 of ``key || counter``
(4 bytes, big-endian), each block one big-endian integer whose bits are used from the least
significant end; integers below ``n`` by rejection on ``bit_length(n - 1)`` bits; uniforms from
53 bits.
"""

from __future__ import annotations

import random
from collections import Counter
from hashlib import blake2b
from itertools import permutations

import pytest

from sameday.policies.keyed import KeyedStream, key_bytes, keyed_uniform


class Reference:
    """The documented bit stream, one bit at a time (slow and obvious on purpose)."""

    def __init__(self, experiment: str, unit: str, request: str) -> None:
        self.key = "\x1f".join((experiment, unit, request)).encode("utf-8")
        self.bits: list[int] = []
        self.counter = 0

    def bit(self) -> int:
        if not self.bits:
            digest = blake2b(self.key + self.counter.to_bytes(4, "big"), digest_size=32).digest()
            self.counter += 1
            block = int.from_bytes(digest, "big")
            self.bits = [(block >> i) & 1 for i in range(256)]
        return self.bits.pop(0)

    def take(self, width: int) -> int:
        return sum(self.bit() << i for i in range(width))

    def below(self, n: int) -> int:
        width = (n - 1).bit_length()
        while True:
            value = self.take(width)
            if value < n:
                return value


KEYS = [("exp", "user-1", "req-1"), ("home-als", "ü-ñ", "r" * 40), ("", "", "")]


@pytest.mark.parametrize("key", KEYS)
def test_the_uniform_is_the_first_53_bits(key: tuple[str, str, str]) -> None:
    reference = Reference(*key)
    assert keyed_uniform(*key) == reference.take(53) / 2**53
    assert 0.0 <= keyed_uniform(*key) < 1.0


@pytest.mark.parametrize("key", KEYS)
def test_coins_and_integers_follow_the_spec_across_blocks(key: tuple[str, str, str]) -> None:
    stream, reference = KeyedStream.for_request(*key), Reference(*key)
    rng = random.Random(7)
    expected = []
    for _ in range(400):  # several 256-bit blocks, with draws straddling their edges
        if rng.random() < 0.5:
            expected.append(reference.bit())
            assert stream.coin() == expected[-1]
        else:
            n = rng.choice([1, 2, 3, 5, 20, 1000, 2**20 + 1])
            expected.append(reference.below(n))
            assert stream.below(n) == expected[-1]
    assert reference.counter > 3  # the draws did cross blocks
    assert stream.draws == expected  # every draw is recorded, in order


def test_key_parts_cannot_run_into_each_other() -> None:
    assert key_bytes("ab", "c", "r") != key_bytes("a", "bc", "r")
    assert keyed_uniform("ab", "c", "r") != keyed_uniform("a", "bc", "r")
    assert key_bytes("é", "u", "r") == "é\x1fu\x1fr".encode()


def test_below_one_uses_no_bits_and_below_zero_is_refused() -> None:
    stream = KeyedStream.for_request("e", "u", "r")
    assert [stream.below(1) for _ in range(3)] == [0, 0, 0]
    assert stream.coin() == Reference("e", "u", "r").bit()  # still the stream's first bit
    with pytest.raises(ValueError, match="needs n >= 1, got 0"):
        stream.below(0)


def test_permutations_are_uniform() -> None:
    counts = Counter(
        tuple(KeyedStream.for_request("e", f"u{i}", "r").permutation(3)) for i in range(6000)
    )
    assert set(counts) == set(permutations(range(3)))
    assert all(abs(n - 1000) < 150 for n in counts.values())  # 1000 ± ~4.5 standard deviations


def test_uniforms_are_uniform() -> None:
    deciles = Counter(int(keyed_uniform("e", f"u{i}", "r") * 10) for i in range(10_000))
    assert all(abs(deciles[d] - 1000) < 150 for d in range(10))
