"""Linear-prediction cepstral coefficients on the shared framing kernel.

LPC uses the autocorrelation method: each frame's autocorrelation at the ``order + 1`` lags
comes from one row-wise product per lag, then a Levinson-Durbin recursion runs over *all
frames at once* (the loop is over the prediction order, never over frames), and the
LPC-to-cepstrum recursion likewise loops only over coefficients.
"""

from numbers import Integral, Real

import numpy as np

from .._validation import check_clips
from ..utils._compat import Interval
from ._base import _PooledFrameExtractor
from ._engine import chunked_frames, frames_per_clip
from ._framing import (
    analysis_window,
    frame_counts,
    frame_view,
    iter_chunks,
    iter_groups,
    pad_clip,
    row_dot,
)


def levinson_durbin(r, order):
    """LPC coefficients from autocorrelations, for many frames at once.

    Parameters
    ----------
    r : ndarray of shape (n_frames, order + 1) or more columns
        Autocorrelation at lags 0..order of each frame; ``r[:, 0]`` must be positive.
    order : int
        Prediction order p.

    Returns
    -------
    a : ndarray of shape (n_frames, order + 1)
        Prediction-error filter ``A(z) = 1 + a[1] z^-1 + ... + a[p] z^-p``; ``a[:, 1:]`` solves
        the Toeplitz system ``R a = -r[1:]`` (what ``scipy.linalg.solve_toeplitz`` returns).
    error : ndarray of shape (n_frames,)
        Prediction-error power of each frame.
    """
    # Coefficients along the first axis, frames along the second: each step of the
    # recursion then works on whole contiguous rows, vectorised across frames.
    r = np.ascontiguousarray(np.asarray(r, dtype=np.float64)[:, : order + 1].T)
    a = np.zeros((order + 1, r.shape[1]))
    a[0] = 1.0
    error = r[0].copy()
    for i in range(1, order + 1):
        # Reflection coefficient from the current predictor, then the order-i update.
        acc = r[i] + np.einsum("ji,ji->i", a[1:i], r[i - 1 : 0 : -1])
        k = -acc / error
        a[1:i] = a[1:i] + k * a[i - 1 : 0 : -1]
        a[i] = k
        error = error * (1.0 - k * k)
    return a.T, error


def lpc_to_cepstrum(a, error, n_ceps):
    """Cepstrum of the all-pole model ``sqrt(error) / A(z)``, for many frames at once.

    Parameters
    ----------
    a : ndarray of shape (n_frames, order + 1)
        Prediction-error filters from :func:`levinson_durbin`.
    error : ndarray of shape (n_frames,)
        Prediction-error powers.
    n_ceps : int
        Number of coefficients returned, c0 included.

    Returns
    -------
    ndarray of shape (n_frames, n_ceps)
        ``c[:, 0] = log(error)`` (log power gain) and the recursion
        ``c[n] = -a[n] - sum_{k=1}^{n-1} (k / n) c[k] a[n - k]``.
    """
    order = a.shape[1] - 1
    a = np.ascontiguousarray(a.T)  # coefficients along rows: contiguous vectors of frames
    c = np.zeros((n_ceps, a.shape[1]))
    # Rounding can leave a tiny or negative error on (near-)silent frames: floor it.
    c[0] = np.log(np.maximum(error, 1e-20))
    for n in range(1, n_ceps):
        # sum_k (k / n) c[k] a[n - k] in one contraction over k, vectorised across frames.
        low = max(1, n - order)
        weights = np.arange(low, n) / n
        total = np.einsum("k,ki,ki->i", weights, c[low:n], a[n - low : 0 : -1])
        c[n] = -total - a[n] if n <= order else -total
    return c.T


def lpcc_frames(
    clips, *, sr, order=16, n_lpcc=None, frame_length=400, hop_length=160, pre_emphasis=0.97
):
    """LPCCs of every frame of every clip, stacked ``(n_frames_total, n_lpcc)``, and counts.

    ``sr`` is accepted for a uniform signature; LPC itself is rate-independent.
    """
    r, counts = autocorrelation_frames(clips, order=order, frame_length=frame_length,
                                       hop_length=hop_length, pre_emphasis=pre_emphasis)
    return cepstra_from_autocorrelation(r, order=order, n_lpcc=n_lpcc), counts


