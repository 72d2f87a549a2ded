"""Spectral shape descriptors on the shared framing kernel."""

import math
from numbers import Integral

import numpy as np

from .._validation import check_clips
from ..utils._compat import Interval
from ._base import _PooledFrameExtractor
from ._engine import frames_per_clip
from ._framing import (
    clip_power_spectrum,
    iter_chunks,
    row_dot,
    running_sum,
    segment_starts,
)

_EPS = 1e-10
_TINY = 1e-30
#: Dynamic range of the spectral contrast below each clip's peak power, as MFCC's top_db.
FLOOR_DB = 80.0
#: Half-width of the zero-crossing dead zone, relative to the clip's peak (-60 dB).
ZCR_DEAD_ZONE = 1e-3

#: Frame descriptors of :func:`spectral_frames`, in column order (before the contrast bands).
SPECTRAL_DESCRIPTORS = (
    "centroid", "bandwidth", "rolloff", "flatness", "flux", "slope", "alpha_ratio",
    "hammarberg", "zcr", "rms_db",
)


def _band_edges(sr, n_fft, n_bands, fmin=200.0):
    """FFT-bin edges of octave bands above ``fmin`` for spectral contrast (librosa's layout)."""
    freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    octaves = np.concatenate(([0.0], fmin * 2.0 ** np.arange(n_bands)))
    edges = [np.searchsorted(freqs, f) for f in octaves] + [len(freqs)]
    return [(lo, max(hi, lo + 1)) for lo, hi in zip(edges[:-1], edges[1:])]


def _contrast(power_t, sr, n_fft, n_bands, floor, quantile=0.02):
    """Peak-to-valley ratio (dB) of each octave band, per frame (librosa's definition),
    ``(n_frames, n_bands + 1)``.

    ``power_t`` is ``(n_bins, n_frames)``, float32: minima, maxima and sorts pick the same
    values as in float64 at half the memory traffic, and means of picked values run in
    float64. The ratios of all bands are taken in one vectorised pass.
    """
    edges = _band_edges(sr, n_fft, n_bands)
    peak = np.empty((len(edges), power_t.shape[1]))
    valley = np.empty_like(peak)
    for i, (lo, hi) in enumerate(edges):
        band = power_t[lo:hi]
        width = band.shape[0]
        k = max(1, int(round(quantile * width)))
        if k == 1:  # the usual case (bands under 75 bins): the mean of one bin is min / max
            valley[i] = band.min(axis=0)
            peak[i] = band.max(axis=0)
        else:
            # Each frame's bins sorted as a contiguous row: numpy's SIMD sort along the last
            # axis, faster than sorting down the strided columns (and than a partition).
            parts = np.sort(band.T, axis=1)
            valley[i] = parts[:, :k].mean(axis=1, dtype=np.float64)
            peak[i] = parts[:, width - k :].mean(axis=1, dtype=np.float64)
    # Peaks and valleys floored at the clip's own floor (see _clip_floor), not at an
    # absolute amin: an empty band's valley is then the same for exact zeros and for a
    # faint hiss, and the contrast does not change with the clip's gain.
    np.maximum(peak, floor, out=peak)
    np.maximum(valley, floor, out=valley)
    return (10.0 * np.log10(np.divide(peak, valley, out=peak))).T


def _flux(magnitude_t, counts):
    """L2 change of the sum-normalised magnitude spectrum from the previous frame of the clip.

    ``magnitude_t`` is float32 ``(n_bins, n_frames)``, a temporary that is normalised in
    place; the normalising sums are float64, the elementwise work float32 (the flux is a
    small difference; 1e-6 relative is ample).
    """
    scale = (1.0 / (magnitude_t.sum(axis=0, dtype=np.float64) + _EPS)).astype(np.float32)
    norm = np.multiply(magnitude_t, scale, out=magnitude_t)  # the caller's temporary
    step = norm[:, 1:] - norm[:, :-1]
    diff = np.zeros(norm.shape[1])
    diff[1:] = np.sqrt(np.einsum("ij,ij->j", step, step))
    diff[segment_starts(counts)] = 0.0  # a clip's first frame has no predecessor
    return diff


def _span(mask):
    """The contiguous run of True in ``mask`` as a slice (a view, where a mask would copy)."""
    index = np.flatnonzero(mask)
    return slice(int(index[0]), int(index[-1]) + 1) if len(index) else slice(0, 0)


