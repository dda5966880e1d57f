"""Causal window statistics over numpy arrays: each output at ``t`` reads only inputs up to ``t``.

The detector is judged on causality (a point is scored from earlier points only), so every window
here says exactly which points it reads, and ``NaN`` marks "not enough points yet" rather than a
guess. Windows are computed in C (numpy's sliding views for short windows, ``scipy.ndimage`` for
the long lookback), which keeps a 20,000-point series to a few milliseconds.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

FloatArray = npt.NDArray[np.float64]


def before(x: FloatArray, k: int, how: str = "median") -> FloatArray:
    """``out[t]`` = median (or mean) of ``x[t-k .. t-1]``, the ``k`` points before ``t``.

    ``NaN`` where fewer than ``k`` points precede ``t`` or any of them is ``NaN``.
    """
    n = len(x)
    out = np.full(n, np.nan)
    if n > k:
        windows = sliding_window_view(x, k)[:-1]
        out[k:] = np.median(windows, axis=1) if how == "median" else windows.mean(axis=1)
    return out


def ending_at(x: FloatArray, h: int, how: str) -> FloatArray:
    """``out[t]`` = statistic of ``x[t-h+1 .. t]`` (the last ``h`` points, ``t`` included).

    ``how`` is ``mean``, ``median`` or ``mad`` (median absolute deviation from the median).
    """
    n = len(x)
    out = np.full(n, np.nan)
    if n >= h:
        windows = sliding_window_view(x, h)
        if how == "mean":
            out[h - 1 :] = windows.mean(axis=1)
        elif how == "median":
            out[h - 1 :] = np.median(windows, axis=1)
        else:
            centre = np.median(windows, axis=1)
            out[h - 1 :] = np.median(np.abs(windows - centre[:, None]), axis=1)
    return out


def shift(x: FloatArray, lag: int) -> FloatArray:
    """``out[t] = x[t - lag]`` (``NaN`` for the first ``lag`` points)."""
    out = np.full(len(x), np.nan)
    if lag < len(x):
        out[lag:] = x[: len(x) - lag]
    return out


def lookback_mean(x: FloatArray, width: int) -> FloatArray:
    """``out[t]`` = mean of the non-``NaN`` values in ``x[t-width .. t-1]`` (``NaN`` if none)."""
    valid = ~np.isnan(x)
    sums = np.concatenate([[0.0], np.cumsum(np.where(valid, x, 0.0))])
    counts = np.concatenate([[0], np.cumsum(valid)])
    t = np.arange(len(x))
    start = np.maximum(0, t - width)
    count = counts[t] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (sums[t] - sums[start]) / np.maximum(count, 1), np.nan)


def lookback_count(valid: npt.NDArray[np.bool_], width: int) -> npt.NDArray[np.int64]:
    """``out[t]`` = how many of ``valid[t-width .. t-1]`` are true."""
    counts = np.concatenate([[0], np.cumsum(valid)])
    t = np.arange(len(valid))
    result: npt.NDArray[np.int64] = counts[t] - counts[np.maximum(0, t - width)]
    return result


def lookback_max(x: FloatArray, width: int, gap: int) -> FloatArray:
    """``out[t]`` = max of ``x[t-width .. t-gap]`` for non-negative ``x`` (``NaN`` read as 0).

    ``gap`` leaves out the points that share a window with ``t``: a statistic over the last ``h``
    points must not be compared with its own overlapping predecessors. 0 where no point qualifies.
    """
    from scipy.ndimage import maximum_filter1d

    n = len(x)
    out = np.zeros(n)
    size = max(1, width - gap + 1)
    if gap < n:
        # origin shifts scipy's centred window so that filtered[i] covers x[i-size+1 .. i];
        # the zero padding on the left is harmless for a maximum of non-negative values
        filtered = maximum_filter1d(
            np.nan_to_num(x, nan=0.0), size=size, origin=(size - 1) // 2, mode="constant"
        )
        out[gap:] = filtered[: n - gap]
    return out


def lookback_median(x: FloatArray, width: int, gap: int, every: int) -> FloatArray:
    """``out[t]`` = median of the non-``NaN`` values of ``x[t-width .. t-gap]``.

    Recomputed every ``every`` points and held in between (each value still reads only points
    before the one it is used for): a scale that moves slowly does not need a sort per point.
    While the history is shorter than ``every`` it is recomputed each time it has grown by a
    fifth, so a young series is not judged on a stale scale. ``NaN`` where no value qualifies.
    """
    n = len(x)
    early = np.unique(np.round(np.geomspace(1, every, 2 + int(5 * np.log(every + 1))))).astype(int)
    checkpoints = np.union1d(early[early < every], np.arange(0, n, every))
    checkpoints = checkpoints[checkpoints < n]
    medians = np.full(len(checkpoints), np.nan)
    size = width - gap + 1
    full = checkpoints >= width
    for k in np.flatnonzero(~full):  # partial windows: the start of the series
        t = int(checkpoints[k])
        window = x[max(0, t - width) : max(0, t - gap + 1)]
        window = window[~np.isnan(window)]
        medians[k] = np.median(window) if len(window) else np.nan
    if full.any() and size > 0:
        starts = checkpoints[full] - width
        windows = sliding_window_view(x, size)[starts]  # one row per checkpoint
        has_nan = np.isnan(windows).any(axis=1)
        medians[np.flatnonzero(full)[~has_nan]] = np.median(windows[~has_nan], axis=1)
        for k, row in zip(np.flatnonzero(full)[has_nan], windows[has_nan], strict=True):
            kept = row[~np.isnan(row)]
            medians[k] = np.median(kept) if len(kept) else np.nan
    # each point takes the median of the latest checkpoint at or before it
    latest = np.searchsorted(checkpoints, np.arange(n), side="right") - 1
    return np.where(latest >= 0, medians[np.maximum(latest, 0)], np.nan)
