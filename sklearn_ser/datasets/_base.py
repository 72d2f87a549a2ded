"""Shared machinery of the corpus loaders: finding the data, listing and probing files, and
building the returned Bunch.

A loader only has to say how a file name maps to labels (a ``parse`` function); the walk,
the per-file checks, the warnings for skipped files and the Bunch are the same for every
corpus.
"""

import os
import shutil

import numpy as np
import pandas as pd
import soundfile as sf
from sklearn.utils import Bunch

from .._validation import check_sr, warn_user
from ..exceptions import DataWarning
from ..io import AUDIO_EXTENSIONS, load_many

CANONICAL_EMOTIONS = (
    "anger",
    "boredom",
    "calm",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)

# Names corpora and users give to the canonical emotions, matched after lower-casing and
# turning spaces and dashes into underscores.
_EMOTION_SYNONYMS = {
    "anger": ("anger", "angry", "ang", "mad"),
    "boredom": ("boredom", "bored", "bor"),
    "calm": ("calm", "cal"),
    "disgust": ("disgust", "disgusted", "dis"),
    "fear": ("fear", "fearful", "afraid", "scared", "fea"),
    "happiness": ("happiness", "happy", "joy", "hap"),
    "neutral": ("neutral", "neu"),
    "sadness": ("sadness", "sad"),
    "surprise": (
        "surprise", "surprised", "sur", "ps", "pleasant_surprise", "pleasant_surprised",
    ),
}
_SYNONYM_TO_EMOTION = {
    name: emotion for emotion, names in _EMOTION_SYNONYMS.items() for name in names
}
# EmoDB's one-letter codes (German initials) match only in upper case: lower-case single
# letters are too ambiguous to rename.
EMODB_CODES = {
    "W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
    "F": "happiness", "T": "sadness", "N": "neutral",
}

# Columns every loader's frame starts with, in this order.
BASE_COLUMNS = ["path", "emotion", "speaker", "gender"]


class SkipFile(Exception):
    """Raised by a corpus parser for a file it cannot use; the message says why."""


#: Key a parser may add to a file's labels when its name disagrees with, or lacks part of,
#: what its folder says and the folder's labels were used: the difference, in words.
FOLDER_NOTE = "_folder_note"


def canonical_emotion(label):
    """Return the canonical emotion name for ``label``, or None when it is not a known name.

    Parameters
    ----------
    label : str
        An emotion label: a word (``"angry"``), a corpus code (``"ANG"``, ``"ps"``) or an
        upper-case EmoDB letter (``"W"``).

    Returns
    -------
    emotion : str or None
        One of ``CANONICAL_EMOTIONS``, or None.
    """
    label = str(label).strip()
    if label in EMODB_CODES:
        return EMODB_CODES[label]
    key = label.lower().replace(" ", "_").replace("-", "_")
    return _SYNONYM_TO_EMOTION.get(key)


def _data_home_path(data_home=None):
    if data_home is None:
        data_home = os.environ.get("SKLEARN_SER_DATA") or os.path.join("~", "sklearn_ser_data")
    return os.path.expanduser(os.fspath(data_home))


def get_data_home(data_home=None):
    """Return the folder where fetched corpora are cached, creating it if needed.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        The folder. By default the ``SKLEARN_SER_DATA`` environment variable, else
        ``~/sklearn_ser_data``.

    Returns
    -------
    data_home : str
        The folder's path.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn_ser.datasets import get_data_home
    >>> folder = get_data_home(tempfile.mkdtemp())
    """
    data_home = _data_home_path(data_home)
    os.makedirs(data_home, exist_ok=True)
    return data_home


def clear_data_home(data_home=None):
    """Delete every cached corpus in the data home.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        The folder, as in :func:`get_data_home`.
    """
    shutil.rmtree(_data_home_path(data_home), ignore_errors=True)


