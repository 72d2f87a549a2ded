"""Ready-made regressors of continuous emotion (arousal, valence, intensity) from clips.

The classic pipeline's chain with a regressor at the end: pooled features -> guard ->
[speaker normaliser] -> scaler -> [PCA] -> SVR or ridge regression. The target is
standardised inside the final step (``TransformedTargetRegressor``), so that the SVR's
epsilon-tube and the ridge penalty mean the same on a 1-7 rating scale as on [-1, 1].

Or the deep pipeline's chain (``_deep.py``) with a network regressor at the end: frame
sequences -> guard -> frame-wise scaler or speaker normaliser -> CNN, LSTM or CRNN
regressor, which standardises its target itself.
"""

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from ._classic import DEFAULT_FEATURES, scaled_feature_steps
from ._deep import _LEARNING_RATE, frame_steps, make_network
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

#: Network regressor (in sklearn_ser.neural) and step name of each network kind of
#: :func:`make_regression_pipeline`, for the model names ``cnn-reg``, ``lstm-reg`` and
#: ``crnn-reg`` (each also with ``-sn``).
_NETWORK_REGRESSORS = {
    "cnn": ("CNNRegressor", "cnnregressor"),
    "lstm": ("LSTMRegressor", "lstmregressor"),
    "crnn": ("CRNNRegressor", "crnnregressor"),
}

# The deep classifiers' learning rate, schedule and network settings (_deep.py), chosen for
# emotion categories; they have not been tuned for continuous targets. No class weights:
# there are no classes.
_NETWORK_TRAINING_SETTINGS = dict(lr=_LEARNING_RATE)


def make_regression_pipeline(
    kind="svr",
    *,
    features=None,
    speaker_norm=False,
    reduce=None,
    n_components=None,
    guard=True,
    sr=16000,
    memory=None,
    n_jobs=None,
    random_state=None,
    **net_params,
):
    """A regressor of a continuous emotion target (arousal, valence, intensity) from clips.

    For ``"svr"`` and ``"ridge"`` the pipeline is ``extractor(s) -> [FeatureRangeGuard] ->
    [SpeakerNormalizer] -> StandardScaler -> [PCA] -> regressor``, the classic pipeline's
    chain (:func:`make_classic_pipeline`) ending in a regressor whose target is
    standardised inside it (``TransformedTargetRegressor``, step ``"svr"`` or ``"ridge"``:
    grid-search ``svr__regressor__C``).

    For the networks ``"cnn"``, ``"lstm"`` and ``"crnn"`` it is the deep pipeline's chain
    (:func:`make_deep_pipeline`: ``extractor(pooling=None) -> [FeatureRangeGuard] ->
    FrameWise(StandardScaler())``, or ``FrameWise(SpeakerNormalizer())`` with
    ``speaker_norm=True``) ending in :class:`~sklearn_ser.neural.CNNRegressor`,
    :class:`~sklearn_ser.neural.LSTMRegressor` or
    :class:`~sklearn_ser.neural.CRNNRegressor` (step ``"cnnregressor"``, ...), with the
    deep classifiers' frames, network settings and training schedule (60 epochs, cosine
    learning-rate schedule, no early stopping). The network standardises the target itself
    and requests the speakers (``groups``) for an early-stopping split, as the deep
    classifiers do.

    Score it with :func:`~sklearn_ser.model_selection.evaluate`, which reports CCC,
    Pearson's r and MAE for a regressor, or tune it with
    ``GridSearchCV(..., scoring=get_scorer("ccc"))``.

    Parameters
    ----------
    kind : {"svr", "ridge", "cnn", "lstm", "crnn"}, default="svr"
        An RBF support vector regressor (``C=3``, ``epsilon=0.1`` of the standardised
        target), ridge regression whose penalty is picked per fit by efficient
        leave-one-out (``RidgeCV``), or a network regressor over frame sequences.
    features : str, sequence of str or None, default=None
        For ``"svr"`` and ``"ridge"``: pooled feature extractors, fused by concatenation
        (see ``EXTRACTORS``; None: ``DEFAULT_FEATURES``). For a network: ``"logmel"``
        (None) or ``"mfcc"`` frame sequences, as in :func:`make_deep_pipeline`.
    speaker_norm : bool, default=False
        Standardise features per speaker with :class:`SpeakerNormalizer` (speakers through
        metadata routing, as in :func:`make_classic_pipeline`); for a network, each frame
        coefficient per speaker (``FrameWise(SpeakerNormalizer())``, as in
        :func:`make_deep_pipeline`).
    reduce : {None, "pca"}, default=None
        Optional PCA after scaling (the classic pipeline's LDA needs classes); not for a
        network.
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
    random_state : int, RandomState instance or None, default=None
        Seed of a network (``"svr"`` and ``"ridge"`` draw nothing).
    **net_params
        Hyper-parameters of a network, overriding the pipeline's settings (for instance
        ``max_epochs=20``, ``device="cpu"``, ``channels=(8, 16)``); refused for ``"svr"``
        and ``"ridge"``.

    Returns
    -------
    ResamplingPipeline
        An unfitted pipeline whose ``fit`` takes clips and float targets.

    Notes
    -----
    No training copies: the noise and speed samplers of the classic and deep pipelines
    accept class labels only, so their robustness defaults are not applied here.

    Examples
    --------
    >>> from sklearn_ser.pipelines import make_regression_pipeline
    >>> pipe = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True)
    >>> [name for name, _ in pipe.steps]
    ['mfcc', 'guard', 'speakernormalizer', 'scaler', 'ridge']
    >>> pipe = make_regression_pipeline("crnn", speaker_norm=True, max_epochs=20)
    >>> [name for name, _ in pipe.steps]
    ['logmel', 'guard', 'framewise', 'crnnregressor']
    """
    if kind in _NETWORK_REGRESSORS:
        if reduce is not None:
            raise ValueError(f"reduce must be None for a network regressor ({kind!r}): it "
                             f"takes frame sequences; got {reduce!r}.")
        steps = frame_steps("logmel" if features is None else features, sr=sr,
                            speaker_norm=speaker_norm, guard=guard, memory=memory,
                            n_jobs=n_jobs)
        class_name, step = _NETWORK_REGRESSORS[kind]
        network = make_network(class_name, kind, _NETWORK_TRAINING_SETTINGS,
                               random_state=random_state, net_params=net_params)
        return ResamplingPipeline([*steps, (step, network)])
    if kind not in REGRESSORS:
        raise ValueError(f"Unknown regression model {kind!r}; choose from "
                         f"{sorted(REGRESSORS)} or a network {sorted(_NETWORK_REGRESSORS)}.")
    if net_params:
        raise TypeError(f"make_regression_pipeline({kind!r}) takes no network parameters; "
                        f"got {sorted(net_params)}.")
    if reduce not in (None, "pca"):
        raise ValueError(f"reduce must be None or 'pca' for a regressor; got {reduce!r}.")
    features = DEFAULT_FEATURES if features is None else features
    steps = scaled_feature_steps(features, sr=sr, memory=memory, n_jobs=n_jobs, guard=guard,
                                 speaker_norm=speaker_norm)
    if reduce == "pca":
        steps.append(("pca", PCA(n_components=n_components)))
    regressor = TransformedTargetRegressor(regressor=REGRESSORS[kind](),
                                           transformer=StandardScaler())
    steps.append((kind, regressor))
    # A ResamplingPipeline, as the classic ones, so that model files and the trust list
    # treat both alike.
    return ResamplingPipeline(steps)
