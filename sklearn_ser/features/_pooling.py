"""Deltas and statistical functionals over stacked frame features.

Frame features of all clips arrive stacked, ``(n_frames_total, n_coeffs)``, with per-clip frame
counts (see ``_framing``). Deltas and most functionals are computed with segment reductions
(``np.add.reduceat``), so their cost does not grow with a Python loop over frames. Minimum,
maximum and percentiles come from one vectorised sort of all clips' frames.
"""

import numpy as np

from ._framing import iter_slices, segment_ids, segment_starts

#: Functionals a pooled extractor can compute, in output order.
FUNCTIONALS = (
    "mean",
    "std",
    "min",
    "max",
    "range",
    "median",
    "p10",
    "p25",
    "p75",
    "p90",
    "iqr",
    "skew",
    "kurtosis",
    "slope",
)

_PERCENTILES = {"median": 50.0, "p10": 10.0, "p25": 25.0, "p75": 75.0, "p90": 90.0}


def deltas(features, counts, *, order=1, width=2):
    """Regression deltas (HTK formula) computed within each clip.

    Parameters
    ----------
    features : ndarray of shape (n_frames_total, n_coeffs)
        Stacked frame features.
    counts : ndarray of shape (n_clips,)
        Frames per clip.
    order : int, default=1
        1 for deltas, 2 for delta-deltas (deltas of deltas).
    width : int, default=2
        Frames on each side of the regression window (N in HTK).

    Returns
    -------
    ndarray of shape (n_frames_total, n_coeffs)
        Deltas; edge frames repeat the clip's first or last frame, so no clip sees another.
    """
    out = features
    for _ in range(order):
        out = _delta_once(out, counts, width)
    return out


def _delta_once(features, counts, width):
    seg = segment_ids(counts)
    first = segment_starts(counts)[seg]
    last = first + counts[seg] - 1
    index = np.arange(len(features))
    numerator = np.zeros_like(features)
    for n in range(1, width + 1):
        ahead = np.minimum(index + n, last)
        behind = np.maximum(index - n, first)
        numerator += n * (features[ahead] - features[behind])
    return numerator / (2 * sum(n * n for n in range(1, width + 1)))


# Upper bound on the bytes of each float64 temporary of ``pool`` (centred values, their
# squares, ...): the clips are pooled in blocks that keep them under it, whatever the group
# size and number of streams. Larger temporaries were slower and erratic when the allocator
# mapped them fresh for every block; the bound keeps pooling independent of the allocator's
# state (figures: benchmarks/README.md, "Measurements behind the feature kernels").
POOL_BLOCK_BYTES = 2**20


