"""Validation of waveform input shared by every audio estimator (STYLE.md section 2).

X is a list (or 1-D object array) of 1-D clips with lengths that may differ, or a 2-D float
array of equal-length clips. Each clip is checked with sklearn's ``check_array`` so errors use
sklearn's wording and name the clip (``X[3]``).
"""

import math
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from .exceptions import AudioWarning

# Integer clips of these widths are PCM samples: scaled to [-1, 1] by their full scale.
_PCM_SCALE = {
    np.dtype(np.int8): 2.0**7,
    np.dtype(np.int16): 2.0**15,
    np.dtype(np.int32): 2.0**31,
}


def _as_container(X):
    """Turn pandas objects and array-likes without ``__len__`` into something indexable."""
    if sp.issparse(X):
        raise TypeError(
            "Sparse input is not supported: X must be a list of 1-D float clips "
            "or a 2-D float array of equal-length clips."
        )
    if hasattr(X, "to_numpy"):  # pandas DataFrame or Series
        X = X.to_numpy()
    elif not hasattr(X, "__len__") and hasattr(X, "__array__"):
        X = np.asarray(X)
    if isinstance(X, (str, bytes)):
        raise TypeError(
            f"X is a {type(X).__name__}; pass a list of clips. To read files, use "
            "sklearn_ser.io.AudioLoader or load_audio first."
        )
    return X


def _check_one_clip(x, index, dtype):
    """Validate one clip; return it as a 1-D float array and its PCM dtype (or None)."""
    name = f"X[{index}]"
    if sp.issparse(x):
        raise TypeError(f"{name} is a sparse matrix; clips must be dense 1-D float arrays.")
    if isinstance(x, (str, bytes)):
        raise TypeError(
            f"{name} is a {type(x).__name__} ({x!r:.60}), not audio. To read files, use "
            "sklearn_ser.io.AudioLoader or load_audio first."
        )
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if arr.ndim == 2 and min(arr.shape) <= 8 and arr.size > 0:
        raise ValueError(
            f"{name} has shape {arr.shape}: a multi-channel clip. Clips must be mono 1-D arrays; "
            "mix down with x.mean(axis=...) or load files with load_audio(path, mono=True)."
        )
    if arr.ndim != 1:
        raise ValueError(
            f"{name} has {arr.ndim} dimensions (shape {arr.shape}); each clip must be a 1-D array "
            "of samples. Reshape your data or pass a list of 1-D clips."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (0 samples); remove it or check how it was loaded.")
    if arr.dtype == dtype and math.isfinite(float(arr.min()) + float(arr.max())):
        # Already what check_array would return (it keeps such an array as it is); skipping
        # it saves ~0.1 ms a clip, which every extractor of a feature union pays again. NaN
        # or inf makes the extremes' sum non-finite (min and max run faster than a sum), and
        # such clips go through check_array for its message.
        return arr, None
    scale = _PCM_SCALE.get(arr.dtype)
    out = check_array(arr, ensure_2d=False, dtype=dtype, input_name=name)
    if scale is not None:
        out = out / np.asarray(scale, dtype=out.dtype)
        return out, arr.dtype
    return out, None


def _warn_pcm(pcm_dtypes):
    scaled = [(i, d) for i, d in enumerate(pcm_dtypes) if d is not None]
    if scaled:
        first, dtype = scaled[0]
        warnings.warn(
            f"{len(scaled)} clip(s) are integer PCM (X[{first}] is {dtype}); "
            "they were scaled to [-1, 1] by their full scale. Pass float clips to silence this "
            "warning.",
            AudioWarning,
            stacklevel=4,
        )


def check_clips(X, *, dtype=np.float32):
    """Validate waveform input and return a list of 1-D float clips.

    Parameters
    ----------
    X : list of array-like of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
        Mono clips. A 2-D float array is read as equal-length clips, one per row.
    dtype : numpy dtype, default=np.float32
        The dtype of the returned clips.

    Returns
    -------
    clips : list of ndarray of shape (n_samples_i,)
        Validated clips. A clip is a new array whenever a conversion was needed; callers must
        still never write into them, since unconverted clips are the caller's own arrays.

    Raises
    ------
    TypeError
        Sparse input, strings, or other containers that are not audio.
    ValueError
        No clips, an empty clip, NaN or infinite samples, a multi-channel clip, or a single
        1-D array (which would be ambiguous: one clip or a column of samples?).
    """
    X = _as_container(X)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 1:
            raise ValueError(
                "Expected a list of clips, got one 1-D array of shape "
                f"{X.shape}. Reshape your data: wrap a single clip in a list, e.g. [x], "
                "or use X.reshape(1, -1)."
            )
        if X.ndim == 2:
            if X.shape[0] == 0:
                raise ValueError("X contains 0 clips; at least 1 is required.")
            if X.shape[1] == 0:
                # sklearn's wording, which its common checks look for, plus what it means here.
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                    "required. Each row of a 2-D X is one clip and needs at least one sample."
                )
            return _checked([_check_one_clip(row, i, dtype) for i, row in enumerate(X)])
        raise ValueError(
            f"X has shape {X.shape}; expected a list of 1-D clips or a 2-D array "
            "(n_clips, n_samples). Reshape your data."
        )
    if len(X) == 0:
        raise ValueError("X contains 0 clips; at least 1 is required.")
    return _checked([_check_one_clip(x, i, dtype) for i, x in enumerate(X)])


def _checked(results):
    _warn_pcm([pcm for _, pcm in results])
    return [clip for clip, _ in results]


def clip_lengths(clips):
    """Number of samples of each clip, as an int64 array."""
    return np.fromiter((len(c) for c in clips), dtype=np.int64, count=len(clips))


def check_sequence_padding(X, *, owner):
    """Check the padding of NaN-padded frame sequences; return the frame mask and lengths.

    Padding frames are all-NaN and come after each clip's real frames (what the extractors
    with ``pooling=None`` produce), so the lengths travel with the data.

    Parameters
    ----------
    X : ndarray of shape (n_clips, n_frames, n_coeffs)
        Frame sequences.
    owner : str
        Name used in error messages.

    Returns
    -------
    mask : ndarray of shape (n_clips, n_frames), bool
        True for real frames.
    lengths : ndarray of shape (n_clips,), int64
        Real frames of each clip.
    """
    nan = np.isnan(X)
    mask = ~nan.all(axis=2)
    partial = nan.any(axis=2) & mask
    if partial.any():
        clip, frame = np.argwhere(partial)[0]
        raise ValueError(
            f"{owner}: Input X contains NaN in frame {frame} of clip {clip} besides real "
            "values. Only whole padding frames may be NaN (all coefficients); check the "
            "features for invalid values (NaN or inf)."
        )
    lengths = mask.sum(axis=1).astype(np.int64)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(
            f"{owner}: clip(s) {empty[:10].tolist()} have no real frame (every frame is NaN "
            "padding). Remove them, or check the extractor's output for those clips."
        )
    leading = np.arange(X.shape[1])[None, :] < lengths[:, None]
    if (leading != mask).any():
        clip = int(np.flatnonzero((leading != mask).any(axis=1))[0])
        raise ValueError(
            f"{owner}: clip {clip} has a NaN padding frame before a real frame. Padding frames "
            "must come after the clip's frames, as the extractors with pooling=None produce."
        )
    return mask, lengths
