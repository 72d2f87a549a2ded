"""Fusion of recognisers: stacking and voting over whole pipelines, speaker-aware.

sklearn's ``StackingClassifier`` and ``VotingClassifier`` cannot do two things a speech
emotion recogniser needs: their inner cross-validation never sees the speakers (so the
out-of-fold predictions that train the final estimator come from folds that share speakers),
and their members never get the speakers at predict time (so a member with a
:class:`~sklearn_ser.features.SpeakerNormalizer` falls back to pooled statistics). The two
classes here are those sklearn classes with an explicit ``groups`` argument in ``fit`` and in
every prediction method, handed to each member that asks for it (its own ``groups`` argument,
or metadata routing inside a Pipeline) and to a speaker-grouped inner split.
"""

import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted, column_or_1d, indexable

from ..exceptions import SklearnSerWarning
from ..model_selection import SpeakerStratifiedKFold, make_cv
from ..utils import check_speakers, request_speakers, requests_groups
from ..utils._compat import _num_samples, _safe_indexing
from ._registry import DEFAULT_FUSION_MEMBERS, FUSION_FEATURES, make_named_pipeline

__all__ = ["SpeakerStackingClassifier", "SpeakerVotingClassifier", "make_fusion_pipeline",
           "with_probabilities"]


def _takes_groups(estimator, method):
    """Whether ``estimator.<method>`` uses the speakers (its own argument or routing)."""
    try:
        if "groups" in inspect.signature(getattr(estimator, method)).parameters:
            return True
    except (TypeError, ValueError, AttributeError):
        pass
    return requests_groups(estimator, method)


def _call(estimator, method, X, groups, *args):
    """``estimator.<method>(X, *args)``, with ``groups=`` where the estimator uses them."""
    if groups is None or not _takes_groups(estimator, method):
        return getattr(estimator, method)(X, *args)
    # Routing is needed for a Pipeline to pass groups on; it is harmless elsewhere.
    with config_context(enable_metadata_routing=True):
        return getattr(estimator, method)(X, *args, groups=groups)


def _fit_member(estimator, X, y, groups):
    return _call(estimator, "fit", X, groups, y)


def _fold_predictions(estimator, method, X, y, groups, train, test):
    """Fit on ``train`` and predict ``test``: one out-of-fold block of a stacking member."""
    part = None if groups is None else groups[train]
    _call(estimator, "fit", _safe_indexing(X, train), part, y[train])
    part = None if groups is None else groups[test]
    return _call(estimator, method, _safe_indexing(X, test), part)


def _final_has(method):
    """For ``available_if``: the (fitted, else given) final estimator has ``method``."""

    def check(self):
        final = getattr(self, "final_estimator_", None)
        if final is None:
            final = self.final_estimator
            if final is None:  # sklearn's default: LogisticRegression, which has both
                return True
        return hasattr(final, method)

    return check


def _check_groups(groups, n_samples, owner):
    if groups is None:
        return None
    return check_speakers(groups, owner, n_samples=n_samples)


def _labels(y, owner):
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    if len(encoder.classes_) < 2:
        raise ValueError(f"{owner} needs at least 2 classes in y; y has "
                         f"{len(encoder.classes_)} class: {encoder.classes_!r}.")
    return encoder, encoder.transform(y)


class _SpeakerGroupsMixin:
    """``score`` and the metadata request shared by the speaker-aware fusions.

    Every method takes ``groups`` as its own argument; the members get it from the fusion
    (where they use it), not through sklearn's router.
    """

    def score(self, X, y, sample_weight=None, groups=None):
        """Accuracy on ``X``, predicted with the speakers (as sklearn's ``score``).

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them (routed here by a
            ``GridSearchCV`` under metadata routing).

        Returns
        -------
        float
        """
        return accuracy_score(y, self.predict(X, groups=groups), sample_weight=sample_weight)

    def get_metadata_routing(self):
        """Metadata this estimator uses: ``groups`` in ``fit`` and every prediction method.

        The members get ``groups`` from this class itself (where they use them), not through
        sklearn's router.

        Returns
        -------
        MetadataRequest
        """
        from sklearn.utils.metadata_routing import MetadataRequest

        request = MetadataRequest(owner=self)
        for method in ("fit", "predict", "predict_proba", "decision_function", "transform",
                       "score"):
            if hasattr(self, method):
                getattr(request, method).add_request(param="groups", alias=True)
        return request


