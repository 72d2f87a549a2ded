"""Shared machinery of the pooled frame-feature extractors.

An extractor is a thin stateful wrapper around a keyword-only DSP function that maps a chunk of
clips to stacked frame features (CONTRIBUTING.md, "DSP functions and their estimators"). The
base class validates clips, runs that function chunk by chunk (bounded memory), adds deltas and
pools each clip's frames into functionals with feature names such as ``mfcc3_mean`` or
``lpcc2_d1_std``.
"""

import warnings
from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, check_memory

from .._validation import check_clips, clip_lengths
from ..utils._compat import HasMethods, Interval, StrOptions, _fit_context
from ._activity import (
    audible_frame_mask,
    select_frames,
    speech_frame_mask,
    speech_span_mask,
)
from ._engine import chunked_frames, map_chunks
from ._framing import frame_counts, iter_chunks, iter_groups, warn_unusual_clips
from ._pooling import FUNCTIONALS, deltas, pad_sequences, pool

#: Named sets of functionals accepted by the ``functionals`` parameter.
FUNCTIONAL_PRESETS = {
    "basic": ("mean", "std"),
    "standard": ("mean", "std", "min", "max", "p10", "median", "p90", "skew", "kurtosis", "slope"),
    "full": FUNCTIONALS,
}


def _cached_extract(extractor, clips, key):
    """Extraction of validated clips, cached by joblib.Memory on ``(clips, key)``.

    Module-level so that joblib can name and store it; ``extractor`` is not hashed (``key``
    stands for it). Returns the features and the warnings raised on the way, as
    ``(category, message)`` pairs, so that a cache hit can raise them again.
    """
    return call_recording_warnings(extractor._extract, clips)


def call_recording_warnings(fn, *args):
    """``fn(*args)`` and the warnings it raised, as ``(category, message)`` pairs.

    For work whose warnings the caller cannot see as they happen (a cached result, a joblib
    worker process): :func:`raise_again` raises them in the caller.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    return result, [(w.category, str(w.message)) for w in caught]


def raise_again(caught):
    """Raise recorded ``(category, message)`` warnings again, at the caller's caller."""
    for category, message in caught:
        warnings.warn(message, category, stacklevel=3)


def resolve_functionals(functionals, owner):
    """Turn a preset name or a sequence of names into a validated tuple."""
    if isinstance(functionals, str):
        return FUNCTIONAL_PRESETS[functionals]
    names = tuple(functionals)
    unknown = [f for f in names if f not in FUNCTIONALS]
    if not names or unknown or len(set(names)) != len(names):
        raise ValueError(
            f"{owner}: functionals must be a preset {sorted(FUNCTIONAL_PRESETS)} or a non-empty "
            f"sequence of distinct names from {FUNCTIONALS}; got {functionals!r}."
        )
    return names


