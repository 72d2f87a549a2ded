"""The framing/STFT kernel that every spectral feature of sklearn_ser uses.

Clips of different lengths are handled as one batch: each clip is padded (centred frames, as
librosa's ``center=True`` with constant padding), cut into frames with strided views, and the
frames of all clips are stacked into one 2-D array ``(n_frames_total, n_fft)`` with a vector of
per-clip frame counts. Everything downstream (FFT, filterbanks, LPC, pooling) is vectorised over
that stack, so there is no per-frame Python loop. Clips are processed in chunks so that memory
stays bounded however long the corpus is.

Windows and filterbanks are built once per parameter set (``functools.lru_cache``) and returned
read-only, so callers cannot corrupt the cache.
"""

import warnings
from functools import lru_cache

import librosa
import numpy as np
import scipy.fft
import scipy.signal

from ..exceptions import AudioWarning
from ._engine import clip_offset, shared

# Upper bound on the samples framed at once. 2**17 samples (two clips of 3 s) keeps each
# chunk's temporaries (frames, spectra: about 1 MiB each) in cache and in memory that the
# allocator reuses instead of mapping fresh pages, so larger chunks ran slower, not faster;
# one clip per chunk was slower again (per-chunk overhead). Memory stays flat. Figures:
# benchmarks/README.md, "Measurements behind the feature kernels".
CHUNK_SAMPLES = 2**17

# Clips pooled (deltas, functionals) or handed to a joblib worker together, in units of
# CHUNK_SAMPLES: the frame kernels run chunk by chunk inside such a group, but the pooling's
# fixed cost of a few dozen numpy calls is paid once per group, not per two clips.
GROUP_CHUNKS = 8


def _read_only(array):
    array.setflags(write=False)
    return array


