"""Which known corpus a folder holds, recognised from its file names."""

from . import _cremad, _emodb, _ravdess, _tess
from ._base import SkipFile, list_audio_files

#: The name parsers of the known corpora; none of them opens a file.
_PARSERS = {
    "emodb": _emodb._parse,
    "ravdess": _ravdess._parse_name,
    "tess": _tess._parse,
    "cremad": _cremad._make_parser({}),
}


def _follows(parse, path):
    try:
        parse(path)
    except SkipFile:
        return False
    return True


def detect_corpus(folder):
    """The known corpus whose naming most of the audio files under ``folder`` follow.

    Parameters
    ----------
    folder : str
        The folder to look at (recursively, as the loaders do).

    Returns
    -------
    name : str or None
        ``"emodb"``, ``"ravdess"``, ``"tess"`` or ``"cremad"``; None when no corpus's
        naming covers at least half of the files.
    n_matching : int
        Files that follow that corpus's naming (the best one's, when ``name`` is None).
    n_files : int
        Audio files under ``folder``.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_ser.datasets import detect_corpus
    >>> root = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(root, "wav"))
    >>> for name in ("03a01Fa.wav", "08b02Wb.wav", "notes.wav"):
    ...     open(os.path.join(root, "wav", name), "wb").close()
    >>> detect_corpus(root)
    ('emodb', 2, 3)
    """
    paths = list_audio_files(folder)
    counts = {name: sum(_follows(parse, p) for p in paths) for name, parse in _PARSERS.items()}
    best = max(counts, key=counts.get)
    if paths and 2 * counts[best] >= len(paths):
        return best, counts[best], len(paths)
    return None, counts[best], len(paths)
