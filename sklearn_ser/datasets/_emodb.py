"""Loader of EmoDB, the Berlin Database of Emotional Speech."""

import re

from ._base import (
    EMODB_CODES,
    SkipFile,
    check_loader_args,
    describe_copy,
    load_corpus,
    resolve_data_dir,
    stem,
)

# <speaker:2><text:3><emotion:1><version:1>, e.g. 03a01Fa: speaker 03, text a01, F, version a.
_NAME = re.compile(r"(?P<speaker>\d{2})(?P<text>[a-z]\d{2})(?P<code>[A-Za-z])(?P<version>[a-z])")

_SPEAKER_GENDER = {
    "03": "male", "08": "female", "09": "female", "10": "male", "11": "male",
    "12": "male", "13": "female", "14": "female", "15": "male", "16": "female",
}


def _parse(path):
    """Labels of one EmoDB file from its name, or SkipFile."""
    match = _NAME.fullmatch(stem(path))
    if match is None:
        raise SkipFile(
            "its name does not follow EmoDB's <speaker:2><text:3><emotion:1><version:1> "
            "pattern, e.g. 03a01Fa.wav"
        )
    speaker, code = match["speaker"], match["code"]
    if code not in EMODB_CODES:
        raise SkipFile(f"unknown EmoDB emotion code '{code}' (expected one of W L E A F T N)")
    if speaker not in _SPEAKER_GENDER:
        raise SkipFile(f"unknown EmoDB speaker '{speaker}' (expected 03, 08-16)")
    return {
        "emotion": EMODB_CODES[code],
        "speaker": f"emodb:{speaker}",
        "gender": _SPEAKER_GENDER[speaker],
        "text": match["text"],
        "version": match["version"],
    }


def _describe(frame):
    return f"""\
.. _emodb_dataset:

EmoDB (Berlin Database of Emotional Speech)
-------------------------------------------

535 utterances of 10 German sentences acted by 10 professional speakers (5 female, 5 male)
in 7 emotions: anger (127), boredom (81), disgust (46), fear (69), happiness (71),
neutral (79) and sadness (62); 16 kHz mono, 1.2 to 9.0 s each. File names encode the
labels: ``<speaker:2><text:3><emotion:1><version:1>.wav``. Free for research use, from
http://emodb.bilderbar.info.

{describe_copy(frame)}

.. topic:: References

   - F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier and B. Weiss (2005). A Database
     of German Emotional Speech. Proc. Interspeech 2005, 1517-1520.
"""


def load_emodb(data_dir=None, *, return_clips=False, sr=16000, n_jobs=None, verbose=0):
    """Load EmoDB, the Berlin Database of Emotional Speech (535 files, 7 emotions).

    Labels come from the file names, ``<speaker:2><text:3><emotion:1><version:1>.wav``
    (``03a01Fa.wav``). A file that does not follow the pattern, has an unknown emotion
    letter or speaker, or is empty or unreadable, is skipped with a ``DataWarning``.

    Parameters
    ----------
    data_dir : str or os.PathLike, default=None
        The corpus root or its ``wav/`` folder; files are found recursively. By default the
        ``SKLEARN_SER_EMODB`` environment variable, else the cache of :func:`fetch_emodb`
        (``get_data_home()/emodb``).
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
            Canonical emotion of each file: ``anger``, ``boredom``, ``disgust``, ``fear``,
            ``happiness``, ``neutral`` or ``sadness``.
        target_names : ndarray of shape (n_emotions,)
            The emotions present, sorted.
        groups : ndarray of shape (n_files,)
            Speaker ids, ``"emodb:03"`` ..., for speaker-grouped cross-validation.
        frame : pandas.DataFrame of shape (n_files, 10)
            ``path``, ``emotion``, ``speaker``, ``gender``, ``text`` (sentence code, e.g.
            ``a01``), ``version``, and from the header ``native_sr``, ``channels``,
            ``duration`` (seconds).
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

    See Also
    --------
    fetch_emodb : Download the corpus, then load it.

    Examples
    --------
    >>> from sklearn_ser.datasets import load_emodb
    >>> emodb = load_emodb("path/to/emodb")  # doctest: +SKIP
    >>> emodb.frame.groupby("speaker").size().head(2)  # doctest: +SKIP
    speaker
    emodb:03    49
    emodb:08    58
    dtype: int64
    """
    check_loader_args(return_clips, sr)
    folder = resolve_data_dir(
        data_dir, corpus="emodb", env_var="SKLEARN_SER_EMODB", fetch_name="fetch_emodb"
    )
    return load_corpus(
        folder, _parse, columns=["text", "version"], describe=_describe,
        return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose,
    )
