"""Snapshot profiles: counts, concentration, quantiles, key changes and overlap, against
independent computations."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from sameday.monitor.profile import (
    SAMPLE_KEYS,
    Previous,
    concentration,
    key_changes,
    key_hash,
    profile_lists,
)


def lists(
    table: dict[str, list[str]], scores: list[float] | None = None
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Ranked rows of ``{key: [items]}`` (keys in order), their starts and item hashes."""
    keys = sorted(table)
    flat_keys = [k for k in keys for _ in table[k]]
    items = [i for k in keys for i in table[k]]
    score = scores or [1.0 / (1 + n) for n in range(len(items))]
    starts = np.concatenate([[0], np.cumsum([len(table[k]) for k in keys])]).astype(np.int64)
    hashes = np.array([hash(i) & (2**63 - 1) for i in items], dtype=np.uint64)
    rows = pa.table({"key": flat_keys, "item": items, "score": score})
    return rows, starts, hashes


def profile(table: dict[str, list[str]], **kwargs: object) -> dict[str, object]:
    rows, starts, hashes = lists(table)
    with duckdb.connect() as con:
        return profile_lists(con, rows, starts, hashes, **kwargs)  # type: ignore[arg-type]


def test_counts_lengths_and_items() -> None:
    found = profile({"a": ["x", "y", "z"], "b": ["x"], "c": ["x", "y"]}, catalogue=10)
    assert (found["rows"], found["keys"], found["items"]) == (6, 3, 3)
    assert found["coverage"] == 0.3
    lengths = found["list_length"]
    assert lengths["mean"] == 2.0  # type: ignore[index]
    assert lengths["quantiles"] == pytest.approx(np.quantile([3, 1, 2], np.linspace(0, 1, 101)))  # type: ignore[index]
    assert found["top_items"] == [
        ["x", 0.5],
        ["y", pytest.approx(1 / 3, abs=1e-6)],
        ["z", pytest.approx(1 / 6, abs=1e-6)],
    ]


def test_concentration_matches_the_mean_difference_formula() -> None:
    counts = np.random.default_rng(3).integers(1, 500, 300).astype(np.int64)
    share, gini = concentration(counts)
    x = counts.astype(float)
    expected = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini == pytest.approx(expected, rel=1e-9)
    top3 = np.sort(counts)[-3:].sum() / counts.sum()  # 1% of 300 items
    assert share == pytest.approx(top3)
    assert concentration(np.full(50, 7, dtype=np.int64))[1] == pytest.approx(0.0, abs=1e-12)
    tied = np.array([5, 5, 5] + [1] * 197, dtype=np.int64)  # the top 1% (2 items) splits a tie
    assert concentration(tied)[0] == pytest.approx(10 / 212)


def test_the_sample_is_the_keys_with_the_smallest_hashes() -> None:
    table = {f"user{n}": ["i"] for n in range(1000)}
    found = profile(table)
    sample = found["sample"]
    expected = sorted((key_hash(k), k) for k in table)[:SAMPLE_KEYS]
    assert [tuple(pair) for pair in sample] == expected  # type: ignore[union-attr]


def test_key_changes_are_exact_for_small_snapshots() -> None:
    before = profile({f"k{n}": ["i"] for n in range(10)})
    after = profile({f"k{n}": ["i"] for n in range(4, 20)}, previous=Previous(before))
    assert (after["new_keys"], after["lost_keys"]) == (10, 4)


def test_key_changes_are_estimated_for_large_snapshots() -> None:
    old = [f"k{n}" for n in range(20_000)]
    new = [f"k{n}" for n in range(5_000, 25_000)]  # 5,000 new, 5,000 lost, 15,000 shared
    with duckdb.connect() as con:
        from sameday.monitor.profile import sample_keys

        before = {"keys": len(old), "sample": sample_keys(con, pa.array(old))}
        sample = sample_keys(con, pa.array(new))
    added, lost = key_changes(before, sample, len(new))
    assert added == pytest.approx(5_000, rel=0.3) and lost == pytest.approx(5_000, rel=0.3)


def test_overlap_is_the_mean_jaccard_of_the_top_ten() -> None:
    now = {"a": [f"i{n}" for n in range(12)], "b": ["x", "y"], "c": ["q"]}
    before = Previous(None, {"a": [f"i{n}" for n in range(5, 15)], "b": ["y", "z"], "gone": ["q"]})
    found = profile(now, previous=before)
    # a: top 10 now i0..i9, before i5..i14: 5 shared of 15; b: 1 of 3; "gone" is not in now
    assert found["overlap"] == {"jaccard": pytest.approx((5 / 15 + 1 / 3) / 2, abs=1e-6), "keys": 2}


def test_scores_quantiles_skip_missing_scores() -> None:
    rows, starts, hashes = lists({"a": ["x", "y", "z"]}, scores=[0.5, float("nan"), 0.1])
    with duckdb.connect() as con:
        found = profile_lists(con, rows, starts, hashes)
    assert found["scores"]["quantiles"][0] == 0.1 and found["scores"]["quantiles"][-1] == 0.5
