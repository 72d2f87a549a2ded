"""Per-speaker standardisation of pooled features (speaker normalisation)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._validation import reject_ragged
from ..exceptions import SklearnSerWarning
from ..utils._compat import Interval, StrOptions, _fit_context, validate_data


class SpeakerNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features per speaker, using each speaker's own clips.

    Speaker normalisation removes much of what differs between voices (pitch level, vocal
    tract, loudness habits) and keeps what differs between emotions of one voice, which is
    what a recogniser of unseen speakers needs. On EmoDB leave-one-speaker-out it lifts the
    SVM markedly (``svm`` against ``svm-sn`` in benchmarks/results/emodb-classic/report.md).

    What it sees, exactly:

    * ``fit(X, groups=...)`` stores the pooled mean and scale of all training clips (the
      fallback below). ``fit_transform`` standardises each training speaker's clips by that
      speaker's own mean and standard deviation.
    * ``transform(X, groups=...)`` standardises each speaker's clips by the statistics of that
      speaker's clips *in X*: the test speaker's own features, never their labels and never
      another fold's data. A test speaker therefore needs several clips (an enrolment set);
      with fewer than ``min_clips`` the pooled training statistics are used, with a warning.
    * Without ``groups``, every clip is standardised by the pooled training statistics, with a
      warning, so each clip's output depends on that clip alone.
    * **Enrolled speakers.** :meth:`enroll` stores a *profile* of a speaker (clip count, mean
      and sum of squared deviations of their features) from a few unlabelled clips, in
      ``profiles_``. ``transform`` standardises every clip of an enrolled speaker by that
      profile, so a single clip of theirs gets their own statistics. ``enroll(...,
      update=True)`` merges more clips into the profile (running statistics). A few clips
      give a poor estimate, so a profile's mean is shrunk towards the pooled training
      mean and its variance towards the typical within-speaker variance of the training
      speakers, each by a weight in pseudo-clips (``profile_prior``; see below). A whole
      pipeline is enrolled with :func:`sklearn_ser.pipelines.enroll_speaker`, which runs the
      clips through the steps before the normaliser. ``fit`` forgets every profile.

    ``groups`` reaches the normaliser inside a pipeline through sklearn's metadata routing
    (``sklearn.set_config(enable_metadata_routing=True)``); it requests ``groups`` for ``fit``
    and ``transform`` by default. :func:`sklearn_ser.model_selection.evaluate` routes the
    training speakers to ``fit`` and the test speakers to ``predict``.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract each speaker's mean.
    with_std : bool, default=True
        Divide by each speaker's standard deviation.
    min_clips : int, default=2
        Speakers with fewer clips are standardised with the pooled training statistics.
        Also the fewest clips an enrolment profile may hold (and never fewer than 2).
    profile_prior : "auto" or float, default="auto"
        Weight, in clips, of the training statistics in an enrolled speaker's: the mean is
        ``(n_clips * mean + w_mean * mean_) / (n_clips + w_mean)`` and the variance
        ``(m2 + w_var * speaker_scale_**2) / (n_clips + w_var)``, feature by feature.
        ``"auto"`` estimates both weights per feature from the training speakers (empirical
        Bayes under a normal model; ``mean_prior_`` and ``variance_prior_``): ``w_mean`` is
        the within-speaker variance over the variance of the speakers' true means, so a
        feature whose level tells voices apart (pitch) trusts a few clips, and one that
        varies more with the emotion than with the voice keeps the training mean; ``w_var``
        is 2 over the variance of the speakers' true log variances, since the log of a
        variance from ``n`` clips scatters by about ``2 / (n - 1)``. Both true variances
        are the observed ones less the part a speaker's finite clips explain. Fitted
        without two speakers of two clips each, ``"auto"`` uses 5 clips for both. A number
        uses that weight for both and every feature; 0 uses the enrolment clips' own
        statistics. ``"auto"`` was chosen over the single numbers (5 was the best of 0, 2,
        5, 10 and 20) by the mean over EmoDB and RAVDESS (benchmarks/README.md,
        personalisation).
    enrolment_jitter : float in [0, 1], default=0.0
        Share of the training clips that ``fit_transform`` standardises as a clip of an
        enrolled speaker would be: by a profile (under ``profile_prior``) of k other clips
        of the same speaker drawn at random, k uniform from :attr:`min_enrol_clips` to
        ``JITTER_MAX_CLIPS``. A profile of few clips misses the speaker's true mean and
        scale; a classifier that has seen such clips in training is less thrown by it when
        a user enrols from a few. The other clips, and ``fit`` followed by ``transform``,
        are standardised by their speaker's own statistics as above, so ``fit_transform``
        differs from ``fit().transform()`` when this is above 0 (as scikit-learn's
        ``TargetEncoder`` does for cross fitting). Speakers with fewer than
        ``min_enrol_clips + 1`` clips are not jittered. 0: no jitter, the default and what
        the ready-made pipelines use: on EmoDB and RAVDESS a share of 0.5 raised enrolment
        from 3 to 10 clips on both corpora when training on clean clips alone, but with the
        pipelines' noisy training copies it lowered clean and white-noise accuracy on
        RAVDESS (benchmarks/README.md, personalisation (g)). Worth trying when speakers will
        be enrolled from a few clips and the training clips are clean.
    random_state : int, RandomState instance or None, default=None
        Draws of the jittered clips and their profiles' clips (``enrolment_jitter``).

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Pooled mean of the training clips.
    scale_ : ndarray of shape (n_features,)
        Pooled standard deviation of the training clips (1 where it is 0).
    n_speakers_ : int
        Speakers seen in fit (0 when fitted without groups).
    speaker_scale_ : ndarray of shape (n_features,)
        Typical within-speaker standard deviation of the training speakers (root mean of
        their variances; ``scale_`` when fitted without groups): the prior of profiles.
    mean_prior_, variance_prior_ : ndarray of shape (n_features,)
        Weights in clips of the training mean and of ``speaker_scale_`` in a profile's
        statistics, as estimated for ``profile_prior="auto"`` (a number set for
        ``profile_prior`` is used in their place, read when a profile is used).
    profiles_ : dict of str to dict
        Enrolled speakers by the string form of their id: ``{"n_clips": int, "mean":
        ndarray, "m2": ndarray}`` (``m2``: sum of squared deviations from the mean). Plain
        values, so the profiles are saved with the model. Empty after ``fit``.
    n_features_in_ : int
        Number of input features.

    Examples
    --------
    >>> import numpy as np
    >>> import sklearn
    >>> from sklearn_ser.features import SpeakerNormalizer
    >>> X = np.array([[1.0], [3.0], [10.0], [14.0]])
    >>> groups = np.array(["a", "a", "b", "b"])
    >>> SpeakerNormalizer().fit_transform(X, groups=groups).ravel()
    array([-1.,  1., -1.,  1.])
    """

    __metadata_request__fit = {"groups": True}
    __metadata_request__transform = {"groups": True}

    _parameter_constraints = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "min_clips": [Interval(Integral, 1, None, closed="left")],
        "profile_prior": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "enrolment_jitter": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, with_mean=True, with_std=True, min_clips=2, profile_prior="auto",
                 enrolment_jitter=0.0, random_state=None):
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_clips = min_clips
        self.profile_prior = profile_prior
        self.enrolment_jitter = enrolment_jitter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, groups=None):
        """Store the pooled training statistics (the fallback for unknown speakers).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Pooled features.
        y : None
            Ignored; labels are never used.
        groups : array-like of shape (n_clips,) or None
            Speaker of each clip.

        Returns
        -------
        self : object
        """
        reject_ragged(X, owner=type(self).__name__)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self.mean_, self.scale_ = _statistics(X)
        self.n_speakers_ = 0 if groups is None else len(np.unique(_check_groups(groups, X)))
        moments = _speaker_moments(X, groups)
        self.speaker_scale_ = _within_scale(moments, self.scale_)
        self.mean_prior_, self.variance_prior_ = _empirical_bayes_weights(moments, X.shape[1])
        self.profiles_ = {}
        return self

    @property
    def min_enrol_clips(self):
        """Fewest clips a profile may hold: ``min_clips``, and never fewer than 2.

        One clip has no spread; its profile would leave every feature unscaled.
        """
        return max(2, self.min_clips)

    def enroll(self, X, speaker, *, update=False):
        """Store (or, with ``update=True``, extend) the profile of ``speaker``.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Pooled features of the speaker's enrolment clips (no labels are needed).
        speaker : str or int
            The speaker id, as ``groups`` will give it (matched by its string form).
        update : bool, default=False
            Merge the clips into the speaker's existing profile (running statistics: count,
            mean and sum of squared deviations, combined exactly). False replaces it.

        Returns
        -------
        self : object

        Raises
        ------
        ValueError
            When the profile would hold fewer than :attr:`min_enrol_clips` clips, naming the
            speaker.
        """
        check_is_fitted(self)
        reject_ragged(X, owner=type(self).__name__)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        key = str(speaker)
        old = self.profiles_.get(key) if update else None
        total = X.shape[0] + (old["n_clips"] if old else 0)
        if total < self.min_enrol_clips:
            raise ValueError(
                f"Speaker {key!r}: {total} enrolment clip(s), but a profile needs at least "
                f"{self.min_enrol_clips} (min_clips={self.min_clips}, and never fewer than 2: "
                "one clip has no spread). Enrol more of their clips."
            )
        count, mean, m2 = _merge(old, X)
        self.profiles_[key] = {"n_clips": int(count), "mean": mean, "m2": m2}
        return self

    def profile_statistics(self, speaker):
        """Mean and scale that ``transform`` uses for an enrolled speaker.

        Parameters
        ----------
        speaker : str or int

        Returns
        -------
        mean, scale : ndarray of shape (n_features,)
        """
        check_is_fitted(self)
        key = str(speaker)
        if key not in self.profiles_:
            raise KeyError(f"Speaker {key!r} is not enrolled; enrolled: "
                           f"{sorted(self.profiles_)[:20]}.")
        return self._profile_statistics(self.profiles_[key])

    def _profile_statistics(self, profile):
        n = profile["n_clips"]
        if self.profile_prior == "auto":
            w_mean, w_var = self.mean_prior_, self.variance_prior_
        else:
            w_mean = w_var = float(self.profile_prior)
        mean = (n * np.asarray(profile["mean"], dtype=np.float64) + w_mean * self.mean_) / (
            n + w_mean)
        variance = ((np.asarray(profile["m2"], dtype=np.float64)
                     + w_var * getattr(self, "speaker_scale_", self.scale_) ** 2)
                    / (n + w_var))
        scale = np.sqrt(variance)
        scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
        return mean, scale

    def transform(self, X, groups=None):
        """Standardise each speaker's clips by their profile, else their statistics in X.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Pooled features.
        groups : array-like of shape (n_clips,) or None
            Speaker of each clip; None uses the pooled training statistics.

        Returns
        -------
        ndarray of shape (n_clips, n_features)
        """
        check_is_fitted(self)
        reject_ragged(X, owner=type(self).__name__)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        if groups is None:
            warnings.warn(
                "SpeakerNormalizer got no groups: clips are standardised with the pooled "
                "training statistics, not per speaker. Pass groups (speaker ids) through "
                "metadata routing, e.g. evaluate(..., groups=...) or pipeline.predict(X, "
                "groups=...) with sklearn.set_config(enable_metadata_routing=True).",
                SklearnSerWarning,
                stacklevel=2,
            )
            return self._standardise(X, self.mean_, self.scale_)
        groups = _check_groups(groups, X)
        out = np.empty_like(X)
        few = []
        profiles = getattr(self, "profiles_", {})  # models saved before profiles existed
        for speaker in np.unique(groups):
            rows = groups == speaker
            if str(speaker) in profiles:
                mean, scale = self._profile_statistics(profiles[str(speaker)])
            elif rows.sum() >= self.min_clips:
                mean, scale = _statistics(X[rows])
            else:
                mean, scale = self.mean_, self.scale_
                few.append(str(speaker))
            out[rows] = self._standardise(X[rows], mean, scale)
        if few:
            warnings.warn(
                f"SpeakerNormalizer: speaker(s) {few[:10]} have fewer than min_clips="
                f"{self.min_clips} clips; they were standardised with the pooled training "
                "statistics.",
                SklearnSerWarning,
                stacklevel=2,
            )
        return out

    def fit_transform(self, X, y=None, groups=None):
        """Fit, then standardise each training speaker by its own statistics.

        With ``enrolment_jitter`` above 0, that share of the clips is standardised by
        profiles of a few other clips of their speaker instead (see the parameter).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features)
            Pooled features.
        y : None
            Ignored.
        groups : array-like of shape (n_clips,) or None
            Speaker of each clip.

        Returns
        -------
        ndarray of shape (n_clips, n_features)
        """
        out = self.fit(X, y, groups=groups).transform(X, groups=groups)
        if self.enrolment_jitter > 0 and groups is not None:
            X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
            self._jitter(X, _check_groups(groups, X), out)
        return out

    def _jitter(self, X, groups, out):
        """Standardise a share of the clips in ``out`` by few-clip profiles of their speaker."""
        rng = check_random_state(self.random_state)
        low = self.min_enrol_clips
        for speaker in np.unique(groups):
            rows = np.flatnonzero(groups == speaker)
            if len(rows) <= low:
                continue
            high = min(JITTER_MAX_CLIPS, len(rows) - 1)
            for i in rows[rng.random_sample(len(rows)) < self.enrolment_jitter]:
                others = rows[rows != i]
                k = rng.randint(low, high + 1)
                count, mean, m2 = _merge(None, X[rng.choice(others, size=k, replace=False)])
                profile_mean, scale = self._profile_statistics(
                    {"n_clips": count, "mean": mean, "m2": m2})
                out[i] = self._standardise(X[i], profile_mean, scale)

    def _standardise(self, X, mean, scale):
        out = X - mean if self.with_mean else X.copy()
        return out / scale if self.with_std else out