class SpeakerStackingClassifier(_SpeakerGroupsMixin, StackingClassifier):
    """Stacking whose inner cross-validation and members see the speakers.

    The members (whole pipelines that start from clips, classic or deep) are fitted on all
    training clips; the final estimator learns from their out-of-fold predictions, made by an
    inner split that is grouped by speaker, so no member ever predicts a speaker it was
    trained on. ``groups`` (speaker ids) reaches every member that uses them, in ``fit`` and
    at prediction time: a member with a ``SpeakerNormalizer`` standardises each speaker by
    that speaker's own clips. Everything else is sklearn's ``StackingClassifier``.

    Parameters
    ----------
    estimators : list of (str, estimator)
        The members; ``"drop"`` removes one.
    final_estimator : estimator, default=None
        Learns from the members' predictions; None means ``LogisticRegression()``.
    cv : int, cross-validation generator or None, default=None
        The inner split. None or an int ``k`` means ``SpeakerStratifiedKFold(k)`` (5 for
        None) when ``groups`` is given; a splitter is used as it is and gets ``groups``.
        Without ``groups``, or with ``groups`` of a single speaker and ``cv`` None or an int
        (leave-one-speaker-out on a two-speaker corpus), the split is ``StratifiedKFold``
        with a warning: the out-of-fold predictions then come from folds that share
        speakers.
    stack_method : {"auto", "predict_proba", "decision_function", "predict"}, default="auto"
        The members' output the final estimator sees ("auto": the first that exists).
    n_jobs : int or None, default=None
        Members and inner folds fitted in parallel (joblib).
    passthrough : bool, default=False
        Must stay False when the input is clips (the final estimator cannot read audio).
    verbose : int, default=0
        Verbosity of the parallel fits.

    Attributes
    ----------
    estimators_ : list of estimators
        The members fitted on all training clips.
    named_estimators_ : Bunch
        The fitted members by name.
    final_estimator_ : estimator
        The fitted final estimator.
    stack_method_ : list of str
        The method used of each member.
    classes_ : ndarray
        The labels of ``y``.

    See Also
    --------
    make_fusion_pipeline : builds one from benchmark model names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn_ser.pipelines import SpeakerStackingClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat(["anger", "sadness"], 30)
    >>> X = rng.normal(size=(60, 4)) + 3 * (y == "anger")[:, None]
    >>> speakers = np.tile(np.arange(6), 10)
    >>> stack = SpeakerStackingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())],
    ...                                   cv=3)
    >>> stack.fit(X, y, groups=speakers).predict(X[[0, -1]]).tolist()
    ['anger', 'sadness']
    """

    def __init__(self, estimators, final_estimator=None, *, cv=None, stack_method="auto",
                 n_jobs=None, passthrough=False, verbose=0):
        super().__init__(estimators, final_estimator=final_estimator, cv=cv,
                         stack_method=stack_method, n_jobs=n_jobs, passthrough=passthrough,
                         verbose=verbose)

    def fit(self, X, y, groups=None):
        """Fit the members on all clips and the final estimator on their out-of-fold output.

        Parameters
        ----------
        X : list of clips or array-like of shape (n_samples, ...)
            Whatever the members take.
        y : array-like of shape (n_samples,)
            Labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample: groups the inner split and reaches the members.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._label_encoder, y_encoded = _labels(y, type(self).__name__)
        self.classes_ = self._label_encoder.classes_
        groups = _check_groups(groups, len(y_encoded), f"{type(self).__name__}.fit")
        names, members = self._validate_estimators()
        self._validate_final_estimator()
        kept = [(n, e) for n, e in zip(names, members) if e != "drop"]
        self.stack_method_ = [self._method_name(n, e, self.stack_method) for n, e in kept]
        (X,) = indexable(X)  # lists of clips stay lists; array-likes become arrays
        inner = self._inner_cv(y_encoded, groups)
        # The stratified fallback ignores speakers; handing it groups would only warn so.
        splits = list(inner.split(X, y_encoded,
                                  None if isinstance(inner, StratifiedKFold) else groups))

        parallel = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)
        self.estimators_ = parallel(
            delayed(_fit_member)(clone(e), X, y_encoded, groups) for _, e in kept
        )
        blocks = parallel(
            delayed(_fold_predictions)(clone(e), method, X, y_encoded, groups, train, test)
            for (_, e), method in zip(kept, self.stack_method_)
            for train, test in splits
        )
        predictions = self._assemble_out_of_fold(blocks, splits, len(y_encoded), len(kept))

        self.named_estimators_ = Bunch(**{n: e for (n, _), e in zip(kept, self.estimators_)})
        X_meta = self._concatenate_predictions(X, predictions)
        self.final_estimator_.fit(X_meta, y_encoded)
        return self

    def _inner_cv(self, y, groups):
        if groups is None:
            warnings.warn(
                f"{type(self).__name__}.fit got no groups: the inner cross-validation is a "
                "StratifiedKFold whose folds share speakers, so the final estimator learns "
                "from optimistic out-of-fold predictions. Pass groups=speaker ids.",
                SklearnSerWarning, stacklevel=3,
            )
            if self.cv is None or isinstance(self.cv, Integral):
                return StratifiedKFold(5 if self.cv is None else self.cv)
            return self.cv
        speakers = np.unique(groups)
        # A splitter object is the caller's explicit choice and is used as it is; the
        # default and an int only ask for "k folds", which one speaker cannot give.
        if len(speakers) < 2 and (self.cv is None or isinstance(self.cv, Integral)):
            return self._single_speaker_cv(y, speakers)
        if self.cv is None:
            return SpeakerStratifiedKFold(min(5, len(speakers)))
        return make_cv(self.cv)

    def _single_speaker_cv(self, y, speakers):
        """Stratified inner folds for training clips of one speaker, with a warning.

        Leave-one-speaker-out on a two-speaker corpus (TESS) trains each outer fold on one
        speaker, and speaker-grouped inner folds cannot be built from one speaker. Refusing
        would lose the whole evaluation; folds that share the speaker still train the final
        estimator, only on optimistic out-of-fold predictions, which the warning says.
        """
        n_splits = min(5 if self.cv is None else int(self.cv), int(np.bincount(y).min()))
        owner, speaker = type(self).__name__, str(speakers[0])
        if n_splits < 2:
            raise ValueError(
                f"{owner}.fit got clips of a single speaker ({speaker!r}) and a class with "
                "only one clip, so no inner cross-validation can be built. "
                "Give every class at least 2 clips, or train on more speakers."
            )
        warnings.warn(
            f"{owner}.fit got clips of a single speaker ({speaker!r}): "
            f"speaker-grouped inner folds need at least 2 speakers, so the inner "
            f"cross-validation is a StratifiedKFold({n_splits}) whose folds share that "
            "speaker, and the final estimator learns from optimistic out-of-fold "
            "predictions. This happens in leave-one-speaker-out on a two-speaker corpus; "
            "train on more speakers for a speaker-independent stack.",
            SklearnSerWarning, stacklevel=4,
        )
        return StratifiedKFold(n_splits)

    @staticmethod
    def _assemble_out_of_fold(blocks, splits, n_samples, n_members):
        """Put each member's fold blocks back in sample order."""
        predictions = []
        for m in range(n_members):
            member_blocks = blocks[m * len(splits):(m + 1) * len(splits)]
            first = np.asarray(member_blocks[0])
            out = np.full((n_samples, *first.shape[1:]), np.nan, dtype=float)
            for (_, test), block in zip(splits, member_blocks):
                out[test] = block
            if np.isnan(out).any():
                raise ValueError(
                    "The inner cross-validation must put every training sample in exactly one "
                    "test fold (a partition, like KFold or SpeakerStratifiedKFold)."
                )
            predictions.append(out)
        return predictions

    def transform(self, X, groups=None):
        """The members' predictions, one block of columns per member.

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        check_is_fitted(self)
        groups = _check_groups(groups, _num_samples(X), f"{type(self).__name__}.transform")
        predictions = [
            _call(est, method, X, groups)
            for est, method in zip(self.estimators_, self.stack_method_)
        ]
        return self._concatenate_predictions(X, predictions)

    def predict(self, X, groups=None):
        """Labels predicted by the final estimator from the members' output.

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        encoded = self.final_estimator_.predict(self.transform(X, groups=groups))
        return self._label_encoder.inverse_transform(encoded)

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X, groups=None):
        """Class probabilities of the final estimator (columns follow ``classes_``).

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.final_estimator_.predict_proba(self.transform(X, groups=groups))

    @available_if(_final_has("decision_function"))
    def decision_function(self, X, groups=None):
        """Decision function of the final estimator.

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples,)
        """
        check_is_fitted(self)
        return self.final_estimator_.decision_function(self.transform(X, groups=groups))


class SpeakerVotingClassifier(_SpeakerGroupsMixin, VotingClassifier):
    """Voting over members that get the speakers in ``fit`` and at prediction time.

    sklearn's ``VotingClassifier`` with an explicit ``groups`` argument in ``fit``,
    ``predict``, ``predict_proba`` and ``transform``, handed to each member that uses it (a
    member with a ``SpeakerNormalizer``, a network whose early stopping splits by speaker).

    Parameters
    ----------
    estimators : list of (str, estimator)
        The members; ``"drop"`` removes one.
    voting : {"soft", "hard"}, default="soft"
        Average of the members' probabilities, or majority of their labels.
    weights : array-like of shape (n_members,), default=None
        Weight of each member's vote.
    n_jobs : int or None, default=None
        Members fitted in parallel (joblib).
    flatten_transform : bool, default=True
        Shape of ``transform`` with soft voting (see sklearn's ``VotingClassifier``).
    verbose : bool, default=False
        Print the time of each member's fit.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    named_estimators_ : Bunch
        The fitted members by name.
    classes_ : ndarray
        The labels of ``y``.
    le_ : LabelEncoder
        Encoder of the labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn_ser.pipelines import SpeakerVotingClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = np.repeat(["anger", "sadness"], 30)
    >>> X = rng.normal(size=(60, 4)) + 3 * (y == "anger")[:, None]
    >>> vote = SpeakerVotingClassifier([("lr", LogisticRegression()), ("nb", GaussianNB())])
    >>> vote.fit(X, y).predict(X[[0, -1]]).tolist()
    ['anger', 'sadness']
    """

    def __init__(self, estimators, *, voting="soft", weights=None, n_jobs=None,
                 flatten_transform=True, verbose=False):
        super().__init__(estimators, voting=voting, weights=weights, n_jobs=n_jobs,
                         flatten_transform=flatten_transform, verbose=verbose)

    def fit(self, X, y, groups=None):
        """Fit every member on all clips.

        Parameters
        ----------
        X : list of clips or array-like
            Whatever the members take.
        y : array-like of shape (n_samples,)
            Labels.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self.le_, y_encoded = _labels(y, type(self).__name__)
        self.classes_ = self.le_.classes_
        groups = _check_groups(groups, len(y_encoded), f"{type(self).__name__}.fit")
        names, members = self._validate_estimators()
        if self.weights is not None and len(self.weights) != len(self.estimators):
            raise ValueError(
                f"Number of weights ({len(self.weights)}) does not match the number of "
                f"estimators ({len(self.estimators)})."
            )
        kept = [(n, e) for n, e in zip(names, members) if e != "drop"]
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(clone(e), X, y_encoded, groups) for _, e in kept
        )
        self.named_estimators_ = Bunch(**{n: e for (n, _), e in zip(kept, self.estimators_)})
        return self

    def _member_weights(self):
        if self.weights is None:
            return None
        return [w for w, (_, e) in zip(self.weights, self.estimators) if e != "drop"]

    def _collect_probas(self, X, groups=None):
        return np.asarray([_call(est, "predict_proba", X, groups) for est in self.estimators_])

    @available_if(lambda self: self.voting == "soft")
    def predict_proba(self, X, groups=None):
        """Weighted average of the members' probabilities (``voting="soft"`` only).

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        groups = _check_groups(groups, _num_samples(X), f"{type(self).__name__}.predict_proba")
        return np.average(self._collect_probas(X, groups), axis=0,
                          weights=self._member_weights())

    def predict(self, X, groups=None):
        """The voted labels.

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        groups = _check_groups(groups, _num_samples(X), f"{type(self).__name__}.predict")
        if self.voting == "soft":
            encoded = np.argmax(self.predict_proba(X, groups=groups), axis=1)
        else:
            votes = np.asarray([_call(est, "predict", X, groups) for est in self.estimators_]).T
            encoded = np.apply_along_axis(
                lambda row: np.argmax(np.bincount(row, weights=self._member_weights(),
                                                  minlength=len(self.classes_))),
                axis=1, arr=votes.astype(int),
            )
        return self.le_.inverse_transform(encoded)

    def transform(self, X, groups=None):
        """The members' probabilities (soft) or labels (hard), as sklearn's VotingClassifier.

        Parameters
        ----------
        X : list of clips or array-like
            Samples.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample, for members that use them.

        Returns
        -------
        ndarray
        """
        check_is_fitted(self)
        groups = _check_groups(groups, _num_samples(X), f"{type(self).__name__}.transform")
        if self.voting == "soft":
            probas = self._collect_probas(X, groups)
            return np.hstack(probas) if self.flatten_transform else probas
        return np.asarray([_call(est, "predict", X, groups) for est in self.estimators_]).T