def pool(features, counts, functionals):
    """Statistical functionals of each clip's frames.

    Parameters
    ----------
    features : ndarray of shape (n_frames_total, n_coeffs)
        Stacked frame features; every count must be at least 1.
    counts : ndarray of shape (n_clips,)
        Frames per clip.
    functionals : sequence of str
        Names from ``FUNCTIONALS``.

    Returns
    -------
    ndarray of shape (n_clips, n_coeffs * len(functionals)), float64
        For each functional in the order given, one column per coefficient.
    """
    counts = np.asarray(counts)
    n_coeffs = max(1, np.shape(features)[1])
    blocks = list(iter_slices(counts.tolist(), max(1, POOL_BLOCK_BYTES // (8 * n_coeffs))))
    if len(blocks) == 1:
        return _pool_block(features, counts, functionals)
    starts = segment_starts(counts)
    return np.concatenate([
        _pool_block(features[starts[b.start] : starts[b.start] + counts[b].sum()], counts[b],
                    functionals)
        for b in blocks
    ], axis=0)


def _pool_block(features, counts, functionals):
    x = np.asarray(features, dtype=np.float64)
    starts = segment_starts(counts)
    n = counts.astype(np.float64)[:, None]
    mean = np.add.reduceat(x, starts, axis=0) / n
    centred = x - mean[segment_ids(counts)]
    squared = centred * centred  # products, not float powers: much faster
    m2 = np.add.reduceat(squared, starts, axis=0) / n
    # Order statistics come from a sort in the features' own dtype: float32 values sort
    # faster than their float64 copies, and the values picked are the same numbers.
    cache = {"mean": mean, "_m2": m2, "_centred": centred, "_squared": squared,
             "_ordered": np.asarray(features)}
    columns = [_functional(name, counts, starts, cache) for name in functionals]
    return np.concatenate(columns, axis=1)


def _functional(name, counts, starts, cache):
    mean, m2, centred = cache["mean"], cache["_m2"], cache["_centred"]
    n = counts.astype(np.float64)[:, None]
    if name == "mean":
        return mean
    if name == "std":
        return np.sqrt(m2)
    if name in ("min", "max", "range", "iqr") or name in _PERCENTILES:
        return _order_functional(name, counts, starts, cache)
    # A constant clip has no spread: its shape statistics are defined as 0, not NaN.
    safe_m2 = np.where(m2 > 1e-12, m2, np.inf)
    if name == "skew":
        m3 = np.add.reduceat(cache["_squared"] * centred, starts, axis=0) / n
        return m3 / safe_m2**1.5
    if name == "kurtosis":
        m4 = np.add.reduceat(cache["_squared"] ** 2, starts, axis=0) / n
        return np.where(m2 > 1e-12, m4 / safe_m2**2 - 3.0, 0.0)
    if name == "slope":
        return _slope(centred, counts, starts)
    raise ValueError(f"Unknown functional {name!r}; choose from {FUNCTIONALS}.")


def _order_functional(name, counts, starts, cache):
    """Minimum, maximum, range and percentiles, all read from one sort of each clip."""
    if "_table" not in cache:
        cache["_table"] = _sorted_frames(cache["_ordered"], counts, starts)
    table = cache["_table"]
    clip = np.arange(len(counts))
    if name == "min":
        return table[:, :, 0].astype(np.float64)
    if name == "max":
        return table[clip, :, counts - 1].astype(np.float64)
    if name == "range":
        return (table[clip, :, counts - 1].astype(np.float64)
                - table[:, :, 0].astype(np.float64))
    if "_percentiles" not in cache:
        qs = np.array([10.0, 25.0, 50.0, 75.0, 90.0])
        cache["_percentiles"] = _percentiles(table, counts, qs)
    percentiles = cache["_percentiles"]
    order = {10.0: 0, 25.0: 1, 50.0: 2, 75.0: 3, 90.0: 4}
    if name == "iqr":
        return percentiles[3] - percentiles[1]
    return percentiles[order[_PERCENTILES[name]]]


def _sorted_frames(x, counts, starts):
    """Each clip's frames sorted per coefficient, ``(n_clips, n_coeffs, max_count)``.

    One sort of all clips at once instead of one call per clip: each clip's frames are laid
    out along the last (contiguous) axis, padded with +inf, which sorts past the clip's own
    values.
    """
    n_clips, n_coeffs = len(counts), x.shape[1]
    table = np.full((n_clips, n_coeffs, int(counts.max())), np.inf, dtype=x.dtype)
    seg = segment_ids(counts)
    table[seg, :, np.arange(len(x)) - starts[seg]] = x
    table.sort(axis=2)
    return table


def _percentiles(table, counts, qs):
    """``np.percentile(clip, qs, axis=0)`` of every clip, ``(n_quantiles, n_clips, n_coeffs)``,
    float64, read from the sorted frames at each clip's own positions with numpy's "linear"
    interpolation."""
    n_clips = len(counts)
    position = (qs[:, None] / 100.0) * (counts[None, :] - 1)  # (n_quantiles, n_clips)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, counts[None, :] - 1)
    frac = (position - below)[:, :, None]
    clip = np.arange(n_clips)[None, :]
    low = table[clip, :, below].astype(np.float64)  # (n_quantiles, n_clips, n_coeffs)
    high = table[clip, :, above].astype(np.float64)
    # numpy's lerp: exact at both ends and symmetric about t = 0.5.
    diff = high - low
    return np.where(frac >= 0.5, high - diff * (1.0 - frac), low + diff * frac)


def _slope(centred, counts, starts):
    """Least-squares slope per frame of each clip's trajectory (0 for one-frame clips)."""
    seg = segment_ids(counts)
    t = np.arange(len(centred)) - starts[seg] - (counts[seg] - 1) / 2.0
    cov = np.add.reduceat(centred * t[:, None], starts, axis=0)
    c = counts.astype(np.float64)
    var_t = (c * (c * c - 1) / 12.0)[:, None]
    return np.divide(cov, var_t, out=np.zeros_like(cov), where=var_t > 0)


def pad_sequences(features, counts, max_frames):
    """Stacked frame features as a NaN-padded 3-D array ``(n_clips, max_frames, n_coeffs)``.

    Longer clips are centre-cropped to ``max_frames``; shorter ones are followed by all-NaN
    padding frames, so each clip's true length travels with the data.
    """
    n_clips, n_coeffs = len(counts), features.shape[1]
    out = np.full((n_clips, max_frames, n_coeffs), np.nan, dtype=np.float32)
    starts = segment_starts(counts)
    for i, (start, count) in enumerate(zip(starts, counts)):
        keep = min(count, max_frames)
        offset = start + (count - keep) // 2
        out[i, :keep] = features[offset : offset + keep]
    return out


def sequence_lengths(X):
    """True frame count of each clip of a NaN-padded 3-D array (its non-padding frames)."""
    return np.sum(~np.all(np.isnan(X), axis=2), axis=1)
