"""Loaders of corpora rated on continuous dimensions: MSP-Podcast and IEMOCAP.

Both are licensed to users one by one, so there is no fetcher: the loaders read a copy the
user owns, in the folder layout and label files the corpus ships with. Besides a category
per clip, each clip has ratings of arousal (activation), valence and dominance, which the
Bunch returns as arrays of their own, on the corpus's own scale.
"""

import glob
import os
import re

import pandas as pd

from .._validation import warn_user
from ..exceptions import DataWarning
from ._base import (
    SkipFile,
    check_loader_args,
    collect_rows,
    describe_copy,
    list_audio_files,
    make_bunch,
    resolve_data_dir,
    stem,
)

__all__ = ["load_iemocap", "load_msp_podcast"]

_DIMENSIONS = ("arousal", "valence", "dominance")

# ------------------------------------------------------------------------- MSP-Podcast

_MSP_LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")  # releases spell both
_MSP_COLUMNS = {"FileName": "file", "EmoClass": "code", "EmoAct": "arousal",
                "EmoVal": "valence", "EmoDom": "dominance", "SpkrID": "speaker_id",
                "Gender": "gender", "Split_Set": "split"}
_MSP_EMOTIONS = {"A": "anger", "S": "sadness", "H": "happiness", "U": "surprise", "F": "fear",
                 "D": "disgust", "C": "contempt", "N": "neutral", "O": "other",
                 "X": "no_agreement"}


def _find_msp_labels(folder, labels_file):
    if labels_file is not None:
        if not os.path.isfile(labels_file):
            raise FileNotFoundError(f"The labels file '{labels_file}' does not exist.")
        return labels_file
    for where in (folder, os.path.join(folder, "Labels"), os.path.dirname(folder)):
        for name in _MSP_LABEL_FILES:
            if os.path.isfile(os.path.join(where, name)):
                return os.path.join(where, name)
    raise FileNotFoundError(
        f"No MSP-Podcast labels file ({' or '.join(_MSP_LABEL_FILES)}) was found in '{folder}' "
        "or its Labels/ folder. Pass labels_file='path/to/labels_consensus.csv'."
    )


def _read_msp_labels(path):
    """The consensus labels as ``{file stem: labels}``; a clear error for a wrong table."""
    table = pd.read_csv(path)
    missing = [c for c in _MSP_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"The MSP-Podcast labels file '{path}' lacks the column(s) {missing}; expected "
            f"{list(_MSP_COLUMNS)} as in the corpus's Labels/labels_consensus.csv."
        )
    table = table.rename(columns=_MSP_COLUMNS)
    entries = {}
    for row in table.itertuples(index=False):
        speaker = str(row.speaker_id).strip()
        entries[stem(str(row.file))] = {
            "emotion": _MSP_EMOTIONS.get(str(row.code).strip(), str(row.code).strip()),
            "speaker": f"msp-podcast:{'unknown' if speaker.lower() == 'unknown' else speaker}",
            "gender": str(row.gender).strip().lower(),
            "arousal": float(row.arousal),
            "valence": float(row.valence),
            "dominance": float(row.dominance),
            "split": str(row.split).strip(),
        }
    return entries


def _lookup_parser(entries, labels_path):
    def parse(path):
        try:
            return entries[stem(path)]
        except KeyError:
            raise SkipFile(f"it has no row in the labels file '{labels_path}'") from None

    return parse


def _warn_unheard(entries, rows, labels_path, corpus):
    """One warning for the rated clips whose audio was not found."""
    heard = {stem(row["path"]) for row in rows}
    missing = sorted(set(entries) - heard)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        warn_user(f"{len(missing)} clip(s) of '{labels_path}' have no audio file in the "
                  f"{corpus} folder and were left out: {shown}.", DataWarning)


def _warn_unknown_speakers(rows, unknown, corpus):
    count = sum(row["speaker"] == unknown for row in rows)
    if count:
        warn_user(
            f"{count} {corpus} clip(s) have no speaker id and share the speaker "
            f"'{unknown}', so a speaker-independent split keeps them together, although they "
            "are many speakers. Drop them for a strict speaker-independent evaluation.",
            DataWarning,
        )


def _dimensional_bunch(rows, *, folder, columns, describe, return_clips, sr, n_jobs,
                       verbose):
    bunch = make_bunch(rows, folder=folder, columns=columns, describe=describe,
                       return_clips=return_clips, sr=sr, n_jobs=n_jobs, verbose=verbose)
    for name in _DIMENSIONS:
        bunch[name] = bunch.frame[name].to_numpy(dtype=float)
    return bunch


