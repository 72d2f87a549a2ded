"""Emotion recognition over an audio stream: sliding windows, silence skipping, smoothing."""

import copy
import math
import os
import queue
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from .._validation import (
    FAR_OUTSIDE_PATTERN,
    FULL_SCALE_TOLERANCE,
    check_clips_each,
    far_outside_message,
    pcm_to_float,
    warn_user,
)
from ..exceptions import AudioWarning, SklearnSerWarning
from ..features import (
    catch_out_of_range,
    find_guards,
    find_speaker_normalizers,
    flagged_mask,
)
from ..io import stream_audio
from ..utils import find_sr, has_speaker_normalizer, limit_threads

__all__ = ["ClipScorer", "StreamEvent", "StreamingRecognizer", "limit_threads", "score_clips"]

# Windows shorter than this (only ever the last, partial window of a short stream) are not
# scored: their features would be meaningless.
_MIN_SCORED_SECONDS = 0.25


class StreamingWarning(SklearnSerWarning):
    """Streaming went on with a documented fallback (no probabilities, dropped input)."""


class ClipScorer:
    """Class probabilities (or a regressor's values) of clips from a fitted pipeline, by the
    cheapest exact route.

    Calling the scorer on a list of clips returns their probabilities (as
    ``predict_proba``), or for a regressor of a continuous target (arousal, valence,
    intensity) its predicted values, one column per output; :meth:`score` also says which
    clips the guard flags. It is what :class:`StreamingRecognizer`, :func:`score_clips` and
    ``sklearn-ser predict`` score with.

    * Deep pipelines (frame sequences -> a :mod:`sklearn_ser.neural` network) pad every clip to
      the training frame count with NaN frames, which the network masks. The scorer cuts the
      frames that are padding in every clip of the batch and hands the rest to the network's
      ``predict_proba`` (a network regressor's ``predict``), which gives the same output for
      a fraction of the work.
    * Pipelines without ``predict_proba`` (an ``SVC`` without ``probability=True``) give
      one-hot probabilities of their prediction, with a warning.
    * Speaker-normalised pipelines standardise each clip by the profile of ``speaker`` when
      one is given (enrolled with :func:`sklearn_ser.pipelines.enroll_speaker`), else with
      the pooled training statistics, warned once here instead of at every call.
    * :meth:`score` also says which clips the pipeline's
      :class:`~sklearn_ser.features.FeatureRangeGuard` flags (none without a guard).

    Parameters
    ----------
    pipeline : fitted classifier, regressor or Pipeline
        Any fitted classifier of clips with ``classes_``, or a regressor of clips (scikit-learn's
        ``is_regressor``).
    speaker : str, int or None, default=None
        An enrolled speaker of the pipeline's speaker normalisers: every clip is theirs and
        is standardised by their profile.

    Attributes
    ----------
    continuous : bool
        True for a regressor: the scorer's rows are values, not probabilities.
    classes : ndarray of shape (n_classes,) or None
        The classifier's labels (None for a regressor).
    """

    def __init__(self, pipeline, *, speaker=None):
        from sklearn.utils.validation import check_is_fitted

        from sklearn.base import is_regressor

        check_is_fitted(pipeline)
        self.pipeline = pipeline
        self.continuous = is_regressor(pipeline)
        self.classes = None if self.continuous else np.asarray(pipeline.classes_)
        self.has_proba = not self.continuous and hasattr(pipeline, "predict_proba")
        if not self.has_proba and not self.continuous:
            warnings.warn(
                f"{type(_final(pipeline)).__name__} has no predict_proba (for an SVC, build it "
                "with probability=True); probabilities are one-hot votes of predict.",
                StreamingWarning, stacklevel=3)
        steps = getattr(pipeline, "steps", None)
        final = _final(pipeline)
        self._trim = (steps is not None and len(steps) > 1
                      and (self.has_proba or self.continuous)
                      and type(final).__module__.startswith("sklearn_ser.neural"))
        self._features = pipeline[:-1] if self._trim else None
        self.guarded = bool(find_guards(pipeline))
        # A fusion's normalisers sit in its fitted members, where only
        # find_speaker_normalizers looks.
        self.speaker_norm = (has_speaker_normalizer(pipeline)
                             or bool(find_speaker_normalizers(pipeline)))
        self.speaker = None if speaker is None else str(speaker)
        if speaker is not None:
            _check_enrolled(pipeline, self.speaker)
        elif self.speaker_norm and not getattr(self, "_adaptive", False):
            warnings.warn(
                "The pipeline normalises features per speaker; a stream has no enrolment "
                "clips, so each window is standardised with the pooled training statistics.",
                StreamingWarning, stacklevel=3)

    @property
    def n_columns(self):
        """Columns of the scorer's rows: the classes, or the regressor's outputs."""
        if not self.continuous:
            return len(self.classes)
        final = _final(self.pipeline)
        n_outputs = getattr(final, "n_outputs_", None)
        if n_outputs is None:  # ConcordantRegressor keeps one mean per target column
            n_outputs = np.size(getattr(final, "target_mean_", 1.0))
        return int(n_outputs)

    def __call__(self, clips):
        """Probabilities of the clips (a regressor's values).

        Parameters
        ----------
        clips : list of ndarray of shape (n_samples_i,)

        Returns
        -------
        proba : ndarray of shape (n_clips, n_classes) or (n_clips, n_outputs)
        """
        return self._proba(clips)

    def score(self, clips):
        """Probabilities (values) of the clips, and which of them the pipeline's guard flags.

        The guard's :class:`~sklearn_ser.exceptions.OutOfRangeWarning` of this call is
        caught and read (its ``indices``), not shown: the features are computed once, for
        both. Without a guard in the pipeline no clip is flagged.

        Returns
        -------
        proba : ndarray of shape (n_clips, n_classes)
        out_of_range : ndarray of shape (n_clips,), bool
        """
        if not self.guarded:
            return self._proba(clips), np.zeros(len(clips), dtype=bool)
        with catch_out_of_range() as caught:
            proba = self._proba(clips)
        return proba, flagged_mask(caught, len(clips))

    def _proba(self, clips):
        with warnings.catch_warnings():
            # The callers checked the clips and warned about far-out samples with the clip's
            # own index or stream position; the pipeline's steps would repeat it per window.
            warnings.filterwarnings("ignore", message=FAR_OUTSIDE_PATTERN, category=AudioWarning)
            if self.speaker_norm:
                warnings.filterwarnings("ignore", message="SpeakerNormalizer got no groups")
            if self.speaker is not None:
                return self._speaker_proba(clips)
            if self._trim:
                Z = self._features.transform(clips)
                if Z.ndim == 3:
                    real = ~np.isnan(Z).all(axis=(0, 2))
                    n = int(np.flatnonzero(real)[-1]) + 1 if real.any() else 1
                    Z = Z[:, :n]
                return self._rows(_final(self.pipeline), Z)
            return self._rows(self.pipeline, clips)

    def _rows(self, estimator, X, **params):
        """``estimator``'s output on ``X`` as rows: probabilities, one-hot votes of its
        labels (no ``predict_proba``), or a regressor's values (one column per output)."""
        if self.continuous:
            values = np.asarray(estimator.predict(X, **params), dtype=np.float64)
            return values.reshape(len(values), -1)
        if self.has_proba:
            return estimator.predict_proba(X, **params)
        labels = estimator.predict(X, **params)
        return (np.asarray(labels)[:, None] == self.classes[None, :]).astype(np.float64)

    def _speaker_proba(self, clips):
        """Probabilities with every clip standardised by the enrolled speaker's profile."""
        from sklearn import config_context

        groups = np.full(len(clips), self.speaker, dtype=object)
        with config_context(enable_metadata_routing=True):
            if self._trim:
                Z = self._features.transform(clips, groups=groups)
                return self._rows(_final(self.pipeline), Z)
            return self._rows(self.pipeline, clips, groups=groups)


