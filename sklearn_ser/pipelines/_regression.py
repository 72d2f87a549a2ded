"""Ready-made regressors of continuous emotion (arousal, valence, intensity) from clips.

The classic pipeline's chain with a regressor at the end: pooled features -> guard ->
[speaker normaliser] -> scaler -> [PCA] -> SVR or ridge regression. The final step
(``ConcordantRegressor``) standardises the target, so that the SVR's epsilon-tube and the
ridge penalty mean the same on a 1-7 rating scale as on [-1, 1], and rescales the
predictions to the targets' spread, which concordance (CCC) asks for.

Or the deep pipeline's chain (``_deep.py``) with a network regressor at the end: frame
sequences -> guard -> frame-wise scaler or speaker normaliser -> CNN, LSTM or CRNN
regressor, which standardises its target itself.
"""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import RidgeCV
from sklearn.svm import SVR

from ._category import CATEGORY_WEIGHT, CategoryStackingRegressor
from ._classic import DEFAULT_FEATURES, scaled_feature_steps
from ._concordant import ConcordantRegressor, SpeakerFolds
from ._deep import _LEARNING_RATE, frame_steps, make_network
from ._resampling import noise_copy_settings, speed_perturbed

__all__ = ["CATEGORY_WEIGHT", "REGRESSORS", "make_regression_pipeline"]


def _svr():
    # The classifier's C; the tube is a tenth of the (standardised) target's spread.
    return SVR(C=3.0, epsilon=0.1, gamma="scale")


