"""openSMILE's standard feature sets (eGeMAPS, ComParE, ...) as an extractor over clips.

The sets are computed by the ``opensmile`` package, not re-implemented here: its wheel ships
the openSMILE library with the configuration files of the published sets, so the features
are those of the papers, descriptor for descriptor and name for name, and they run offline.
A re-implementation of thousands of descriptors would drift from the reference that users
compare against. ``opensmile`` is an optional extra (``pip install
"sklearn-ser[opensmile]"``), imported only when an extractor is fitted or used.
"""

import math
import threading
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, check_memory

from .._validation import check_clips, warn_user
from ..exceptions import AudioWarning
from ..utils._compat import HasMethods, Interval, StrOptions, _fit_context
from ._engine import numbered_from
from ._framing import _index_list, iter_groups, warn_unusual_clips
from ._pooling import pad_sequences

#: The feature sets of ``opensmile.FeatureSet``, by member name: ComParE 2016 (6,373
#: functionals), GeMAPS and eGeMAPS (v01a, v01b; eGeMAPSv02 is the current one), emobase and
#: the INTERSPEECH challenge sets of 2009 to 2013.
OPENSMILE_FEATURE_SETS = (
    "ComParE_2016", "GeMAPS", "GeMAPSv01b", "eGeMAPS", "eGeMAPSv01b", "eGeMAPSv02",
    "emobase", "IS09", "IS10", "IS11", "IS12", "IS13",
)

#: ``feature_level`` values and the ``opensmile.FeatureLevel`` member each stands for.
OPENSMILE_FEATURE_LEVELS = {
    "functionals": "Functionals",
    "lld": "LowLevelDescriptors",
    "lld_deltas": "LowLevelDescriptors_Deltas",
}

# The GeMAPS family defines no delta descriptors (opensmile refuses the level).
_NO_DELTAS = ("GeMAPS", "GeMAPSv01b", "eGeMAPS", "eGeMAPSv01b", "eGeMAPSv02")

# The longest analysis window of the sets (ComParE's and eGeMAPS' pitch frames): openSMILE
# returns no frame, hence NaN, for a shorter clip. Such clips are zero-padded to it.
_MIN_SECONDS = 0.06

_INSTALL_HINT = 'pip install "sklearn-ser[opensmile]"'


def import_opensmile(owner="OpenSmileExtractor"):
    """The ``opensmile`` module, or an ImportError that names the extra to install."""
    try:
        import opensmile
    except ImportError as exc:
        raise ImportError(
            f"{owner} needs the optional package 'opensmile', which is not installed. "
            f"Install the extra: {_INSTALL_HINT} (or: pip install opensmile)."
        ) from exc
    return opensmile


# One openSMILE instance per thread and configuration: building one reads its configuration
# files, and an instance is not meant to be shared by threads running at once.
_instances = threading.local()


def _smile(feature_set, feature_level):
    by_config = _instances.__dict__.setdefault("by_config", {})
    key = (feature_set, feature_level)
    if key not in by_config:
        opensmile = import_opensmile()
        by_config[key] = opensmile.Smile(
            feature_set=opensmile.FeatureSet[feature_set],
            feature_level=opensmile.FeatureLevel[OPENSMILE_FEATURE_LEVELS[feature_level]],
        )
    return by_config[key]


def min_samples(sr):
    """Shortest clip, in samples, from which every openSMILE set gets a frame at ``sr``."""
    return math.ceil(_MIN_SECONDS * sr)


def opensmile_frames(clips, *, sr=16000, feature_set="eGeMAPSv02", feature_level="functionals",
                     memory=None):
    """openSMILE features of each clip: one row of functionals, or its descriptor frames.

    Parameters
    ----------
    clips : list of ndarray of shape (n_samples_i,)
        Mono clips, already validated (:func:`sklearn_ser._validation.check_clips`).
    sr : int, default=16000
        Sample rate of the clips; openSMILE's configurations are set in seconds, so any rate
        works.
    feature_set : str, default="eGeMAPSv02"
        A name from ``OPENSMILE_FEATURE_SETS``.
    feature_level : {"functionals", "lld", "lld_deltas"}, default="functionals"
        Functionals of the whole clip, or its low-level descriptors (or their deltas) per
        frame (10 ms hop).
    memory : joblib.Memory or None, default=None
        Cache of each clip's features, keyed on the clip, the settings and the openSMILE
        version.

    Returns
    -------
    list of ndarray of shape (n_rows_i, n_features)
        One row per clip for functionals, one per frame otherwise, as openSMILE computes
        them. Clips shorter than ``min_samples(sr)`` are zero-padded to it first (the caller
        warns about them), so every clip has at least one frame. A value openSMILE could not
        compute is NaN.
    """
    one_clip = _clip_frames if memory is None else memory.cache(_clip_frames)
    version = import_opensmile().__version__
    out = []
    for index, clip in enumerate(clips):
        try:
            out.append(one_clip(clip, sr, feature_set, feature_level, version))
        except Exception as exc:  # openSMILE reports failures as RuntimeError or its own types
            raise ValueError(f"openSMILE failed on clip X{_index_list([index])}: {exc}") from exc
    return out