def autocorrelation_frames(clips, *, order, frame_length=400, hop_length=160,
                           pre_emphasis=0.97):
    """Autocorrelation at lags 0..order of every pre-emphasised, Hamming-windowed frame of
    every clip, stacked ``(n_frames_total, order + 1)``, float64, and the frame counts."""
    window = analysis_window(frame_length, window="hamming").astype(np.float64)
    frames, counts = _emphasised_frames(clips, frame_length=frame_length,
                                        hop_length=hop_length, coefficient=pre_emphasis,
                                        window=window)
    return _autocorrelation(frames, order), counts


def cepstra_from_autocorrelation(r, *, order, n_lpcc=None):
    """LPCCs ``(n_frames, n_lpcc)``, float32, of frames with autocorrelations ``r``.

    Every step works on whole rows of frames, so its fixed cost (about a hundred numpy
    calls) is best paid once for many frames: the callers frame and correlate chunk by
    chunk (cache-sized), then run this once per group of chunks.
    """
    n_lpcc = order + 1 if n_lpcc is None else n_lpcc
    r = np.array(r, dtype=np.float64)
    # A tiny floor keeps silent frames finite (their predictor is then all zeros).
    r[:, 0] = r[:, 0] * (1.0 + 1e-9) + 1e-12
    a, error = levinson_durbin(r, order)
    return lpc_to_cepstrum(a, error, n_lpcc).astype(np.float32)


def _grouped_lpcc(clips, *, order, n_lpcc, frame_length, hop_length, pre_emphasis):
    """LPCCs of a group of clips: autocorrelations chunk by chunk, then one recursion."""
    r, counts = chunked_frames(autocorrelation_frames, clips, iter_chunks(clips), order=order,
                               frame_length=frame_length, hop_length=hop_length,
                               pre_emphasis=pre_emphasis)
    return cepstra_from_autocorrelation(r, order=order, n_lpcc=n_lpcc), counts


def _emphasised_frames(clips, *, frame_length, hop_length, coefficient, window):
    """Centred, pre-emphasised, windowed frames of every clip, stacked, float64.

    Pre-emphasis is within each frame (a frame's first sample keeps its value), computed
    once per clip on the float32 signal: inside a frame it is the same difference
    ``x[n] - c * x[n - 1]``, so the values equal those of emphasising each frame, without
    stacking the raw frames first. The window is applied in float64 (a float32
    autocorrelation can lose positive definiteness on near-silent frames).
    """
    pad = frame_length // 2
    counts = frame_counts([len(c) for c in clips], n_fft=frame_length, hop_length=hop_length)
    out = np.empty((int(counts.sum()), frame_length))
    start = 0
    for clip, count in zip(clips, counts):
        padded = pad_clip(clip, pad)
        rows = out[start : start + count]
        raw = padded[: (count - 1) * hop_length + 1 : hop_length]  # each frame's first sample
        np.multiply(raw, window[0], out=rows[:, 0])
        emphasised = padded[1:] - np.float32(coefficient) * padded[:-1]
        view = frame_view(emphasised, frame_length - 1, hop_length, count)
        np.multiply(view, window[1:], out=rows[:, 1:])
        start += count
    return out, counts


def _autocorrelation(frames, order):
    """Autocorrelation at lags 0..order of each frame, by direct products.

    Only ``order + 1`` lags are needed: one row-wise dot product per lag (``np.vecdot``, a
    dot kernel per row, faster than the equivalent einsum) costs much less than the float64
    FFT round trip (rfft, power, irfft) over all lags that it replaces. Each row's products
    are its own, so no frame's value depends on the others in the chunk.
    """
    n = frames.shape[1]
    return np.stack([row_dot(frames[:, : n - k], frames[:, k:]) for k in range(order + 1)],
                    axis=1)


