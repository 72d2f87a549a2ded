"""Mel-frequency cepstral coefficients on the shared framing kernel."""

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
import scipy.fft
import scipy.sparse

from .._validation import check_clips
from ..utils._compat import Interval
from ._base import _PooledFrameExtractor
from ._engine import frames_per_clip
from ._framing import (
    clip_power_spectrum,
    iter_chunks,
    iter_groups,
    mel_filterbank,
    segment_starts,
)


def log_mel_frames(
    clips, *, sr, n_fft=512, hop_length=160, win_length=None, n_mels=40, fmin=0.0, fmax=None,
    top_db=80.0,
):
    """Log-mel power (dB) of every frame of every clip, stacked.

    Matches ``librosa.power_to_db(librosa.feature.melspectrogram(...))`` with ``ref=1``,
    ``amin=1e-10`` and ``top_db`` applied per clip.

    Returns
    -------
    log_mel : ndarray of shape (n_frames_total, n_mels), float32
    counts : ndarray of shape (n_clips,)
        Frames per clip.
    """
    log_mel_t, counts = _log_mel_by_band(
        clips, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        n_mels=n_mels, fmin=fmin, fmax=fmax, top_db=top_db)
    return np.ascontiguousarray(log_mel_t.T), counts


def _log_mel_by_band(clips, *, sr, n_fft, hop_length, win_length, n_mels, fmin, fmax, top_db):
    """:func:`log_mel_frames` in the spectra's layout, ``(n_mels, n_frames_total)``.

    The spectra and their mel bands are computed chunk by chunk (temporaries that stay in
    cache); the log and each clip's floor then in one pass over all the clips of the call.
    That is a dozen numpy calls per call instead of per chunk: where threads share the GIL,
    every short call is a chance to wait for it.
    """
    band_edges = (float(fmin), None if fmax is None else float(fmax))
    mels, counts = [], []
    for part in iter_chunks(clips):
        power_t, chunk_counts = clip_power_spectrum(
            clips[part], n_fft=n_fft, hop_length=hop_length, win_length=win_length)
        mels.append(_mel_power(power_t, sr, n_fft, n_mels, *band_edges))
        counts.append(chunk_counts)
    mel_t = mels[0] if len(mels) == 1 else np.concatenate(mels, axis=1)
    counts = counts[0] if len(counts) == 1 else np.concatenate(counts)
    np.maximum(mel_t, np.float32(1e-10), out=mel_t)
    log_mel_t = np.log10(mel_t, out=mel_t)
    log_mel_t *= np.float32(10.0)
    if top_db is not None:
        _floor_each_clip(log_mel_t, counts, top_db)
    return log_mel_t, counts


def _floor_each_clip(log_mel_t, counts, top_db):
    """Raise each clip's values to its own peak minus ``top_db``, in place.

    The floor is relative to each clip's peak, never the batch's. The peaks come from one
    reduction over the bands and one per clip over its frames (maxima are exact, so this
    equals a loop that floors clip after clip).
    """
    frame_peaks = log_mel_t.max(axis=0)
    clip_peaks = np.maximum.reduceat(frame_peaks, segment_starts(counts))
    floor = np.repeat(clip_peaks - np.float32(top_db), counts)
    np.maximum(log_mel_t, floor, out=log_mel_t)


@lru_cache(maxsize=16)
def _sparse_mel_filterbank(sr, n_fft, n_mels, fmin, fmax):
    """The mel filterbank as a CSR matrix: each band touches only a few FFT bins."""
    return scipy.sparse.csr_array(mel_filterbank(sr, n_fft, n_mels, fmin, fmax))


def _mel_power(power_t, sr, n_fft, n_mels, fmin, fmax):
    """Mel-band power ``basis @ power_t`` of each frame, ``(n_mels, n_frames)``, float32.

    A sparse product, not BLAS: each frame's bands are accumulated over its bins in a fixed
    order, so a clip's values never depend on how many frames share the call (a float32 BLAS
    product rounds differently with its blocking), and no BLAS thread pool is woken (on a
    loaded machine a threaded GEMM per chunk can stall on its spinning threads). With bins
    along the rows of ``power_t``, each filter weight scales a whole row of frames.
    """
    basis = _sparse_mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    return basis @ power_t


def mfcc_frames(
    clips, *, sr, n_mfcc=20, n_fft=512, hop_length=160, win_length=None, n_mels=40, fmin=0.0,
    fmax=None, lifter=0, top_db=80.0,
):
    """MFCCs of every frame of every clip, stacked ``(n_frames_total, n_mfcc)``, and counts."""
    log_mel_t, counts = _log_mel_by_band(
        clips, sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        n_mels=n_mels, fmin=fmin, fmax=fmax, top_db=top_db,
    )
    coeffs = scipy.fft.dct(log_mel_t, type=2, norm="ortho", axis=0)
    coeffs = np.ascontiguousarray(coeffs[:n_mfcc].T)
    if lifter > 0:
        k = np.arange(1, n_mfcc + 1, dtype=np.float64)
        coeffs = coeffs * (1.0 + (lifter / 2.0) * np.sin(np.pi * k / lifter)).astype(np.float32)
    return coeffs, counts