def _statistics(X):
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return mean, scale


def _merge(profile, X):
    """Count, mean and M2 of a profile's clips together with the rows of X (Chan et al.)."""
    X = np.asarray(X, dtype=np.float64)
    n_b, mean_b = X.shape[0], X.mean(axis=0)
    m2_b = ((X - mean_b) ** 2).sum(axis=0)
    if not profile:
        return n_b, mean_b, m2_b
    n_a, mean_a, m2_a = profile["n_clips"], profile["mean"], profile["m2"]
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * (n_b / n), m2_a + m2_b + delta**2 * (n_a * n_b / n)


def _speaker_moments(X, groups):
    """Clip count, mean and variance (``ddof=0``) of every training speaker with at least
    two clips, as arrays of one row per speaker; None without groups or such speakers."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    rows = [groups == g for g in np.unique(groups) if (groups == g).sum() >= 2]
    if not rows:
        return None
    counts = np.array([r.sum() for r in rows], dtype=np.float64)
    means = np.array([X[r].mean(axis=0) for r in rows])
    variances = np.array([X[r].var(axis=0) for r in rows])
    return counts, means, variances


def _within_scale(moments, pooled):
    """Root mean of the training speakers' own variances (the pooled scale without them)."""
    if moments is None:
        return pooled.copy()
    scale = np.sqrt(np.mean(moments[2], axis=0))
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return scale


