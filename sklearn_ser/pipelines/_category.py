"""A regressor of continuous emotion that also learns from the clips' emotion categories."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from .._validation import check_labels, reject_ragged
from ..exceptions import SklearnSerWarning
from ..utils._compat import HasMethods, Interval, validate_data
from ._concordant import SpeakerFolds, fit_with_speakers, fitted_input

__all__ = ["CATEGORY_WEIGHT", "CategoryStackingRegressor"]

#: Default ``weight`` of :class:`CategoryStackingRegressor`, and the ``category_weight`` of the
#: model names ``svr-cat`` and ``ridge-cat``: the best mean CCC of the weights screened
#: (``make_regression_pipeline``'s Notes say on what).
CATEGORY_WEIGHT = 4.0


class CategoryStackingRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Regress a continuous target from the features and the emotion category's
    probabilities side by side; the category labels are needed in ``fit`` only.

    A clip's arousal, valence or intensity is mostly its emotion's place in the
    arousal-valence plane, plus the clip's own variation around it; and how a cue moves the
    target depends on the emotion (more vocal effort makes angry speech more intense and sad
    speech less). A regressor on the features alone has to learn both from the continuous
    targets. Corpora with continuous ratings mostly have categories as well (MSP-Podcast,
    IEMOCAP, RAVDESS and CREMA-D intensities), so this estimator fits a classifier of the
    categories and hands its probabilities to the regressor as extra features. For the
    training clips they are out-of-fold predictions over folds of whole speakers, as the
    probabilities of new speakers' clips will be, so the regressor learns how far to trust
    them (the way :class:`SpeakerStackingClassifier` trains its final estimator).
    scikit-learn's ``StackingRegressor`` stacks regressors of the same target; none of its
    estimators stacks a classifier of another label.

    Parameters
    ----------
    regressor : estimator
        Fitted on ``[X, weight * sqrt(n_features / n_categories) * probabilities]``, for
        example ``ConcordantRegressor(SVR())``. It gets the speakers (``groups``) when its
        ``fit`` asks for them through metadata routing, as ``ConcordantRegressor`` does.
    classifier : estimator with ``predict_proba`` or None, default=None
        The classifier of the categories; None means ``LogisticRegression(C=0.1,
        max_iter=2000)``, the ``lr`` pipelines' classifier.
    weight : float, default=4.0
        Size of the probability columns next to the features. The columns are multiplied by
        ``weight * sqrt(n_features / n_categories)``: on standardised features, two clips
        surely of different categories are then ``weight ** 2 / n_categories`` times as far
        apart in the probabilities as two typical clips are in the features, whatever the
        number of features. 0 leaves the regressor the features alone. Chosen on the
        synthetic corpus, RAVDESS and EmoDB (``benchmarks/README.md``, "Continuous
        targets").
    cv : int, default=5
        Folds of the out-of-fold probabilities: whole speakers per fold when ``fit`` gets
        ``groups`` (a noisy copy counts as its source speaker, :class:`SpeakerFolds`).

    Attributes
    ----------
    classifier_ : estimator
        The classifier fitted on all the training clips (used by ``predict``).
    regressor_ : estimator
        The regressor fitted on the features and out-of-fold probabilities.
    categories_ : ndarray of shape (n_categories,)
        The categories, in the order of the probability columns.
    scale_ : float
        The multiplier of the probability columns.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.svm import SVR
    >>> from sklearn_ser.pipelines import CategoryStackingRegressor
    >>> rng = np.random.default_rng(0)
    >>> categories = np.repeat(["anger", "neutral", "sadness"], 40)
    >>> X = rng.normal(size=(120, 5)) + (categories == "anger")[:, None]
    >>> y = np.where(categories == "neutral", 0.1, 0.7) + 0.1 * X[:, 1]
    >>> groups = np.tile(np.arange(6), 20)
    >>> model = CategoryStackingRegressor(SVR()).fit(X, y, categories=categories,
    ...                                              groups=groups)
    >>> model.predict(X[:2]).shape
    (2,)
    """

    __metadata_request__fit = {"categories": True, "groups": True}

    _parameter_constraints = {
        "regressor": [HasMethods(["fit", "predict"])],
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "weight": [Interval(Real, 0, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, regressor, *, classifier=None, weight=CATEGORY_WEIGHT, cv=5):
        self.regressor = regressor
        self.classifier = classifier
        self.weight = weight
        self.cv = cv

    def fit(self, X, y, categories=None, groups=None):
        """Fit the classifier, its out-of-fold probabilities, and the regressor on both.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Continuous targets.
        categories : array-like of shape (n_samples,)
            Emotion category of every training sample (through a pipeline: metadata
            routing, ``fit(clips, y, categories=labels)``). Required.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, so that the out-of-fold probabilities come from held-out
            speakers. Without it the folds mix speakers (with a warning), and the
            probabilities look surer than they will be for new speakers.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        self._validate_params()
        owner = type(self).__name__
        reject_ragged(X, owner=owner)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        if categories is None:
            raise ValueError(
                f"{owner} needs the emotion category of every training clip: "
                "fit(X, y, categories=labels). Through a pipeline, turn on metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and pass "
                "categories=labels to its fit, or fit_params={'categories': labels} to "
                "evaluate.")
        categories = check_labels(categories, n_samples=len(X), owner=owner)
        groups = None if groups is None else np.asarray(groups)
        self.categories_ = np.unique(categories)
        self.scale_ = float(self.weight * np.sqrt(X.shape[1] / len(self.categories_)))
        self.classifier_ = self._new_classifier().fit(X, categories)
        oof = None if self.scale_ == 0 else self._out_of_fold_probabilities(X, categories,
                                                                            groups)
        self.regressor_ = fit_with_speakers(clone(self.regressor), self._stacked(X, oof), y,
                                            groups)
        return self

    def _stacked(self, X, probabilities):
        """The regressor's input: the features, then the scaled probabilities (none with
        ``weight=0``, so that the regressor sees exactly the features, its scale included)."""
        if self.scale_ == 0:
            return X
        return np.hstack([X, self.scale_ * probabilities])

    def _new_classifier(self):
        if self.classifier is None:
            return LogisticRegression(C=0.1, max_iter=2000)
        return clone(self.classifier)

    def _out_of_fold_probabilities(self, X, categories, groups):
        if groups is None:
            warnings.warn(
                f"{type(self).__name__} got no groups: the out-of-fold category "
                "probabilities come from folds that share speakers, which are surer than "
                "those of new speakers, so the regressor will trust them too much. Pass the "
                "speakers as groups to fit (metadata routing).", SklearnSerWarning,
                stacklevel=3)
            splitter = KFold(self.cv, shuffle=True, random_state=0)
        else:
            splitter = SpeakerFolds(self.cv)
        oof = np.zeros((len(X), len(self.categories_)))
        for train, test in splitter.split(X, categories, groups):
            classifier = self._new_classifier().fit(X[train], categories[train])
            oof[test] = self._aligned(classifier, X[test])
        return oof

    def _aligned(self, classifier, X):
        """``classifier``'s probabilities in the columns of ``categories_`` (a fold's
        classifier may not have seen every category: its column stays 0)."""
        out = np.zeros((len(X), len(self.categories_)))
        out[:, np.searchsorted(self.categories_, classifier.classes_)] = \
            classifier.predict_proba(X)
        return out

    def predict(self, X):
        """Predicted targets from the features and the classifier's probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        X = fitted_input(self, X)
        probabilities = None if self.scale_ == 0 else self._aligned(self.classifier_, X)
        return self.regressor_.predict(self._stacked(X, probabilities))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