def load_msp_podcast(data_dir=None, *, labels_file=None, return_clips=False, sr=16000,
                     n_jobs=None, verbose=0):
    """Load MSP-Podcast: podcast speech rated for arousal, valence and dominance.

    Reads the layout of the corpus's releases: audio under ``Audios/`` (any folder below
    ``data_dir``), and the consensus labels in ``Labels/labels_consensus.csv`` (older
    releases: ``labels_concensus.csv``) with the columns ``FileName, EmoClass, EmoAct,
    EmoVal, EmoDom, SpkrID, Gender, Split_Set``. The corpus is licensed by its authors
    (https://ecs.utdallas.edu/research/researchlabs/msp-lab/MSP-Podcast.html); there is no
    fetcher.

    Parameters
    ----------
    data_dir : str or os.PathLike, default=None
        The corpus root. By default the ``SKLEARN_SER_MSP_PODCAST`` environment variable,
        else ``get_data_home()/msp_podcast``.
    labels_file : str or os.PathLike, default=None
        The consensus labels CSV, when it is not in ``data_dir`` or its ``Labels/``.
    return_clips : bool, default=False
        Return the audio in ``data`` instead of the file paths.
    sr : int or None, default=16000
        Sample rate of the clips when ``return_clips=True``.
    n_jobs : int or None, default=None
        Files read in parallel when ``return_clips=True``.
    verbose : int, default=0
        Progress bar while reading when positive.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        ``data``, ``target`` (the consensus category: canonical names, and ``contempt``,
        ``other`` or ``no_agreement``), ``target_names``, ``groups`` (``"msp-podcast:<id>"``;
        clips without an id share ``"msp-podcast:unknown"``), ``arousal``, ``valence``,
        ``dominance`` (the mean ratings on the corpus's 1-7 scale, as floats), ``frame``
        (adds ``split``: the corpus's ``Train``, ``Development``, ``Test1`` ...), ``sr``
        and ``DESCR``.

    Warns
    -----
    sklearn_ser.exceptions.DataWarning
        For each audio file without a row in the labels file, once for the rated clips
        whose audio is missing, and once for the clips without a speaker id.

    Examples
    --------
    >>> from sklearn_ser.datasets import load_msp_podcast
    >>> msp = load_msp_podcast("path/to/MSP-Podcast")  # doctest: +SKIP
    >>> msp.arousal[:3]  # doctest: +SKIP
    """
    check_loader_args(return_clips, sr)
    folder = resolve_data_dir(data_dir, corpus="msp_podcast", env_var="SKLEARN_SER_MSP_PODCAST")
    labels_path = _find_msp_labels(folder, labels_file)
    entries = _read_msp_labels(labels_path)
    rows = collect_rows(list_audio_files(folder), _lookup_parser(entries, labels_path))
    _warn_unheard(entries, rows, labels_path, "MSP-Podcast")
    _warn_unknown_speakers(rows, "msp-podcast:unknown", "MSP-Podcast")
    return _dimensional_bunch(
        rows, folder=folder, columns=[*_DIMENSIONS, "split"],
        describe=lambda frame: _describe("MSP-Podcast", "1-7", frame), return_clips=return_clips,
        sr=sr, n_jobs=n_jobs, verbose=verbose,
    )


# ---------------------------------------------------------------------------- IEMOCAP

# "[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]": the
# bracket holds valence, activation (arousal) and dominance, in that order.
_IEMOCAP_LINE = re.compile(
    r"^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(Ses\d{2}[FM]_\S+)\s+(\w+)\s+"
    r"\[\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*\]"
)
_IEMOCAP_EMOTIONS = {"neu": "neutral", "ang": "anger", "hap": "happiness", "exc": "excitement",
                     "sad": "sadness", "fru": "frustration", "fea": "fear", "sur": "surprise",
                     "dis": "disgust", "oth": "other", "xxx": "no_agreement"}


def _iemocap_entry(utterance, code, valence, arousal, dominance):
    # Ses01F_impro01_F000: session 1, dialogue impro01, spoken by its female actor.
    dialog, turn = utterance.rsplit("_", 1)
    session = utterance[:5]
    gender = {"F": "female", "M": "male"}.get(turn[:1], "unknown")
    return {
        "emotion": _IEMOCAP_EMOTIONS.get(code, code),
        "speaker": f"iemocap:{session}{turn[:1]}",
        "gender": gender,
        "session": int(session[3:]),
        "dialog": dialog,
        "improvised": "_impro" in dialog,
        "arousal": float(arousal),
        "valence": float(valence),
        "dominance": float(dominance),
    }