def _check_enrolled(pipeline, speaker):
    sites = find_speaker_normalizers(pipeline)
    if not sites:
        raise ValueError(f"speaker={speaker!r} was given, but the pipeline has no "
                         "SpeakerNormalizer step to use a speaker profile.")
    for _, _, normalizer in sites:
        enrolled = getattr(normalizer, "profiles_", {})
        if speaker not in enrolled:
            raise ValueError(
                f"Speaker {speaker!r} is not enrolled in this model (enrolled: "
                f"{sorted(enrolled)[:20]}); enrol them first with "
                "sklearn_ser.pipelines.enroll_speaker(model, speaker, clips) or load their "
                "profile file with load_profiles.")


class _AdaptiveScorer(ClipScorer):
    """A :class:`ClipScorer` whose speaker normalisers learn the stream's speaker online.

    Scores one window at a time in time order; see ``adapt`` of :class:`StreamingRecognizer`
    for the rule. Works on a private copy of the pipeline, so the caller's model and its
    profiles are never changed. Every speaker normaliser of the pipeline learns (a fusion's
    members each have theirs), from the features that reach it, as
    :func:`~sklearn_ser.pipelines.enroll_speaker` feeds them.
    """

    _adaptive = True
    _KEY = "__stream__"

    def __init__(self, pipeline, *, speaker=None, warmup=8):
        super().__init__(pipeline, speaker=speaker)
        self._own = copy.deepcopy(pipeline)
        self._sites = find_speaker_normalizers(self._own)
        if not self._sites:
            raise ValueError(
                "adapt=True needs a speaker-normalised pipeline (a classic or deep '-sn' "
                "model, or a fusion of them: SpeakerNormalizer or FrameWise(SpeakerNormalizer()) "
                "steps); this one has no speaker normaliser.")
        needed = max(normalizer.min_enrol_clips for _, _, normalizer in self._sites)
        if warmup < needed:
            raise ValueError(f"warmup must be at least {needed} speech windows (the "
                             f"normalisers' min_enrol_clips); got {warmup}.")
        owner, index, _ = self._sites[0]
        # One normaliser at the top level: the features before it are computed once per
        # window, for its profile and for the prediction alike.
        self._single = len(self._sites) == 1 and owner is self._own
        if self._single:
            self._head, self._step = self._own[:index], self._own.steps[index][1]
            self._tail = self._own[index + 1:]
        self._warmup = warmup
        self._start = ([copy.deepcopy(n.profiles_[self.speaker]) for _, _, n in self._sites]
                       if self.speaker is not None else None)
        self.reset()

    def reset(self):
        """Forget what the stream taught: back to the given profile or the training stats."""
        self.n_speech_windows = 0
        self._pending = []
        for _, _, normalizer in self._sites:
            normalizer.profiles_.pop(self._KEY, None)

    def _proba(self, clips):
        from sklearn import config_context

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=FAR_OUTSIDE_PATTERN, category=AudioWarning)
            warnings.filterwarnings("ignore", message="SpeakerNormalizer got no groups")
            if self._single:
                Z = np.asarray(self._head.transform(clips)) if len(self._head) else clips
            rows = []
            for j in range(len(clips)):
                if self._single:
                    key = self._learn([Z[j:j + 1]])
                else:
                    key = self._learn([self._features_at(site, clips[j:j + 1])
                                       for site in self._sites])
                with config_context(enable_metadata_routing=True):
                    params = {} if key is None else {"groups": np.array([key], dtype=object)}
                    if self._single:
                        standardised = self._step.transform(Z[j:j + 1], **params)
                        rows.append(self._rows(self._tail, standardised))
                    else:
                        rows.append(self._rows(self._own, clips[j:j + 1], **params))
        return np.vstack(rows)

    @staticmethod
    def _features_at(site, clips):
        """The input of a normaliser step for ``clips`` (what ``enroll_speaker`` feeds it)."""
        owner, index, _ = site
        return np.asarray(owner[:index].transform(clips)) if index else np.asarray(clips)

    def _learn(self, features):
        """Add one window's features (one array per normaliser); the profile key to
        standardise it with (None: the training statistics)."""
        self.n_speech_windows += 1
        rows = [z[~np.isnan(z).all(axis=2)] if z.ndim == 3 else z for z in features]
        if self.n_speech_windows < self._warmup:
            self._pending.append(rows)
            return self.speaker
        for i, (_, _, normalizer) in enumerate(self._sites):
            if self.n_speech_windows == self._warmup:
                seen = np.vstack([pending[i] for pending in self._pending] + [rows[i]])
                if self._start is not None:
                    normalizer.profiles_[self._KEY] = copy.deepcopy(self._start[i])
                normalizer.enroll(seen, self._KEY, update=self._start is not None)
            else:
                normalizer.enroll(rows[i], self._KEY, update=True)
        self._pending = []
        return self._KEY



