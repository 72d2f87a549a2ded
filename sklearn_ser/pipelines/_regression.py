"""Ready-made regressors of continuous emotion (arousal, valence, intensity) from clips.

The classic pipeline's chain with a regressor at the end: pooled features -> guard ->
[speaker normaliser] -> scaler -> [PCA] -> SVR or ridge regression. The target is
standardised inside the final step (``TransformedTargetRegressor``), so that the SVR's
epsilon-tube and the ridge penalty mean the same on a 1-7 rating scale as on [-1, 1].
"""

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from ..features import FeatureRangeGuard, SpeakerNormalizer
from ._classic import DEFAULT_FEATURES, make_features
from ._resampling import ResamplingPipeline

__all__ = ["REGRESSORS", "make_regression_pipeline"]


def _svr():
    # The classifier's C; the tube is a tenth of the (standardised) target's spread.
    return SVR(C=3.0, epsilon=0.1, gamma="scale")


def _ridge():
    # The penalty is chosen per fit by efficient leave-one-out over a wide grid: thousands
    # of correlated functionals need a strong one, whose size depends on the corpus.
    return RidgeCV(alphas=np.logspace(-1, 5, 13))


#: Regressor factories by kind, for :func:`make_regression_pipeline` and the model names
#: ``svr`` and ``ridge`` (each also with ``-sn``).
REGRESSORS = {"svr": _svr, "ridge": _ridge}


def make_regression_pipeline(
    kind="svr",
    *,
    features=DEFAULT_FEATURES,
    speaker_norm=False,
    reduce=None,
    n_components=None,
    guard=True,
    sr=16000,
    memory=None,
    n_jobs=None,
):
    """A regressor of a continuous emotion target (arousal, valence, intensity) from clips.

    The pipeline is ``extractor(s) -> [FeatureRangeGuard] -> [SpeakerNormalizer] ->
    StandardScaler -> [PCA] -> regressor``, the classic pipeline's chain
    (:func:`make_classic_pipeline`) ending in a regressor whose target is standardised
    inside it (``TransformedTargetRegressor``, step ``"svr"`` or ``"ridge"``: grid-search
    ``svr__regressor__C``). Score it with :func:`~sklearn_ser.model_selection.evaluate`,
    which reports CCC, Pearson's r and MAE for a regressor, or tune it with
    ``GridSearchCV(..., scoring=get_scorer("ccc"))``.

    Parameters
    ----------
    kind : {"svr", "ridge"}, default="svr"
        An RBF support vector regressor (``C=3``, ``epsilon=0.1`` of the standardised
        target), or ridge regression whose penalty is picked per fit by efficient
        leave-one-out (``RidgeCV``).
    features : str or sequence of str, default=DEFAULT_FEATURES
        Pooled feature extractors, fused by concatenation (see ``EXTRACTORS``).
    speaker_norm : bool, default=False
        Standardise features per speaker with :class:`SpeakerNormalizer` (speakers through
        metadata routing, as in :func:`make_classic_pipeline`).
    reduce : {None, "pca"}, default=None
        Optional PCA after scaling (the classic pipeline's LDA needs classes).
    n_components : int, float or None, default=None
        Passed to PCA.
    guard : bool, default=True
        Put a :class:`~sklearn_ser.features.FeatureRangeGuard` on the raw features.
    sr : int, default=16000
        Sample rate of the clips.
    memory : str, joblib.Memory or None, default=None
        Feature cache handed to every extractor.
    n_jobs : int or None, default=None
        Feature extraction in parallel.

    Returns
    -------
    ResamplingPipeline
        An unfitted pipeline whose ``fit`` takes clips and float targets.

    Notes
    -----
    No training copies: the noise and speed samplers of the classic pipelines accept
    class labels only, so the robustness defaults of :func:`make_classic_pipeline` are not
    applied here. The networks' regression heads are not available yet.

    Examples
    --------
    >>> from sklearn_ser.pipelines import make_regression_pipeline
    >>> pipe = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True)
    >>> [name for name, _ in pipe.steps]
    ['mfcc', 'guard', 'speakernormalizer', 'scaler', 'ridge']
    """
    if kind not in REGRESSORS:
        raise ValueError(f"Unknown regression model {kind!r}; choose from {sorted(REGRESSORS)}.")
    if reduce not in (None, "pca"):
        raise ValueError(f"reduce must be None or 'pca' for a regressor; got {reduce!r}.")
    steps = [make_features(features, sr=sr, memory=memory, n_jobs=n_jobs)]
    if guard:
        steps.append(("guard", FeatureRangeGuard()))
    if speaker_norm:
        steps.append(("speakernormalizer", SpeakerNormalizer()))
    steps.append(("scaler", StandardScaler()))
    if reduce == "pca":
        steps.append(("pca", PCA(n_components=n_components)))
    regressor = TransformedTargetRegressor(regressor=REGRESSORS[kind](),
                                           transformer=StandardScaler())
    steps.append((kind, regressor))
    # A ResamplingPipeline, as the classic ones, so that model files and the trust list
    # treat both alike.
    return ResamplingPipeline(steps)
