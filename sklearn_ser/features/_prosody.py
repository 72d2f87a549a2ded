"""Prosody and voice quality: F0, voicing, energy, jitter, shimmer, HNR and speaking rate.

The pitch tracker is YIN (de Cheveigne & Kawahara, 2002) run over all frames of all clips at
once: one FFT cross-correlation per frame gives the difference function at every lag, and the
cumulative-mean normalisation, threshold search and parabolic refinement are array operations.
No per-frame loop and no Viterbi decoding (pYIN is far too slow for a default feature).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.fft
import soxr

from .._validation import check_clips
from ..exceptions import AudioWarning
from ..utils._compat import Interval
from ._activity import select_frames, speech_span_mask
from ._base import _PooledFrameExtractor
from ._engine import chunked_frames
from ._framing import (
    _index_list,
    frame_counts,
    iter_chunks,
    frame_view,
    pad_clip,
    running_sum,
    segment_ids,
    segment_starts,
    split_frames,
    windowed_frames,
)
from ._pooling import deltas as frame_deltas
from ._pooling import pad_sequences, pool

_EPS = 1e-10
#: Per-frame contours of :func:`prosody_frames`, in column order.
CONTOURS = ("f0", "voiced", "periodicity", "loudness", "hnr")
#: Clip-level measures appended after the contour functionals.
# Contours pooled over voiced frames, then over all frames (column indices into CONTOURS order).
_POOLED_GROUPS = (("f0", "hnr"), ("loudness", "periodicity"))
CLIP_MEASURES = (
    "voiced_fraction", "jitter_local", "shimmer_local_db", "voiced_segments_per_s",
    "mean_voiced_segment_s", "pause_fraction",
)


def yin_frames(frames, *, sr, fmin, fmax, window, lag_energy, threshold=0.15):
    """YIN pitch of each frame.

    Parameters
    ----------
    frames : ndarray of shape (n_frames, n_columns)
        Time-domain frames of at least ``window + ceil(sr / fmin) + 1`` samples (columns past
        those may hold zero padding).
    sr : int
        Sample rate.
    fmin, fmax : float
        Pitch search range in Hz.
    window : int
        Integration window of the difference function, in samples.
    lag_energy : ndarray of shape (ceil(sr / fmin) + 1, n_frames)
        Energy of the ``window`` samples starting at each lag of each frame, as
        :func:`lag_energies` gives it from the clips.
    threshold : float, default=0.15
        Absolute threshold on the cumulative-mean-normalised difference.

    Returns
    -------
    f0 : ndarray of shape (n_frames,)
        Pitch estimate in Hz (also for unvoiced frames; use ``aperiodicity`` to gate it).
    aperiodicity : ndarray of shape (n_frames,)
        Normalised difference at the chosen lag: near 0 for periodic frames.
    correlation : ndarray of shape (n_frames,)
        Normalised autocorrelation at the chosen lag, for the harmonics-to-noise ratio.
    """
    tau_min = max(2, int(np.floor(sr / fmax)))
    tau_max = int(np.ceil(sr / fmin))
    # float32 makes the FFT cheaper; the difference function keeps ~6 significant digits,
    # ample for periodic frames (where it is ~1% of the energy).
    x = frames.astype(np.float32, copy=False)
    n = scipy.fft.next_fast_len(x.shape[1], real=True)
    head = np.zeros((len(x), n), dtype=np.float32)  # zero-padded in place: pocketfft's own
    head[:, :window] = x[:, :window]                # padding path costs more than the FFT
    # The transforms run down the columns of the transposed frames: the same cost as along
    # rows, and the correlation comes out with lags along the first axis and frames along
    # the second, the layout of everything below, with no transposed copy. The running
    # sums over lags (cumulative-mean normalisation) then add whole rows, vectorised across
    # frames, instead of short sequential scans along each frame. Everything stays float32
    # like the FFT: the running sum adds ~1e-5 relative error at most, below the FFT's own
    # rounding of the difference function.
    spectrum = scipy.fft.rfft(head.T, axis=0)
    np.conjugate(spectrum, out=spectrum)
    spectrum *= scipy.fft.rfft(x.T, n=n, axis=0)
    r = scipy.fft.irfft(spectrum, n=n, axis=0)[: tau_max + 1]
    energy_tau = lag_energy
    energy0 = energy_tau[0]
    diff = energy_tau + energy0
    diff -= 2.0 * r
    np.maximum(diff, 0.0, out=diff)
    lags = np.arange(tau_max + 1, dtype=np.float32)[:, None]
    cmnd = np.ones_like(diff)
    running = running_sum(diff[1:])
    np.maximum(running, np.float32(_EPS), out=running)
    np.divide(diff[1:] * lags[1:], running, out=cmnd[1:])
    tau = _first_dip(cmnd, tau_min, tau_max, threshold)
    cols = np.arange(len(x))
    aperiodicity = cmnd[tau, cols].astype(np.float64)
    refined = tau + _parabolic_offset(cmnd, cols, tau, tau_max)
    correlation = r[tau, cols] / np.sqrt(
        energy0.astype(np.float64) * energy_tau[tau, cols] + _EPS)
    return sr / refined, aperiodicity, np.clip(correlation, 0.0, 1.0)


def lag_energies(clips, *, frame_length, hop_length, window, n_lags):
    """Energy of the ``window`` samples at each of ``n_lags`` lags of every centred frame.

    Frames are those of :func:`windowed_frames` with ``n_fft=frame_length``, stacked. The
    frames overlap, so one float64 running sum of each clip's squared samples gives every
    window energy as a difference, and the energies of a frame at consecutive lags are
    consecutive values of that difference: a strided view, copied once into the
    ``(n_lags, n_frames)`` layout of the YIN arrays. Far cheaper than summing inside each
    frame, and exact to float64 rounding before the cast to float32.

    Returns
    -------
    ndarray of shape (n_lags, n_frames_total), float32
    """
    pad = frame_length // 2
    counts = frame_counts([len(c) for c in clips], n_fft=frame_length, hop_length=hop_length)
    out = np.empty((n_lags, int(counts.sum())), dtype=np.float32)
    start = 0
    for clip, count in zip(clips, counts):
        padded = pad_clip(clip, pad, np.float64)
        sums = np.zeros(len(padded) + 1)
        np.cumsum(padded * padded, out=sums[1:])
        energy = sums[window:] - sums[:-window]  # energy[k]: the window starting at k
        # Frame f at lag t is energy[f * hop + t]: frames of n_lags values, transposed.
        out[:, start : start + count] = frame_view(energy, n_lags, hop_length, int(count)).T
        start += count
    return out


def _first_dip(cmnd, tau_min, tau_max, threshold):
    """First local minimum below the threshold in [tau_min, tau_max), else the global minimum.

    ``cmnd`` is ``(n_lags, n_frames)``.
    """
    d = cmnd[tau_min - 1 : tau_max + 1]
    centre = d[1:-1]
    is_dip = (centre < threshold) & (centre <= d[:-2]) & (centre <= d[2:])
    has_dip = is_dip.any(axis=0)
    first = np.argmax(is_dip, axis=0)
    best = np.argmin(centre, axis=0)
    return tau_min + np.where(has_dip, first, best)


def _parabolic_offset(cmnd, cols, tau, tau_max):
    inner = (tau > 1) & (tau < tau_max)
    t = np.clip(tau, 1, tau_max - 1)
    left, mid, right = (cmnd[t + k, cols].astype(np.float64) for k in (-1, 0, 1))
    curvature = left - 2 * mid + right
    offset = np.divide(0.5 * (left - right), curvature, out=np.zeros_like(curvature),
                       where=np.abs(curvature) > _EPS)
    return np.where(inner, np.clip(offset, -0.5, 0.5), 0.0)


def decimation_factor(sr, pitch_sr, hop_length, fmax):
    """Integer factor by which :func:`prosody_frames` decimates clips at ``sr``.

    The largest that keeps at least ``pitch_sr`` (2 for 16 kHz and the default 8 kHz), or 1
    (no decimation) where ``pitch_sr`` is None, the hop is not a whole number of decimated
    samples, or ``fmax`` would not stay well below the decimated Nyquist frequency.
    """
    if pitch_sr is None:
        return 1
    factor = max(1, int(sr // pitch_sr))
    if hop_length % factor or fmax >= 0.4 * sr / factor:
        return 1
    return factor


def _decimated(clips, sr, factor):
    """Clips low-passed and decimated by ``factor`` (soxr, band-limited), ``len // factor``
    samples each, so that frame counts at the lower rate equal those at ``sr``."""
    out = []
    for clip in clips:
        low = soxr.resample(np.asarray(clip, dtype=np.float32), sr, sr / factor)
        size = len(clip) // factor
        out.append(low[:size] if len(low) >= size else np.pad(low, (0, size - len(low))))
    return out


def prosody_frames(clips, *, sr, fmin=60.0, fmax=500.0, hop_length=320, threshold=0.15,
                   voicing_threshold=0.3, silence_db=40.0, pitch_sr=8000):
    """Per-frame prosodic contours of every clip, stacked, and the frame counts.

    Columns are ``CONTOURS``: f0 (semitones above 27.5 Hz, 0 where unvoiced), voiced (0/1),
    periodicity (1 - YIN aperiodicity), loudness (frame RMS in dB) and hnr (harmonics-to-noise
    ratio in dB from the normalised autocorrelation at the pitch lag, 0 where unvoiced).
    A frame is voiced when its aperiodicity is below ``voicing_threshold`` and its loudness is
    within ``silence_db`` of the clip's loudest frame.

    Everything runs on the clips decimated to about ``pitch_sr`` (see
    :func:`decimation_factor`): F0 up to ``fmax`` lives far below 4 kHz, and at half the rate
    the tracker's frames, FFTs and lags are half as long, so the contours cost much less
    (benchmarks/README.md, "Measurements behind the feature kernels"). The frames keep
    their times and count: ``1 + n_samples // hop_length``.
    """
    factor = decimation_factor(sr, pitch_sr, hop_length, fmax)
    if factor > 1:
        clips = _decimated(clips, sr, factor)
        sr, hop_length = sr / factor, hop_length // factor
    window = max(int(np.ceil(sr / fmin)), int(0.025 * sr))
    # Even, so that the centred frames number 1 + n_samples // hop_length at any rate.
    frame_length = window + int(np.ceil(sr / fmin)) + 1
    frame_length += frame_length % 2
    # Frames are cut straight into rows of the FFT length, zeros after the frame (a window of
    # ones multiplies exactly): the FFTs then need no padded copy.
    frames, counts = windowed_frames(
        clips, n_fft=frame_length, hop_length=hop_length, window=np.ones(frame_length),
        size=scipy.fft.next_fast_len(frame_length, real=True))
    lag_energy = lag_energies(clips, frame_length=frame_length, hop_length=hop_length,
                              window=window, n_lags=int(np.ceil(sr / fmin)) + 1)
    f0, aperiodicity, correlation = yin_frames(
        frames, sr=sr, fmin=fmin, fmax=fmax, window=window, threshold=threshold,
        lag_energy=lag_energy,
    )
    # Loudness is the energy of the frame's centred window, which is the lag energy at the
    # centre's offset: no pass over the frames.
    centre = lag_energy[(frame_length - window) // 2].astype(np.float64)
    loudness = 10.0 * np.log10(np.maximum(centre, 0.0) / window + _EPS)
    peak = np.maximum.reduceat(loudness, segment_starts(counts))[segment_ids(counts)]
    voiced = (aperiodicity < voicing_threshold) & (loudness > peak - silence_db)
    voiced &= loudness > 10.0 * np.log10(_EPS) + 10.0  # digital silence is never voiced
    semitones = np.where(voiced, 12.0 * np.log2(np.maximum(f0, _EPS) / 27.5), 0.0)
    hnr = np.where(voiced, 10.0 * np.log10((correlation + _EPS) / (1.0 - correlation + 1e-3)),
                   0.0)
    columns = [semitones, voiced.astype(np.float64), 1.0 - np.minimum(aperiodicity, 1.0),
               loudness, hnr]
    return np.column_stack(columns), counts


def pitch(clips, *, sr=16000, fmin=60.0, fmax=500.0, hop_length=160, pitch_sr=8000):
    """F0 contour of each clip in Hz (NaN where unvoiced), as a list of 1-D arrays.

    YIN on the clips decimated to about ``pitch_sr`` (None: at ``sr``), one value every
    ``hop_length`` samples of the original rate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import pitch
    >>> t = np.arange(16000) / 16000
    >>> f0 = pitch([np.sin(2 * np.pi * 150 * t).astype(np.float32)])[0]
    >>> round(float(np.nanmedian(f0)))
    150
    """
    clips = check_clips(clips)
    values, counts = chunked_frames(prosody_frames, clips, iter_chunks(clips), sr=sr,
                                    fmin=fmin, fmax=fmax, hop_length=hop_length,
                                    pitch_sr=pitch_sr)
    hz = np.where(values[:, 1] > 0, 27.5 * 2.0 ** (values[:, 0] / 12.0), np.nan)
    return split_frames(hz, counts)


def _clip_measures(values, counts, hop_seconds):
    """Voice-quality and timing measures per clip from the stacked contours."""
    out = np.zeros((len(counts), len(CLIP_MEASURES)))
    for i, (start, count) in enumerate(zip(segment_starts(counts), counts)):
        clip = values[start : start + count]
        voiced = clip[:, 1] > 0
        onsets = np.count_nonzero(np.diff(np.concatenate(([0], voiced.astype(int)))) == 1)
        duration = count * hop_seconds
        out[i, 0] = voiced.mean()
        out[i, 3] = onsets / duration
        out[i, 4] = voiced.sum() * hop_seconds / max(onsets, 1)
        out[i, 5] = np.mean(clip[:, 3] < clip[:, 3].max() - 30.0)
        pairs = voiced[1:] & voiced[:-1]
        if pairs.any():
            # Frame-level approximations of the cycle-level measures.
            period = 1.0 / (27.5 * 2.0 ** (clip[:, 0] / 12.0))
            out[i, 1] = np.mean(np.abs(np.diff(period))[pairs]) / np.mean(period[voiced])
            out[i, 2] = np.mean(np.abs(np.diff(clip[:, 3]))[pairs])
    return out


class ProsodyExtractor(_PooledFrameExtractor):
    """Pooled prosody and voice quality: F0, voicing, energy, HNR, jitter, shimmer, rate.

    F0 comes from a batched YIN tracker. Pitch and HNR functionals are taken over voiced frames
    only, loudness and periodicity over all frames. Clip-level measures follow: voiced
    fraction, local jitter and shimmer (frame-level approximations of Praat's cycle-level
    measures), voiced segments per second (a speaking-rate proxy), mean voiced segment
    duration and pause fraction.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    fmin, fmax : float, default=60.0, 500.0
        Pitch search range in Hz.
    hop_length : int, default=320
        Samples between frames (20 ms at 16 kHz: prosodic contours change slowly, and the
        pitch tracker is the costliest feature).
    threshold : float, default=0.15
        YIN's absolute threshold.
    voicing_threshold : float, default=0.3
        Frames with a YIN aperiodicity below this (and not silent) are voiced.
    pitch_sr : int or None, default=8000
        The contours are computed on the clips decimated (soxr, band-limited) by the largest
        integer factor that keeps at least this rate: 2 for 16 kHz clips. F0 up to ``fmax``
        needs only the low band, and the extractor runs much faster. None computes them
        at ``sr``. Loudness is then that of the band below ``pitch_sr / 2``.
    deltas : {0, 1, 2}, default=1
        Add deltas of the contours before pooling.
    functionals : {"basic", "standard", "full"} or list of str, default="standard"
        Statistics taken over each contour.
    pooling : {"stats", None}, default="stats"
        ``"stats"``: functionals per clip; None: NaN-padded contour sequences.
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
        Output names such as ``f0_mean``, ``loudness_d1_std`` or ``jitter_local``.
    n_features_out_ : int
        Number of output columns.
    max_frames_ : int
        Frames per output sequence; set only when ``pooling=None``.

    Notes
    -----
    A clip without any voiced frame (silence, noise) gets pitch and HNR features of 0 and an
    ``AudioWarning`` naming it, never NaN. ``n_features_in_`` is not defined for waveforms.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import ProsodyExtractor
    >>> t = np.arange(16000) / 16000
    >>> tone = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    >>> est = ProsodyExtractor(functionals=["mean"], deltas=0).fit([tone])
    >>> X = est.transform([tone])
    >>> f0_mean = X[0, list(est.get_feature_names_out()).index("f0_mean")]
    >>> round(float(27.5 * 2 ** (f0_mean / 12)))
    200
    """

    _parameter_constraints = {
        **_PooledFrameExtractor._parameter_constraints,
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "threshold": [Interval(Real, 0, 1, closed="neither")],
        "voicing_threshold": [Interval(Real, 0, 1, closed="right")],
        "pitch_sr": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        sr=16000,
        fmin=60.0,
        fmax=500.0,
        hop_length=320,
        threshold=0.15,
        voicing_threshold=0.3,
        pitch_sr=8000,
        deltas=1,
        functionals="standard",
        pooling="stats",
        speech_only=True,
        max_frames=None,
        memory=None,
        n_jobs=None,
    ):
        self.sr = sr
        self.fmin = fmin
        self.fmax = fmax
        self.hop_length = hop_length
        self.threshold = threshold
        self.voicing_threshold = voicing_threshold
        self.pitch_sr = pitch_sr
        self.deltas = deltas
        self.functionals = functionals
        self.pooling = pooling
        self.speech_only = speech_only
        self.max_frames = max_frames
        self.memory = memory
        self.n_jobs = n_jobs

    def _check_parameters(self):
        if not self.fmin < self.fmax < self.sr / 2:
            raise ValueError(
                f"ProsodyExtractor: need fmin < fmax < sr / 2; got fmin={self.fmin}, "
                f"fmax={self.fmax}, sr={self.sr}."
            )

    def _frame_length(self):
        return max(int(np.ceil(self.sr / self.fmin)), int(0.025 * self.sr))

    def _coefficient_names(self):
        return list(CONTOURS)

    def _build_feature_names(self):
        if self.pooling is None:
            return super()._build_feature_names()
        names = []
        for suffix in [""] + [f"_d{k}" for k in range(1, self.deltas + 1)]:
            for group in _POOLED_GROUPS:
                names += [f"{c}{suffix}_{func}" for func in self._functionals for c in group]
        return np.asarray(names + list(CLIP_MEASURES), dtype=object)

    def _frame_features(self, clips):
        return prosody_frames(clips, sr=self.sr, fmin=self.fmin, fmax=self.fmax,
                              hop_length=self.hop_length, threshold=self.threshold,
                              voicing_threshold=self.voicing_threshold,
                              pitch_sr=self.pitch_sr)

    def _sequence_chunk(self, clips):
        values, counts = self._speech_frames(clips)
        streams = [values] + [frame_deltas(values, counts, order=k)
                              for k in range(1, self.deltas + 1)]
        return pad_sequences(np.concatenate(streams, axis=1), counts, self.max_frames_)

    def _pooled_chunk(self, clips, offset=0):
        values, counts = self._chunked_frame_features(clips)
        voiced = values[:, 1] > 0
        voiced_counts = np.bincount(segment_ids(counts), weights=voiced,
                                    minlength=len(counts)).astype(np.int64)
        _warn_unvoiced(offset + np.flatnonzero(voiced_counts == 0))
        # Pitch and HNR are pooled over voiced frames (a clip without any gets one row of 0),
        # loudness and periodicity over the speech frames (all frames without speech_only),
        # and the timing measures over the span from the first to the last speech frame, so
        # that silence around the utterance changes none of them.
        tonal = _voiced_stack(values[:, [0, 4]], voiced, counts, voiced_counts)
        level, level_counts = values[:, [3, 2]], counts
        span, span_counts = values, counts
        mask = self._speech_mask(clips, counts)
        if mask is not None:
            level, level_counts = select_frames(level, counts, mask)
            span, span_counts = select_frames(values, counts, speech_span_mask(mask, counts))
        groups = [(tonal, np.maximum(voiced_counts, 1)), (level, level_counts)]
        blocks = []
        for order in range(self.deltas + 1):
            for contours, group_counts in groups:
                level = frame_deltas(contours, group_counts, order=order) if order else contours
                blocks.append(pool(level, group_counts, self._functionals))
        blocks.append(_clip_measures(span, span_counts, self.hop_length / self.sr))
        return np.concatenate(blocks, axis=1)


def _voiced_stack(contours, voiced, counts, voiced_counts):
    """Voiced frames of each clip, stacked; unvoiced clips contribute one row of zeros."""
    pieces = []
    for i, (start, count) in enumerate(zip(segment_starts(counts), counts)):
        if voiced_counts[i]:
            pieces.append(contours[start : start + count][voiced[start : start + count]])
        else:
            pieces.append(np.zeros((1, contours.shape[1])))
    return np.concatenate(pieces, axis=0)


def _warn_unvoiced(indices):
    if len(indices):
        warnings.warn(
            f"{len(indices)} clip(s) have no voiced frame (silence or noise): "
            f"X{_index_list(indices)}. Their pitch and HNR features are set to 0.",
            AudioWarning,
            stacklevel=4,
        )
