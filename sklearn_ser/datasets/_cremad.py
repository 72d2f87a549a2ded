"""Loader of CREMA-D, the Crowd-sourced Emotional Multimodal Actors Dataset."""

import os
import re

import pandas as pd

from .._validation import warn_user
from ..exceptions import DataWarning
from ._base import SkipFile, check_loader_args, describe_copy, load_corpus, resolve_data_dir, stem

# <actor:4>_<sentence:3>_<emotion:3>_<level:2>, e.g. 1001_DFA_ANG_XX.
_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})")

_EMOTIONS = {
    "ANG": "anger", "DIS": "disgust", "FEA": "fear",
    "HAP": "happiness", "NEU": "neutral", "SAD": "sadness",
}
_INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
_SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
_DEMOGRAPHICS_FILE = "VideoDemographics.csv"
_DEMOGRAPHICS_COLUMNS = ["ActorID", "Age", "Sex", "Race", "Ethnicity"]
_UNKNOWN = {"gender": "unknown", "age": None, "race": None, "ethnicity": None}


def _find_demographics(folder):
    """Path of VideoDemographics.csv in ``folder`` or its parent, or None."""
    for candidate in (folder, os.path.dirname(os.path.abspath(folder))):
        path = os.path.join(candidate, _DEMOGRAPHICS_FILE)
        if os.path.isfile(path):
            return path
    return None


def _read_demographics(folder):
    """Map actor number to gender, age, race and ethnicity; empty when there is no table."""
    path = _find_demographics(folder)
    if path is None:
        return {}
    table = pd.read_csv(path)
    missing = [c for c in _DEMOGRAPHICS_COLUMNS if c not in table.columns]
    if missing:
        warn_user(
            f"Ignored '{path}': it lacks the columns {missing} (expected "
            f"{_DEMOGRAPHICS_COLUMNS}); gender is 'unknown' for every actor.",
            DataWarning,
        )
        return {}
    return {
        int(row.ActorID): {
            "gender": str(row.Sex).strip().lower(),
            "age": row.Age,
            "race": row.Race,
            "ethnicity": row.Ethnicity,
        }
        for row in table.itertuples(index=False)
    }


def _make_parser(demographics):
    def parse(path):
        match = _NAME.fullmatch(stem(path))
        if match is None:
            raise SkipFile(
                "its name does not follow CREMA-D's <actor>_<sentence>_<emotion>_<level> "
                "pattern, e.g. 1001_DFA_ANG_XX.wav"
            )
        actor, sentence, emotion, level = match.groups()
        if emotion not in _EMOTIONS:
            raise SkipFile(
                f"unknown CREMA-D emotion code '{emotion}' (expected {', '.join(_EMOTIONS)})"
            )
        if sentence not in _SENTENCES:
            raise SkipFile(f"unknown CREMA-D sentence code '{sentence}'")
        if level not in _INTENSITIES:
            raise SkipFile(f"unknown CREMA-D level '{level}' (expected LO, MD, HI or XX)")
        person = demographics.get(int(actor), _UNKNOWN)
        return {
            "emotion": _EMOTIONS[emotion],
            "speaker": f"cremad:{actor}",
            "gender": person["gender"],
            "actor": int(actor),
            "sentence": sentence,
            "text": _SENTENCES[sentence],
            "intensity": _INTENSITIES[level],
            "age": person["age"],
            "race": person["race"],
            "ethnicity": person["ethnicity"],
        }

    return parse


def _describe(frame):
    return f"""\
.. _cremad_dataset:

CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset)
-----------------------------------------------------------

7442 clips from 91 actors (48 male, 43 female, aged 20 to 74, of several races and
ethnicities) saying 12 sentences in 6 emotions: anger, disgust, fear, happiness, neutral
and sadness, one sentence at 4 levels (low, medium, high, unspecified) and the others
unspecified. 16 kHz WAV. File names encode the labels:
``<actor>_<sentence>_<emotion>_<level>.wav``; actor demographics are in
``VideoDemographics.csv``. Open Database License, from
https://github.com/CheyneyComputerScience/CREMA-D.

{describe_copy(frame)}

.. topic:: References

   - H. Cao, D. G. Cooper, M. K. Keutmann, R. C. Gur, A. Nenkova and R. Verma (2014).
     CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset. IEEE Transactions on
     Affective Computing 5(4), 377-390.
"""


def load_cremad(data_dir=None, *, return_clips=False, sr=16000, n_jobs=None, verbose=0):
    """Load CREMA-D (91 actors, 7442 files, 6 emotions).

    Labels come from the file names, ``1001_DFA_ANG_XX.wav``. Gender, age, race and
    ethnicity come from ``VideoDemographics.csv`` when it is in ``data_dir`` or its parent;
    otherwise gender is ``"unknown"``. A file that does not follow the pattern, has an
    unknown code, or is empty or unreadable (copies of the corpus have held a broken
    ``1076_MTI_SAD_XX.wav``), is skipped with a ``DataWarning``.

    Parameters
    ----------
    data_dir : str or os.PathLike, default=None
        The corpus root or its ``AudioWAV/`` folder; files are found recursively. By
        default the ``SKLEARN_SER_CREMAD`` environment variable, else
        ``get_data_home()/cremad``.
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
            ``happiness``, ``neutral`` or ``sadness``.
        target_names : ndarray of shape (n_emotions,)
            The emotions present, sorted.
        groups : ndarray of shape (n_files,)
            Speaker ids, ``"cremad:1001"`` to ``"cremad:1091"``.
        frame : pandas.DataFrame of shape (n_files, 14)
            ``path``, ``emotion``, ``speaker``, ``gender`` (``male``, ``female`` or
            ``unknown``), ``actor`` (int), ``sentence`` (code), ``text``, ``intensity``
            (``low``, ``medium``, ``high``, ``unspecified``), ``age``, ``race``,
            ``ethnicity`` (missing without the demographics table), and from the header
            ``native_sr``, ``channels``, ``duration``.
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
        For each skipped file, with the reason, and for a demographics table that lacks
        columns.

    Examples
    --------
    >>> from sklearn_ser.datasets import load_cremad
    >>> cremad = load_cremad("path/to/CREMA-D")  # doctest: +SKIP
    >>> cremad.frame["gender"].value_counts()  # doctest: +SKIP
    """
    check_loader_args(return_clips, sr)
    folder = resolve_data_dir(data_dir, corpus="cremad", env_var="SKLEARN_SER_CREMAD")
    columns = ["actor", "sentence", "text", "intensity", "age", "race", "ethnicity"]
    return load_corpus(
        folder, _make_parser(_read_demographics(folder)), columns=columns,
        describe=_describe, return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose,
    )