def _final(estimator):
    steps = getattr(estimator, "steps", None)
    return steps[-1][1] if steps else estimator


def score_clips(pipeline, clips, *, n_threads=1, return_errors=False):
    """Class probabilities (or a regressor's values) of clips, scored the way
    :class:`StreamingRecognizer` scores them.

    Equal to ``pipeline.predict_proba(clips)`` (``pipeline.predict(clips)`` for a regressor),
    but faster for deep pipelines (padding frames are cut before the network) and with the
    thread pools capped (see ``n_threads``).

    A bad clip does not stop the others: every clip is checked on its own (the rules of
    :func:`~sklearn_ser._validation.check_clips`), the good ones are scored, and each bad one
    gets a row of NaN and an entry in the report: a ``StreamingWarning`` naming every bad clip
    and its error, or, with ``return_errors=True``, a dict of the errors.

    Parameters
    ----------
    pipeline : fitted classifier, regressor or Pipeline
        Any fitted classifier of clips with ``classes_``. Without ``predict_proba``, the
        probabilities are one-hot votes of ``predict`` (with a warning). Or a fitted
        regressor of a continuous target (arousal, valence, intensity).
    clips : list of ndarray of shape (n_samples_i,)
        Mono float clips at the pipeline's sample rate.
    n_threads : int or None, default=1
        Threads of torch's pool while scoring (BLAS runs on one); None leaves the thread
        pools alone. One thread gives the steadiest latency on small machines.
    return_errors : bool, default=False
        Also return the errors of the bad clips (and do not warn about them).

    Returns
    -------
    proba : ndarray of shape (n_clips, n_classes)
        Columns in ``pipeline.classes_`` order; a row of NaN for each clip that could not be
        scored. For a regressor: its values, ``(n_clips,)`` (``(n_clips, n_outputs)`` for
        several targets), NaN for each clip that could not be scored.
    errors : dict of int to str
        Only with ``return_errors=True``: the error of each clip that could not be scored,
        by its index in ``clips``.

    Raises
    ------
    ValueError
        When ``clips`` itself is malformed (no clips, one 1-D array, a stereo-looking 2-D
        array), or when the pipeline fails on every clip alike (the fault is then not in the
        clips; the pipeline's own error is raised).
    """
    scorer = ClipScorer(pipeline)
    checked, errors = check_clips_each(clips)
    with limit_threads(n_threads):
        proba = _score_each(scorer, checked, errors)
    if scorer.continuous and proba.shape[1] == 1:  # one target: shaped as predict gives it
        proba = proba[:, 0]
    messages = {i: str(errors[i]) for i in sorted(errors)}
    if return_errors:
        return proba, messages
    if messages:
        listed = "; ".join(f"clips[{i}]: {text}" for i, text in list(messages.items())[:20])
        more = f"; and {len(messages) - 20} more" if len(messages) > 20 else ""
        warnings.warn(
            f"{len(messages)} of {len(checked)} clips could not be scored; their rows are "
            f"NaN. {listed}{more}. Fix or remove them (score_clips(..., "
            "return_errors=True) returns every error).",
            StreamingWarning, stacklevel=2)
    return proba


