"""Loader of TESS, the Toronto Emotional Speech Set."""

import os

from ._base import (
    FOLDER_NOTE,
    SkipFile,
    canonical_emotion,
    check_loader_args,
    describe_copy,
    load_corpus,
    resolve_data_dir,
    stem,
)

# The two speakers: OAF (older adult female, 64) and YAF (younger adult female, 26).
_SPEAKER_AGE = {"OAF": 64, "YAF": 26}
_EMOTIONS = {"anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"}


def _tess_emotion(label):
    emotion = canonical_emotion(label)
    return emotion if emotion in _EMOTIONS else None


def _split_emotion(tokens):
    """Split ``[word..., emotion...]`` tokens; the emotion may span two (pleasant_surprise)."""
    for n_tokens in (2, 1):
        if len(tokens) >= n_tokens:
            emotion = _tess_emotion("_".join(tokens[-n_tokens:]))
            if emotion is not None:
                return "_".join(tokens[:-n_tokens]), emotion
    return "_".join(tokens), None


def _folder_labels(path):
    """Speaker and emotion from the folder name (``OAF_Pleasant_surprise``); None if absent."""
    tokens = os.path.basename(os.path.dirname(path)).split("_")
    speaker = tokens[0].upper() if tokens[0].upper() in _SPEAKER_AGE else None
    return speaker, _tess_emotion("_".join(tokens[1:] if speaker else tokens))


def _name_labels(path):
    """Speaker (or None), word and emotion (or None) from a name ``<speaker>_<word>_<emotion>``.

    A first token that is not a TESS speaker still counts as the speaker's place when the
    name has three or more tokens: the real corpus has ``OAF_neutral/OA_bite_neutral.wav``.
    """
    tokens = stem(path).split("_")
    speaker = tokens[0].upper()
    if speaker in _SPEAKER_AGE or len(tokens) >= 3:
        word, emotion = _split_emotion(tokens[1:])
        return (speaker if speaker in _SPEAKER_AGE else None), tokens[0], word, emotion
    word, emotion = _split_emotion(tokens)
    return None, None, word, emotion


def _differences(name_speaker, token, name_emotion, folder_speaker, folder_emotion):
    """How a file name departs from its folder, in words (empty when it does not)."""
    notes = []
    if folder_speaker and name_speaker != folder_speaker:
        notes.append(f"speaker '{token}' in the name, {folder_speaker} in the folder"
                     if token else f"no speaker in the name, {folder_speaker} in the folder")
    if folder_emotion and name_emotion != folder_emotion:
        notes.append(f"emotion {name_emotion} in the name, {folder_emotion} in the folder"
                     if name_emotion else f"no emotion in the name, {folder_emotion} in the "
                     "folder")
    return "; ".join(notes)


def _parse(path):
    """Labels of one TESS file, ``<speaker>_<word>_<emotion>``, or SkipFile.

    The folder (``OAF_neutral``) wins where the name disagrees with it or lacks a part: it
    holds whole recording sessions, while a name can carry a typo.
    """
    name_speaker, token, word, name_emotion = _name_labels(path)
    folder_speaker, folder_emotion = _folder_labels(path)
    speaker = folder_speaker or name_speaker
    emotion = folder_emotion or name_emotion
    folder = os.path.basename(os.path.dirname(path))
    if speaker is None:
        raise SkipFile(
            "its name does not follow TESS's <speaker>_<word>_<emotion> pattern with speaker "
            "OAF or YAF, e.g. OAF_back_angry.wav, and its folder "
            f"'{folder}' names no speaker either"
        )
    if emotion is None:
        raise SkipFile(
            f"no TESS emotion (angry, disgust, fear, happy, neutral, ps, sad) in its name or "
            f"its folder '{folder}'"
        )
    if not word:
        raise SkipFile("its name has no word between the speaker and the emotion")
    labels = {
        "emotion": emotion,
        "speaker": f"tess:{speaker}",
        "gender": "female",
        "age": _SPEAKER_AGE[speaker],
        "word": word.lower(),
    }
    note = _differences(name_speaker, token, name_emotion, folder_speaker, folder_emotion)
    return {**labels, FOLDER_NOTE: note} if note else labels


def _describe(frame):
    return f"""\
.. _tess_dataset:

TESS (Toronto Emotional Speech Set)
-----------------------------------

Two actresses, aged 26 (YAF) and 64 (OAF), say "Say the word _" with 200 target words in
7 emotions: anger, disgust, fear, happiness, pleasant surprise, sadness and neutral; 2800
files, 400 per emotion, 24.4 kHz WAV. Files are named ``<speaker>_<word>_<emotion>.wav`` in
folders ``<speaker>_<emotion>``. With only two speakers, both female, speaker-independent
results on TESS say little. CC BY-NC-ND 4.0, from the University of Toronto's
TSpace (https://tspace.library.utoronto.ca/handle/1807/24487).

{describe_copy(frame)}

.. topic:: References

   - K. Dupuis and M. K. Pichora-Fuller (2010). Toronto emotional speech set (TESS).
     University of Toronto, Psychology Department. https://doi.org/10.5683/SP2/E8H2MF
"""


def load_tess(data_dir=None, *, return_clips=False, sr=16000, n_jobs=None, verbose=0):
    """Load TESS, the Toronto Emotional Speech Set (2 speakers, 2800 files, 7 emotions).

    The word comes from the file name, ``OAF_back_angry.wav``; the speaker and emotion
    (``angry``, ``disgust``, ``fear``, ``happy``, ``neutral``, ``ps``, ``sad``) from the
    folder name (``OAF_angry``, ``YAF_pleasant_surprised``) and the file name. Where the
    name disagrees with its folder or lacks a part (the real corpus has
    ``OAF_neutral/OA_bite_neutral.wav``), the folder's labels are used and one
    ``DataWarning`` names those files. A file that neither labels, or that is empty or
    unreadable, is skipped with a ``DataWarning``.

    Parameters
    ----------
    data_dir : str or os.PathLike, default=None
        The folder holding the ``OAF_*`` and ``YAF_*`` folders; files are found
        recursively. By default the ``SKLEARN_SER_TESS`` environment variable, else
        ``get_data_home()/tess``.
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
            Canonical emotion of each file: ``anger``, ``disgust``, ``fear``,
            ``happiness``, ``neutral``, ``sadness`` or ``surprise``.
        target_names : ndarray of shape (n_emotions,)
            The emotions present, sorted.
        groups : ndarray of shape (n_files,)
            Speaker ids, ``"tess:OAF"`` and ``"tess:YAF"``.
        frame : pandas.DataFrame of shape (n_files, 9)
            ``path``, ``emotion``, ``speaker``, ``gender`` (``female``), ``age``, ``word``
            (lower case), and from the header ``native_sr``, ``channels``, ``duration``.
        sr : int or None
            Sample rate of the clips (``sr``; with ``sr=None`` the files' common rate).
        DESCR : str
            Description of the corpus and of this copy.

    Raises
    ------
    FileNotFoundError
        The corpus was not found, or no file in it is usable.

    Warns
    -----
    sklearn_ser.exceptions.DataWarning
        For each skipped file, with the reason; and once for the files labelled from their
        folder, naming each.

    Notes
    -----
    Some copies of TESS (one on Kaggle) hold the whole corpus twice, in two folders; point
    ``data_dir`` at one of them, or every file is counted twice.

    Examples
    --------
    >>> from sklearn_ser.datasets import load_tess
    >>> tess = load_tess("path/to/tess")  # doctest: +SKIP
    >>> sorted(set(tess.groups))  # doctest: +SKIP
    ['tess:OAF', 'tess:YAF']
    """
    check_loader_args(return_clips, sr)
    folder = resolve_data_dir(data_dir, corpus="tess", env_var="SKLEARN_SER_TESS")
    return load_corpus(
        folder, _parse, columns=["age", "word"], describe=_describe,
        return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose,
    )
