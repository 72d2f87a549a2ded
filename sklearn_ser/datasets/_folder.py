"""Loader of a user's own corpus: labels from sub-folder names or from a CSV file."""

import os

import pandas as pd

from .._validation import warn_user
from ..exceptions import DataWarning
from ._base import (
    SkipFile,
    canonical_emotion,
    check_loader_args,
    describe_copy,
    collect_rows,
    list_audio_files,
    make_bunch,
)

_UNKNOWN_SPEAKER = "folder:unknown"


def _emotion(label):
    """The canonical name for a known synonym; any other label as given."""
    label = str(label).strip()
    return canonical_emotion(label) or label


def _folder_parser(folder):
    def parse(path):
        parts = os.path.relpath(path, folder).split(os.sep)
        if len(parts) < 2:
            raise SkipFile(
                f"it is not inside a label folder; put each file under "
                f"'{folder}{os.sep}<label>{os.sep}'"
            )
        return {"emotion": _emotion(parts[0]), "speaker": _UNKNOWN_SPEAKER, "gender": "unknown",
                "label": parts[0]}

    return parse


def _read_table(csv_path):
    """Read the CSV as strings, with lower-cased column names; check the required ones."""
    table = pd.read_csv(csv_path, dtype=str, skipinitialspace=True)
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("path", "label") if c not in table.columns]
    if missing:
        raise ValueError(
            f"The CSV file '{csv_path}' lacks the column(s) {missing}; it has "
            f"{list(table.columns)}. Add a 'path' column (file paths, absolute or relative "
            "to the CSV's folder), a 'label' column and, for speaker-independent evaluation, "
            "a 'speaker' column."
        )
    return table


def _is_blank(value):
    return pd.isna(value) or not str(value).strip()


def _csv_entries(csv_path):
    """Return ``{path: labels}`` from the CSV, warning about rows it cannot use."""
    table = _read_table(csv_path)
    base = os.path.dirname(os.path.abspath(csv_path))
    has_speaker = "speaker" in table.columns
    entries = {}
    # Line numbers as a spreadsheet shows them: the header is line 1.
    for line, row in zip(range(2, len(table) + 2), table.itertuples(index=False)):
        where = f"line {line} of '{csv_path}'"
        if _is_blank(row.path) or _is_blank(row.label):
            warn_user(f"Skipped {where}: empty path or label.", DataWarning)
            continue
        path = os.path.normpath(os.path.join(base, os.path.expanduser(row.path.strip())))
        if path in entries:
            warn_user(f"Skipped {where}: '{path}' is listed twice; the first row is kept.",
                      DataWarning)
            continue
        speaker = row.speaker if has_speaker and not _is_blank(row.speaker) else None
        entries[path] = {
            "emotion": _emotion(row.label),
            "speaker": f"folder:{speaker.strip()}" if speaker else _UNKNOWN_SPEAKER,
            "gender": "unknown",
            "label": row.label.strip(),
        }
    return entries


def _csv_parser(entries, csv_path):
    def parse(path):
        if not os.path.isfile(path):
            raise SkipFile(f"it does not exist (listed in '{csv_path}')")
        return entries[path]

    return parse


def _resolve_csv(data_dir, csv):
    csv = os.path.expanduser(os.fspath(csv))
    if data_dir is not None and not os.path.isabs(csv):
        csv = os.path.join(os.fspath(data_dir), csv)
    if not os.path.isfile(csv):
        raise FileNotFoundError(
            f"The CSV file '{csv}' does not exist. Pass csv as an absolute path or relative "
            "to data_dir."
        )
    return csv


def _make_describe(source):
    def describe(frame):
        return f"""\
.. _folder_dataset:

Audio folder
------------

Files and labels from {source}. Labels that name a known emotion (``angry``, ``ANG``,
``happy``, ``ps``, ...) are renamed to the canonical names; others are kept as given.

{describe_copy(frame)}
"""

    return describe


