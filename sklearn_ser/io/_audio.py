"""Reading audio files into clips: ``load_audio`` and the ``AudioLoader`` transformer.

soundfile (libsndfile) reads the file and detects its format from the header, not the name, so
an AIFF file saved as ``.wav`` still loads. librosa handles what soundfile cannot: resampling
(soxr) and, as a last resort, other decoders.
"""

import errno
import os
import struct
import warnings
from numbers import Integral

import numpy as np
import soundfile as sf
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from .._validation import FULL_SCALE_TOLERANCE, check_sr, far_outside_message, warn_user
from ..exceptions import AudioLoadError, AudioWarning
from ..utils._compat import Interval, _fit_context

# Extensions the dataset loaders consider audio; other files in a corpus folder are ignored.
AUDIO_EXTENSIONS = (".wav", ".flac", ".aif", ".aiff", ".ogg", ".mp3")


def as_path(obj, name="path"):
    """Return ``obj`` as a ``str`` path, or raise a ``TypeError`` naming ``name``.

    Parameters
    ----------
    obj : str or os.PathLike
        The path to check.
    name : str, default="path"
        How to call the value in the error message, e.g. ``"X[3]"``.

    Returns
    -------
    path : str
        The path as a string.
    """
    if isinstance(obj, (str, os.PathLike)):
        path = os.fspath(obj)
        if isinstance(path, str):
            return path
    raise TypeError(
        f"{name} must be a file path (str or os.PathLike), got {type(obj).__name__} "
        f"({obj!r:.60}). Clips already in memory need no loading: pass them on directly."
    )


