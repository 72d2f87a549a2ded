"""Loader of RAVDESS, the Ryerson Audio-Visual Database of Emotional Speech and Song."""

import os
import re

from ._base import (
    FOLDER_NOTE,
    SkipFile,
    check_loader_args,
    describe_copy,
    load_corpus,
    resolve_data_dir,
    stem,
)

# MM-VV-EE-II-SS-RR-AA: modality, vocal channel, emotion, intensity, statement, repetition, actor.
_NAME = re.compile(r"(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})")
_FOLDER = re.compile(r"Actor_(\d{2})", re.IGNORECASE)

_MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
_VOCAL_CHANNELS = {"01": "speech", "02": "song"}
_EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happiness", "04": "sadness",
    "05": "anger", "06": "fear", "07": "disgust", "08": "surprise",
}
_INTENSITIES = {"01": "normal", "02": "strong"}
_STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
_REPETITIONS = {"01": 1, "02": 2}


def _field(value, table, name):
    if value not in table:
        raise SkipFile(f"unknown RAVDESS {name} code '{value}' (expected {', '.join(table)})")
    return table[value]


def _folder_actor(path):
    """The actor of an ``Actor_NN`` folder (1 to 24), or None for any other folder."""
    match = _FOLDER.fullmatch(os.path.basename(os.path.dirname(path)))
    return int(match[1]) if match and 1 <= int(match[1]) <= 24 else None


def _actor(code, path):
    """Actor number and, where the name disagrees with its ``Actor_NN`` folder, a note.

    The folder wins: it holds one actor's whole session, while a name can carry a typo.
    """
    folder = _folder_actor(path)
    if folder is not None and folder != int(code):
        return folder, f"actor {code} in the name, {folder:02d} in the folder"
    if not 1 <= int(code) <= 24:
        raise SkipFile(f"unknown RAVDESS actor '{code}' (expected 01 to 24)")
    return int(code), None


def _parse_name(path):
    """All the labels in a RAVDESS file name, or SkipFile."""
    match = _NAME.fullmatch(stem(path))
    if match is None:
        raise SkipFile(
            "its name does not follow RAVDESS's MM-VV-EE-II-SS-RR-AA pattern, "
            "e.g. 03-01-05-01-02-01-12.wav"
        )
    modality, channel, emotion, intensity, statement, repetition, code = match.groups()
    actor, note = _actor(code, path)
    labels = {
        "emotion": _field(emotion, _EMOTIONS, "emotion"),
        "speaker": f"ravdess:{actor:02d}",
        # RAVDESS numbers male actors odd and female actors even.
        "gender": "male" if actor % 2 else "female",
        "actor": actor,
        "intensity": _field(intensity, _INTENSITIES, "intensity"),
        "statement": _field(statement, _STATEMENTS, "statement"),
        "repetition": _field(repetition, _REPETITIONS, "repetition"),
        "vocal_channel": _field(channel, _VOCAL_CHANNELS, "vocal channel"),
        "modality": _field(modality, _MODALITIES, "modality"),
    }
    return {**labels, FOLDER_NOTE: note} if note else labels


def _make_parser(vocal_channel):
    def parse(path):
        labels = _parse_name(path)
        if labels["modality"] != "audio-only":
            raise SkipFile(
                f"modality {labels['modality']} is not audio-only (03); the video files' "
                "audio is the same as the audio-only files'"
            )
        if vocal_channel != "all" and labels["vocal_channel"] != vocal_channel:
            return None  # a filter the caller asked for, not a problem with the file
        return labels

    return parse


def _describe(frame):
    return f"""\
.. _ravdess_dataset:

RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song)
--------------------------------------------------------------------

24 professional actors (12 female, 12 male; odd numbers male) speak two matched statements
("Kids are talking by the door", "Dogs are sitting by the door") with neutral, calm, happy,
sad, angry, fearful, surprised and disgusted expressions (1440 audio-only speech files), and
sing them with neutral, calm, happy, sad, angry and fearful expressions (1012 song files).
Every emotion but neutral comes at two intensities (normal, strong), each statement twice.
48 kHz WAV. File names encode the labels: ``MM-VV-EE-II-SS-RR-AA.wav``. CC BY-NC-SA 4.0,
from https://zenodo.org/records/1188976.

{describe_copy(frame)}

.. topic:: References

   - S. R. Livingstone and F. A. Russo (2018). The Ryerson Audio-Visual Database of
     Emotional Speech and Song (RAVDESS): A dynamic, multimodal set of facial and vocal
     expressions in North American English. PLoS ONE 13(5): e0196391.
"""