def lpcc(clips, *, sr=16000, order=16, n_lpcc=None, frame_length=400, hop_length=160,
         pre_emphasis=0.97):
    """LPCCs of each clip, as a list of ``(n_frames_i, n_lpcc)`` arrays.

    Parameters
    ----------
    clips : list of ndarray of shape (n_samples_i,)
        Mono clips.
    sr : int, default=16000
        Sample rate (LPC is rate-independent; kept for a uniform signature).
    order : int, default=16
        LPC order.
    n_lpcc : int or None, default=None
        Cepstral coefficients returned, c0 (log prediction-error power) included; None means
        ``order + 1``.
    frame_length : int, default=400
        Frame length in samples (25 ms at 16 kHz), Hamming-windowed.
    hop_length : int, default=160
        Samples between frames.
    pre_emphasis : float, default=0.97
        First-order pre-emphasis applied within each frame; 0 disables it.

    Returns
    -------
    list of ndarray of shape (n_frames_i, n_lpcc)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import lpcc
    >>> noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> lpcc([noise], order=12)[0].shape
    (101, 13)
    """
    clips = check_clips(clips)
    return frames_per_clip(
        _grouped_lpcc, clips, iter_groups(clips), order=order,
        n_lpcc=n_lpcc, frame_length=frame_length, hop_length=hop_length,
        pre_emphasis=pre_emphasis,
    )


class LPCCExtractor(_PooledFrameExtractor):
    """Pooled LPCC statistics: one row of functionals per clip.

    Linear prediction by the autocorrelation method (a Levinson-Durbin recursion vectorised
    over all frames), converted to cepstra and pooled like :class:`MFCCExtractor`.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    order : int, default=16
        LPC order (about sr / 1000 + 2 models the formants of a 16 kHz voice).
    n_lpcc : int or None, default=None
        Cepstral coefficients kept, c0 included; None means ``order + 1``.
    frame_length : int, default=400
        Frame length in samples (25 ms at 16 kHz).
    hop_length : int, default=160
        Samples between frames.
    pre_emphasis : float, default=0.97
        Pre-emphasis coefficient; 0 disables it.
    deltas : {0, 1, 2}, default=1
        Add deltas (1) and delta-deltas (2) before pooling.
    functionals : {"basic", "standard", "full"} or list of str, default="standard"
        Statistics taken over each clip's frames.
    pooling : {"stats", None}, default="stats"
        ``"stats"`` returns functionals, one row per clip; None returns NaN-padded frame
        sequences ``(n_clips, max_frames_, n_coeffs)``.
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
        Output column names, ``lpcc{k}[_d{order}]_{functional}``.
    n_features_out_ : int
        Number of output columns (coefficients per frame when ``pooling=None``).
    max_frames_ : int
        Frames per output sequence; set only when ``pooling=None``.

    See Also
    --------
    lpcc : The DSP function this estimator wraps.
    MFCCExtractor : Mel cepstra pooled the same way.

    Notes
    -----
    ``n_features_in_`` is not defined for waveform input.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import LPCCExtractor
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (8000, 12000)]
    >>> LPCCExtractor(order=12, deltas=0, functionals="basic").fit_transform(clips).shape
    (2, 26)
    """

    _parameter_constraints = {
        **_PooledFrameExtractor._parameter_constraints,
        "order": [Interval(Integral, 1, None, closed="left")],
        "n_lpcc": [Interval(Integral, 1, None, closed="left"), None],
        "frame_length": [Interval(Integral, 2, None, closed="left")],
        "pre_emphasis": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        *,
        sr=16000,
        order=16,
        n_lpcc=None,
        frame_length=400,
        hop_length=160,
        pre_emphasis=0.97,
        deltas=1,
        functionals="standard",
        pooling="stats",
        speech_only=True,
        max_frames=None,
        memory=None,
        n_jobs=None,
    ):
        self.sr = sr
        self.order = order
        self.n_lpcc = n_lpcc
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.pre_emphasis = pre_emphasis
        self.deltas = deltas
        self.functionals = functionals
        self.pooling = pooling
        self.speech_only = speech_only
        self.max_frames = max_frames
        self.memory = memory
        self.n_jobs = n_jobs

    def _check_parameters(self):
        if self.order >= self.frame_length:
            raise ValueError(
                f"{type(self).__name__}: order={self.order} must be below "
                f"frame_length={self.frame_length}."
            )

    def _frame_length(self):
        return self.frame_length

    def _coefficient_names(self):
        n = self.order + 1 if self.n_lpcc is None else self.n_lpcc
        return [f"lpcc{k}" for k in range(n)]

    def _chunked_frame_features(self, clips):
        return _grouped_lpcc(
            clips, order=self.order, n_lpcc=self.n_lpcc, frame_length=self.frame_length,
            hop_length=self.hop_length, pre_emphasis=self.pre_emphasis,
        )