def _ridge():
    # The penalty is chosen per fit over a wide grid, thousands of correlated functionals
    # needing a strong one whose size depends on the corpus, by folds of whole speakers
    # (ConcordantRegressor hands them the speakers): leave-one-clip-out keeps a speaker's
    # other clips in training and so picks a penalty too weak for new speakers.
    return RidgeCV(alphas=np.logspace(-1, 6, 8), cv=SpeakerFolds(5))


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
    rescale="auto",
    noise_augmentation="auto",
    category_weight=None,
    sr=16000,
    memory=None,
    n_jobs=None,
    random_state=None,
    **net_params,
):
    """A regressor of a continuous emotion target (arousal, valence, intensity) from clips.

    For ``"svr"`` and ``"ridge"`` the pipeline is ``extractor(s) -> [FeatureRangeGuard] ->
    [SpeakerNormalizer] -> StandardScaler -> [PCA] -> regressor``, the classic pipeline's
    chain (:func:`make_classic_pipeline`) ending in a :class:`ConcordantRegressor` (step
    ``"svr"`` or ``"ridge"``: grid-search ``svr__regressor__C``) that standardises the
    target for the regressor and rescales its predictions to the training targets' spread
    (see ``rescale``).

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
        target), ridge regression whose penalty is picked per fit from 0.1 to 1e6 by
        folds of whole training speakers (``RidgeCV(cv=SpeakerFolds(5))``, the speakers
        handed on by ``ConcordantRegressor``; by folds of clips, with a warning, when
        ``fit`` gets no speakers), or a network regressor over frame sequences.
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
    rescale : "auto" or bool, default="auto"
        Rescale the SVR's or ridge's predictions so that out-of-fold predictions of the
        training speakers have the training targets' mean and spread
        (:class:`ConcordantRegressor`: five more fits of the regressor, on features already
        extracted). A squared-error fit shrinks its predictions towards the mean, which CCC
        counts as error; rescaled, CCC reaches the predictions' correlation, while MAE
        grows. ``"auto"``: True for ``"svr"`` and ``"ridge"``, False for a network (each
        out-of-fold fit would train it again); True is refused for a network. Chosen on the
        synthetic corpus, EmoDB and RAVDESS, where it raised CCC on every target (see
        Notes).
    noise_augmentation : "auto", int or None, default="auto"
        Noisy copies of every training clip, each with its source's target, that a
        :class:`~sklearn_ser.augmentation.NoiseAugmenter` (step ``"noise"``) adds in ``fit``
        only, made as the classic pipelines make theirs (white, pink, brown or babble noise
        of other training speakers at 0-30 dB SNR; with speaker normalisation one condition
        per speaker and copy, standardised as speakers of their own; without it one per
        clip and copy, at a random level). ``"auto"``: the matching classifier pipelines'
        default, two copies for ``"svr"`` and ``"ridge"`` (as :func:`make_classic_pipeline`;
        chosen on the synthetic corpus, EmoDB and RAVDESS, see Notes) and none for a network
        (not measured for the regressors, unlike :func:`make_deep_pipeline`'s
        speaker-normalised classifiers; pass 2 to try). An int: that many
        copies, for any kind. None or 0: none.
    category_weight : float or None, default=None
        For ``"svr"`` and ``"ridge"``: learn from the clips' emotion categories as well.
        The final step becomes a :class:`CategoryStackingRegressor` around the
        ``ConcordantRegressor``: a classifier of the categories, whose out-of-fold
        probabilities (by speaker) join the features with this weight, and ``fit`` then
        needs ``categories=labels`` (metadata routing; ``evaluate(...,
        fit_params={"categories": labels})``). Prediction needs clips only. None: the
        features alone. The model names ``svr-cat`` and ``ridge-cat`` use
        ``CATEGORY_WEIGHT``; see Notes.
    sr : int, default=16000
        Sample rate of the clips.
    memory : str, joblib.Memory or None, default=None
        Feature cache handed to every extractor.
    n_jobs : int or None, default=None
        Feature extraction in parallel.
    random_state : int, RandomState instance or None, default=None
        Seed of a network and of the noisy copies.
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
    The rescaling: ``benchmarks/README.md``, "Continuous targets", has CCC with and
    without it on the synthetic corpus, EmoDB (derived arousal) and RAVDESS (intensity,
    derived arousal).

    The noisy copies (``noise_augmentation="auto"`` for ``"svr"`` and ``"ridge"``): with
    the SVR, speaker-normalised or not, they left the clean CCC about where it was on the
    synthetic corpus, EmoDB and RAVDESS, and raised it in white noise and babble on every
    target (``benchmarks/README.md``, "Noisy training copies for the regressors"), as for
    the classifiers; they triple the clips whose features ``fit`` extracts. A noisy copy keeps
    every cue of the speaker, so it keeps its source's target. No speed copies: a speed
    change moves pitch and tempo, cues of arousal and intensity, so a copy would not have
    its source's target (``SpeedPerturber`` refuses continuous targets).

    The categories (``category_weight``): with the -sn SVR, their probabilities raised CCC
    on every target of the synthetic corpus (two seeds) and on RAVDESS intensity, a target
    not derived from the category, as well as on the arousal and valence derived from it on
    EmoDB and RAVDESS; ``CATEGORY_WEIGHT`` had the best mean over those eleven cases
    (``benchmarks/README.md``, "Category probabilities beside the features"). Not the
    default of ``make_regression_pipeline``, whose ``fit`` would then need labels that a
    corpus of ratings alone does not have.

    Examples
    --------
    >>> from sklearn_ser.pipelines import make_regression_pipeline
    >>> pipe = make_regression_pipeline("ridge", features="mfcc", speaker_norm=True)
    >>> [name for name, _ in pipe.steps]
    ['noise', 'mfcc', 'guard', 'speakernormalizer', 'scaler', 'ridge']
    >>> pipe = make_regression_pipeline("crnn", speaker_norm=True, max_epochs=20)
    >>> [name for name, _ in pipe.steps]
    ['logmel', 'guard', 'framewise', 'crnnregressor']
    """
    if rescale not in ("auto", True, False):
        raise ValueError(f"rescale must be 'auto', True or False; got {rescale!r}.")
    if kind in _NETWORK_REGRESSORS:
        if category_weight is not None:
            raise ValueError(f"category_weight is for 'svr' and 'ridge', not a network "
                             f"regressor ({kind!r}); got {category_weight!r}.")
        if rescale is True:
            raise ValueError(f"rescale=True is for 'svr' and 'ridge': a network regressor "
                             f"({kind!r}) would be trained again for every out-of-fold "
                             "prediction. Use rescale='auto' or False.")
        if reduce is not None:
            raise ValueError(f"reduce must be None for a network regressor ({kind!r}): it "
                             f"takes frame sequences; got {reduce!r}.")
        steps = frame_steps("logmel" if features is None else features, sr=sr,
                            speaker_norm=speaker_norm, guard=guard, memory=memory,
                            n_jobs=n_jobs)
        class_name, step = _NETWORK_REGRESSORS[kind]
        network = make_network(class_name, kind, _NETWORK_TRAINING_SETTINGS,
                               random_state=random_state, net_params=net_params)
        # "auto": no copies for a network regressor. The deep classifiers' copies were
        # measured for classification only; a regressor's were not.
        copies = None if noise_augmentation == "auto" else noise_augmentation
        return _with_copies([*steps, (step, network)], copies, speaker_norm,
                            sr=sr, n_jobs=n_jobs, random_state=random_state)
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
    regressor = ConcordantRegressor(REGRESSORS[kind](), rescale=rescale in ("auto", True))
    if category_weight is not None:
        regressor = CategoryStackingRegressor(regressor, weight=category_weight)
    steps.append((kind, regressor))
    return _with_copies(steps, noise_augmentation, speaker_norm, sr=sr, n_jobs=n_jobs,
                        random_state=random_state)


def _with_copies(steps, noise_augmentation, speaker_norm, *, sr, n_jobs, random_state):
    """``steps`` in a ResamplingPipeline headed by the noisy copies, if any.

    A ResamplingPipeline even without copies, as the classic ones, so that model files and
    the trust list treat both alike.
    """
    return speed_perturbed(steps, None, sr=sr, n_jobs=n_jobs, random_state=random_state,
                           **noise_copy_settings(noise_augmentation, speaker_norm))