def _waveform_frame_stats(clips, counts, *, n_fft, hop_length):
    """Zero-crossing rate and RMS (dB) of every centred frame, from block sums per clip.

    The frames overlap ``n_fft / hop_length`` times, so they are never materialised: each
    clip is cut into blocks of ``gcd(n_fft, hop_length)`` samples (32 for the defaults), every
    frame is a run of whole blocks, and a frame's value is a difference of running sums over
    the block totals. Summing blocks (vectorised) and then a running sum of a thirty-second
    as many values costs less than a running sum over every sample. Crossings are counted
    exactly (integers); energies are float64 sums of the squared samples (exact squares).
    """
    block = math.gcd(n_fft, hop_length)
    blocks_per_hop, blocks_per_frame = hop_length // block, n_fft // block
    zcr = np.empty(int(counts.sum()))
    energy = np.empty(int(counts.sum()))
    pad, start = n_fft // 2, 0
    for clip, count in zip(clips, counts):
        n_blocks = -(-(len(clip) + 2 * pad) // block)
        padded = np.zeros(n_blocks * block)  # centred, zeros to a whole block, float64
        padded[pad : pad + len(clip)] = clip
        first = np.arange(count) * blocks_per_hop  # each frame's first block
        rows = padded.reshape(n_blocks, block)
        sums = np.zeros(n_blocks + 1)
        # A dot product per block row: faster than reduceat over the squares.
        np.cumsum(row_dot(rows, rows), out=sums[1:])
        energy[start : start + count] = sums[first + blocks_per_frame] - sums[first]
        # change[i]: a sign change between samples i - 1 and i. A frame from sample s counts
        # the changes at s + 1 ... s + n_fft - 1: its blocks' total less the one at s.
        # Samples within ZCR_DEAD_ZONE of the clip's peak count as non-negative: a faint
        # hiss around zero (dither, or the padding of a recording) then crosses nothing,
        # where it would otherwise fill a frame beside it with crossings.
        peak = float(np.abs(clip).max()) if len(clip) else 0.0
        signs = padded < -ZCR_DEAD_ZONE * peak
        change = np.zeros(len(padded), dtype=bool)
        np.not_equal(signs[1:], signs[:-1], out=change[1:])
        changes = np.zeros(n_blocks + 1, dtype=np.int64)
        np.cumsum(_block_counts(change, block), out=changes[1:])
        zcr[start : start + count] = (changes[first + blocks_per_frame] - changes[first]
                                      - change[first * block])
        start += count
    rms_db = 10.0 * np.log10(np.maximum(energy, 0.0) / n_fft + _EPS)
    return zcr / (n_fft - 1), rms_db


def _block_counts(flags, block):
    """Number of True values in each run of ``block`` flags (``len(flags)`` a multiple)."""
    if block % 8 == 0 and hasattr(np, "bitwise_count"):  # numpy >= 2.0
        # Eight flags a byte, then the set bits of each block's bytes: faster than a
        # reduceat over the flags, and the same integers.
        bits, width = np.packbits(flags), block // 8
        if width in (1, 2, 4, 8):  # one unsigned integer per block
            return np.bitwise_count(bits.view(f"u{width}"))
        return np.bitwise_count(bits).reshape(-1, width).sum(axis=1, dtype=np.int64)
    return np.add.reduceat(flags, np.arange(0, len(flags), block), dtype=np.int64)


def spectral_frames(clips, *, sr, n_fft=512, hop_length=160, win_length=None, rolloff=0.85,
                    n_bands=6):
    """Spectral descriptors of every frame of every clip, stacked, and the frame counts.

    Columns are ``SPECTRAL_DESCRIPTORS`` followed by ``n_bands + 1`` contrast bands:
    centroid and bandwidth (Hz), roll-off frequency (Hz), flatness (geometric / arithmetic mean
    power), flux, slope of the log-power spectrum up to 5 kHz (dB/kHz), alpha ratio (dB, energy
    50-1000 Hz over 1-5 kHz), Hammarberg index (dB, peak 0-2 kHz over 2-5 kHz), zero-crossing
    rate, and frame RMS (dB).
    """
    power32_t, counts = clip_power_spectrum(clips, n_fft=n_fft, hop_length=hop_length,
                                            win_length=win_length)
    # Bins along the first axis, frames along the second: every reduction over bins then
    # adds whole rows of frames in a fixed order, which is vectorised (faster than short
    # reductions along rows) and makes no value depend on the frame's neighbours, its memory
    # alignment or its batch. Sums run in float64; the elementwise square roots and logarithms
    # in float32 (SIMD, much cheaper than float64 logs, to float32 precision: 1e-7 relative).
    power = power32_t.astype(np.float64)
    freqs = np.linspace(0, sr / 2, power.shape[0])
    total = power.sum(axis=0) + _EPS
    centroid = np.einsum("j,ji->i", freqs, power) / total
    second = np.einsum("j,ji->i", freqs * freqs, power) / total
    bandwidth = np.sqrt(np.maximum(second - centroid**2, 0.0))
    alpha = _band_ratio_db(power, freqs, (50, 1000), (1000, 5000), np.sum)
    hammarberg = _band_ratio_db(power, freqs, (0, 2000), (2000, 5000), np.max)
    roll = freqs[_rolloff_bins(power, rolloff)]
    log_power = power32_t + np.float32(_EPS)
    np.log(log_power, out=log_power)
    # librosa's rule: every bin floored at amin (_EPS) in both means, so the ratio is a
    # geometric over an arithmetic mean of the same values, at most 1, and 1 for a silent
    # frame (dividing by the unfloored mean gave n_bins there).
    arithmetic = (total - _EPS) / len(freqs) + _EPS
    flatness = np.minimum(np.exp(log_power.mean(axis=0, dtype=np.float64)) / arithmetic, 1.0)
    flux = _flux(np.sqrt(power32_t), counts)
    slope = _log_spectral_slope(log_power, freqs)
    zcr, rms_db = _waveform_frame_stats(clips, counts, n_fft=n_fft, hop_length=hop_length)
    columns = [centroid, bandwidth, roll, flatness, flux, slope, alpha, hammarberg, zcr, rms_db]
    contrast = _contrast(power32_t, sr, n_fft, n_bands, _clip_floor(power32_t, counts))
    return np.column_stack(columns + [contrast]), counts


def _clip_floor(power_t, counts):
    """Per frame, its clip's peak bin power less ``FLOOR_DB``.

    Relative to the clip, as MFCC's ``top_db`` is, with no absolute floor above it (an amin
    of 1e-10 would bind for quiet clips and make them differ from the same clip louder);
    ``_TINY`` only keeps an all-zero clip's ratios at 0 dB.
    """
    frame_peaks = power_t.max(axis=0).astype(np.float64)
    clip_peaks = np.maximum.reduceat(frame_peaks, segment_starts(counts))
    return np.maximum(np.repeat(clip_peaks * 10.0 ** (-FLOOR_DB / 10.0), counts), _TINY)


def _rolloff_bins(power_t, fraction, block=16):
    """Per frame, the first bin at which the cumulative power reaches ``fraction`` of the
    frame's total (librosa's roll-off), ``power_t`` being ``(n_bins, n_frames)``.

    Two levels instead of a running sum over every bin: the cumulative sums of blocks of
    ``block`` bins locate each frame's block, and a running sum over that block's bins
    (gathered per frame) finds the bin. Both levels add in float64. A full running sum (one
    row addition per bin, 256 per chunk at the defaults) was a large share of the spectral
    descriptors' time.
    """
    n_bins, n_frames = power_t.shape
    whole = n_bins // block
    sums = np.empty((-(-n_bins // block), n_frames))
    # Whole blocks summed as a reshaped axis: faster than np.add.reduceat along bins.
    np.sum(power_t[: whole * block].reshape(whole, block, n_frames), axis=1,
           dtype=np.float64, out=sums[:whole])
    if n_bins % block:
        np.sum(power_t[whole * block :], axis=0, dtype=np.float64, out=sums[whole])
    cumulative = running_sum(sums, out=sums)
    threshold = fraction * cumulative[-1]
    # The cumulative sums never decrease: a frame's block is the count of blocks below it.
    found = np.count_nonzero(cumulative < threshold, axis=0)
    frames = np.arange(n_frames)
    before = np.where(found > 0, cumulative[np.maximum(found - 1, 0), frames], 0.0)
    bins = np.minimum(found * block + np.arange(block)[:, None], n_bins - 1)
    within = running_sum(power_t[bins, frames].astype(np.float64, copy=False))
    within += before
    return found * block + np.count_nonzero(within < threshold, axis=0)


def _log_spectral_slope(log_power_t, freqs, fmax=5000.0):
    keep = _span(freqs <= fmax)
    f = freqs[keep] / 1000.0
    f_centred = f - f.mean()
    weights = f_centred * (10.0 / np.log(10.0)) / np.sum(f_centred**2)
    return np.einsum("j,ji->i", weights, log_power_t[keep].astype(np.float64))


def _band_ratio_db(power_t, freqs, low, high, reduce):
    lo = _span((freqs >= low[0]) & (freqs < low[1]))
    hi = _span((freqs >= high[0]) & (freqs < high[1]))
    return 10.0 * np.log10((reduce(power_t[lo], axis=0) + _EPS) /
                           (reduce(power_t[hi], axis=0) + _EPS))


def spectral(clips, *, sr=16000, n_fft=512, hop_length=160, win_length=None, rolloff=0.85,
             n_bands=6):
    """Spectral descriptors of each clip, as a list of ``(n_frames_i, n_descriptors)`` arrays.

    See :func:`spectral_frames` for the columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import spectral
    >>> t = np.arange(16000) / 16000
    >>> frames = spectral([np.sin(2 * np.pi * 1000 * t).astype(np.float32)])[0]
    >>> round(float(np.median(frames[:, 0])))  # centroid of a 1 kHz tone, in Hz
    1000
    """
    clips = check_clips(clips)
    return frames_per_clip(spectral_frames, clips, iter_chunks(clips), sr=sr, n_fft=n_fft,
                           hop_length=hop_length, win_length=win_length,
                           rolloff=rolloff, n_bands=n_bands)


class SpectralExtractor(_PooledFrameExtractor):
    """Pooled spectral shape descriptors: centroid, bandwidth, roll-off, flatness, flux,
    slope, alpha ratio, Hammarberg index, contrast, zero-crossing rate and RMS energy.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    n_fft : int, default=512
        FFT size in samples.
    win_length : int or None, default=400
        Window length in samples, centred in ``n_fft``.
    hop_length : int, default=160
        Samples between frames.
    n_bands : int, default=6
        Octave bands of spectral contrast above 200 Hz (plus the band below).
    deltas : {0, 1, 2}, default=1
        Add deltas (1) and delta-deltas (2) before pooling.
    functionals : {"basic", "standard", "full"} or list of str, default="standard"
        Statistics taken over each clip's frames.
    pooling : {"stats", None}, default="stats"
        ``"stats"``: functionals per clip; None: NaN-padded frame sequences.
    speech_only : bool, "edges" or "audible", default=True
        Pool (or keep as sequences) only the frames that hold speech, by the clip's own
        voice-activity mask (:func:`sklearn_ser.features.speech_blocks`: energy within 40 dB
        of the clip's loudest 10 ms; digital silence never counts). Added silence or padding
        then moves the features little. A clip without speech falls back
        to all its frames. ``"edges"`` keeps every frame from the first to the last speech
        frame (the silence around the utterance goes, its pauses stay); ``"audible"`` every
        frame but those of exact digital silence (padding, gaps), natural silence included.
        False uses every frame.
    max_frames : int or None, default=None
        Frames per sequence when ``pooling=None``; None takes the longest training clip.
    memory : str, joblib.Memory or None, default=None
        Cache of the extracted features on disk, keyed on the clips and the parameters: a grid
        search or repeated cross-validation then extracts each distinct set of clips once, in
        ``fit`` and in ``predict`` alike. None caches nothing.
    n_jobs : int or None, default=None
        Chunks of clips extracted in parallel through joblib (-1: all cores; the active joblib
        backend decides where, so a Dask or Ray backend spreads them over a cluster). None
        means 1 unless in a ``joblib.parallel_config`` context.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Output column names such as ``spectral_centroid_mean`` or ``spectral_contrast2_std``.
    n_features_out_ : int
        Number of output columns.
    max_frames_ : int
        Frames per output sequence; set only when ``pooling=None``.

    Notes
    -----
    ``n_features_in_`` is not defined for waveform input.
    """

    _parameter_constraints = {
        **_PooledFrameExtractor._parameter_constraints,
        "n_fft": [Interval(Integral, 16, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_bands": [Interval(Integral, 1, 10, closed="both")],
    }

    def __init__(
        self,
        *,
        sr=16000,
        n_fft=512,
        win_length=400,
        hop_length=160,
        n_bands=6,
        deltas=1,
        functionals="standard",
        pooling="stats",
        speech_only=True,
        max_frames=None,
        memory=None,
        n_jobs=None,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.n_bands = n_bands
        self.deltas = deltas
        self.functionals = functionals
        self.pooling = pooling
        self.speech_only = speech_only
        self.max_frames = max_frames
        self.memory = memory
        self.n_jobs = n_jobs

    def _check_parameters(self):
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(
                f"SpectralExtractor: win_length={self.win_length} exceeds n_fft={self.n_fft}."
            )

    def _frame_length(self):
        return self.n_fft

    def _coefficient_names(self):
        names = [f"spectral_{d}" for d in SPECTRAL_DESCRIPTORS]
        return names + [f"spectral_contrast{k}" for k in range(self.n_bands + 1)]

    def _frame_features(self, clips):
        return spectral_frames(clips, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                               win_length=self.win_length, n_bands=self.n_bands)