def resolve_data_dir(data_dir, *, corpus, env_var, fetch_name=None):
    """Find a corpus folder: the argument, else the environment variable, else the cache.

    Parameters
    ----------
    data_dir : str, os.PathLike or None
        The folder the caller passed.
    corpus : str
        The corpus's short name, also its folder in the data home (``"emodb"``).
    env_var : str
        The environment variable that may hold the folder (``"SKLEARN_SER_EMODB"``).
    fetch_name : str or None, default=None
        The function that downloads the corpus, if there is one, for the error message.

    Returns
    -------
    data_dir : str
        An existing folder.

    Raises
    ------
    FileNotFoundError
        No folder was found; the message says how to provide one.
    """
    if data_dir is not None:
        source = "data_dir"
    elif os.environ.get(env_var):
        data_dir, source = os.environ[env_var], f"the {env_var} environment variable"
    else:
        cached = os.path.join(_data_home_path(), corpus)
        if os.path.isdir(cached):
            return cached
        fetch = ""
        if fetch_name:
            fetch = f", or call sklearn_ser.datasets.{fetch_name}() to download it"
        raise FileNotFoundError(
            f"The {corpus} corpus was not found. Pass data_dir='path/to/{corpus}', set the "
            f"{env_var} environment variable to its folder{fetch}."
        )
    data_dir = os.path.expanduser(os.fspath(data_dir))
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"The {corpus} folder '{data_dir}' (from {source}) does not exist or is not a "
            "folder. Point it at the corpus root or its folder of audio files."
        )
    return data_dir


def list_audio_files(folder):
    """Return the audio files under ``folder``, recursively, sorted by relative path.

    Hidden files and folders (a leading dot, such as the ``._x.wav`` resource forks that
    macOS puts in archives) and ``__MACOSX`` folders are left out; so is every file whose
    extension is not an audio one.

    Parameters
    ----------
    folder : str
        The folder to walk.

    Returns
    -------
    paths : list of str
        Absolute paths.
    """
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
        for name in files:
            if not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS):
                found.append(os.path.abspath(os.path.join(root, name)))
    # Sorting on the relative path makes the order the same wherever the corpus lives.
    return sorted(found, key=lambda p: os.path.relpath(p, folder))


def probe(path):
    """Read a file's header; return its rate, channels and duration, or raise SkipFile.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    info : dict
        ``native_sr``, ``channels`` and ``duration`` (seconds).
    """
    if os.path.getsize(path) == 0:
        raise SkipFile("the file is empty (0 bytes)")
    try:
        info = sf.info(path)
    except (sf.SoundFileError, RuntimeError, TypeError) as exc:
        raise SkipFile(f"its header cannot be read ({str(exc).rstrip('.')})") from exc
    if info.frames == 0:
        raise SkipFile("it contains no audio frames")
    return {"native_sr": int(info.samplerate), "channels": int(info.channels),
            "duration": float(info.duration)}


def warn_skipped(path, reason):
    """Warn that ``path`` was left out of a corpus, and why."""
    warn_user(f"Skipped '{path}': {reason}.", DataWarning)


def warn_relabelled(relabelled, shown=10):
    """One warning naming the files labelled from their folder rather than their name.

    Parameters
    ----------
    relabelled : list of (str, str)
        Each file and how its name differs from its folder.
    shown : int, default=10
        Files named in full; the others are counted.
    """
    if not relabelled:
        return
    named = "; ".join(f"'{path}' ({note})" for path, note in relabelled[:shown])
    more = f"; and {len(relabelled) - shown} more" if len(relabelled) > shown else ""
    warn_user(
        f"{len(relabelled)} file name(s) disagree with or lack part of what their folder says; "
        f"their speaker and emotion were taken from the folder: {named}{more}. Rename the "
        "files to match their folders if the folder is wrong.",
        DataWarning,
    )


def collect_rows(paths, parse):
    """Parse and probe each file; return one dict per usable file.

    Parameters
    ----------
    paths : list of str
        The candidate files.
    parse : callable
        ``parse(path) -> dict`` of labels, or ``None`` to leave the file out silently (a
        filter such as RAVDESS's ``vocal_channel``); raises ``SkipFile`` for a file that
        does not belong. Labels with a ``FOLDER_NOTE`` key come from the file's folder; the
        note says how the name differs, and such files are named in one warning.

    Returns
    -------
    rows : list of dict
        ``path``, the parsed labels and the header info, for each usable file.
    """
    rows, relabelled = [], []
    for path in paths:
        try:
            labels = parse(path)
            if labels is None:
                continue
            note = labels.get(FOLDER_NOTE)
            # A copy: a parser may hand out a dict it keeps (load_folder's CSV entries).
            labels = {k: v for k, v in labels.items() if k != FOLDER_NOTE}
            rows.append({"path": path, **labels, **probe(path)})
            if note:
                relabelled.append((path, note))
        except SkipFile as exc:
            warn_skipped(path, exc)
    warn_relabelled(relabelled)
    return rows