def load_folder(data_dir, *, csv=None, return_clips=False, sr=16000, n_jobs=None, verbose=0):
    """Load a corpus of your own, labelled by sub-folder names or by a CSV file.

    Without ``csv``, every audio file (``.wav``, ``.flac``, ``.aif``, ``.aiff``, ``.ogg``,
    ``.mp3``) under ``data_dir/<label>/`` (at any depth) gets ``<label>``. With ``csv``,
    the table's ``path`` and ``label`` columns give the files and labels, and an optional
    ``speaker`` column the speakers.

    Labels that are a known name of an emotion become its canonical name: ``angry``,
    ``ANG``, ``mad`` give ``anger``; ``happy``, ``joy`` give ``happiness``; ``sad``,
    ``fearful``, ``ps``, ``pleasant_surprised`` and the upper-case EmoDB letters ``W L E A
    F T N`` likewise (matched ignoring case, spaces and dashes, except the letters). Other
    labels are kept exactly as given, case included, so ``Excited`` and ``excited`` are two
    classes.

    Parameters
    ----------
    data_dir : str, os.PathLike or None
        The corpus folder. With ``csv``, a relative ``csv`` is read from it; it may then be
        None.
    csv : str or os.PathLike, default=None
        A CSV file with columns ``path`` (absolute, or relative to the CSV's folder),
        ``label`` and optionally ``speaker`` (column names ignore case).
    return_clips : bool, default=False
        Return the audio in ``data`` (read with :class:`~sklearn_ser.io.AudioLoader`)
        instead of the file paths.
    sr : int or None, default=16000
        Sample rate of the clips when ``return_clips=True``; None keeps each file's own.
    n_jobs : int or None, default=None
        Files read in parallel when ``return_clips=True``.
    verbose : int, default=0
        Progress bar while reading when positive.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : list of str, or list of ndarray of shape (n_samples_i,)
            Absolute file paths (sorted without ``csv``, in the CSV's order with it); or
            the clips when ``return_clips=True``.
        target : ndarray of shape (n_files,)
            The label of each file, canonical where it is a known emotion name.
        target_names : ndarray of shape (n_labels,)
            The labels present, sorted.
        groups : ndarray of shape (n_files,)
            ``"folder:<speaker>"`` from the ``speaker`` column, else ``"folder:unknown"``.
        frame : pandas.DataFrame of shape (n_files, 8)
            ``path``, ``emotion``, ``speaker``, ``gender`` (``unknown``), ``label`` (as
            given), and from the header ``native_sr``, ``channels``, ``duration``.
        sr : int or None
            Sample rate of the clips (``sr``; with ``sr=None`` the files' common rate).
        DESCR : str
            Description of the corpus.

    Raises
    ------
    FileNotFoundError
        ``data_dir`` or ``csv`` does not exist, or no file is usable.
    ValueError
        The CSV lacks the ``path`` or ``label`` column.

    Warns
    -----
    sklearn_ser.exceptions.DataWarning
        For each skipped file or CSV row, with the reason; and once when some file has no
        speaker, since speaker-independent evaluation needs one.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sklearn_ser.datasets import load_folder
    >>> root = tempfile.mkdtemp()
    >>> for label in ("angry", "calm"):
    ...     os.mkdir(os.path.join(root, label))
    ...     sf.write(os.path.join(root, label, "a.wav"), np.zeros(1600), 16000)
    >>> with open(os.path.join(root, "labels.csv"), "w") as f:
    ...     _ = f.write("path,label,speaker\\nangry/a.wav,angry,s1\\ncalm/a.wav,calm,s2\\n")
    >>> corpus = load_folder(root, csv="labels.csv")
    >>> corpus.target.tolist(), corpus.groups.tolist()
    (['anger', 'calm'], ['folder:s1', 'folder:s2'])
    """
    check_loader_args(return_clips, sr)
    if csv is not None:
        csv_path = _resolve_csv(data_dir, csv)
        entries = _csv_entries(csv_path)
        paths, parse = list(entries), _csv_parser(entries, csv_path)
        where, source = csv_path, f"'{csv_path}'"
    else:
        if data_dir is None:
            raise ValueError("Pass data_dir, the folder of <label>/ sub-folders, or a csv file.")
        folder = os.path.expanduser(os.fspath(data_dir))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"The folder '{folder}' does not exist or is not a folder.")
        paths, parse = list_audio_files(folder), _folder_parser(folder)
        where, source = folder, f"the sub-folder names of '{folder}'"
    rows = collect_rows(paths, parse)
    if any(row["speaker"] == _UNKNOWN_SPEAKER for row in rows):
        warn_user(
            f"Some files of {source} have no speaker; their group is '{_UNKNOWN_SPEAKER}'. "
            "Speaker-independent evaluation needs speakers: pass a csv with a 'speaker' "
            "column.",
            DataWarning,
        )
    return make_bunch(
        rows, folder=where, columns=["label"], describe=_make_describe(source),
        return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose,
    )
