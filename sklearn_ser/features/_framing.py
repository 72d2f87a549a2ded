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

# Upper bound on the samples framed at once. 2**18 samples (about 5 clips of 3 s) keeps each
# chunk's temporaries (frames, spectra: a few MiB) in cache; measured on 300 clips of 3 s, the
# full classic feature set ran 1.3-1.5x faster than with 2**20 or 2**22, and memory stays flat.
CHUNK_SAMPLES = 2**18


def _read_only(array):
    array.setflags(write=False)
    return array


@lru_cache(maxsize=64)
def analysis_window(n_fft, win_length=None, window="hann"):
    """Periodic window of ``win_length`` centred in ``n_fft`` samples, as librosa builds it."""
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


def frame_counts(lengths, *, n_fft, hop_length):
    """Number of centred frames of each clip (librosa's ``center=True`` count)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    return 1 + (lengths + 2 * (n_fft // 2) - n_fft) // hop_length


def frame_clips(clips, *, n_fft, hop_length):
    """Cut clips into centred frames and stack them.

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
    """
    pad = n_fft // 2
    parts = []
    for clip in clips:
        padded = np.pad(np.asarray(clip, dtype=np.float32), pad)
        parts.append(np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length])
    counts = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    return np.concatenate(parts, axis=0), counts


def power_spectrum(frames, *, n_fft, win_length=None, window="hann"):
    """Windowed power spectrum ``|rfft|**2`` of stacked frames, float32."""
    win = analysis_window(n_fft, win_length, window)
    spec = scipy.fft.rfft(frames * win, axis=1, workers=-1)
    return (spec.real**2 + spec.imag**2).astype(np.float32, copy=False)


def iter_chunks(clips, max_samples=None):
    """Yield ``slice`` objects over ``clips`` whose total length stays under ``max_samples``.

    ``max_samples=None`` means ``CHUNK_SAMPLES``. A longer clip gets a chunk of its own.
    """
    max_samples = CHUNK_SAMPLES if max_samples is None else max_samples
    start, total = 0, 0
    for i, clip in enumerate(clips):
        n = len(clip)
        if total and total + n > max_samples:
            yield slice(start, i)
            start, total = i, 0
        total += n
    if start < len(clips):
        yield slice(start, len(clips))


def chunked_frames(frame_fn, clips, **params):
    """Run ``frame_fn(chunk, **params) -> (stacked, counts)`` chunk by chunk and join them."""
    parts = [frame_fn(clips[part], **params) for part in iter_chunks(clips)]
    return (np.concatenate([p[0] for p in parts], axis=0),
            np.concatenate([p[1] for p in parts]))


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
    silent = [i for i, c in enumerate(clips) if not np.any(c)]
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


def _index_list(indices, limit=10):
    shown = ", ".join(str(i) for i in indices[:limit])
    more = f", ... ({len(indices) - limit} more)" if len(indices) > limit else ""
    return f"[{shown}{more}]"