def mfcc(
    clips, *, sr=16000, n_mfcc=20, n_fft=512, hop_length=160, win_length=None, n_mels=40,
    fmin=0.0, fmax=None, lifter=0, top_db=80.0,
):
    """MFCCs of each clip, as a list of ``(n_frames_i, n_mfcc)`` arrays.

    Parameters
    ----------
    clips : list of ndarray of shape (n_samples_i,)
        Mono clips.
    sr : int, default=16000
        Sample rate of the clips.
    n_mfcc : int, default=20
        Number of coefficients kept after the DCT.
    n_fft : int, default=512
        FFT size in samples.
    hop_length : int, default=160
        Samples between frames (10 ms at 16 kHz).
    win_length : int or None, default=None
        Window length, centred in ``n_fft``; None means ``n_fft``.
    n_mels : int, default=40
        Mel bands.
    fmin, fmax : float, default=0.0, None
        Band edges of the filterbank; ``fmax=None`` means ``sr / 2``.
    lifter : float, default=0
        Cepstral liftering coefficient, as in librosa; 0 disables it.
    top_db : float or None, default=80.0
        Dynamic range kept below each clip's peak, as in ``librosa.power_to_db``.

    Returns
    -------
    list of ndarray of shape (n_frames_i, n_mfcc)
        With matching parameters, ``mfcc([y], ...)[0].T`` equals ``librosa.feature.mfcc``
        up to float32 rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import mfcc
    >>> t = np.arange(16000) / 16000
    >>> mfcc([np.sin(2 * np.pi * 220 * t).astype(np.float32)], n_mfcc=13)[0].shape
    (101, 13)
    """
    clips = check_clips(clips)
    # Groups of chunks go to the kernel threads: mfcc_frames frames them chunk by chunk.
    return frames_per_clip(
        mfcc_frames, clips, iter_groups(clips), sr=sr, n_mfcc=n_mfcc,
        n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_mels=n_mels, fmin=fmin,
        fmax=fmax, lifter=lifter, top_db=top_db,
    )


def _check_spectral_parameters(est):
    """Window and band-edge checks shared by the mel extractors."""
    name = type(est).__name__
    if est.win_length is not None and est.win_length > est.n_fft:
        raise ValueError(
            f"{name}: win_length={est.win_length} exceeds n_fft={est.n_fft}; "
            "raise n_fft or shorten the window."
        )
    nyquist = est.sr / 2
    fmax = nyquist if est.fmax is None else est.fmax
    if not est.fmin < fmax <= nyquist:
        raise ValueError(
            f"{name}: need 0 <= fmin < fmax <= sr / 2 = {nyquist:g} Hz; got "
            f"fmin={est.fmin}, fmax={est.fmax}."
        )


class _MelFrameExtractor(_PooledFrameExtractor):
    """Base of the mel extractors: frames of ``n_fft`` samples, and frame functions that
    compute the spectra chunk by chunk themselves (see :func:`_log_mel_by_band`)."""

    def _frame_length(self):
        return self.n_fft

    def _chunked_frame_features(self, clips):
        # Handed a whole group: the log, floors and DCT then run once per group, not per
        # chunk, while the spectra are still computed a cache-sized chunk at a time.
        return self._frame_features(clips)