def _check_file(path):
    """Raise the right error for a path that is missing, a folder, or empty."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            errno.ENOENT, "No such audio file; check the path and the working directory", path
        )
    if os.path.isdir(path):
        raise IsADirectoryError(
            errno.EISDIR,
            "Expected an audio file, got a folder; to read every file in it, use "
            "sklearn_ser.datasets.load_folder",
            path,
        )
    if os.path.getsize(path) == 0:
        raise AudioLoadError(
            f"Audio file '{path}' is empty (0 bytes). Re-copy or re-download it, or remove it "
            "from the list of paths."
        )


def _read_with_librosa(path):
    """Decode with librosa.load (audioread backends); returns (samples, channels) and rate."""
    import librosa

    with warnings.catch_warnings():
        # librosa announces its own fallback ("PySoundFile failed...") and audioread's
        # deprecation; the caller reports the outcome itself. (catch_warnings is not
        # thread-safe, but only this rare fallback path uses it.)
        warnings.simplefilter("ignore")
        y, rate = librosa.load(path, sr=None, mono=False, dtype=np.float32)
    return np.atleast_2d(y).T, int(rate)


def _read(path):
    """Decode ``path`` to a float32 array of shape (n_samples, n_channels) and its rate."""
    try:
        y, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError) as sf_exc:
        try:
            y, rate = _read_with_librosa(path)
        except Exception:  # noqa: BLE001 - any decoder failure means "unreadable"
            raise AudioLoadError(
                f"Cannot decode audio file '{path}': {str(sf_exc).rstrip('.')}. The file is "
                "corrupt or in a format neither soundfile nor librosa can read; convert it to "
                "WAV or FLAC (e.g. with ffmpeg) or remove it from the list of paths."
            ) from sf_exc
    if y.shape[0] == 0:
        raise AudioLoadError(
            f"Audio file '{path}' has a valid header but contains no audio frames. Re-copy "
            "or re-record it, or remove it from the list of paths."
        )
    return y, int(rate)


def check_finite(y, path, *, rate, offset=0):
    """Raise an ``AudioLoadError`` naming the file and the first NaN or infinite sample.

    Only float files can hold such values; no fallback would make them audio again.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_channels)
        Samples read from ``path``, starting at sample ``offset``.
    path : str
        The file, for the message.
    rate : int
        Its sample rate, for the time in the message.
    offset : int, default=0
        Position of ``y[0]`` in the file.
    """
    bad = ~np.isfinite(y)
    if not bad.any():
        return
    sample, channel = (int(v) for v in np.argwhere(bad)[0])
    value = y[sample, channel]
    sample += offset
    raise AudioLoadError(
        f"Audio file '{path}' contains {'NaN' if np.isnan(value) else 'an infinite value'} at "
        f"sample {sample} (channel {channel}, {sample / rate:.3f} s), and maybe more after "
        "it: the file is damaged or was written from invalid data. Re-export it from its "
        "source, or remove it from the list of paths."
    )


def _overload_note(peak):
    """The warning for a float file with samples beyond full scale, which get clipped."""
    if peak <= FULL_SCALE_TOLERANCE:
        return (f"has samples outside [-1, 1] (peak {peak:.3g}); they were clipped. "
                "Normalise the file's level to keep its dynamics")
    return (f"{far_outside_message('', peak).strip()}; they were clipped to [-1, 1], which "
            "leaves little of the signal. The file probably holds integer sample values "
            "stored as floats: divide them by their full scale (e.g. 32768 for 16-bit) and "
            "write it again")


def truncated_wav(path):
    """``(announced, present, rate)`` sample counts of a cut-short WAV file, else None.

    libsndfile reads a WAV file whose data chunk was cut short (an interrupted copy or
    download) without a word, as the samples that are there: only the header's data size
    shows what is missing, and soundfile does not report it. So the RIFF chunk headers are
    walked here (nothing else of the file is read). Other formats, complete files and
    headers that leave the size open (0 or 0xFFFFFFFF, as streaming writers put) give None.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    counts : tuple of (int, int, int) or None
        Samples per channel the header announces, samples present, and the sample rate.
    """
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WAVE":
            return None
        size = os.fstat(handle.fileno()).st_size
        pos, rate, block = 12, None, None
        while pos + 8 <= size:
            handle.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"fmt " and chunk_size >= 14:
                _, _, rate, _, block = struct.unpack("<HHIIH", handle.read(14))
            elif chunk_id == b"data":
                present = size - pos - 8
                if chunk_size in (0, 0xFFFFFFFF) or not block or present >= chunk_size:
                    return None
                return chunk_size // block, present // block, rate
            pos += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    return None


def truncation_note(path):
    """The warning text for a cut-short WAV file, or None."""
    counts = truncated_wav(path)
    if counts is None:
        return None
    announced, present, rate = counts
    return (f"is truncated: its header announces {announced} samples "
            f"({announced / rate:.3f} s) but only {present} ({present / rate:.3f} s) are in "
            "the file; the samples present were loaded. Re-copy or re-download it")


def _to_clip(y, rate, *, sr, mono):
    """Clip to [-1, 1], mix down and resample; returns the clip and any warnings to emit."""
    notes = []
    peak = float(np.max(np.abs(y)))
    if peak > 1.0:
        # Float files may exceed full scale; the clip contract is [-1, 1].
        notes.append(_overload_note(peak))
        y = np.clip(y, -1.0, 1.0)
    if mono:
        y = y.mean(axis=1)
    if sr is not None and rate != sr:
        import librosa

        y = librosa.resample(y, orig_sr=rate, target_sr=sr, res_type="soxr_hq", axis=0)
        # The band-limited interpolant may overshoot full scale by a hair.
        y = np.clip(y, -1.0, 1.0)
    return np.ascontiguousarray(y, dtype=np.float32), notes


def _load(path, sr, mono):
    """Load one file; returns the clip and the warnings the caller should emit."""
    _check_file(path)
    y, rate = _read(path)
    check_finite(y, path, rate=rate)
    truncated = truncation_note(path)
    y, notes = _to_clip(y, rate, sr=sr, mono=mono)
    return y, ([truncated] if truncated else []) + notes


def _warn_notes(path, notes):
    for note in notes:
        warn_user(f"Audio file '{path}' {note}.", AudioWarning)


def load_audio(path, *, sr=16000, mono=True):
    """Load an audio file as a float32 clip in [-1, 1].

    soundfile reads the file, whatever its extension says: WAV (any PCM width, float, extra
    chunks), FLAC, AIFF, OGG, MP3 and the other formats of libsndfile. Files soundfile cannot
    read are passed to ``librosa.load`` as a last resort.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sr : int or None, default=16000
        Target sample rate in Hz. The file is resampled with ``librosa.resample``
        (``res_type="soxr_hq"``) when its rate differs. ``None`` keeps the file's own rate.
    mono : bool, default=True
        Average the channels into one. With ``False`` the result is always 2-D.

    Returns
    -------
    y : ndarray of shape (n_samples,) or (n_samples, n_channels)
        The samples as float32 in [-1, 1]; 2-D only when ``mono=False``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    sklearn_ser.exceptions.AudioLoadError
        The file is empty (0 bytes or 0 frames), corrupt, in an unreadable format, or holds
        NaN or infinite samples (the message names the first one's position).

    Warns
    -----
    sklearn_ser.exceptions.AudioWarning
        A float file has samples outside [-1, 1]; they are clipped, and the message gives
        the peak (one far above full scale suggests integer values stored as floats). A WAV
        file is shorter than its header announces (an interrupted copy); the samples present
        are returned, and the message gives both lengths.

    See Also
    --------
    AudioLoader : The same as a scikit-learn transformer over a list of paths.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.io import load_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> t = np.arange(8000) / 8000
    >>> sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), 8000)
    >>> y = load_audio(path, sr=16000)
    >>> y.dtype, y.shape
    (dtype('float32'), (16000,))
    """
    path = as_path(path)
    check_sr(sr)
    y, notes = _load(path, sr, bool(mono))
    _warn_notes(path, notes)
    return y


def stream_audio(path, *, sr=16000, block_size=16000):
    """Read an audio file as consecutive mono float32 blocks in [-1, 1].

    A file already at ``sr`` is read block by block, so a long recording is never held
    whole; one at another rate (or in a format soundfile cannot read) is decoded and
    resampled at once, as :func:`load_audio` does, and then cut into blocks. The checks are
    those of :func:`load_audio`: missing or empty files and NaN or infinite samples are
    errors naming the file, a cut-short WAV file warns with both lengths, and samples beyond
    full scale are clipped with one warning.

    Parameters
    ----------
    path : str or os.PathLike
        The audio file.
    sr : int or None, default=16000
        Rate of the blocks; None keeps the file's own rate.
    block_size : int, default=16000
        Samples per block (the last block may be shorter).

    Yields
    ------
    block : ndarray of shape (n_samples,)
        The next samples, channels averaged.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.io import stream_audio
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(path, 0.5 * np.sin(np.arange(16000) / 10), 16000)
    >>> [len(block) for block in stream_audio(path, block_size=6000)]
    [6000, 6000, 4000]
    """
    path = as_path(path)
    check_sr(sr)
    if not isinstance(block_size, Integral) or isinstance(block_size, bool) or block_size < 1:
        raise ValueError(f"block_size must be a positive int; got {block_size!r}.")
    _check_file(path)
    try:
        info = sf.info(path)
    except (sf.SoundFileError, RuntimeError):
        info = None
    if info is not None and (sr is None or info.samplerate == sr):
        yield from _read_blocks(path, info.samplerate, block_size)
    else:  # another rate or format: decode and resample the whole file once
        y = load_audio(path, sr=sr)
        for i in range(0, len(y), block_size):
            yield y[i:i + block_size]


def _read_blocks(path, rate, size):
    """The checks of load_audio, block by block: cut-short files warn, NaN is an error,
    samples beyond full scale are clipped with one warning."""
    note = truncation_note(path)
    if note:
        warn_user(f"Audio file '{path}' {note}.", AudioWarning)
    offset, clipped = 0, False
    with sf.SoundFile(path) as handle:
        while True:
            block = handle.read(size, dtype="float32", always_2d=True)
            if len(block) == 0:
                return
            check_finite(block, path, rate=rate, offset=offset)
            offset += len(block)
            peak = float(np.max(np.abs(block)))
            if peak > 1.0:
                if not clipped:
                    warn_user(f"Audio file '{path}' has samples outside [-1, 1] from "
                              f"sample {offset - len(block)} on (peak {peak:.3g}); they "
                              "were clipped. Normalise the file's level to keep its "
                              "dynamics.", AudioWarning)
                    clipped = True
                block = np.clip(block, -1.0, 1.0)
            yield block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]


def _load_or_reason(path, sr, mono):
    """Worker for batch loading: never raises for a bad file, returns (clip, notes, error)."""
    try:
        y, notes = _load(path, sr, mono)
    except (OSError, AudioLoadError) as exc:
        return None, [], exc
    return y, notes, None


def load_many(paths, *, sr=16000, mono=True, n_jobs=None, verbose=0, on_error="raise"):
    """Load many files in parallel; the engine behind ``AudioLoader`` and the dataset loaders.

    Parameters
    ----------
    paths : list of str
        Validated file paths.
    sr : int or None, default=16000
        Target sample rate, as in :func:`load_audio`.
    mono : bool, default=True
        Average the channels, as in :func:`load_audio`.
    n_jobs : int or None, default=None
        Number of joblib workers.
    verbose : int, default=0
        Show a tqdm progress bar when positive.
    on_error : {"raise", "return"}, default="raise"
        ``"raise"`` re-raises the first file's error; ``"return"`` puts the exception in the
        place of the clip so that the caller can skip the file.

    Returns
    -------
    clips : list of ndarray or Exception
        One entry per path, in order.
    """
    jobs = (delayed(_load_or_reason)(p, sr, mono) for p in paths)
    # Threads by default: decoding and resampling run in C without the GIL, and worker
    # processes would each pay the imports again. prefer= is only a hint, so a
    # joblib.parallel_config(backend=...) (loky, Dask, Ray) still decides.
    # A generator output lets the bar follow finished files rather than dispatched ones.
    results = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs)
    bar = tqdm(results, total=len(paths), desc="Loading audio", unit="file", disable=verbose <= 0)
    clips = []
    for path, (y, notes, error) in zip(paths, bar):
        if error is not None and on_error == "raise":
            raise error
        # Warnings are emitted here, in the parent, because worker processes would lose them.
        _warn_notes(path, notes)
        clips.append(error if error is not None else y)
    return clips


def _check_paths(X):
    """Validate a sequence of paths and return a list of ``str``."""
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(
            f"X is a single path ({X!r:.60}); pass a list of paths, e.g. [path]."
        )
    if hasattr(X, "to_numpy"):  # pandas Series or one-column DataFrame
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"X has shape {X.shape}; expected a 1-D sequence of file paths. Reshape your "
                "data, e.g. X.ravel()."
            )
    if not hasattr(X, "__len__"):
        raise TypeError(f"X must be a list of file paths, got {type(X).__name__}.")
    if len(X) == 0:
        raise ValueError("X contains 0 paths; at least 1 is required.")
    return [as_path(p, name=f"X[{i}]") for i, p in enumerate(X)]


class AudioLoader(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Read audio files into clips: the first step of a pipeline that starts from paths.

    A stateless transformer: ``transform`` maps a list of file paths to a list of mono float32
    clips at ``sr``, reading each file with :func:`load_audio`.

    Parameters
    ----------
    sr : int or None, default=16000
        Target sample rate in Hz; files at other rates are resampled (soxr_hq). ``None`` keeps
        each file's own rate, which then may differ between clips.
    mono : bool, default=True
        Average the channels. With ``False`` each clip is 2-D ``(n_samples, n_channels)``,
        which the other audio estimators do not accept.
    n_jobs : int or None, default=None
        Number of files read in parallel through joblib. ``None`` means 1 unless in a
        ``joblib.parallel_config`` context; ``-1`` uses all processors.
    verbose : int, default=0
        Show a progress bar while reading when positive.

    See Also
    --------
    load_audio : Read one file.

    Notes
    -----
    The estimator learns nothing: ``fit`` only checks the parameters and ``transform`` works
    unfitted. ``n_features_in_`` is undefined, because the input is file paths.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.io import AudioLoader
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.wav") for i in range(2)]
    >>> for i, p in enumerate(paths):
    ...     sf.write(p, np.zeros(8000 * (i + 1)), 8000)
    >>> clips = AudioLoader(sr=16000).fit_transform(paths)
    >>> [c.shape for c in clips]
    [(16000,), (32000,)]
    """

    _parameter_constraints: dict = {
        "sr": [Interval(Integral, 1, None, closed="left"), None],
        "mono": ["boolean"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, sr=16000, mono=True, n_jobs=None, verbose=0):
        self.sr = sr
        self.mono = mono
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the parameters; nothing is learned.

        Parameters
        ----------
        X : list of str or os.PathLike, default=None
            Ignored.
        y : None
            Ignored.

        Returns
        -------
        self : AudioLoader
            The estimator itself.
        """
        return self

    def transform(self, X):
        """Read each file into a clip.

        Parameters
        ----------
        X : list of str or os.PathLike
            Audio file paths (a 1-D array or pandas Series of paths also works).

        Returns
        -------
        clips : list of ndarray of shape (n_samples_i,)
            float32 clips in [-1, 1] at ``sr``, in the order of ``X``.

        Raises
        ------
        TypeError
            ``X`` is a single path, or one element is not a path (the message gives its index).
        FileNotFoundError
            A file does not exist.
        sklearn_ser.exceptions.AudioLoadError
            A file is empty, corrupt or unreadable.
        """
        # Stateless, so transform may come first; checking here costs nothing and writes nothing.
        self._validate_params()
        paths = _check_paths(X)
        return load_many(
            paths, sr=self.sr, mono=self.mono, n_jobs=self.n_jobs, verbose=self.verbose
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags
