"""Loader of TESS, the Toronto Emotional Speech Set."""

import os

from ._base import (
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


def _folder_emotion(path):
    """Emotion from the folder name (``OAF_Pleasant_surprise``), the fallback of the file name."""
    tokens = os.path.basename(os.path.dirname(path)).split("_")
    if tokens and tokens[0].upper() in _SPEAKER_AGE:
        tokens = tokens[1:]
    return _tess_emotion("_".join(tokens))


def _parse(path):
    """Labels of one TESS file, ``<speaker>_<word>_<emotion>``, or SkipFile."""
    tokens = stem(path).split("_")
    speaker = tokens[0].upper()
    if speaker not in _SPEAKER_AGE or len(tokens) < 2:
        raise SkipFile(
            "its name does not follow TESS's <speaker>_<word>_<emotion> pattern with speaker "
            "OAF or YAF, e.g. OAF_back_angry.wav"
        )
    word, emotion = _split_emotion(tokens[1:])
    if emotion is None:
        emotion = _folder_emotion(path)
    if emotion is None:
        raise SkipFile(
            f"no TESS emotion (angry, disgust, fear, happy, neutral, ps, sad) in its name or "
            f"its folder '{os.path.basename(os.path.dirname(path))}'"
        )
    if not word:
        raise SkipFile("its name has no word between the speaker and the emotion")
    return {
        "emotion": emotion,
        "speaker": f"tess:{speaker}",
        "gender": "female",
        "age": _SPEAKER_AGE[speaker],
        "word": word.lower(),
    }


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

    The speaker and word come from the file name, ``OAF_back_angry.wav``; the emotion from
    its last token (``angry``, ``disgust``, ``fear``, ``happy``, ``neutral``, ``ps``,
    ``sad``), else from the folder name (``YAF_pleasant_surprised``). A file that fits
    neither, or is empty or unreadable, is skipped with a ``DataWarning``.

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
        For each skipped file, with the reason.

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