def _read_iemocap_labels(folder):
    """Every ``EmoEvaluation/*.txt`` under ``folder`` as ``({utterance: labels}, files)``."""
    files = sorted(glob.glob(os.path.join(folder, "**", "EmoEvaluation", "*.txt"),
                             recursive=True))
    entries = {}
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = _IEMOCAP_LINE.match(line.strip())
                if match:
                    _, _, utterance, code, valence, arousal, dominance = match.groups()
                    entries[utterance] = _iemocap_entry(utterance, code, valence, arousal,
                                                        dominance)
    if not entries:
        raise FileNotFoundError(
            f"No IEMOCAP evaluation file (Session*/dialog/EmoEvaluation/*.txt with lines such "
            f"as '[6.29 - 8.24]\\tSes01F_impro01_F000\\tneu\\t[2.5, 2.5, 2.5]') was found "
            f"under '{folder}'. Point data_dir at the IEMOCAP_full_release folder."
        )
    return entries, files


def _iemocap_audio(folder):
    """The utterance files: those under ``sentences/wav`` when the layout has them.

    The dialogue recordings (``dialog/wav``) are left out without a warning: they are whole
    conversations, not rated clips.
    """
    paths = list_audio_files(folder)
    utterances = [p for p in paths if f"{os.sep}sentences{os.sep}" in p]
    return utterances or [p for p in paths if f"{os.sep}dialog{os.sep}" not in p]


def load_iemocap(data_dir=None, *, return_clips=False, sr=16000, n_jobs=None, verbose=0):
    """Load IEMOCAP: dyadic sessions of 10 actors, rated per utterance for categories and
    for valence, activation (arousal) and dominance.

    Reads the layout of ``IEMOCAP_full_release``: utterances in
    ``Session<N>/sentences/wav/<dialogue>/<utterance>.wav`` and their labels in
    ``Session<N>/dialog/EmoEvaluation/<dialogue>.txt``, one line per utterance such as
    ``[6.2901 - 8.2357]  Ses01F_impro01_F000  neu  [2.5000, 2.5000, 2.5000]`` (valence,
    activation, dominance). The corpus is licensed by USC SAIL
    (https://sail.usc.edu/iemocap/); there is no fetcher.

    Parameters
    ----------
    data_dir : str or os.PathLike, default=None
        The ``IEMOCAP_full_release`` folder. By default the ``SKLEARN_SER_IEMOCAP``
        environment variable, else ``get_data_home()/iemocap``.
    return_clips : bool, default=False
        Return the audio in ``data`` instead of the file paths.
    sr : int or None, default=16000
        Sample rate of the clips when ``return_clips=True``.
    n_jobs : int or None, default=None
        Files read in parallel when ``return_clips=True``.
    verbose : int, default=0
        Progress bar while reading when positive.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        ``data``, ``target`` (the majority category: canonical names, and ``excitement``,
        ``frustration``, ``other`` or ``no_agreement``; merging ``excitement`` into
        ``happiness`` is common practice and left to the user), ``target_names``,
        ``groups`` (one speaker per session and gender, ``"iemocap:Ses01F"``), ``arousal``,
        ``valence``, ``dominance`` (mean ratings on the corpus's 1-5 scale), ``frame``
        (adds ``session``, ``dialog``, ``improvised``), ``sr`` and ``DESCR``.

    Warns
    -----
    sklearn_ser.exceptions.DataWarning
        For each utterance file without a line in the evaluation files, and once for the
        rated utterances whose audio is missing.

    Examples
    --------
    >>> from sklearn_ser.datasets import load_iemocap
    >>> iemocap = load_iemocap("path/to/IEMOCAP_full_release")  # doctest: +SKIP
    >>> iemocap.valence[:3]  # doctest: +SKIP
    """
    check_loader_args(return_clips, sr)
    folder = resolve_data_dir(data_dir, corpus="iemocap", env_var="SKLEARN_SER_IEMOCAP")
    entries, _ = _read_iemocap_labels(folder)
    where = os.path.join(folder, "Session*", "dialog", "EmoEvaluation")
    rows = collect_rows(_iemocap_audio(folder), _lookup_parser(entries, where))
    _warn_unheard(entries, rows, where, "IEMOCAP")
    return _dimensional_bunch(
        rows, folder=folder,
        columns=["session", "dialog", "improvised", *_DIMENSIONS],
        describe=lambda frame: _describe("IEMOCAP", "1-5", frame), return_clips=return_clips,
        sr=sr, n_jobs=n_jobs, verbose=verbose,
    )


def _describe(corpus, scale, frame):
    return f"""\
{corpus}
{"-" * len(corpus)}

Emotional speech rated per clip for a category and for arousal, valence and dominance
(mean ratings on the corpus's {scale} scale, in the Bunch's ``arousal``, ``valence`` and
``dominance``). Read from a copy the user owns; see the loader's docstring for the layout.

{describe_copy(frame)}
"""