def make_fusion_pipeline(members=DEFAULT_FUSION_MEMBERS, *, method="stacking",
                         features=FUSION_FEATURES,
                         final_estimator=None, cv=None, weights=None, sr=16000, memory=None,
                         n_jobs=None, random_state=None):
    """Fuse recognisers that start from clips: by their decisions, or by their features.

    Parameters
    ----------
    members : sequence of str or (str, estimator), default=("svm-sn", "lr-sn")
        The recognisers: benchmark model names (see :func:`make_named_pipeline`: classic,
        ``-sn`` and deep ones mix freely) or ``(name, estimator)`` pairs.
    method : {"stacking", "voting", "features"}, default="stacking"
        * ``"stacking"``: :class:`SpeakerStackingClassifier`; a final estimator learns from
          the members' out-of-fold output, split by speaker.
        * ``"voting"``: :class:`SpeakerVotingClassifier`, soft voting. A member without
          ``predict_proba`` (an SVC) gets sigmoid-calibrated probabilities, fitted on
          internal folds of its training data (:func:`with_probabilities`).
        * ``"features"``: feature fusion: one classic pipeline over the union of the
          extractors named in ``features``; ``members`` names its single classifier
          (e.g. ``["svm-sn"]``) and, optionally, networks whose embeddings join those
          features (``["svm-sn", "crnn"]``; see Notes).
    features : sequence of str, default=("mfcc", "lpcc", "spectral", "prosody", "logmel")
        Extractors of the classic members named in ``members`` (their functionals are
        concatenated), and the extractors fused with ``method="features"``.
    final_estimator : estimator or None, default=None
        Stacking's final estimator; None means a ``LogisticRegression(C=1.0)`` on the
        members' outputs.
    cv : int, cross-validation generator or None, default=None
        Stacking's inner split (None: 5 speaker-grouped stratified folds).
    weights : sequence of float or None, default=None
        Voting weights.
    sr : int, default=16000
        Sample rate of the clips.
    memory : str, joblib.Memory or None, default=None
        Feature cache handed to every extractor. Members with the same extractors then share
        the features, and stacking's inner folds reuse them: a cache saves most of the
        fusion's extraction time.
    n_jobs : int or None, default=None
        Members and inner folds fitted in parallel (joblib).
    random_state : int or None, default=None
        Seed of the members.

    Returns
    -------
    estimator
        Unfitted; ``fit(X, y, groups=speakers)`` and ``predict(X, groups=speakers)``.

    Notes
    -----
    The default members share one feature set (MFCC, LPCC, spectral, prosodic and log-mel
    functionals, with per-speaker standardisation) and differ in the classifier: an RBF SVM
    and a logistic regression, stacked under a logistic regression. They were chosen on EmoDB
    leave-one-speaker-out, and a later screen on EmoDB and RAVDESS kept them (a kNN, a
    linear SVM or an SVM per feature set as further members did not help on the mean of the
    two, and the SVM's one-against-one decision values, better in the screen, were not
    better end to end on EmoDB); the stack trails the SVM alone on RAVDESS
    (``benchmarks/results/choose_defaults.md``, decisions 15 to 17). Deep members
    (``"cnn"``, ...) get the speakers for their early stopping split. A soft vote of ``DEEP_FUSION_MEMBERS`` (the
    two with the speaker-normalised CRNN, equal weights; benchmark model ``"fusion-deep"``)
    beat both the stack and the network alone on the same protocol. Figures:
    benchmarks/README.md, "Fusion on EmoDB".

    Deep members of a feature fusion (network names such as ``"crnn"`` or ``"crnn-sn"``, or
    ``(name, pipeline)`` pairs of a deep pipeline without samplers) sit beside the classic
    extractors in a ``FeatureUnion`` (step ``"features"``, the extractors under
    ``"classic"``): in the fusion's ``fit`` each network is trained on the training clips
    (with the fusion's training copies), then its ``transform`` (the pooled penultimate
    layer) gives every clip's embedding, and the classifier learns from the classic features
    and the embeddings side by side. Test clips only pass through the trained network. The
    embeddings of a network's own training clips separate the classes better than those of
    unseen clips, so the classifier may lean on them more than they deserve; stacking, whose
    final estimator learns from out-of-fold predictions, has no such bias.

    Examples
    --------
    >>> from sklearn_ser.pipelines import make_fusion_pipeline
    >>> fusion = make_fusion_pipeline(["svm-sn", "nb-sn"])
    >>> [name for name, _ in fusion.estimators]
    ['svm-sn', 'nb-sn']
    """
    if method not in ("stacking", "voting", "features"):
        raise ValueError(f"method must be 'stacking', 'voting' or 'features'; got {method!r}.")
    if isinstance(members, str):
        members = [members]
    if method == "features":
        return _feature_fusion(members, features, sr=sr, memory=memory, n_jobs=n_jobs,
                               random_state=random_state)
    if not members:
        raise ValueError("make_fusion_pipeline needs at least one member.")
    named = [_member(m, features=features, sr=sr, memory=memory, random_state=random_state)
             for m in members]
    if method == "voting":
        named = [(name, with_probabilities(est)) for name, est in named]
        return SpeakerVotingClassifier(named, voting="soft", weights=weights, n_jobs=n_jobs)
    from sklearn.linear_model import LogisticRegression

    final = LogisticRegression(C=1.0, max_iter=2000) if final_estimator is None \
        else final_estimator
    return SpeakerStackingClassifier(named, final, cv=cv, n_jobs=n_jobs)