#: Most clips in a jittered training clip's profile (``enrolment_jitter``): enrolment sizes
#: beyond about ten clips are already close to the full speaker's statistics.
JITTER_MAX_CLIPS = 10
#: Pseudo-clips of both profile weights when ``"auto"`` has too few training speakers.
_FALLBACK_PROFILE_WEIGHT = 5.0
#: Largest weight, in clips: a feature whose speakers do not differ keeps the training
#: statistics (a finite cap keeps the arithmetic finite).
_MAX_PROFILE_WEIGHT = 1e6


def _empirical_bayes_weights(moments, n_features):
    """Per-feature weights, in clips, of the training mean and within-speaker variance in an
    enrolled speaker's profile (see ``SpeakerNormalizer``'s ``profile_prior="auto"``), from
    the training speakers' :func:`_speaker_moments`."""
    fallback = np.full(n_features, _FALLBACK_PROFILE_WEIGHT)
    if moments is None or len(moments[0]) < 2:
        return fallback, fallback.copy()
    counts, means, variances = (np.asarray(m, dtype=np.float64) for m in moments)
    variances = variances * (counts / (counts - 1.0))[:, None]  # unbiased (ddof=1)
    within = variances.mean(axis=0)
    tiny = np.finfo(np.float64).tiny
    # The speakers' means scatter by their true spread plus within / n from their clips.
    between = means.var(axis=0, ddof=1) - np.mean(within[None, :] / counts[:, None], axis=0)
    mean_weight = within / np.maximum(between, within / _MAX_PROFILE_WEIGHT + tiny)
    # A log sample variance of n normal values scatters by about 2 / (n - 1).
    log_var = np.log(np.maximum(variances, tiny))
    log_between = log_var.var(axis=0, ddof=1) - np.mean(2.0 / (counts - 1.0))
    variance_weight = 2.0 / np.maximum(log_between, 2.0 / _MAX_PROFILE_WEIGHT)
    constant = within <= 0  # a feature constant within every speaker: nothing to learn
    mean_weight[constant] = variance_weight[constant] = _MAX_PROFILE_WEIGHT
    return (np.minimum(mean_weight, _MAX_PROFILE_WEIGHT),
            np.minimum(variance_weight, _MAX_PROFILE_WEIGHT))


