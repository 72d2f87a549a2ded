"""Durations: trim leading and trailing silence, pad or crop to a fixed length, cut windows."""

import warnings
from numbers import Integral, Real

import numpy as np

from .._validation import check_clips
from ..exceptions import AudioWarning
from ..utils._compat import Interval, StrOptions
from ._base import _ClipTransformer


def _frame_rms_db(y, frame_length, hop_length):
    """Level in dB of centred frames, relative to the loudest frame; shape (n_frames,)."""
    pad = frame_length // 2
    padded = np.pad(np.asarray(y, dtype=np.float64), pad)
    if len(padded) < frame_length:
        padded = np.pad(padded, (0, frame_length - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[::hop_length]
    power = np.mean(frames**2, axis=1)
    peak = power.max()
    if peak <= 0:
        return np.full(len(power), -np.inf)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power / peak)


def trim_silence(y, *, sr=16000, top_db=40.0, frame_length=512, hop_length=128,
                 min_duration=0.1):
    """Trim leading and trailing silence from one clip, never below ``min_duration``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono clip.
    sr : int, default=16000
        Sample rate.
    top_db : float, default=40.0
        Frames more than ``top_db`` below the clip's loudest frame count as silence.
    frame_length : int, default=512
        Analysis frame length in samples.
    hop_length : int, default=128
        Analysis hop in samples.
    min_duration : float, default=0.1
        Shortest result in seconds (or the whole clip, if shorter). A voiced part shorter
        than that is widened around its centre; a silent clip keeps its centre.

    Returns
    -------
    out : ndarray of shape (n_kept,)
        A new array of ``y``'s dtype.
    widened : bool
        True when the minimum length applied (silent clip or very short voiced part).
    """
    y = np.asarray(y)
    n = len(y)
    levels = _frame_rms_db(y, frame_length, hop_length)
    voiced = np.flatnonzero(levels > -top_db)
    min_len = min(n, max(1, int(round(min_duration * sr))))
    if voiced.size == 0:
        start, stop = 0, 0  # silent: keep the centre
        centre = n // 2
    else:
        # librosa.effects.trim's bounds: from the first voiced frame's centre to one hop
        # past the last one's.
        start = min(n, voiced[0] * hop_length)
        stop = min(n, (voiced[-1] + 1) * hop_length)
        centre = (start + stop) // 2
    widened = stop - start < min_len
    if widened:
        start = min(max(0, centre - min_len // 2), n - min_len)
        stop = start + min_len
    return y[start:stop].copy(), widened


class SilenceTrimmer(_ClipTransformer):
    """Trim leading and trailing silence from each clip.

    A frame is silent when its RMS level is more than ``top_db`` below the clip's loudest
    frame (librosa's ``effects.trim`` criterion). A clip is never trimmed to nothing: the
    result keeps at least ``min_duration`` seconds (or the whole clip if it is shorter), and
    an ``AudioWarning`` names the clips where that minimum applied.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    top_db : float, default=40.0
        Silence threshold in dB below the loudest frame.
    frame_length : int, default=512
        Analysis frame length in samples.
    hop_length : int, default=128
        Analysis hop in samples.
    min_duration : float, default=0.1
        Shortest output clip in seconds.

    Attributes
    ----------
    None
        The step is stateless. ``n_features_in_`` is undefined for waveform input.

    See Also
    --------
    trim_silence : The function applied to each clip.
    FixedDuration : Pad or crop to one length after trimming.

    Notes
    -----
    Output lengths differ from clip to clip, so a 2-D array input comes back as a list
    unless every row keeps the same length.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import SilenceTrimmer
    >>> sr = 16000
    >>> tone = np.sin(2 * np.pi * 200 * np.arange(sr // 2) / sr)
    >>> clip = np.concatenate([np.zeros(sr), tone, np.zeros(sr)])
    >>> out = SilenceTrimmer(sr=sr).fit_transform([clip])
    >>> len(clip), len(out[0])  # half a second of tone, plus up to one frame
    (40000, 8448)
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "top_db": [Interval(Real, 0, None, closed="neither")],
        "frame_length": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "min_duration": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, *, sr=16000, top_db=40.0, frame_length=512, hop_length=128,
                 min_duration=0.1):
        self.sr = sr
        self.top_db = top_db
        self.frame_length = frame_length
        self.hop_length = hop_length
        self.min_duration = min_duration

    def _process(self, clips):
        out, widened = [], []
        for i, clip in enumerate(clips):
            trimmed, wide = trim_silence(
                clip, sr=self.sr, top_db=self.top_db, frame_length=self.frame_length,
                hop_length=self.hop_length, min_duration=self.min_duration,
            )
            if wide and len(trimmed) < len(clip):
                widened.append(i)
            out.append(trimmed)
        if widened:
            warnings.warn(
                f"SilenceTrimmer: {len(widened)} clip(s) are silent or have less than "
                f"min_duration={self.min_duration} s above the -{self.top_db} dB threshold; "
                f"they keep {self.min_duration} s around their centre: X{widened[:10]}.",
                AudioWarning,
                stacklevel=3,
            )
        return out


def fix_duration(y, *, n_samples, align="center", pad_mode="constant"):
    """Pad or crop one clip to exactly ``n_samples``.

    Parameters
    ----------
    y : ndarray of shape (n_samples_in,)
        Mono clip.
    n_samples : int
        Output length.
    align : {"start", "center", "end"}, default="center"
        Which part of a long clip is kept, and where a short clip sits in the output.
    pad_mode : {"constant", "wrap", "reflect"}, default="constant"
        ``numpy.pad`` mode: zeros, repetition, or mirror (``"reflect"`` falls back to
        ``"wrap"``-free symmetric padding for clips shorter than the padding).

    Returns
    -------
    ndarray of shape (n_samples,)
        A new array of ``y``'s dtype.
    """
    y = np.asarray(y)
    n = len(y)
    if n >= n_samples:
        start = {"start": 0, "center": (n - n_samples) // 2, "end": n - n_samples}[align]
        return y[start : start + n_samples].copy()
    missing = n_samples - n
    before = {"start": 0, "center": missing // 2, "end": missing}[align]
    mode = "symmetric" if pad_mode == "reflect" else pad_mode
    return np.pad(y, (before, missing - before), mode=mode)


class FixedDuration(_ClipTransformer):
    """Pad or crop every clip to the same duration.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    duration : float, default=3.0
        Output duration in seconds (``round(duration * sr)`` samples).
    align : {"start", "center", "end"}, default="center"
        Which part of a long clip is kept, and where a short clip sits.
    pad_mode : {"constant", "wrap", "reflect"}, default="constant"
        How short clips are padded: zeros, repetition or mirroring.

    Attributes
    ----------
    None
        The step is stateless. ``n_features_in_`` is undefined for waveform input.

    See Also
    --------
    split_windows : Cut clips into several fixed windows (a function, not a transformer).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import FixedDuration
    >>> clips = [np.ones(8000, dtype="float32"), np.ones(24000, dtype="float32")]
    >>> [len(c) for c in FixedDuration(duration=1.0).fit_transform(clips)]
    [16000, 16000]
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "align": [StrOptions({"start", "center", "end"})],
        "pad_mode": [StrOptions({"constant", "wrap", "reflect"})],
    }

    def __init__(self, *, sr=16000, duration=3.0, align="center", pad_mode="constant"):
        self.sr = sr
        self.duration = duration
        self.align = align
        self.pad_mode = pad_mode

    def _process(self, clips):
        n_samples = max(1, int(round(self.duration * self.sr)))
        return [fix_duration(c, n_samples=n_samples, align=self.align, pad_mode=self.pad_mode)
                for c in clips]


def split_windows(clips, *, sr=16000, duration=1.0, hop=None, min_fraction=0.5,
                  pad_mode="constant"):
    """Cut clips into fixed-length windows and say which clip each window came from.

    This is a function and not a transformer on purpose: splitting changes the number of
    samples (one clip becomes several windows), which a scikit-learn transformer may not do
    (its output must have one row per input row, so a Pipeline could no longer pair
    windows with labels), and the windows need their source clip's label and speaker. Use the
    returned ``source`` to repeat labels and groups, ``y[source]`` and ``groups[source]``,
    and to pool window-level predictions back into one prediction per clip.

    Parameters
    ----------
    clips : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
        Mono clips.
    sr : int, default=16000
        Sample rate.
    duration : float, default=1.0
        Window length in seconds.
    hop : float or None, default=None
        Seconds between window starts; None means ``duration`` (no overlap).
    min_fraction : float, default=0.5
        A trailing partial window is kept (padded) when it holds at least this fraction of
        a window. A clip shorter than one window always gives one padded window.
    pad_mode : {"constant", "wrap", "reflect"}, default="constant"
        How partial windows are padded.

    Returns
    -------
    windows : list of ndarray of shape (round(duration * sr),)
        The windows, clip after clip (new arrays).
    source : ndarray of shape (n_windows,)
        Index of the clip each window was cut from.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.preprocessing import split_windows
    >>> clips = [np.zeros(16000 * 3), np.zeros(8000)]
    >>> windows, source = split_windows(clips, duration=1.0)
    >>> len(windows), source.tolist()
    (4, [0, 0, 0, 1])
    """
    if not duration > 0:
        raise ValueError(f"split_windows: duration must be > 0 seconds; got {duration!r}.")
    if hop is not None and not hop > 0:
        raise ValueError(f"split_windows: hop must be > 0 seconds or None; got {hop!r}.")
    if not 0 <= min_fraction <= 1:
        raise ValueError(f"split_windows: min_fraction must be in [0, 1]; got {min_fraction!r}.")
    clips = check_clips(clips, dtype=[np.float32, np.float64])
    size = max(1, int(round(duration * sr)))
    step = size if hop is None else max(1, int(round(hop * sr)))
    windows, source = [], []
    for i, clip in enumerate(clips):
        n = len(clip)
        starts = list(range(0, max(n - size, 0) + 1, step))
        last_end = starts[-1] + size
        if n > last_end and (n - (starts[-1] + step)) >= min_fraction * size:
            starts.append(starts[-1] + step)
        for s in starts:
            window = clip[s : s + size]
            if len(window) < size:
                window = fix_duration(window, n_samples=size, align="start", pad_mode=pad_mode)
            else:
                window = window.copy()
            windows.append(window)
            source.append(i)
    return windows, np.asarray(source, dtype=np.intp)