def load_ravdess(
    data_dir=None, *, vocal_channel="speech", return_clips=False, sr=16000, n_jobs=None,
    verbose=0,
):
    """Load RAVDESS (24 actors; 1440 speech and 1012 song audio files, 8 emotions).

    Labels come from the file names, ``MM-VV-EE-II-SS-RR-AA.wav``. Only audio-only files
    (modality 03) are used. A file that does not follow the pattern, has an unknown code,
    or is empty or unreadable, is skipped with a ``DataWarning``. Where a name's actor
    disagrees with its ``Actor_NN`` folder, the folder's is used and one ``DataWarning``
    names those files.

    Parameters
    ----------
    data_dir : str or os.PathLike, default=None
        The folder holding the ``Actor_XX`` folders (or the files); files are found
        recursively. By default the ``SKLEARN_SER_RAVDESS`` environment variable, else the
        cache of :func:`fetch_ravdess` (``get_data_home()/ravdess``).
    vocal_channel : {"speech", "song", "all"}, default="speech"
        Which recordings to keep; files of the other channel are left out silently.
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
            Absolute file paths, sorted; or the clips when ``return_clips=True``.
        target : ndarray of shape (n_files,)
            Canonical emotion of each file: ``neutral``, ``calm``, ``happiness``,
            ``sadness``, ``anger``, ``fear``, ``disgust`` or ``surprise``.
        target_names : ndarray of shape (n_emotions,)
            The emotions present, sorted.
        groups : ndarray of shape (n_files,)
            Speaker ids, ``"ravdess:01"`` to ``"ravdess:24"``.
        frame : pandas.DataFrame of shape (n_files, 14)
            ``path``, ``emotion``, ``speaker``, ``gender``, ``actor`` (int),
            ``intensity`` (``normal``/``strong``), ``statement`` (the sentence),
            ``repetition`` (1 or 2), ``vocal_channel`` (``speech``/``song``), ``modality``,
            and from the header ``native_sr``, ``channels``, ``duration`` (seconds).
        sr : int or None
            Sample rate of the clips (``sr``; with ``sr=None`` the files' common rate).
        DESCR : str
            Description of the corpus and of this copy.

    Raises
    ------
    FileNotFoundError
        The corpus was not found, or no file in it is usable.
    ValueError
        ``vocal_channel`` is not one of the options.

    Warns
    -----
    sklearn_ser.exceptions.DataWarning
        For each skipped file, with the reason; and once for the files whose actor was
        taken from their folder, naming each.

    See Also
    --------
    fetch_ravdess : Download the corpus, then load it.

    Examples
    --------
    >>> from sklearn_ser.datasets import load_ravdess
    >>> ravdess = load_ravdess("path/to/ravdess", vocal_channel="all")  # doctest: +SKIP
    >>> ravdess.frame["vocal_channel"].value_counts()  # doctest: +SKIP
    vocal_channel
    speech    1440
    song      1012
    Name: count, dtype: int64
    """
    if vocal_channel not in ("speech", "song", "all"):
        raise ValueError(
            f"vocal_channel must be 'speech', 'song' or 'all', got {vocal_channel!r}."
        )
    check_loader_args(return_clips, sr)
    folder = resolve_data_dir(
        data_dir, corpus="ravdess", env_var="SKLEARN_SER_RAVDESS", fetch_name="fetch_ravdess"
    )
    columns = ["actor", "intensity", "statement", "repetition", "vocal_channel", "modality"]
    return load_corpus(
        folder, _make_parser(vocal_channel), columns=columns, describe=_describe,
        return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose,
    )