class MFCCExtractor(_MelFrameExtractor):
    """Pooled MFCC statistics: one row of functionals per clip.

    Each clip is framed, its MFCCs (and their deltas) computed on the shared batched kernel,
    and the frames pooled into functionals (mean, standard deviation, percentiles, ...).

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    n_mfcc : int, default=20
        Number of cepstral coefficients.
    n_fft : int, default=512
        FFT size in samples.
    win_length : int or None, default=400
        Window length in samples (25 ms at 16 kHz), centred in ``n_fft``.
    hop_length : int, default=160
        Samples between frames (10 ms at 16 kHz).
    n_mels : int, default=40
        Mel bands before the DCT.
    fmin : float, default=0.0
        Lowest filterbank frequency in Hz.
    fmax : float or None, default=None
        Highest filterbank frequency in Hz; None means ``sr / 2``.
    lifter : float, default=0
        Cepstral liftering, as in ``librosa.feature.mfcc``.
    deltas : {0, 1, 2}, default=2
        Add deltas (1) and delta-deltas (2) of the coefficients before pooling.
    functionals : {"basic", "standard", "full"} or list of str, default="standard"
        Statistics taken over each clip's frames: a preset or names from
        ``sklearn_ser.features.FUNCTIONALS``.
    pooling : {"stats", None}, default="stats"
        ``"stats"`` returns functionals, one row per clip; None returns the frame sequences
        ``(n_clips, max_frames_, n_coeffs)``, NaN-padded (see :class:`FrameWise`).
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
        Output column names, ``mfcc{k}[_d{order}]_{functional}``.
    n_features_out_ : int
        Number of output columns (coefficients per frame when ``pooling=None``).
    max_frames_ : int
        Frames per output sequence; set only when ``pooling=None``.

    See Also
    --------
    mfcc : The DSP function this estimator wraps.
    LPCCExtractor : Linear-prediction cepstra pooled the same way.

    Notes
    -----
    The input is waveforms, so ``n_features_in_`` is not defined: a clip's length is not a
    feature count. Each clip's features depend on that clip alone. Silent clips and clips
    shorter than one frame get features with an ``AudioWarning`` naming them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import MFCCExtractor
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (8000, 12000)]
    >>> MFCCExtractor(n_mfcc=13, functionals="basic").fit_transform(clips).shape
    (2, 78)
    """

    _parameter_constraints = {
        **_MelFrameExtractor._parameter_constraints,
        "n_mfcc": [Interval(Integral, 1, None, closed="left")],
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "lifter": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        sr=16000,
        n_mfcc=20,
        n_fft=512,
        win_length=400,
        hop_length=160,
        n_mels=40,
        fmin=0.0,
        fmax=None,
        lifter=0,
        deltas=2,
        functionals="standard",
        pooling="stats",
        speech_only=True,
        max_frames=None,
        memory=None,
        n_jobs=None,
    ):
        self.sr = sr
        self.n_mfcc = n_mfcc
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.lifter = lifter
        self.deltas = deltas
        self.functionals = functionals
        self.pooling = pooling
        self.speech_only = speech_only
        self.max_frames = max_frames
        self.memory = memory
        self.n_jobs = n_jobs

    def _check_parameters(self):
        if self.n_mfcc > self.n_mels:
            raise ValueError(
                f"{type(self).__name__}: n_mfcc={self.n_mfcc} exceeds n_mels={self.n_mels}; the "
                "DCT of n_mels bands has only n_mels coefficients. Lower n_mfcc or raise n_mels."
            )
        _check_spectral_parameters(self)

    def _coefficient_names(self):
        return [f"mfcc{k}" for k in range(self.n_mfcc)]

    def _frame_features(self, clips):
        return mfcc_frames(
            clips, sr=self.sr, n_mfcc=self.n_mfcc, n_fft=self.n_fft, hop_length=self.hop_length,
            win_length=self.win_length, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax,
            lifter=self.lifter,
        )


class LogMelExtractor(_MelFrameExtractor):
    """Log-mel band energies (dB), as frame sequences or pooled statistics.

    The input of the convolutional and recurrent recognisers: with ``pooling=None`` it returns
    NaN-padded sequences ``(n_clips, max_frames_, n_mels)``.

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
    n_mels : int, default=64
        Mel bands.
    fmin : float, default=0.0
        Lowest filterbank frequency in Hz.
    fmax : float or None, default=None
        Highest filterbank frequency in Hz; None means ``sr / 2``.
    top_db : float or None, default=80.0
        Dynamic range kept below each clip's peak.
    deltas : {0, 1, 2}, default=0
        Add deltas (1) and delta-deltas (2) of the bands.
    functionals : {"basic", "standard", "full"} or list of str, default="standard"
        Statistics taken over each clip's frames when ``pooling="stats"``.
    pooling : {"stats", None}, default=None
        None returns NaN-padded frame sequences; ``"stats"`` one row of functionals per clip.
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
        ``logmel{k}`` per band (with ``_d1``/``_d2`` for deltas), and the functional when pooled.
    n_features_out_ : int
        Number of output columns, or of coefficients per frame when ``pooling=None``.
    max_frames_ : int
        Frames per output sequence; set only when ``pooling=None``.

    Notes
    -----
    ``n_features_in_`` is not defined for waveform input.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import LogMelExtractor
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (8000, 16000)]
    >>> seq = LogMelExtractor(n_mels=32).fit_transform(clips)
    >>> seq.shape, int(np.isnan(seq[0, :, 0]).sum())
    ((2, 101, 32), 50)
    """

    _parameter_constraints = {
        **_MelFrameExtractor._parameter_constraints,
        "n_fft": [Interval(Integral, 2, None, closed="left")],
        "win_length": [Interval(Integral, 1, None, closed="left"), None],
        "n_mels": [Interval(Integral, 1, None, closed="left")],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "top_db": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        *,
        sr=16000,
        n_fft=512,
        win_length=400,
        hop_length=160,
        n_mels=64,
        fmin=0.0,
        fmax=None,
        top_db=80.0,
        deltas=0,
        functionals="standard",
        pooling=None,
        speech_only=True,
        max_frames=None,
        memory=None,
        n_jobs=None,
    ):
        self.sr = sr
        self.n_fft = n_fft
        self.win_length = win_length
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.top_db = top_db
        self.deltas = deltas
        self.functionals = functionals
        self.pooling = pooling
        self.speech_only = speech_only
        self.max_frames = max_frames
        self.memory = memory
        self.n_jobs = n_jobs

    def _check_parameters(self):
        _check_spectral_parameters(self)

    def _coefficient_names(self):
        return [f"logmel{k}" for k in range(self.n_mels)]

    def _frame_features(self, clips):
        return log_mel_frames(
            clips, sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
            win_length=self.win_length, n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax,
            top_db=self.top_db,
        )
