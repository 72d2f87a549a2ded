"""Validation shared by every estimator: waveform input and labels.

The style of waveform input is in CONTRIBUTING.md, "Waveform input"; the rules below are
those of docs/architecture.md, "Bad input".

X is a list (or 1-D object array) of 1-D clips with lengths that may differ, or a 2-D float
array of equal-length clips. Each clip is checked with sklearn's ``check_array`` so errors use
sklearn's wording and name the clip (``X[3]``). One rule holds for clips wherever they enter
(estimators, ``load_audio``, the streaming recogniser):

* integer samples are PCM: they are scaled to [-1, 1] by their type's range, unsigned ones
  offset by half of it, with an ``AudioWarning``;
* float samples far outside [-1, 1] (a peak above ``FULL_SCALE_TOLERANCE`` times full scale)
  are kept as they are, with an ``AudioWarning`` naming the clip and its peak;
* NaN or infinite samples are an error naming the clip;
* a 2-D array that looks like one multi-channel clip rather than a batch of clips is an error
  naming its shape and the fix (see :func:`check_clips`).

Labels are checked by :func:`check_labels` before any feature is computed.
"""

import math
import numbers
import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from .exceptions import AudioWarning

#: A float clip whose peak passes this many times full scale (20 dB over it) is out of the
#: clip contract by more than float headroom, resampling overshoot or added noise explain; the
#: usual cause is integer sample values stored as floats, whose peaks lie orders of magnitude
#: higher. Such clips are kept as they are, with a warning.
FULL_SCALE_TOLERANCE = 10.0

# A 2-D array is taken for one multi-channel clip (not a batch of clips) when it has at most
# _MAX_CHANNELS columns and at least _MIN_CHANNEL_SAMPLES rows, or is stereo laid out channels
# first with at least that many columns. No clip of a handful of samples is audio, and
# sklearn's common checks use tabular arrays with fewer rows than that.
_MAX_CHANNELS = 8
_MIN_CHANNEL_SAMPLES = 1000


def warn_user(message, category):
    """Warn, pointing the warning at the first caller outside sklearn_ser.

    A fixed ``stacklevel`` would be right for one call path only; estimators and loaders
    reach the same warning through different depths.
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("sklearn_ser"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def check_sr(sr):
    """Check a plain function's ``sr`` argument: a positive int or None."""
    # A function has no _parameter_constraints, so the check is by hand.
    if sr is None:
        return
    if not isinstance(sr, numbers.Integral) or isinstance(sr, bool):
        raise TypeError(f"sr must be a positive int or None, got {type(sr).__name__} ({sr!r}).")
    if sr <= 0:
        raise ValueError(f"sr must be a positive int or None, got {sr}.")


def pcm_to_float(x, dtype=np.float32):
    """Integer PCM samples as floats in [-1, 1): ``(x - offset) / (range / 2)``.

    Signed types have offset 0 (int16 divides by 32768, as soundfile reads 16-bit files);
    unsigned types are offset by half their range, which is their silence (128 for uint8, as
    8-bit WAV stores it).

    Parameters
    ----------
    x : ndarray of integer dtype
        The samples.
    dtype : numpy dtype, default=np.float32
        The float dtype of the result.

    Returns
    -------
    y : ndarray of dtype ``dtype``, same shape as ``x``
        A new array.

    Examples
    --------
    >>> import numpy as np
    >>> pcm_to_float(np.array([0, 128, 255], dtype=np.uint8)).tolist()
    [-1.0, 0.0, 0.9921875]
    >>> pcm_to_float(np.array([-32768, 16384], dtype=np.int16)).tolist()
    [-1.0, 0.5]
    """
    info = np.iinfo(x.dtype)
    half = (float(info.max) - float(info.min) + 1.0) / 2.0
    offset = float(info.min) + half
    return ((np.asarray(x, dtype=np.float64) - offset) / half).astype(dtype)


def clip_container(X):
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


def _first_dtype(dtype):
    return np.dtype(dtype[0] if isinstance(dtype, (list, tuple)) else dtype)


def _kept_as_is(arr_dtype, dtype):
    """Whether ``check_array(..., dtype=dtype)`` returns an array of ``arr_dtype`` unchanged."""
    if isinstance(dtype, (list, tuple)):
        return any(arr_dtype == np.dtype(d) for d in dtype)
    return arr_dtype == np.dtype(dtype)