def _clip_frames(clip, sr, feature_set, feature_level, version):
    """One clip's features; ``version`` (openSMILE's) is there for the cache's key only."""
    shortest = min_samples(sr)
    if len(clip) < shortest:
        clip = np.concatenate([clip, np.zeros(shortest - len(clip), dtype=clip.dtype)])
    return _smile(feature_set, feature_level).process_signal(clip, sr).to_numpy()


class OpenSmileExtractor(TransformerMixin, BaseEstimator):
    """openSMILE's standard feature sets: eGeMAPS, ComParE and the others, over clips.

    The reference features of paralinguistics, computed by audEERING's openSMILE through
    the ``opensmile`` package: with ``feature_level="functionals"`` one row per clip (88
    eGeMAPSv02 functionals, 6,373 ComParE 2016 ones, ...); with ``"lld"`` or
    ``"lld_deltas"`` the low-level descriptors of every 10 ms frame as NaN-padded frame
    sequences, the input of :class:`FrameWise` and the networks. Columns carry openSMILE's
    own names (``F0semitoneFrom27.5Hz_sma3nz_amean``, ``loudness_sma3_amean``, ...).

    Needs the optional package ``opensmile``: ``pip install "sklearn-ser[opensmile]"``.

    Parameters
    ----------
    feature_set : str, default="eGeMAPSv02"
        A set of ``opensmile.FeatureSet``: ``"eGeMAPSv02"`` (extended Geneva minimalistic
        set), ``"ComParE_2016"`` (the ComParE challenge set), ``"GeMAPSv01b"``,
        ``"eGeMAPSv01b"``, ``"GeMAPS"``, ``"eGeMAPS"`` (v01a), ``"emobase"``, ``"IS09"``
        to ``"IS13"`` (INTERSPEECH challenge sets).
    feature_level : {"functionals", "lld", "lld_deltas"}, default="functionals"
        ``"functionals"``: the set's statistics over the whole clip, one row per clip.
        ``"lld"``: its low-level descriptors per frame; ``"lld_deltas"``: their deltas (not
        defined for the GeMAPS family). Both give frame sequences.
    sr : int, default=16000
        Sample rate of the clips. openSMILE takes any rate; its sets were designed for
        speech at 16 kHz or more.
    max_frames : int or None, default=None
        Frames per sequence with the descriptor levels; None takes the longest training
        clip. Longer clips are centre-cropped.
    memory : str, joblib.Memory or None, default=None
        Cache of the extracted features on disk, clip by clip, keyed on each clip, the
        parameters and the openSMILE version: openSMILE is slow enough that a
        cross-validation, whose folds regroup the same clips, should extract each clip
        once. None caches nothing.
    n_jobs : int or None, default=None
        Groups of clips extracted in parallel through joblib (-1: all cores; the active
        joblib backend decides where). None means 1 unless in a
        ``joblib.parallel_config`` context.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        openSMILE's names of the output columns (of the coefficients of a frame for the
        descriptor levels).
    n_features_out_ : int
        Number of output columns, or of coefficients per frame.
    max_frames_ : int
        Frames per output sequence; set only for the descriptor levels.

    See Also
    --------
    MFCCExtractor, SpectralExtractor, ProsodyExtractor : this package's own descriptors.

    Notes
    -----
    The input is waveforms, so ``n_features_in_`` is not defined. Each clip's features
    depend on that clip alone. Clips shorter than openSMILE's longest analysis window
    (60 ms) are zero-padded to it, and silent clips still get features; both with an
    ``AudioWarning`` naming them. A value openSMILE cannot compute for a clip (NaN) is set
    to 0 with an ``AudioWarning`` naming the clip, so that the output is finite and the
    frame sequences keep the NaN padding contract.

    Benchmarks of the sets with an SVM on EmoDB: benchmarks/README.md, "openSMILE
    reference sets".

    References
    ----------
    F. Eyben et al., "The Geneva Minimalistic Acoustic Parameter Set (GeMAPS) for Voice
    Research and Affective Computing", IEEE Trans. Affective Computing, 2016.
    B. Schuller et al., "The INTERSPEECH 2016 Computational Paralinguistics Challenge",
    Interspeech 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import OpenSmileExtractor
    >>> t = np.arange(16000) / 16000
    >>> clips = [0.3 * np.sin(2 * np.pi * f * t).astype(np.float32) for f in (150, 220)]
    >>> OpenSmileExtractor().fit_transform(clips).shape
    (2, 88)
    >>> OpenSmileExtractor(feature_level="lld").fit_transform(clips).shape
    (2, 96, 25)
    """

    _parameter_constraints = {
        "feature_set": [StrOptions(set(OPENSMILE_FEATURE_SETS))],
        "feature_level": [StrOptions(set(OPENSMILE_FEATURE_LEVELS))],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "max_frames": [Interval(Integral, 1, None, closed="left"), None],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, feature_set="eGeMAPSv02", feature_level="functionals", sr=16000,
                 max_frames=None, memory=None, n_jobs=None):
        self.feature_set = feature_set
        self.feature_level = feature_level
        self.sr = sr
        self.max_frames = max_frames
        self.memory = memory
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the parameters and the clips, and fix the output feature names.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        self._check_parameters()
        clips = check_clips(X)
        smile = _smile(self.feature_set, self.feature_level)
        self.feature_names_out_ = np.asarray(smile.feature_names, dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        if self._sequences:
            # Frame counts grow with the length, so the longest clip alone sets them.
            longest = max(clips, key=len)
            frames = opensmile_frames([longest], sr=self.sr, feature_set=self.feature_set,
                                      feature_level=self.feature_level)[0]
            self.max_frames_ = len(frames) if self.max_frames is None else self.max_frames
        return self

    def _check_parameters(self):
        import_opensmile(type(self).__name__)
        if self.feature_level == "lld_deltas" and self.feature_set in _NO_DELTAS:
            raise ValueError(
                f"{type(self).__name__}: feature_set={self.feature_set!r} defines no delta "
                "descriptors; use feature_level='lld', or a set with deltas such as "
                "'ComParE_2016'."
            )

    @property
    def _sequences(self):
        return self.feature_level != "functionals"

    def transform(self, X):
        """Extract the set's features of each clip.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.

        Returns
        -------
        ndarray of shape (n_clips, n_features_out_)
            With ``feature_level="functionals"``: openSMILE's functionals, float64.
        ndarray of shape (n_clips, max_frames_, n_features_out_), float32
            With ``"lld"`` or ``"lld_deltas"``: the frame sequences, centre-cropped or
            followed by all-NaN padding frames to ``max_frames_``.
        """
        check_is_fitted(self)
        clips = check_clips(X)
        warn_unusual_clips(clips, n_fft=min_samples(self.sr), sr=self.sr)
        return self._extract(clips)

    def _extract(self, clips):
        """Features of validated clips; the same however the clips are split over workers."""
        memory = check_memory(self.memory)
        params = dict(sr=self.sr, feature_set=self.feature_set,
                      feature_level=self.feature_level,
                      memory=None if memory.location is None else memory)
        groups = list(iter_groups(clips))
        n_jobs = self.n_jobs if len(groups) > 1 else None
        if effective_n_jobs(n_jobs) == 1:
            parts = [_numbered_frames(clips[part], part.start, params) for part in groups]
        else:
            parts = Parallel(n_jobs=n_jobs)(delayed(_numbered_frames)(clips[part], part.start,
                                                                      params)
                                            for part in groups)
        # NaN is set to 0 here, after the cache, so that its warning comes with every call.
        per_clip = [rows for part in parts for rows in part]
        per_clip = _zero_missing(per_clip)
        if not self._sequences:
            return np.vstack(per_clip).astype(np.float64)
        counts = np.fromiter((len(rows) for rows in per_clip), dtype=np.int64,
                             count=len(per_clip))
        return pad_sequences(np.concatenate(per_clip, axis=0), counts, self.max_frames_)

    def get_feature_names_out(self, input_features=None):
        """openSMILE's names of the output columns, e.g. ``loudness_sma3_amean``.

        Parameters
        ----------
        input_features : None
            Ignored: the input is waveforms, whose samples have no names.

        Returns
        -------
        ndarray of str
            One name per output column (per frame coefficient for the descriptor levels).
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # equal-length batches are accepted as 2-D arrays
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


def _numbered_frames(clips, offset, params):
    """:func:`opensmile_frames` of a share of X that starts at ``X[offset]`` (in a worker),
    so that an error names the clip of X."""
    with numbered_from(offset):
        return opensmile_frames(clips, **params)


def _zero_missing(per_clip):
    """Set the values openSMILE could not compute (NaN) to 0, naming the clips concerned.

    Finite output is what scalers and classifiers need, and a NaN inside a real frame would
    break the padding contract of frame sequences, where NaN marks padding only.
    """
    bad = [i for i, rows in enumerate(per_clip) if np.isnan(rows).any()]
    if not bad:
        return per_clip
    warn_user(
        f"{len(bad)} clip(s) got values that openSMILE could not compute (NaN): "
        f"X{_index_list(bad)}. They were set to 0; check those clips (too short, clipped "
        "or not speech).", AudioWarning)
    bad = set(bad)
    return [np.nan_to_num(rows, nan=0.0) if i in bad else rows
            for i, rows in enumerate(per_clip)]
