"""The profile of a snapshot: a few hundred numbers that say what its lists look like.

Publishing computes it from the rows it has read, before they are ranked, in a thread beside
the ranking and the load (numpy over whole columns, one DuckDB query for the key sample, and a
ranking of the few keys the overlap reads): about a tenth of a second on two million rows.
Drift gates compare it with the result set's history (:mod:`sameday.monitor.drift`); the status
board shows its counts.

What it holds (a JSON object; :func:`profile_lists`):

- ``rows``, ``keys``, ``items`` (distinct items recommended), and ``catalogue``/``coverage``
  when the result set declares a catalogue;
- ``list_length``: mean and 101 quantiles (0th to 100th percentile) of the items per key;
- ``scores``: mean and 101 quantiles of the finite scores (from a fixed, seeded sample of
  ``SCORE_SAMPLE`` rows: quantiles to about a third of a percentile, at a fixed cost);
- ``top_share`` (share of all recommendations going to the top 1% of items) and ``gini`` (of the
  items' frequencies): how concentrated the lists are; ``top_items``: the ``TOP_ITEMS`` most
  recommended items and their shares, for the categorical drift check;
- ``sample``: a fixed sample of keys, the ``SAMPLE_KEYS`` keys with the smallest
  ``md5(SEED + key)``. The same key is sampled in every snapshot that has it, so two samples are
  "bottom-k sketches" of the key sets: merged, they estimate the keys the snapshots share
  exactly when each has fewer than ``SAMPLE_KEYS`` keys (:func:`key_changes`);
- ``new_keys``, ``lost_keys``: keys not in the previous snapshot, and keys of it now gone;
- ``overlap``: the mean Jaccard index of the top ``TOP`` items, this snapshot against the
  previous one, over the previous snapshot's sampled keys that both have.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sameday._arrow import from_numpy, text_array, to_numpy

SEED = "sameday-profile-v1:"
"""Prefix of the hashed keys: changing it changes which keys are sampled."""
SAMPLE_KEYS = 256
"""Keys in the fixed sample (overlap, new and lost keys)."""
TOP = 10
"""Items per list compared by the overlap."""
TOP_ITEMS = 50
"""Most recommended items kept with their shares."""
SCORE_SAMPLE = 65_536
"""Scores whose quantiles stand for all of them."""
LEVELS = np.linspace(0.0, 1.0, 101)
"""Quantile levels of the distributions: every percentile."""


@dataclass(frozen=True)
class Previous:
    """What the profile compares with: the live snapshot before the new one.

    Attributes:
        profile: its profile, or ``None`` (no live snapshot, or one from before profiles).
        lists: its lists of the keys in ``profile["sample"]``, as the serving store holds them
            (read before the new snapshot is loaded); keys it does not hold are missing.
    """

    profile: Mapping[str, Any] | None = None
    lists: Mapping[str, Sequence[str]] = field(default_factory=dict)


def key_hash(key: str) -> str:
    """The sort key of ``key`` in the sample: 16 hex digits of ``md5(SEED + key)``, as DuckDB's
    ``md5`` writes them."""
    return hashlib.md5((SEED + key).encode()).hexdigest()[:16]


def sample_keys(con: Any, keys: Any) -> list[list[str]]:
    """The ``SAMPLE_KEYS`` keys of ``keys`` (distinct, an Arrow text array) with the smallest
    hash, as ``[hash, key]`` pairs in hash order (DuckDB hashes them on its own threads)."""
    import pyarrow as pa

    con.register("sampled_keys", pa.table({"key": keys}))
    try:
        rows = con.execute(
            f"SELECT substr(md5('{SEED}' || key), 1, 16) AS h, key FROM sampled_keys "
            f"ORDER BY h, key LIMIT {SAMPLE_KEYS}"
        ).fetchall()
    finally:
        con.unregister("sampled_keys")
    return [[str(h), str(k)] for h, k in rows]


def quantiles(values: npt.NDArray[np.float64]) -> list[float] | None:
    """The 101 percentiles of ``values`` (``None`` if empty), rounded for storage."""
    if len(values) == 0:
        return None
    return [round(float(v), 9) for v in np.quantile(values, LEVELS)]


def concentration(counts: npt.NDArray[np.int64]) -> tuple[float, float]:
    """``(top_share, gini)`` of item frequencies ``counts``: the share of all recommendations
    going to the most recommended 1% of items (at least one), and the Gini coefficient.

    Frequencies are small integers, so both come from their histogram (how many items were
    recommended ``v`` times) instead of a sort of a million counts: the items of one frequency
    take consecutive ranks in sorted order, and ``sum(rank * count)`` sums by frequency.
    """
    total = int(counts.sum())
    n = len(counts)
    if total == 0:
        return 0.0, 0.0
    histogram = np.bincount(counts).astype(np.float64)
    values = np.arange(len(histogram), dtype=np.float64)
    before = np.cumsum(histogram) - histogram  # items ranked below each frequency
    rank_sum = values * (histogram * before + histogram * (histogram + 1) / 2)
    gini = float(2.0 * rank_sum.sum() / (n * total) - (n + 1) / n)
    top = max(1, math.ceil(0.01 * n))
    above = np.cumsum(histogram[::-1])  # items at or above each frequency, from the top
    level = int(np.searchsorted(above, top))  # the frequency where the top items end
    full = above[level - 1] if level else 0.0
    high = values[::-1]
    taken = float((histogram[::-1][:level] * high[:level]).sum()) + (top - full) * high[level]
    return taken / total, max(0.0, gini)


def key_changes(previous: Mapping[str, Any], sample: list[list[str]], keys: int) -> tuple[int, int]:
    """``(new_keys, lost_keys)`` against the previous profile, from the two key samples.

    The union of two bottom-k samples, cut at the smaller of their largest hashes (a sample
    holding every key of its snapshot is not cut), tells for each key in it whether each
    snapshot has it. The share of keys in both estimates the Jaccard index ``J`` of the key
    sets; with their sizes known, ``|A ∩ B| = J (|A| + |B|) / (1 + J)``. Exact when both
    snapshots have at most ``SAMPLE_KEYS`` keys.
    """
    before = {h: k for h, k in previous["sample"]}
    after = {h: k for h, k in sample}
    old_keys = int(previous["keys"])
    cut = "g" * 16  # above every hex digest
    if old_keys > len(before) and before:
        cut = min(cut, max(before))
    if keys > len(after) and after:
        cut = min(cut, max(after))
    seen = [h for h in {*before, *after} if h <= cut]
    if not seen:
        return keys, old_keys
    both = sum(1 for h in seen if h in before and h in after)
    jaccard = both / len(seen)
    shared = jaccard * (old_keys + keys) / (1 + jaccard)
    return round(keys - shared), round(old_keys - shared)


TopItems = Callable[[Sequence[int]], Sequence[Sequence[str]]]
"""The items of the keys at these positions (in key order), best first, one list per position:
asked once for every key the overlap compares, so they can be ranked together."""


def overlap(
    lists: Mapping[str, Sequence[str]],
    table: Any,
    starts: npt.NDArray[np.int64],
    top: TopItems | None = None,
) -> dict[str, float | int] | None:
    """Mean Jaccard index of the top ``TOP`` items of each key in ``lists`` (the previous
    snapshot's) and in ``table``, over the keys both have; ``None`` if none.

    ``top`` gives a key's items best first; by default each key's rows are in rank order."""
    import pyarrow.compute as pc

    if not lists:
        return None
    wanted = text_array(list(lists))
    distinct = table.column("key").take(from_numpy(starts[:-1]))
    positions = pc.index_in(wanted, value_set=distinct).to_pylist()
    items = table.column("item")

    def in_order(positions: Sequence[int]) -> list[list[str]]:
        return [
            items.slice(int(starts[p]), min(TOP, int(starts[p + 1] - starts[p]))).to_pylist()
            for p in positions
        ]

    shared = [(key, p) for key, p in zip(lists, positions, strict=True) if p is not None]
    tops = (top or in_order)([p for _, p in shared])
    scores: list[float] = []
    for (key, _), best in zip(shared, tops, strict=True):
        now = set(list(best)[:TOP])
        before = set(list(lists[key])[:TOP])
        union = now | before
        scores.append(len(now & before) / len(union) if union else 1.0)
    if not scores:
        return None
    return {"jaccard": round(float(np.mean(scores)), 6), "keys": len(scores)}


def profile_lists(
    con: Any,
    table: Any,
    starts: npt.NDArray[np.int64],
    item_hashes: npt.NDArray[np.uint64],
    *,
    previous: Previous | None = None,
    catalogue: int | None = None,
    top: TopItems | None = None,
) -> dict[str, Any]:
    """The profile of ranked lists (see the module docstring).

    Args:
        con: a DuckDB connection of the calling thread's own.
        table: Arrow table ``key, item, score, ...``, each key's rows one run, in key order;
            within a key in rank order, unless ``top`` says the order.
        starts: offsets of each key's first row, with ``len(table)`` appended.
        item_hashes: a 64-bit hash of each row's item (counted instead of the text).
        previous: the live snapshot before this one, for overlap and new and lost keys.
        catalogue: the number of items in the declared catalogue, for coverage.
        top: a key's items best first, for the overlap (publishing profiles the rows before
            they are ranked, ranking only the few keys the overlap reads).
    """

    previous = previous or Previous()
    counts = np.diff(starts)
    keys, rows = len(counts), int(starts[-1])
    ordered = np.sort(item_hashes)
    edges = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1], [True]]))
    frequencies = np.diff(edges).astype(np.int64)
    top_share, gini = concentration(frequencies)
    scores = to_numpy(table.column("score"))
    if len(scores) > SCORE_SAMPLE:
        picks = np.random.default_rng(0).integers(0, len(scores), SCORE_SAMPLE)
        scores = scores[picks]
    scores = scores[np.isfinite(scores)]
    sample = sample_keys(con, table.column("key").take(from_numpy(starts[:-1]))) if keys else []
    out: dict[str, Any] = {
        "rows": rows,
        "keys": keys,
        "items": len(frequencies),
        "catalogue": catalogue,
        "coverage": round(len(frequencies) / catalogue, 6) if catalogue else None,
        "list_length": {
            "mean": round(rows / keys, 6) if keys else 0.0,
            "quantiles": quantiles(counts.astype(np.float64)),
        },
        "scores": {
            "mean": round(float(scores.mean()), 9) if len(scores) else None,
            "quantiles": quantiles(scores),
        },
        "top_share": round(top_share, 6),
        "gini": round(gini, 6),
        "top_items": _top_items(table, item_hashes, ordered, edges, frequencies, rows),
        "sample": sample,
        "new_keys": None,
        "lost_keys": None,
        "overlap": overlap(previous.lists, table, starts, top),
    }
    if previous.profile is not None and "sample" in previous.profile:
        out["new_keys"], out["lost_keys"] = key_changes(previous.profile, sample, keys)
    return out


def _top_items(
    table: Any,
    item_hashes: npt.NDArray[np.uint64],
    ordered: npt.NDArray[np.uint64],
    edges: npt.NDArray[np.int64],
    frequencies: npt.NDArray[np.int64],
    rows: int,
) -> list[list[Any]]:
    """The ``TOP_ITEMS`` most recommended items as ``[item, share]``, most recommended first
    (ties by item). Each item's text is read from one of its rows, found by hash in blocks of
    rows that grow fourfold: frequent items turn up in the first few thousand rows, so this
    rarely reads more than a sliver of the table."""
    if rows == 0:
        return []
    chosen = np.argsort(-frequencies, kind="stable")[:TOP_ITEMS]
    hashes = ordered[edges[:-1][chosen]]
    wanted = np.sort(hashes)
    rows_of: dict[int, int] = {}
    low, size = 0, 4096
    while len(rows_of) < len(hashes) and low < rows:  # the most recommended items come early
        block = item_hashes[low : low + size]
        at = np.minimum(np.searchsorted(wanted, block), len(wanted) - 1)
        mask = wanted[at] == block
        found, first = np.unique(block[mask], return_index=True)
        where = np.flatnonzero(mask)[first] + low
        for h, row in zip(found.tolist(), where.tolist(), strict=True):
            rows_of.setdefault(h, row)
        low, size = low + size, size * 4
    picked = np.array([rows_of[int(h)] for h in hashes], dtype=np.int64)
    items = table.column("item").take(from_numpy(picked)).to_pylist()
    names = dict(zip((int(h) for h in hashes), items, strict=True))
    top = [
        [str(names[int(h)]), round(int(frequencies[c]) / rows, 6)]
        for h, c in zip(hashes, chosen, strict=True)
    ]
    return sorted(top, key=lambda pair: (-pair[1], pair[0]))