def _score_each(scorer, clips, errors):
    """Rows of the good clips (None marks a bad one) in one batch; NaN rows elsewhere.

    When the pipeline refuses the batch, the clips are scored one by one to find which ones
    it refuses (each clip's output never depends on the batch, so the numbers are the same).
    ``errors`` receives their errors; when it refuses every clip, its error is raised.
    """
    good = [i for i, clip in enumerate(clips) if clip is not None]
    rows = {}
    if good:
        try:
            rows = dict(zip(good, scorer([clips[i] for i in good])))
        except (ValueError, TypeError) as batch_error:
            refused = {}
            for i in good:
                try:
                    rows[i] = scorer([clips[i]])[0]
                except (ValueError, TypeError) as exc:
                    refused[i] = exc
            if len(refused) == len(good):
                raise batch_error
            errors.update({i: f"{type(exc).__name__} when scored alone: {exc}"
                           for i, exc in refused.items()})
    width = len(next(iter(rows.values()))) if rows else scorer.n_columns
    proba = np.full((len(clips), width), np.nan)
    for i, row in rows.items():
        proba[i] = row
    return proba


@dataclass(frozen=True)
class StreamEvent:
    """What the recogniser says about one window of the stream.

    Attributes
    ----------
    start, end : float
        Seconds from the start of the stream.
    is_speech : bool
        False when the window was silent (below ``silence_threshold_db``) or too short to
        score; the model did not run and ``label`` / ``proba`` are None.
    level_db : float
        RMS level of the window in dB relative to full scale.
    label : object or None
        The class of highest (smoothed) probability.
    proba : ndarray of shape (n_classes,) or None
        Smoothed class probabilities (equal to ``raw_proba`` without smoothing).
    raw_proba : ndarray of shape (n_classes,) or None
        The window's own class probabilities.
    classes : ndarray of shape (n_classes,)
        The labels of the columns of ``proba``.
    out_of_range : bool
        True when the pipeline's :class:`~sklearn_ser.features.FeatureRangeGuard` found the
        window's features far outside the training range (digital silence, a wild level, a
        broken input): its label is an extrapolation. Always False for a skipped window and
        for a pipeline without a guard.
    value : float, ndarray of shape (n_outputs,) or None
        For a regressor (arousal, valence, intensity): the smoothed prediction (equal to
        ``raw_value`` without smoothing); an array for a regressor of several targets.
        None for a classifier and for a skipped window, whose ``label`` and ``proba`` are
        then the ones set.
    raw_value : float, ndarray of shape (n_outputs,) or None
        For a regressor: the window's own prediction.
    """

    start: float
    end: float
    is_speech: bool
    level_db: float
    label: object = None
    proba: np.ndarray = None
    raw_proba: np.ndarray = None
    classes: np.ndarray = None
    out_of_range: bool = False
    value: object = None
    raw_value: object = None

    @property
    def probabilities(self):
        """dict of label -> smoothed probability (empty for a skipped window)."""
        if self.proba is None:
            return {}
        return {c: float(p) for c, p in zip(self.classes.tolist(), self.proba)}