def make_bunch(rows, *, folder, columns, describe, return_clips, sr, n_jobs, verbose):
    """Build the Bunch a loader returns from its rows.

    Parameters
    ----------
    rows : list of dict
        One per file, from :func:`collect_rows`.
    folder : str
        The corpus folder, for the error message when no file is usable.
    columns : list of str
        The frame's columns after ``BASE_COLUMNS`` and before the header info.
    describe : callable
        ``describe(frame) -> str``, the DESCR text.
    return_clips : bool
        Load the audio into ``data`` instead of returning paths.
    sr : int or None
        The rate of the loaded clips.
    n_jobs : int or None
        Workers for loading.
    verbose : int
        Progress bar when positive.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``data``, ``target``, ``target_names``, ``groups``, ``frame``, ``sr`` and ``DESCR``.
    """
    if not rows:
        raise FileNotFoundError(
            f"No usable audio file was found in '{folder}'. Check that data_dir points at "
            "the corpus (its root or audio folder) and that the files keep their original names."
        )
    header = ["native_sr", "channels", "duration"]
    frame = pd.DataFrame(rows, columns=BASE_COLUMNS + columns + header)
    if return_clips:
        frame, data = _load_clips(frame, sr=sr, n_jobs=n_jobs, verbose=verbose)
    else:
        data = frame["path"].tolist()
    rates = frame["native_sr"].unique()
    return Bunch(
        data=data,
        target=frame["emotion"].to_numpy(dtype=str),
        target_names=np.unique(frame["emotion"].to_numpy(dtype=str)),
        groups=frame["speaker"].to_numpy(dtype=str),
        frame=frame,
        # With sr=None, the clips keep their own rate; report it only when there is one.
        sr=int(sr) if sr is not None else (int(rates[0]) if len(rates) == 1 else None),
        DESCR=describe(frame),
    )


def _load_clips(frame, *, sr, n_jobs, verbose):
    """Load every file of ``frame``; drop (with a warning) those that fail to decode."""
    paths = frame["path"].tolist()
    loaded = load_many(paths, sr=sr, n_jobs=n_jobs, verbose=verbose, on_error="return")
    keep = np.array([not isinstance(y, Exception) for y in loaded])
    for path, y in zip(paths, loaded):
        if isinstance(y, Exception):
            warn_skipped(path, f"it cannot be decoded ({y})")
    if not keep.any():
        folder = os.path.commonpath(paths)
        raise FileNotFoundError(f"No audio file under '{folder}' could be decoded.")
    frame = frame[keep].reset_index(drop=True)
    return frame, [y for y in loaded if not isinstance(y, Exception)]


def check_loader_args(return_clips, sr):
    """Check the arguments every loader shares."""
    if not isinstance(return_clips, (bool, np.bool_)):
        raise TypeError(f"return_clips must be a bool, got {return_clips!r}.")
    check_sr(sr)


def describe_copy(frame):
    """One line on what was loaded: file, speaker and emotion counts."""
    counts = frame["emotion"].value_counts().sort_index()
    per_emotion = ", ".join(f"{e} {n}" for e, n in counts.items())
    return (
        f"This copy: {len(frame)} files, {frame['speaker'].nunique()} speakers, "
        f"{frame['duration'].sum() / 60:.1f} minutes ({per_emotion})."
    )


def load_corpus(folder, parse, *, columns, describe, return_clips, sr, n_jobs, verbose):
    """List, parse and probe every audio file under ``folder``; return the Bunch.

    The body shared by the corpus loaders: see :func:`collect_rows` and :func:`make_bunch`.
    """
    rows = collect_rows(list_audio_files(folder), parse)
    return make_bunch(
        rows, folder=folder, columns=columns, describe=describe,
        return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose,
    )


def stem(path):
    """The file name without folder and extension."""
    return os.path.splitext(os.path.basename(path))[0]