def _check_one_clip(x, index, dtype):
    """Validate one clip; return it as a 1-D float array and a note for ``_warn_notes``.

    The note is None, ``("pcm", dtype)`` for a scaled integer clip, or ``("peak", peak)`` for
    a float clip far outside [-1, 1].
    """
    name = f"X[{index}]"
    if sp.issparse(x):
        raise TypeError(f"{name} is a sparse matrix; clips must be dense 1-D float arrays.")
    if isinstance(x, (str, bytes)):
        raise TypeError(
            f"{name} is a {type(x).__name__} ({x!r:.60}), not audio. To read files, use "
            "sklearn_ser.io.AudioLoader or load_audio first."
        )
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if arr.ndim == 2 and min(arr.shape) <= _MAX_CHANNELS and arr.size > 0:
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
    if arr.dtype.kind in "iu":
        return pcm_to_float(arr, _first_dtype(dtype)), ("pcm", arr.dtype)
    if _kept_as_is(arr.dtype, dtype):
        low, high = float(arr.min()), float(arr.max())
        if math.isfinite(low + high):
            # Already what check_array would return (it keeps such an array as it is);
            # skipping it saves time that every extractor of a feature union pays again.
            # NaN or inf makes the extremes' sum non-finite (min and max run faster than a
            # sum), and such clips go through check_array for its message.
            return arr, _peak_note(max(-low, high))
    out = check_array(arr, ensure_2d=False, dtype=dtype, input_name=name)
    return out, _peak_note(float(np.max(np.abs(out))))


def _peak_note(peak):
    return ("peak", peak) if peak > FULL_SCALE_TOLERANCE else None


def far_outside_message(what, peak):
    """The start of every warning about samples far outside [-1, 1] (one wording, one filter).

    Parameters
    ----------
    what : str
        The clip, file or stream, e.g. ``"X[3]"``.
    peak : float
        Its largest absolute sample.

    Returns
    -------
    message : str
    """
    return (f"{what} has samples far outside [-1, 1] (peak {peak:.3g}, more than "
            f"{FULL_SCALE_TOLERANCE:g} times full scale)")


#: What a filter matches to silence the warnings of ``far_outside_message``.
FAR_OUTSIDE_PATTERN = r".*samples far outside \[-1, 1\]"

_FAR_OUTSIDE_FIX = (
    "Float clips must lie in [-1, 1]; integer sample values stored as floats must be divided "
    "by their full scale first (e.g. x / 32768 for 16-bit PCM), and int arrays can be passed "
    "as they are."
)


def _warn_notes(notes):
    """One warning for the integer clips and one for the clips far outside [-1, 1]."""
    pcm = [(i, value) for i, (kind, value) in notes if kind == "pcm"]
    if pcm:
        first, dtype = pcm[0]
        unsigned = any(d.kind == "u" for _, d in pcm)
        warn_user(
            f"{len(pcm)} clip(s) are integer PCM (X[{first}] is {dtype}); they were scaled to "
            "[-1, 1] by their full scale"
            + (" (unsigned ones after removing their offset, half their range)" if unsigned
               else "")
            + ". Pass float clips to silence this warning.",
            AudioWarning,
        )
    loud = [(i, value) for i, (kind, value) in notes if kind == "peak"]
    if loud:
        named = ", ".join(f"X[{i}] (peak {peak:.3g})" for i, peak in loud[:5])
        more = f" and {len(loud) - 5} more" if len(loud) > 5 else ""
        warn_user(
            f"{len(loud)} clip(s) have samples far outside [-1, 1], more than "
            f"{FULL_SCALE_TOLERANCE:g} times full scale: {named}{more}; they were left as they "
            f"are. {_FAR_OUTSIDE_FIX}",
            AudioWarning,
        )


def _check_not_one_clip(X):
    """Refuse a 2-D array laid out like one multi-channel clip rather than a batch of clips."""
    n_rows, n_cols = X.shape
    if n_cols <= _MAX_CHANNELS and n_rows >= _MIN_CHANNEL_SAMPLES:
        raise ValueError(
            f"X has shape {X.shape}: it looks like one clip of {n_rows} samples and {n_cols} "
            f"channel(s) (samples along the rows, as soundfile reads a file), not {n_rows} "
            f"clips of {n_cols} samples. Mix it down and pass it in a list, [x.mean(axis=1)]; "
            "to pass several clips, give a list of 1-D arrays."
        )
    if n_rows == 2 and n_cols >= _MIN_CHANNEL_SAMPLES:
        raise ValueError(
            f"X has shape {X.shape}: one stereo clip with its channels first (as "
            "librosa.load(..., mono=False) returns it) or two clips of "
            f"{n_cols} samples? Pass a list to say which: [x.mean(axis=0)] for one stereo "
            "clip mixed down, or list(X) for two clips."
        )


def _check_not_rows_of_a_clip(X):
    """Refuse a long list of clips of a handful of samples each: the rows of one clip."""
    if len(X) < _MIN_CHANNEL_SAMPLES:
        return
    # Stops at the first clip of real length, so a normal list costs one look.
    if all(isinstance(x, (list, tuple, np.ndarray)) and np.ndim(x) == 1
           and len(x) <= _MAX_CHANNELS for x in X):
        raise ValueError(
            f"X holds {len(X)} clips of at most {_MAX_CHANNELS} samples each: it looks like "
            "the rows (samples x channels) of one multi-channel clip. Mix it down and pass "
            "it in a list, [np.asarray(X).mean(axis=1)]; to pass clips, give a list of 1-D "
            "arrays."
        )


def _clip_rows(X):
    """X as a sequence of candidate clips, after the checks of the container itself."""
    X = clip_container(X)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 1:
            raise ValueError(
                "Expected a list of clips, got one 1-D array of shape "
                f"{X.shape}. Reshape your data: wrap a single clip in a list, e.g. [x], "
                "or use X.reshape(1, -1)."
            )
        if X.ndim != 2:
            raise ValueError(
                f"X has shape {X.shape}; expected a list of 1-D clips or a 2-D array "
                "(n_clips, n_samples). Reshape your data."
            )
        if X.shape[0] == 0:
            raise ValueError("X contains 0 clips; at least 1 is required.")
        if X.shape[1] == 0:
            # sklearn's wording, which its common checks look for, plus what it means here.
            raise ValueError(
                f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                "required. Each row of a 2-D X is one clip and needs at least one sample."
            )
        _check_not_one_clip(X)
        return X
    if len(X) == 0:
        raise ValueError("X contains 0 clips; at least 1 is required.")
    _check_not_rows_of_a_clip(X)
    return X


def check_clips(X, *, dtype=np.float32):
    """Validate waveform input and return a list of 1-D float clips.

    Parameters
    ----------
    X : list of array-like of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
        Mono clips. A 2-D array is read as equal-length clips, one per row, unless it is laid
        out like one multi-channel clip (see Raises).
    dtype : numpy dtype or list of dtypes, default=np.float32
        The dtype of the returned clips (a float dtype of the list is kept as it is).

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
        1-D array (which would be ambiguous: one clip or a column of samples?). A 2-D array
        of at most 8 columns and at least 1000 rows, or of 2 rows and at least 1000 columns,
        looks like one multi-channel clip (samples x channels, or stereo channels first) and
        is refused with the fix, as is a list of at least 1000 clips of at most 8 samples.

    Warns
    -----
    sklearn_ser.exceptions.AudioWarning
        Integer clips (PCM) are scaled to [-1, 1] by :func:`pcm_to_float`; float clips with a
        peak above ``FULL_SCALE_TOLERANCE`` times full scale are named with their peak and
        left as they are.
    """
    results = [_check_one_clip(x, i, dtype) for i, x in enumerate(_clip_rows(X))]
    _warn_notes([(i, note) for i, (_, note) in enumerate(results) if note is not None])
    return [clip for clip, _ in results]


def check_clips_each(X, *, dtype=np.float32):
    """Validate clips one by one: a bad clip is reported, and the others are still checked.

    The rules are those of :func:`check_clips`; errors of the container itself (no clips, a
    stereo-looking array, a string) still raise.

    Parameters
    ----------
    X : list of array-like of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
        Mono clips.
    dtype : numpy dtype or list of dtypes, default=np.float32
        The dtype of the returned clips.

    Returns
    -------
    clips : list of ndarray or None
        The validated clips, None in place of each bad one.
    errors : dict of int to Exception
        The ``ValueError`` or ``TypeError`` of each bad clip, by its index in X; the message
        names the clip (``X[3]``).
    """
    clips, errors, notes = [], {}, []
    for i, x in enumerate(_clip_rows(X)):
        try:
            clip, note = _check_one_clip(x, i, dtype)
        except (TypeError, ValueError) as exc:
            clips.append(None)
            errors[i] = exc
            continue
        clips.append(clip)
        if note is not None:
            notes.append((i, note))
    _warn_notes(notes)
    return clips, errors