class StreamingRecognizer:
    """Recognise emotions (or track arousal, valence, intensity) in an audio stream, window
    by window.

    Audio arrives in chunks of any size (:meth:`process`); a ring buffer holds the last
    ``window`` seconds, and every ``hop`` seconds the newest complete window is scored by the
    fitted pipeline. Windows quieter than ``silence_threshold_db`` are not scored but reported
    as events with ``is_speech=False``, so that a consumer sees every window and the time
    line has no holes. Windows that complete within one chunk are scored in one batch.

    Parameters
    ----------
    pipeline : fitted classifier, regressor or Pipeline
        A fitted classifier of clips (from :func:`~sklearn_ser.pipelines.make_classic_pipeline`,
        :func:`~sklearn_ser.pipelines.make_deep_pipeline` or
        :func:`~sklearn_ser.io.load_model`) trained at sample rate ``sr``; its events carry
        a label and probabilities. Or a fitted regressor of a continuous target
        (:func:`~sklearn_ser.pipelines.make_regression_pipeline`): its events carry the
        predicted ``value`` instead, smoothed and adapted the same way.
    sr : int, default=16000
        Sample rate of the stream and of the pipeline. It must equal the pipeline's own
        ``sr`` parameter (its first step's that has one): a mismatch raises a ``ValueError``
        naming both rates, since windows would be cut and features computed at the wrong
        rate. A pipeline without an ``sr`` parameter is not checked.
    window : float, default=2.0
        Seconds of audio per scored window.
    hop : float, default=0.5
        Seconds between the starts of consecutive windows.
    silence_threshold_db : float or None, default=-45.0
        Windows with an RMS level below this (dB re full scale) are skipped as silence;
        None scores every window.
    smoothing : {None, "ema"} or int, default=None
        Smoothing of the probabilities (a regressor's values) over scored windows: None;
        ``"ema"`` (exponential
        moving average with weight ``alpha`` on the newest window); or an int k (mean of the
        last k scored windows). Silent windows leave the smoothing state unchanged.
    alpha : float, default=0.5
        Weight of the newest window with ``smoothing="ema"``.
    n_threads : int or None, default=1
        Threads of torch's pool while scoring, with BLAS capped at one thread; None leaves
        the native thread pools alone. See :func:`limit_threads`.
    speaker : str, int or None, default=None
        For a speaker-normalised pipeline: the enrolled speaker of the stream
        (:func:`~sklearn_ser.pipelines.enroll_speaker`, or a profile file read with
        :func:`~sklearn_ser.pipelines.load_profiles`); every window is standardised by
        their profile. None: the pooled training statistics (with a warning), unless
        ``adapt``.
    adapt : bool, default=False
        Learn the speaker's statistics from the stream itself. The rule: the first
        ``warmup - 1`` speech windows are standardised with ``speaker``'s profile if given,
        else with the pooled training statistics; from the ``warmup``-th speech window on,
        each window is standardised with the running statistics (count, mean, squared
        deviations) of every speech window so far, itself included, merged with
        ``speaker``'s profile when one was given, and shrunk towards the training
        statistics by the normaliser's ``profile_prior``. Silent windows teach nothing.
        Needs a speaker-normalised pipeline: a classic or deep ``-sn`` model, or a fusion
        of them, whose every normaliser learns from the features that reach it (a fusion
        computes each window's features twice: to learn, then to score). The caller's
        pipeline is not changed (a private copy learns). :meth:`reset` forgets what was
        learnt.
    warmup : int, default=8
        Speech windows before the running statistics are used (at least 2). With the
        default 0.5 s hop, 8 windows are about 5.5 s of speech.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or None
        The pipeline's labels; None for a regressor.
    n_samples_seen_ : int
        Samples received since the start or the last :meth:`reset`.

    Notes
    -----
    Windows start at 0, ``hop``, ``2 * hop``, ... seconds; a window is scored once all its
    samples have arrived. :meth:`flush` (called by :meth:`stream` at the end of a finite
    source) scores the last ``window`` seconds once more if samples arrived after the last
    full window, and the whole stream if it was shorter than one window. This is not a
    scikit-learn estimator: it wraps one that is already fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn_ser.streaming import StreamingRecognizer
    >>> model = DummyClassifier(strategy="prior").fit([[0]] * 3, ["calm", "anger", "calm"])
    >>> recognizer = StreamingRecognizer(model, window=1.0, hop=0.5, n_threads=None)
    >>> audio = np.r_[np.zeros(16000), 0.1 * np.random.default_rng(0).normal(size=16000)]
    >>> for event in recognizer.stream(audio.astype(np.float32)):
    ...     print(event.start, event.end, event.label)
    0.0 1.0 None
    0.5 1.5 calm
    1.0 2.0 calm
    """

    def __init__(self, pipeline, *, sr=16000, window=2.0, hop=0.5, silence_threshold_db=-45.0,
                 smoothing=None, alpha=0.5, n_threads=1, speaker=None, adapt=False,
                 warmup=8):
        if not isinstance(sr, Integral) or sr <= 0:
            raise ValueError(f"sr must be a positive int; got {sr!r}.")
        for name, value in (("window", window), ("hop", hop)):
            if not isinstance(value, Real) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds; got {value!r}.")
        if silence_threshold_db is not None and not isinstance(silence_threshold_db, Real):
            raise ValueError("silence_threshold_db must be a number (dB re full scale) or "
                             f"None; got {silence_threshold_db!r}.")
        if smoothing is not None and smoothing != "ema" and not (
                isinstance(smoothing, Integral) and not isinstance(smoothing, bool)
                and smoothing >= 1):
            raise ValueError(f"smoothing must be None, 'ema' or a positive int (windows to "
                             f"average); got {smoothing!r}.")
        if not isinstance(alpha, Real) or not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1]; got {alpha!r}.")
        if n_threads is not None and (not isinstance(n_threads, Integral) or n_threads < 1):
            raise ValueError(f"n_threads must be a positive int or None; got {n_threads!r}.")
        self.pipeline = pipeline
        self.sr = sr
        self.window = window
        self.hop = hop
        self.silence_threshold_db = silence_threshold_db
        self.smoothing = smoothing
        self.alpha = alpha
        if not isinstance(warmup, Integral) or isinstance(warmup, bool) or warmup < 2:
            raise ValueError(f"warmup must be an int of at least 2 speech windows; got "
                             f"{warmup!r}.")
        self.n_threads = n_threads
        self.speaker = speaker
        self.adapt = bool(adapt)
        self.warmup = warmup
        _check_pipeline_sr(pipeline, sr)
        self._scorer = (_AdaptiveScorer(pipeline, speaker=speaker, warmup=warmup) if adapt
                        else ClipScorer(pipeline, speaker=speaker))
        self.classes_ = self._scorer.classes
        self._window_len = max(1, int(round(window * sr)))
        self._hop_len = max(1, int(round(hop * sr)))
        self.reset()

    # -- state -----------------------------------------------------------------------------

    def reset(self):
        """Forget the buffered audio, the time line and the smoothing state.

        Returns
        -------
        self : StreamingRecognizer
        """
        self._buffer = np.zeros(self._window_len, dtype=np.float32)
        self.n_samples_seen_ = 0
        self._next_start = 0  # first sample of the next window to score
        self._last_end = 0  # last sample of the last window scored (or skipped)
        self._ema = None
        self._recent = []
        self._warned = set()  # input warnings already given for this stream
        if isinstance(self._scorer, _AdaptiveScorer):
            self._scorer.reset()
        return self

    def _write(self, piece):
        """Append at most one window of samples to the ring buffer."""
        n, size = len(piece), self._window_len
        index = self.n_samples_seen_ % size
        first = min(n, size - index)
        self._buffer[index:index + first] = piece[:first]
        self._buffer[:n - first] = piece[first:]
        self.n_samples_seen_ += n

    def _latest(self, length):
        """The last ``length`` samples received (``length`` <= window), as a new array."""
        index = self.n_samples_seen_ % self._window_len
        ordered = np.concatenate([self._buffer[index:], self._buffer[:index]])
        return ordered[self._window_len - length:]

    # -- input -----------------------------------------------------------------------------

    def _check_chunk(self, chunk):
        """The chunk as mono float32 samples, by the rules of ``check_clips``."""
        chunk = _mono_samples(np.asarray(chunk), "A chunk")
        start = self.n_samples_seen_
        if chunk.dtype.kind in "iu":  # integer PCM, e.g. int16 from a sound card
            self._warn_once("pcm", f"The stream's chunks are integer PCM ({chunk.dtype}); they "
                            "are scaled to [-1, 1] by their full scale. Pass float32 chunks "
                            "to silence this warning.")
            return pcm_to_float(chunk)
        if chunk.dtype.kind not in "fb":
            raise TypeError(f"A chunk must hold real samples (float, or integer PCM); got "
                            f"dtype {chunk.dtype}.")
        chunk = np.asarray(chunk, dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(chunk))
        if bad.size:
            raise ValueError(f"The chunk starting at sample {start} contains NaN or infinite "
                             f"values (the first at sample {start + int(bad[0])} of the "
                             "stream); replace them (e.g. np.nan_to_num) before process.")
        peak = float(np.max(np.abs(chunk))) if len(chunk) else 0.0
        if peak > FULL_SCALE_TOLERANCE:
            self._warn_once("peak", f"{far_outside_message('The stream', peak)} from sample "
                            f"{start} on; they are scored as they are. Float samples must lie "
                            "in [-1, 1]: divide integer values stored as floats by their full "
                            "scale (e.g. 32768 for 16-bit).")
        return chunk

    def _warn_once(self, key, message):
        # Once per stream (until reset): a warning per chunk would bury everything else.
        if key not in self._warned:
            self._warned.add(key)
            warn_user(message, AudioWarning)

    def process(self, chunk):
        """Feed a chunk of audio; return the events of the windows it completes.

        Parameters
        ----------
        chunk : ndarray of shape (n_samples,)
            The next samples of the stream at ``sr``: float in [-1, 1], or integer PCM
            (scaled by its full scale, with one warning per stream). A 2-D chunk with a
            single channel, ``(n, 1)`` or ``(1, n)``, is mono; one with more channels is
            refused, since ``(2, n)`` and ``(n, 2)`` cannot be told apart: mix it down
            first (``chunk.mean(axis=...)`` over the channel axis).

        Returns
        -------
        events : list of StreamEvent
            One per window completed by this chunk, in time order (possibly none).

        Raises
        ------
        ValueError
            A multi-channel chunk, or NaN or infinite samples (the message gives the
            first one's position in the stream).
        """
        chunk = self._check_chunk(chunk)
        windows = []  # (start sample, samples)
        pos = 0
        while pos < len(chunk):
            end_of_next = self._next_start + self._window_len
            take = min(len(chunk) - pos, max(1, end_of_next - self.n_samples_seen_),
                       self._window_len)
            self._write(chunk[pos:pos + take])
            pos += take
            if self.n_samples_seen_ == end_of_next:
                windows.append((self._next_start, self._latest(self._window_len)))
                self._next_start += self._hop_len
        return self._score(windows)

    def flush(self):
        """Score the end of a finite stream (see Notes of the class).

        Returns
        -------
        events : list of StreamEvent
            At most one event: the last ``window`` seconds (or the whole, shorter stream),
            when samples arrived after the last scored window.
        """
        total = self.n_samples_seen_
        if total == 0 or total <= self._last_end:
            return []
        length = min(total, self._window_len)
        events = self._score([(total - length, self._latest(length))])
        self._next_start = max(self._next_start, total)
        return events

    # -- scoring ---------------------------------------------------------------------------

    def _score(self, windows):
        if not windows:
            return []
        levels = [_level_db(samples) for _, samples in windows]
        threshold = self.silence_threshold_db
        scored = [i for i, ((_, samples), level) in enumerate(zip(windows, levels))
                  if len(samples) >= _MIN_SCORED_SECONDS * self.sr
                  and (threshold is None or level >= threshold)]
        proba = flags = None
        if scored:
            with limit_threads(self.n_threads):
                proba, flags = self._scorer.score([windows[i][1] for i in scored])
        rows = dict(zip(scored, range(len(scored))))
        events = []
        for i, ((start, samples), level) in enumerate(zip(windows, levels)):
            end = start + len(samples)
            self._last_end = max(self._last_end, end)
            times = dict(start=start / self.sr, end=end / self.sr, level_db=level)
            if i not in rows:
                events.append(StreamEvent(is_speech=False, classes=self.classes_, **times))
                continue
            raw = proba[rows[i]]
            smooth = self._smooth(raw)
            if self._scorer.continuous:
                events.append(StreamEvent(
                    is_speech=True, value=_value(smooth), raw_value=_value(raw),
                    out_of_range=bool(flags[rows[i]]), **times))
                continue
            events.append(StreamEvent(
                is_speech=True, label=self.classes_[int(np.argmax(smooth))], proba=smooth,
                raw_proba=raw, classes=self.classes_, out_of_range=bool(flags[rows[i]]),
                **times))
        return events

    def _smooth(self, raw):
        if self.smoothing is None:
            return raw
        if self.smoothing == "ema":
            previous = raw if self._ema is None else self._ema
            self._ema = self.alpha * raw + (1 - self.alpha) * previous
            return self._ema
        self._recent = (self._recent + [raw])[-int(self.smoothing):]
        return np.mean(self._recent, axis=0)

    # -- sources ---------------------------------------------------------------------------

    def stream(self, source, *, chunk=1.0):
        """Recognise a whole source, yielding events as the windows complete.

        Parameters
        ----------
        source : str, os.PathLike, ndarray or iterable of ndarray
            An audio file (read block by block, channels averaged; resampled to ``sr`` if
            needed), a 1-D array of samples at ``sr``, or an iterable of chunks (e.g. a
            generator from a socket). A multi-channel array is refused, as in
            :meth:`process`.
        chunk : float, default=1.0
            Seconds per chunk when reading a file or cutting an array.

        Yields
        ------
        event : StreamEvent
            One per window, in time order; the stream ends with :meth:`flush`.
        """
        if not isinstance(chunk, Real) or chunk <= 0:
            raise ValueError(f"chunk must be a positive number of seconds; got {chunk!r}.")
        size = max(1, int(round(chunk * self.sr)))
        if isinstance(source, (str, os.PathLike)):
            chunks = stream_audio(os.fspath(source), sr=self.sr, block_size=size)
        elif isinstance(source, np.ndarray):
            source = _mono_samples(source, "An array source")
            chunks = (source[i:i + size] for i in range(0, len(source), size))
        elif hasattr(source, "__iter__"):
            chunks = iter(source)
        else:
            raise TypeError(f"source must be a file path, an array or an iterable of chunks; "
                            f"got {type(source).__name__}.")
        for block in chunks:
            yield from self.process(block)
        yield from self.flush()

    def from_microphone(self, *, duration=None, device=None, chunk=0.1):
        """Recognise live audio from a microphone (needs the ``sounddevice`` package).

        Parameters
        ----------
        duration : float or None, default=None
            Seconds to listen; None listens until the consumer stops iterating
            (or Ctrl-C).
        device : int or str or None, default=None
            Input device of ``sounddevice`` (None: the default input).
        chunk : float, default=0.1
            Seconds per block read from the sound card.

        Yields
        ------
        event : StreamEvent
            One per window, as soon as it is complete.

        Raises
        ------
        ImportError
            ``sounddevice`` is not installed (``pip install sounddevice``).
        """
        try:
            import sounddevice
        except ImportError as exc:
            raise ImportError("Reading a microphone needs the optional package sounddevice "
                              "(and the PortAudio library): pip install sounddevice") from exc
        blocks = queue.Queue()
        problems = []

        def callback(indata, frames, time, status):  # runs on the audio thread: no scoring
            if status:
                problems.append(str(status))
            blocks.put(np.array(indata, dtype=np.float32, copy=True))

        limit = math.inf if duration is None else int(round(duration * self.sr))
        received = 0
        with sounddevice.InputStream(samplerate=self.sr, channels=1, dtype="float32",
                                     blocksize=max(1, int(round(chunk * self.sr))),
                                     device=device, callback=callback):
            while received < limit:
                block = blocks.get()
                if np.ndim(block) == 2:
                    block = block.mean(axis=1)
                block = block[:max(0, min(len(block), limit - received))]
                received += len(block)
                if problems:
                    warnings.warn(f"Audio input: {problems[-1]} (samples were lost).",
                                  StreamingWarning, stacklevel=2)
                    problems.clear()
                yield from self.process(block)
        yield from self.flush()


