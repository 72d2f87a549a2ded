"""A regressor whose predictions keep the spread of the targets, for concordance (CCC)."""

import warnings
from numbers import Integral

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted

from .._validation import reject_ragged
from ..augmentation import source_speakers
from ..exceptions import SklearnSerWarning
from ..utils import requests_groups
from ..utils._compat import HasMethods, Interval, validate_data

__all__ = ["ConcordantRegressor"]


class ConcordantRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Standardise the target, fit a regressor, and rescale its predictions to the targets'
    spread, learned from out-of-fold predictions of the training speakers.

    A regressor fitted for squared error shrinks its predictions towards the mean: the less
    sure it is, the more. Lin's concordance correlation (CCC), the measure of dimensional
    emotion (arousal, valence, intensity), penalises that shrinkage as error: for
    predictions that correlate with the truth by ``r``, CCC is at most ``r`` and reaches it
    only when their mean and spread equal the truth's. So, as the AVEC challenges'
    baselines post-process their predictions, ``fit`` makes out-of-fold predictions of the
    training clips (speaker-grouped folds: as on new speakers), and ``predict`` maps the
    regressor's output linearly so that those predictions would have had the training
    targets' mean and standard deviation. The price is a larger squared (and usually
    absolute) error; set ``rescale=False`` to keep the regressor's own output.

    The target is standardised inside (as ``TransformedTargetRegressor(transformer=
    StandardScaler())`` would), so the regressor's settings (an SVR's epsilon, a ridge
    penalty) mean the same on any rating scale; both happen in this one step so that a
    grid keeps the regressor's own keys (``svr__regressor__C``). No library estimator
    rescales by out-of-fold spread.

    Parameters
    ----------
    regressor : estimator
        The regressor, fitted on the standardised target (one column or several, if it
        takes several).
    rescale : bool, default=True
        Rescale the predictions by the out-of-fold spread; False keeps the regressor's.
        A target column whose out-of-fold predictions do not correlate positively with it
        is not rescaled (stretching noise would lower CCC), with a warning.
    cv : int, default=5
        Folds of the out-of-fold predictions: whole speakers per fold
        (``GroupKFold``) when ``fit`` gets ``groups``, at most one per speaker. A noisy
        training copy of the pipeline's ``NoiseAugmenter`` counts as its source speaker
        (:class:`SpeakerFolds`).

    Attributes
    ----------
    regressor_ : estimator
        The regressor fitted on all the training clips.
    target_mean_, target_scale_ : ndarray of shape (n_targets,)
        Mean and standard deviation of the training targets.
    oof_mean_, oof_scale_ : ndarray of shape (n_targets,)
        Mean and standard deviation of the out-of-fold predictions in standardised units
        (0 and 1 where not rescaled).
    oof_correlation_ : ndarray of shape (n_targets,)
        Pearson correlation of the out-of-fold predictions with the targets (NaN without
        rescaling).
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import SVR
    >>> from sklearn_ser.pipelines import ConcordantRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4))
    >>> y = X[:, 0] + rng.normal(scale=0.5, size=60)
    >>> groups = np.repeat(np.arange(6), 10)
    >>> model = ConcordantRegressor(SVR()).fit(X, y, groups=groups)
    >>> bool(model.predict(X).std() > SVR().fit(X, y).predict(X).std())
    True
    """

    __metadata_request__fit = {"groups": True}

    _parameter_constraints = {
        "regressor": [HasMethods(["fit", "predict"])],
        "rescale": ["boolean"],
        "cv": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, regressor, *, rescale=True, cv=5):
        self.regressor = regressor
        self.rescale = rescale
        self.cv = cv

    def fit(self, X, y, groups=None):
        """Fit the regressor on the standardised target and learn the rescaling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Continuous targets.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, so that the out-of-fold predictions come from held-out
            speakers. Without it the folds mix speakers (with a warning), which makes the
            predictions look less shrunk than on new speakers.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        self._validate_params()
        reject_ragged(X, owner=type(self).__name__)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        column = np.asarray(y, dtype=float).reshape(len(y), -1)
        self.target_mean_ = column.mean(axis=0)
        scale = column.std(axis=0)
        self.target_scale_ = np.where(scale > 0, scale, 1.0)
        z = (column - self.target_mean_) / self.target_scale_
        z = z.ravel() if y.ndim == 1 else z
        groups = None if groups is None else np.asarray(groups)
        speakers = self._regressor_groups(groups, len(z))
        self.regressor_ = self._fit_regressor(X, z, speakers)
        n = len(self.target_mean_)
        self.oof_mean_, self.oof_scale_ = np.zeros(n), np.ones(n)
        self.oof_correlation_ = np.full(n, np.nan)
        if self.rescale:
            self._learn_rescaling(X, z, groups, speakers)
        return self

    def _learn_rescaling(self, X, z, groups, speakers):
        splitter = self._splitter(groups)
        if splitter is None:
            return
        # Fitted fold by fold (not by cross_val_predict, which takes groups only while
        # metadata routing is off) so that each fold's regressor gets its own speakers.
        oof = np.empty((len(z), len(self.target_mean_)))
        for train, test in splitter.split(X, z, groups):
            inner = None if speakers is None else speakers[train]
            fitted = self._fit_regressor(X[train], z[train], inner)
            # A regressor may give (n,) for a column-vector target: one column either way.
            oof[test] = np.reshape(fitted.predict(X[test]), (len(test), -1))
        z = z.reshape(len(z), -1)
        for j in range(z.shape[1]):
            spread = oof[:, j].std()
            r = np.corrcoef(oof[:, j], z[:, j])[0, 1] if spread > 0 else np.nan
            self.oof_correlation_[j] = r
            if not r > 0:
                warnings.warn(
                    f"ConcordantRegressor: the out-of-fold predictions of target column {j} "
                    f"do not follow it (correlation {r:.3f}), so they are not rescaled: "
                    "the regressor has found nothing it can use for new speakers.",
                    SklearnSerWarning, stacklevel=4)
                continue
            self.oof_mean_[j], self.oof_scale_[j] = oof[:, j].mean(), spread

    def _regressor_groups(self, groups, n_samples):
        """The speakers to hand the regressor, or None when its fit does not ask for them:
        the given ones, else one per sample (its folds then split clips; fit has warned)."""
        if not requests_groups(self.regressor, "fit"):
            return None
        return np.arange(n_samples) if groups is None else groups

    def _fit_regressor(self, X, z, speakers):
        return fit_with_speakers(clone(self.regressor), X, z, speakers)

    def _splitter(self, groups):
        if groups is None:
            warnings.warn(
                "ConcordantRegressor got no groups: its out-of-fold predictions for the "
                "rescaling come from folds that share speakers, which look less shrunk than "
                "predictions for new speakers, so the rescaling is too small. Pass the "
                "speakers as groups to fit (metadata routing).", SklearnSerWarning,
                stacklevel=4)
            return KFold(self.cv, shuffle=True, random_state=0)
        if len(np.unique(source_speakers(groups))) < 2:
            warnings.warn(
                "ConcordantRegressor got one speaker: out-of-fold predictions need at least "
                "two, so the predictions are not rescaled.", SklearnSerWarning, stacklevel=4)
            return None
        return SpeakerFolds(self.cv)

    def predict(self, X):
        """Predicted targets in their own units, rescaled as learnt in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        X = fitted_input(self, X)
        z = np.asarray(self.regressor_.predict(X), dtype=float)
        shape = z.shape
        z = (z.reshape(len(z), -1) - self.oof_mean_) / self.oof_scale_
        return (z * self.target_scale_ + self.target_mean_).reshape(shape)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def fitted_input(estimator, X):
    """``X`` checked for a fitted ``estimator``'s ``predict``: fitted, not ragged, with the
    number of features seen in ``fit``."""
    check_is_fitted(estimator)
    reject_ragged(X, owner=type(estimator).__name__)
    return validate_data(estimator, X, reset=False)


def fit_with_speakers(estimator, X, y, speakers):
    """``estimator.fit(X, y)``, with ``groups=speakers`` when there are speakers and its
    ``fit`` asks for them by metadata routing (a search over speaker folds, a
    ``ConcordantRegressor``); returns the fitted estimator."""
    if speakers is None or not requests_groups(estimator, "fit"):
        return estimator.fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        return estimator.fit(X, y, groups=speakers)


class SpeakerFolds(GroupKFold):
    """``GroupKFold`` over the speakers the samples were recorded by, that makes one fold
    per speaker when there are fewer speakers than ``n_splits`` (a corpus of few speakers),
    where ``GroupKFold`` raises; with a single speaker, folds of its samples (``KFold``), the
    only split left.

    A noisy training copy (``NoiseAugmenter``'s id ``"s/noise1"``) counts as its source
    speaker ``s`` (:func:`~sklearn_ser.augmentation.source_speakers`): the folds are made
    inside ``fit``, after the copies, and a copy on the other side of its source would give
    a held-out part that shares a voice with the training part."""

    def get_n_splits(self, X=None, y=None, groups=None):
        if groups is None:
            return self.n_splits
        n_groups = len(np.unique(source_speakers(groups)))
        return min(self.n_splits, n_groups if n_groups > 1 else len(groups))

    def split(self, X, y=None, groups=None):
        if groups is None:  # GroupKFold's own error: the folds need speakers
            yield from GroupKFold(self.n_splits).split(X, y, groups)
            return
        speakers = source_speakers(groups)
        n_speakers = len(np.unique(speakers))
        if n_speakers == 1:
            yield from KFold(min(self.n_splits, len(speakers))).split(X, y)
            return
        yield from GroupKFold(min(self.n_splits, n_speakers)).split(X, y, speakers)