def reject_ragged(X, *, owner, expected="a 2-D array of features (n_clips, n_features)"):
    """Refuse a list of entries of different lengths given to an estimator of features.

    Such a list is usually clips (or unpadded frame sequences) passed one step too early;
    numpy's own message about an "inhomogeneous shape" would not say so.

    Parameters
    ----------
    X : object
        The input; only lists and tuples are looked at.
    owner : str
        The estimator, for the message.
    expected : str, default="a 2-D array of features (n_clips, n_features)"
        What the estimator takes, for the message.
    """
    if not isinstance(X, (list, tuple)) or len(X) < 2:
        return
    lengths = {len(x) if hasattr(x, "__len__") and not isinstance(x, (str, bytes)) else None
               for x in X}
    if len(lengths) > 1:
        raise ValueError(
            f"{owner} takes {expected}; X is a list of {len(X)} entries of different lengths "
            "(clips, or frame sequences without padding?), which is not one array. Compute "
            "features first: put an extractor such as MFCCExtractor (pooled features) or "
            "LogMelExtractor(pooling=None) (padded frame sequences) before it in a pipeline."
        )


# --- labels ----------------------------------------------------------------------------------


def _is_missing(value):
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def _label_kind(value):
    if isinstance(value, (str, np.str_)):
        return "string"
    if isinstance(value, (numbers.Number, np.bool_)):
        return "number"
    return type(value).__name__


def _check_label_values(values, where):
    """Refuse missing labels (NaN, None) and labels of mixed types, naming the entries."""
    first = {}
    for i, value in enumerate(values):
        if _is_missing(value):
            raise ValueError(
                f"{where}Input y contains a missing label ({value!r}) at y[{i}]. Every clip "
                "needs a label: drop the unlabelled clips (and their entries of X and groups) "
                "first."
            )
        first.setdefault(_label_kind(value), i)
    if len(first) > 1:
        (kind_a, i), (kind_b, j) = sorted(first.items(), key=lambda item: item[1])[:2]
        raise ValueError(
            f"{where}Mix of label input types ({kind_a} and {kind_b}): y[{i}] is "
            f"{values[i]!r} and y[{j}] is {values[j]!r}. The labels of one fit must share one "
            "type, so that they can be sorted; convert them, e.g. "
            "y = [str(label) for label in y]."
        )


def check_labels(y, *, n_samples=None, min_classes=2, owner=None):
    """Check classification labels before any work is done; return them as a 1-D array.

    Cheap checks that would otherwise fail late (after feature extraction) or with a message
    of numpy's, in this order: y is given; it is 1-D (a column vector is raveled with
    sklearn's ``DataConversionWarning``); it has one label per clip; no label is missing
    (NaN or None); the labels share one type (numbers and strings mixed cannot be sorted);
    they are classes (sklearn's ``check_classification_targets``, with its wording); and
    there are at least ``min_classes`` of them.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        Labels of any one type.
    n_samples : int, default=None
        Number of clips in X, when known.
    min_classes : int, default=2
        Fewest distinct classes accepted.
    owner : str, default=None
        Who checks (``"evaluate"``, an estimator's name), put at the start of messages.

    Returns
    -------
    y : ndarray of shape (n_clips,)
        The labels, with their values unchanged.

    Raises
    ------
    ValueError
        With a message naming the first offending label (``y[3]``) and the fix.

    Examples
    --------
    >>> check_labels(["anger", "calm", "anger"]).tolist()
    ['anger', 'calm', 'anger']
    >>> check_labels([1, "calm"])
    Traceback (most recent call last):
    ...
    ValueError: Mix of label input types (number and string): y[0] is 1 and y[1] is 'calm'. ...
    """
    where = f"{owner}: " if owner else ""
    if y is None:
        raise ValueError(f"{where}the labels y are required, one per clip; got y=None.")
    if hasattr(y, "to_numpy"):  # pandas Series or one-column DataFrame
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = column_or_1d(arr, warn=True)
    elif arr.ndim != 1:
        raise ValueError(
            f"{where}y must be a 1-D sequence of labels, one per clip; got shape {arr.shape}."
        )
    if n_samples is not None and len(arr) != n_samples:
        raise ValueError(
            f"{where}X has {n_samples} clips but y has {len(arr)} labels; give one label per "
            "clip."
        )
    if len(arr) == 0:
        raise ValueError(f"{where}y has 0 labels; at least one clip of each class is needed.")
    if arr.dtype == object or isinstance(y, (list, tuple)):
        # A plain list is read element by element: numpy would silently turn [1, "a"] into
        # strings.
        _check_label_values(arr if arr.dtype == object else list(y), where)
    elif arr.dtype.kind == "f" and np.isnan(arr).any():
        _check_label_values(arr.tolist(), where)
    check_classification_targets(arr)
    classes = np.unique(arr)
    if len(classes) < min_classes:
        found = (f"only one class ({classes[:1].tolist()[0]!r})" if len(classes) == 1
                 else f"{len(classes)} classes ({classes.tolist()})")
        raise ValueError(
            f"{where}y contains {found}; a classifier needs samples of at least {min_classes} "
            "classes. Add clips of another class, or check how the labels were read."
        )
    return arr


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