def with_probabilities(estimator):
    """``estimator`` with ``predict_proba``: a final classifier that lacks it (an SVC) is
    wrapped in ``CalibratedClassifierCV(ensemble=False)``, sigmoid calibration on internal
    folds of the training data (what ``SVC(probability=True)``, deprecated in scikit-learn
    1.9, did). Estimators that have it are returned unchanged.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A classifier, or a pipeline ending in one.

    Returns
    -------
    estimator
        ``estimator`` itself when it has ``predict_proba``; else a calibrated copy (a
        pipeline is cloned with its final step wrapped, so the argument is left untouched).
    """
    from sklearn.calibration import CalibratedClassifierCV

    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if hasattr(final, "predict_proba"):
        return estimator
    calibrated = CalibratedClassifierCV(final, ensemble=False)
    if final is estimator:
        return calibrated
    return clone(estimator).set_params(**{estimator.steps[-1][0]: calibrated})


def _member(member, *, features, sr, memory, random_state):
    if isinstance(member, str):
        estimator = make_named_pipeline(member, features=features, sr=sr, memory=memory,
                                        random_state=random_state)
        name = member
    else:
        name, estimator = member
    return name, request_speakers(estimator)


def _feature_fusion(members, features, *, sr, memory, n_jobs, random_state):
    """One classic classifier over the classic features and the networks' embeddings."""
    from sklearn.pipeline import FeatureUnion

    from ._classic import CLASSIFIERS, make_classic_pipeline
    from ._registry import parse_model_name

    classic = [m for m in members
               if isinstance(m, str) and parse_model_name(m)[0] in CLASSIFIERS]
    if len(classic) != 1:
        raise ValueError(
            "method='features' fuses features under one classifier: give one classic model "
            "name such as ['svm-sn'], and optionally networks whose embeddings join its "
            f"features (['svm-sn', 'crnn']); got {members!r}."
        )
    deep = [_embedding_member(m, sr=sr, memory=memory, random_state=random_state)
            for m in members if m is not classic[0]]
    names = [name for name, _ in deep]
    if len(set(names)) != len(names) or "classic" in names:
        raise ValueError(f"method='features' needs distinct member names other than "
                         f"'classic'; got {names!r}.")
    kind, speaker_norm = parse_model_name(classic[0])
    pipe = make_classic_pipeline(kind, features=features, speaker_norm=speaker_norm, sr=sr,
                                 memory=memory, n_jobs=n_jobs, random_state=random_state)
    if not deep:
        return pipe
    # The features step is the first one after the samplers of the training copies; the
    # networks sit beside it, so they train on the fusion's training clips and copies only.
    index = next(i for i, (_, step) in enumerate(pipe.steps) if not hasattr(step, "fit_resample"))
    pipe.steps[index] = ("features", FeatureUnion([("classic", pipe.steps[index][1]), *deep]))
    return pipe