@lru_cache(maxsize=64)
def analysis_window(n_fft, win_length=None, window="hann"):
    """Periodic window of ``win_length`` samples centred in ``n_fft``, as librosa builds it.

    Parameters
    ----------
    n_fft : int
        Frame length in samples.
    win_length : int or None, default=None
        Window length, at most ``n_fft``; None means ``n_fft``. Zeros pad it on both sides.
    window : str, default="hann"
        A window name of ``scipy.signal.get_window``.

    Returns
    -------
    ndarray of shape (n_fft,), float32
        Read-only: the same array is returned for the same arguments.

    Examples
    --------
    >>> from sklearn_ser.features import analysis_window
    >>> analysis_window(8, 4).tolist()
    [0.0, 0.0, 0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    win_length = n_fft if win_length is None else win_length
    win = scipy.signal.get_window(window, win_length, fftbins=True).astype(np.float32)
    left = (n_fft - win_length) // 2
    padded = np.zeros(n_fft, dtype=np.float32)
    padded[left : left + win_length] = win
    return _read_only(padded)


@lru_cache(maxsize=64)
def mel_filterbank(sr, n_fft, n_mels, fmin=0.0, fmax=None):
    """Slaney-normalised mel filterbank ``(n_mels, 1 + n_fft // 2)``, built once per setting."""
    basis = librosa.filters.mel(
        sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float32
    )
    return _read_only(np.ascontiguousarray(basis))


def pad_clip(clip, pad, dtype=np.float32):
    """``np.pad(clip, pad)`` in ``dtype``: zeros on both sides, as librosa's centred frames.

    Written out because ``np.pad``'s generic machinery cost more than the copy itself on
    clips of a few seconds, and every extractor pads every clip.
    """
    out = np.empty(len(clip) + 2 * pad, dtype=dtype)
    out[:pad] = 0.0
    out[pad : pad + len(clip)] = clip
    out[pad + len(clip) :] = 0.0
    return out


def frame_view(signal, frame_length, hop_length, count=None):
    """Read-only strided view ``(count, frame_length)`` of frames every ``hop_length``.

    The same frames as ``sliding_window_view(signal, frame_length)[::hop_length]`` (by
    default every frame that fits), built directly: that function's checks cost more than
    windowing the frames of a short clip.
    """
    signal = np.ascontiguousarray(signal)
    fits = 1 + (len(signal) - frame_length) // hop_length if len(signal) >= frame_length else 0
    count = fits if count is None else count
    if count > fits:
        raise ValueError(f"{count} frames of {frame_length} samples do not fit in "
                         f"{len(signal)} samples.")
    step = signal.strides[0]
    # The ndarray constructor checks that the frames lie inside the buffer; as_strided's
    # Python-level wrapping costs more, and this runs twice per clip.
    view = np.ndarray((count, frame_length), signal.dtype, buffer=signal,
                      strides=(step * hop_length, step))
    view.flags.writeable = False
    return view


def frame_counts(lengths, *, n_fft, hop_length):
    """Number of centred frames of each clip (librosa's ``center=True`` count)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return 1 + (lengths + 2 * (n_fft // 2) - n_fft) // hop_length


def frame_clips(clips, *, n_fft, hop_length):
    """Cut clips into centred frames (librosa's ``center=True``, zero padding) and stack them.

    Parameters
    ----------
    clips : list of ndarray of shape (n_samples_i,)
        Mono float clips.
    n_fft : int
        Frame length in samples.
    hop_length : int
        Samples between frame starts.

    Returns
    -------
    frames : ndarray of shape (n_frames_total, n_fft), float32
        Frames of every clip, clip after clip.
    counts : ndarray of shape (n_clips,), int64
        Frames per clip; ``np.cumsum(counts)`` gives the clip boundaries.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import frame_clips
    >>> frames, counts = frame_clips([np.ones(1000), np.ones(300)], n_fft=400, hop_length=160)
    >>> frames.shape, counts.tolist()
    ((9, 400), [7, 2])
    """
    pad = n_fft // 2
    parts = []
    for clip in clips:
        parts.append(frame_view(pad_clip(clip, pad), n_fft, hop_length))
    counts = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    return np.concatenate(parts, axis=0), counts


def windowed_frames(clips, *, n_fft, hop_length, window, size=None, dtype=np.float32):
    """Centred frames of every clip, multiplied by ``window``, stacked.

    The product is written straight from strided views into one buffer: no stacked copy of
    the raw frames. Each value is exactly ``frame * window`` as :func:`frame_clips` would
    give it.

    Parameters
    ----------
    clips : list of ndarray of shape (n_samples_i,)
        Mono clips (already in ``dtype`` when the caller wants them transformed first, such
        as pre-emphasised).
    n_fft : int
        Frame length in samples.
    hop_length : int
        Samples between frame starts.
    window : ndarray of shape (n_fft,)
        Analysis window.
    size : int or None, default=None
        Columns of the result, ``>= n_fft``; columns past ``n_fft`` are zeros (an FFT
        length with room for a linear correlation). None means ``n_fft``.
    dtype : dtype, default=np.float32
        Dtype of the result.

    Returns
    -------
    frames : ndarray of shape (n_frames_total, size)
    counts : ndarray of shape (n_clips,), int64
    """
    size = n_fft if size is None else size
    pad = n_fft // 2
    counts = frame_counts([len(c) for c in clips], n_fft=n_fft, hop_length=hop_length)
    out = np.empty((int(counts.sum()), size), dtype=dtype)
    if size > n_fft:
        out[:, n_fft:] = 0.0
    win = window.astype(dtype, copy=False)
    start = 0
    for clip, count in zip(clips, counts):
        # The whole frame times the zero-padded window, in one pass over whole rows: the
        # multiplications by zero cost less than filling the window's margins separately
        # (strided writes into fresh memory).
        view = frame_view(pad_clip(clip, pad, dtype), n_fft, hop_length, count)
        np.multiply(view, win, out=out[start : start + count, :n_fft])
        start += count
    return out, counts


def _power(spec):
    """``re**2 + im**2`` of a complex array that the caller owns, in its real dtype.

    The squares are taken in place on the interleaved (re, im) floats, one contiguous SIMD
    pass, and only the sum allocates: faster than squaring the strided real and imaginary
    views into temporaries. ``spec`` is overwritten.
    """
    floats = np.ascontiguousarray(spec).view(spec.real.dtype)
    np.multiply(floats, floats, out=floats)
    return np.add(floats[:, 0::2], floats[:, 1::2])


def clip_power_spectrum(clips, *, n_fft, hop_length, win_length=None, window="hann"):
    """Windowed power spectra of every frame of every clip, and the frame counts.

    Returns
    -------
    power : ndarray of shape (1 + n_fft // 2, n_frames_total), float32, read-only
        Bins along the first axis, frames along the second: the layout in which reductions
        over bins (mel bands, spectral moments) add whole rows, vectorised over frames.
        The FFT writes it directly (the same cost as the frame-major layout), which saves
        a transposed copy.
    counts : ndarray of shape (n_clips,), int64

    Frames are windowed as they are cut (see :func:`windowed_frames`), and the float32 FFT
    output is squared without a float64 round trip. Inside an ``ExtractorUnion`` share,
    the spectra of a chunk are computed once for every extractor that asks for the same ones
    (``_engine.shared``), hence read-only.
    """
    def compute():
        win = analysis_window(n_fft, win_length, window)
        frames, counts = windowed_frames(clips, n_fft=n_fft, hop_length=hop_length, window=win)
        return _read_only(_power(scipy.fft.rfft(frames.T, axis=0))), counts

    return shared(("power", n_fft, hop_length, win_length, window), clips, compute)


def row_dot(a, b):
    """Dot product of each row of ``a`` with the same row of ``b``."""
    if hasattr(np, "vecdot"):  # numpy >= 2.0
        return np.vecdot(a, b)
    return np.einsum("ij,ij->i", a, b)


def running_sum(rows, out=None):
    """``np.cumsum(rows, axis=0)``, one vectorised row addition at a time.

    Same sums in the same order, but faster than numpy's ``cumsum`` along the first axis
    (which walks each column separately); along the last axis ``cumsum`` is a scalar loop.
    ``out`` may be ``rows`` itself (a sum in place).
    """
    out = np.empty_like(rows) if out is None else out
    out[0] = rows[0]
    for i in range(1, len(rows)):
        np.add(out[i - 1], rows[i], out=out[i])
    return out


def iter_slices(sizes, max_total):
    """Yield ``slice`` objects over consecutive items whose ``sizes`` add up to at most
    ``max_total``; an item larger than that gets a slice of its own."""
    start, total, count = 0, 0, 0
    for i, size in enumerate(sizes):
        if total and total + size > max_total:
            yield slice(start, i)
            start, total = i, 0
        total += size
        count = i + 1
    if start < count:
        yield slice(start, count)


def iter_chunks(clips, max_samples=None):
    """Yield ``slice`` objects over ``clips`` whose total length stays under ``max_samples``.

    ``max_samples=None`` means ``CHUNK_SAMPLES``. A longer clip gets a chunk of its own.
    """
    max_samples = CHUNK_SAMPLES if max_samples is None else max_samples
    return iter_slices((len(clip) for clip in clips), max_samples)


def iter_groups(clips):
    """Slices of ``clips`` of up to ``GROUP_CHUNKS * CHUNK_SAMPLES`` samples (see above)."""
    return iter_chunks(clips, GROUP_CHUNKS * CHUNK_SAMPLES)


def split_frames(features, counts):
    """Split stacked frame features back into a list of per-clip arrays (views).

    Sliced directly: ``np.split``'s overhead is paid in Python code that holds the GIL.
    """
    parts, start = [], 0
    for count in counts.tolist():
        parts.append(features[start : start + count])
        start += count
    return parts


def segment_ids(counts):
    """Clip index of every stacked frame."""
    return np.repeat(np.arange(len(counts)), counts)


def segment_starts(counts):
    """Index of the first stacked frame of each clip."""
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def warn_unusual_clips(clips, *, n_fft, sr):
    """Warn (once per call) about silent clips and clips shorter than one analysis frame.

    Both still get features: silent clips those of the numerical floor, short clips those of
    one zero-padded frame. The warning names the clips so that nothing passes unnoticed.
    """
    silent = [i for i, c in enumerate(clips) if _is_silent(c)]
    short = [i for i, c in enumerate(clips) if len(c) < n_fft]
    if silent:
        warnings.warn(
            f"{len(silent)} clip(s) are silent (all zeros): X{_index_list(silent)}. Their "
            "features are those of the numerical floor; remove or trim them if unintended.",
            AudioWarning,
            stacklevel=3,
        )
    if short:
        warnings.warn(
            f"{len(short)} clip(s) are shorter than one analysis frame ({n_fft} samples, "
            f"{1000 * n_fft / sr:.0f} ms): X{_index_list(short)}. They are zero-padded to one "
            "frame; their features carry little information.",
            AudioWarning,
            stacklevel=3,
        )


def _is_silent(clip):
    """Whether a finite clip is all zeros. ``min`` first: one pass settles it for any clip
    with a negative sample, and it is cheaper than ``np.any``, which reads the whole clip."""
    return clip.min() == 0 and clip.max() == 0


def _index_list(indices, limit=10):
    """``[3, 7, ...]``: the clips' indices in the caller's X (see ``_engine.numbered_from``)."""
    offset = clip_offset()
    shown = ", ".join(str(offset + int(i)) for i in indices[:limit])
    more = f", ... ({len(indices) - limit} more)" if len(indices) > limit else ""
    return f"[{shown}{more}]"
