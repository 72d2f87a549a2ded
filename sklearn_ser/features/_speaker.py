"""Per-speaker standardisation of pooled features (speaker normalisation)."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import reject_ragged
from ..exceptions import SklearnSerWarning
from ..utils._compat import Interval, _fit_context, validate_data


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

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Pooled mean of the training clips.
    scale_ : ndarray of shape (n_features,)
        Pooled standard deviation of the training clips (1 where it is 0).
    n_speakers_ : int
        Speakers seen in fit (0 when fitted without groups).
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
    }

    def __init__(self, *, with_mean=True, with_std=True, min_clips=2):
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_clips = min_clips

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
        return self

    def transform(self, X, groups=None):
        """Standardise each speaker's clips by that speaker's statistics in X.

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
        for speaker in np.unique(groups):
            rows = groups == speaker
            if rows.sum() >= self.min_clips:
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
        return self.fit(X, y, groups=groups).transform(X, groups=groups)

    def _standardise(self, X, mean, scale):
        out = X - mean if self.with_mean else X.copy()
        return out / scale if self.with_std else out


def _statistics(X):
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0
    return mean, scale


def _check_groups(groups, X):
    groups = np.asarray(groups)
    if groups.shape != (X.shape[0],):
        raise ValueError(
            f"groups has shape {groups.shape}, but X has {X.shape[0]} clips; pass one speaker "
            "id per clip."
        )
    return groups