def _embedding_member(member, *, sr, memory, random_state):
    """``(name, pipeline)`` of a network whose ``transform`` gives a feature fusion its
    embeddings: a network model name (``"crnn"``, ``"crnn-sn"``) or a ``(name, pipeline)``
    pair ending in a network."""
    from ._deep import NETWORKS, make_deep_pipeline
    from ._registry import parse_model_name

    if isinstance(member, str):
        kind, speaker_norm = parse_model_name(member)
        if kind not in NETWORKS:
            raise ValueError(
                f"method='features' takes one classic model and networks "
                f"({', '.join(sorted(NETWORKS))}, with or without '-sn'); got {member!r}."
            )
        # No speed or noisy copies of its own: a sampler inside the union would change the
        # number of rows; the fusion's own copies, made before the union, reach the network.
        estimator = make_deep_pipeline(kind, speaker_norm=speaker_norm, sr=sr, memory=memory,
                                       speed_perturbation=None, noise_augmentation=None,
                                       random_state=random_state)
        return member, request_speakers(estimator)
    name, estimator = member
    steps = [step for _, step in getattr(estimator, "steps", [(name, estimator)])]
    if not hasattr(estimator, "transform") or any(hasattr(s, "fit_resample") for s in steps):
        raise ValueError(
            f"method='features': member {name!r} must be a pipeline that starts from clips "
            "and ends in a network (its transform gives the embeddings), without samplers "
            "(they would change the number of rows); build it with "
            "make_deep_pipeline(..., speed_perturbation=None, noise_augmentation=None)."
        )
    return name, request_speakers(estimator)
