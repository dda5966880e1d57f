"""FNV-1a over UTF-16 code units, and GrowthBook's two hash versions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sameday.assign.hashing import FNV_OFFSET, code_units, fnv1a32, fnv1a32_continue, hash


def reference_fnv(units: list[int]) -> int:
    """Textbook FNV-1a 32 over a list of code units."""
    state = 0x811C9DC5
    for unit in units:
        state = ((state ^ unit) * 16777619) % 2**32
    return state


def utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]


def test_known_fnv_values() -> None:
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


def test_characters_outside_the_bmp_hash_as_two_surrogates() -> None:
    # U+1F600 is the pair D83D DE00 in UTF-16, as JS's charCodeAt sees it.
    assert list(code_units("\U0001f600")) == [0xD83D, 0xDE00]
    assert fnv1a32("\U0001f600") == reference_fnv([0xD83D, 0xDE00])
    assert fnv1a32("\U0001f600") != reference_fnv([0x1F600])


def test_lone_surrogates_hash_as_themselves() -> None:
    assert list(code_units("a\ud800")) == [0x61, 0xD800]


def test_bmp_text_hashes_its_code_points() -> None:
    assert fnv1a32("é€") == reference_fnv([0xE9, 0x20AC])


@settings(derandomize=True)
@given(st.text())
def test_fnv_matches_reference_on_any_text(text: str) -> None:
    assert fnv1a32(text) == reference_fnv(utf16_units(text))


@settings(derandomize=True)
@given(st.text(max_size=20), st.text(max_size=20))
def test_fnv_can_continue_from_a_prefix(prefix: str, rest: str) -> None:
    assert fnv1a32_continue(fnv1a32_continue(FNV_OFFSET, prefix), rest) == fnv1a32(prefix + rest)


@settings(derandomize=True)
@given(st.text(max_size=30), st.text(max_size=30))
def test_hash_versions_are_in_unit_interval_with_their_resolution(seed: str, value: str) -> None:
    v1, v2 = hash(seed, value, 1), hash(seed, value, 2)
    assert v1 is not None and v2 is not None
    assert 0 <= v1 < 1 and round(v1 * 1000) == v1 * 1000
    assert 0 <= v2 < 1 and abs(round(v2 * 10000) - v2 * 10000) < 1e-6


def test_unknown_versions_give_none() -> None:
    assert hash("seed", "unit", 0) is None
    assert hash("seed", "unit", 3) is None


def test_version_two_hashes_seed_then_value_then_the_decimal_digits() -> None:
    inner = fnv1a32("seed" + "unit")
    assert hash("seed", "unit", 2) == (fnv1a32(str(inner)) % 10000) / 10000
    assert hash("seed", "unit", 1) == (fnv1a32("unit" + "seed") % 1000) / 1000