def _mono_samples(samples, what):
    """A 1-D view of mono samples; a multi-channel array is refused with the fix."""
    if samples.ndim == 2 and 1 in samples.shape:  # (n, 1) or (1, n): one channel
        return samples.reshape(-1)
    if samples.ndim == 2:
        rows, cols = samples.shape
        raise ValueError(
            f"{what} must be mono 1-D samples; got shape {samples.shape}, which is either "
            f"{rows} samples of {cols} channels or {cols} samples of {rows} channels. Mix it "
            "down first: x.mean(axis=1) for (samples, channels), as soundfile reads, or "
            "x.mean(axis=0) for (channels, samples), as librosa.load(..., mono=False) gives.")
    if samples.ndim != 1:
        raise ValueError(f"{what} must be mono 1-D samples; got shape {samples.shape}.")
    return samples


def _check_pipeline_sr(pipeline, sr):
    """Refuse a stream rate that differs from the pipeline's ``sr`` (when it has one)."""
    found = find_sr(pipeline)
    if found is not None and found[1] != sr:
        name, rate = found
        raise ValueError(
            f"StreamingRecognizer(sr={sr}) differs from the sample rate of the pipeline "
            f"({name}={rate}): its windows would hold the wrong number of samples and its "
            f"features would be computed at the wrong rate. Pass sr={rate} and feed audio at "
            f"{rate} Hz (resample it first, e.g. with librosa.resample or "
            f"load_audio(path, sr={rate})).")


def _value(row):
    """A regressor's row as an event's value: a float for one target, else an array."""
    return float(row[0]) if len(row) == 1 else np.array(row, dtype=np.float64)


def _level_db(samples):
    power = float(np.mean(np.square(samples, dtype=np.float64))) if len(samples) else 0.0
    return 10.0 * math.log10(power) if power > 0 else -math.inf