def find_speaker_normalizers(estimator):
    """Every fitted speaker normaliser of ``estimator``, with where it sits.

    Searches pipelines (``steps``), fitted ensembles (``estimators_``, e.g. the fusion
    classifiers) and unions (``transformer_list``), nested ones too.

    Parameters
    ----------
    estimator : fitted estimator or Pipeline

    Returns
    -------
    list of (owner, index, normalizer)
        ``owner.steps[index]`` holds the normaliser: a :class:`SpeakerNormalizer`, or a
        ``FrameWise`` whose fitted ``transformer_`` is one (``normalizer`` is then that
        inner one, which sees frames). ``owner[:index]`` computes its input.
    """
    found = []
    for index, (_, step) in enumerate(getattr(estimator, "steps", None) or []):
        inner = getattr(step, "transformer_", None)
        if isinstance(step, SpeakerNormalizer):
            found.append((estimator, index, step))
        elif isinstance(inner, SpeakerNormalizer):
            found.append((estimator, index, inner))
        else:
            found.extend(find_speaker_normalizers(step))
    for member in getattr(estimator, "estimators_", None) or []:
        if hasattr(member, "steps") or isinstance(member, SpeakerNormalizer):
            found.extend(find_speaker_normalizers(member))
    for _, part in getattr(estimator, "transformer_list", None) or []:
        found.extend(find_speaker_normalizers(part))
    return found


def _check_groups(groups, X):
    groups = np.asarray(groups)
    if groups.shape != (X.shape[0],):
        raise ValueError(
            f"groups has shape {groups.shape}, but X has {X.shape[0]} clips; pass one speaker "
            "id per clip."
        )
    return groups
