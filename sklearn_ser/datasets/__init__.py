"""Emotional speech corpora: loaders of the public ones, of your own folders, and a generator.

Every loader returns a :class:`~sklearn.utils.Bunch` with ``data`` (file paths, or clips with
``return_clips=True``), ``target`` (canonical emotion names), ``groups`` (speaker ids such as
``"emodb:03"``), ``frame`` (one row per file), ``sr`` and ``DESCR``.
"""

from ._base import (
    CANONICAL_EMOTIONS,
    clear_data_home,
    get_data_home,
    list_audio_files,
    resolve_data_dir,
)
from ._cremad import load_cremad
from ._detect import detect_corpus
from ._dimensional import load_iemocap, load_msp_podcast
from ._dimensions import (
    EMOTION_DIMENSIONS,
    INTENSITY_LEVELS,
    emotion_dimensions,
    intensity_scores,
)
from ._emodb import load_emodb
from ._fetch import EMODB_URL, RAVDESS_URL, fetch_emodb, fetch_ravdess
from ._folder import load_folder
from ._ravdess import load_ravdess
from ._synthetic import make_emotional_speech
from ._tess import load_tess

__all__ = [
    "CANONICAL_EMOTIONS",
    "EMODB_URL",
    "EMOTION_DIMENSIONS",
    "INTENSITY_LEVELS",
    "RAVDESS_URL",
    "clear_data_home",
    "detect_corpus",
    "emotion_dimensions",
    "fetch_emodb",
    "fetch_ravdess",
    "get_data_home",
    "intensity_scores",
    "list_audio_files",
    "load_cremad",
    "load_emodb",
    "load_folder",
    "load_iemocap",
    "load_msp_podcast",
    "load_ravdess",
    "load_tess",
    "make_emotional_speech",
    "resolve_data_dir",
]