class _PooledFrameExtractor(TransformerMixin, BaseEstimator):
    """Base class: frame features -> deltas -> functionals, one row per clip.

    Subclasses define ``__init__`` (explicit parameters), ``_frame_features(clips)`` returning
    ``(stacked_features, counts)`` for a chunk of clips (or ``_chunked_frame_features`` for a
    whole group, when part of the work is best done once per group), ``_coefficient_names()``
    and ``_frame_length()``.
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "deltas": [Interval(Integral, 0, 2, closed="both")],
        "functionals": [StrOptions(set(FUNCTIONAL_PRESETS)), list, tuple],
        "pooling": [StrOptions({"stats"}), None],
        "speech_only": ["boolean", StrOptions({"edges", "audible"})],
        "max_frames": [Interval(Integral, 1, None, closed="left"), None],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [Integral, None],
    }

    _prefix = "feature"

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
        self._functionals = resolve_functionals(self.functionals, type(self).__name__)
        self.feature_names_out_ = self._build_feature_names()
        self.n_features_out_ = len(self.feature_names_out_)
        if self.pooling is None:
            longest = int(frame_counts(clip_lengths(clips), n_fft=self._frame_length(),
                                       hop_length=self.hop_length).max())
            self.max_frames_ = longest if self.max_frames is None else self.max_frames
        return self

    def transform(self, X):
        """Extract pooled features, one row per clip.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.

        Returns
        -------
        ndarray of shape (n_clips, n_features_out_)
            With ``pooling="stats"``: functionals of the frame features and their deltas.
        ndarray of shape (n_clips, max_frames_, n_features_out_), float32
            With ``pooling=None``: the frame sequences, centre-cropped or padded to
            ``max_frames_``. Padding frames are all-NaN, so the true length of a clip is its
            number of leading non-NaN frames (see :class:`FrameWise`).
        """
        check_is_fitted(self)
        clips = check_clips(X)
        warn_unusual_clips(clips, n_fft=self._frame_length(), sr=self.sr)
        memory = check_memory(self.memory)
        if memory.location is None:
            return self._extract(clips)
        # The warnings of an extraction are stored with its features and raised again on every
        # hit, so that a cache never hides them.
        cached = memory.cache(_cached_extract, ignore=["extractor"])
        features, caught = cached(self, clips, self._cache_key())
        raise_again(caught)
        return features

    def _cache_key(self):
        """What the features depend on: the class, the parameters and the fitted state.

        Built explicitly because the estimator object also carries bookkeeping that differs
        between equal fits (sklearn's callback context), which would defeat the cache.
        """
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in ("memory", "n_jobs")}
        fitted = {k: v for k, v in vars(self).items()
                  if k.endswith("_") and not k.startswith("__")}
        return (type(self).__module__, type(self).__qualname__, params, fitted,
                self._functionals)

    def _extract(self, clips):
        """Features of validated clips (the cached part of ``transform``).

        Clips go in groups of bounded total length (each framed chunk by chunk, then pooled
        together); with ``n_jobs`` the groups are spread over joblib workers (whichever
        backend is active: loky, Dask, Ray), and otherwise over this process's kernel
        threads (see ``_engine.map_chunks``). A clip's features do not depend on its chunk
        or group, so the result is the same however the work is split.
        """
        groups = list(iter_groups(clips))
        n_jobs = self.n_jobs if len(groups) > 1 else None
        if effective_n_jobs(n_jobs) == 1:
            # Whole groups (frames, deltas and pooling) go to the kernel threads, which then
            # start once per call; the chunks of a group run serially there. Threads per
            # group cost more than they gained: they started and met again for every group,
            # and the pooling between ran on one core, slower than no threads at all
            # (benchmarks/README.md, "Measurements behind the feature kernels").
            parts = map_chunks(lambda part: self._group_features(clips[part], part.start),
                               groups)
        else:
            parts = Parallel(n_jobs=n_jobs)(
                delayed(self._group_features)(clips[part], part.start) for part in groups)
        return np.concatenate(parts, axis=0)

    def _group_features(self, clips, offset=0):
        """Pooled rows (or padded sequences) of a group of clips that starts at X[offset]."""
        if self.pooling is None:
            return self._sequence_chunk(clips)
        return self._pooled_chunk(clips, offset=offset)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, e.g. ``mfcc3_mean`` or ``mfcc3_d1_std``.

        Parameters
        ----------
        input_features : None
            Ignored: the input is waveforms, whose samples have no names.

        Returns
        -------
        ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def _chunked_frame_features(self, clips):
        """``_frame_features`` run chunk by chunk (cache-sized temporaries), joined."""
        return chunked_frames(self._frame_features, clips, iter_chunks(clips))

    def _speech_mask(self, clips, counts):
        """The frames that ``speech_only`` keeps, as a mask over the stacked frames: the
        voice-activity mask (True), the span from each clip's first to its last speech frame
        (``"edges"``), every frame outside digital silence (``"audible"``), or None for every
        frame (False)."""
        if not self.speech_only:
            return None
        if self.speech_only == "audible":
            return audible_frame_mask(clips, counts, sr=self.sr, hop_length=self.hop_length)
        mask = speech_frame_mask(clips, counts, sr=self.sr, hop_length=self.hop_length)
        return speech_span_mask(mask, counts) if self.speech_only == "edges" else mask

    def _speech_frames(self, clips):
        """Frame features of the clips, only the frames that ``speech_only`` keeps."""
        frames, counts = self._chunked_frame_features(clips)
        mask = self._speech_mask(clips, counts)
        return (frames, counts) if mask is None else select_frames(frames, counts, mask)

    def _frames_with_deltas(self, clips):
        # Deltas follow the selection: a clip's speech frames give the same deltas whatever
        # silence surrounded them.
        frames, counts = self._speech_frames(clips)
        streams = [frames]
        for _ in range(self.deltas):  # each order the delta of the one before
            streams.append(deltas(streams[-1], counts))
        stacked = np.concatenate(streams, axis=1) if len(streams) > 1 else frames
        return stacked, counts

    def _pooled_chunk(self, clips, offset=0):
        """Pooled rows of one chunk; ``offset`` is the chunk's first clip index in X."""
        stacked, counts = self._frames_with_deltas(clips)
        return pool(stacked, counts, self._functionals)

    def _sequence_chunk(self, clips):
        stacked, counts = self._frames_with_deltas(clips)
        return pad_sequences(stacked, counts, self.max_frames_)

    def _build_feature_names(self):
        coeffs = self._coefficient_names()
        suffixes = [""] + [f"_d{k}" for k in range(1, self.deltas + 1)]
        columns = [c + s for s in suffixes for c in coeffs]
        if self.pooling is None:  # one name per coefficient of a frame
            return np.asarray(columns, dtype=object)
        names = [f"{col}_{func}" for func in self._functionals for col in columns]
        return np.asarray(names, dtype=object)

    def _check_parameters(self):
        """Cross-parameter checks that constraints alone cannot express."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # equal-length batches are accepted as 2-D arrays
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
