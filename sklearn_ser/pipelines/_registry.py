"""The model-name registry: the benchmark's model names and the recognisers they stand for.

A name is a classic kind (``"svm"``, keys of ``CLASSIFIERS``), a regressor of continuous
targets (``"svr"``, ``"ridge"``, keys of ``REGRESSORS``, or a network's with ``-reg``:
``"crnn-reg"``), a network (``"cnn"``, keys of ``NETWORKS``), any of them with the ``-sn``
suffix for per-speaker standardisation, ``"fusion"``, ``"fusion-deep"`` or names joined by
``+`` (a soft vote). The command line, the benchmark and the fusion's members all read names
here, so the suffixes are parsed in one place.
"""

from ._classic import CLASSIFIERS, make_classic_pipeline
from ._deep import NETWORKS, make_deep_pipeline
from ._regression import (
    _NETWORK_REGRESSORS,
    CATEGORY_WEIGHT,
    REGRESSORS,
    make_regression_pipeline,
)

__all__ = ["DEEP_FUSION_MEMBERS", "DEFAULT_FUSION_MEMBERS", "FUSION_FEATURES",
           "OPENSMILE_MODELS", "make_named_pipeline", "make_opensmile_pipeline",
           "parse_model_name"]

#: Members of the default fusion (benchmark model names) and the features of its classic
#: members, chosen on EmoDB leave-one-speaker-out and kept on EmoDB and RAVDESS (see
#: make_fusion_pipeline's notes).
DEFAULT_FUSION_MEMBERS = ("svm-sn", "lr-sn")
FUSION_FEATURES = ("mfcc", "lpcc", "spectral", "prosody", "logmel")
#: Members of the classic + deep fusion (benchmark model ``fusion-deep``), a soft vote.
DEEP_FUSION_MEMBERS = ("svm-sn", "lr-sn", "crnn-sn")

#: openSMILE reference models (the ``[opensmile]`` extra): the set's functionals, standard
#: scaling and a classifier, by benchmark name (``"egemaps-svm"``; ``-sn`` also applies).
OPENSMILE_MODELS = {
    f"{prefix}-{kind}": (feature_set, kind)
    for prefix, feature_set in (("egemaps", "eGeMAPSv02"), ("compare", "ComParE_2016"))
    for kind in ("svm", "lr")
}

_SPEAKER_NORM_SUFFIX = "-sn"
# A network kind with this suffix is its regressor: "crnn" names the classifier already.
_REGRESSION_SUFFIX = "-reg"
#: Model names of the network regressors (``"crnn-reg"``) and their kinds.
_NETWORK_REGRESSOR_NAMES = {k + _REGRESSION_SUFFIX: k for k in _NETWORK_REGRESSORS}
#: Model names of the regressors that also learn from the emotion categories
#: (``"svr-cat"``: ``category_weight=CATEGORY_WEIGHT``) and their kinds.
_CATEGORY_REGRESSOR_NAMES = {k + "-cat": k for k in REGRESSORS}


def parse_model_name(name):
    """Split a single model name into its kind and whether it standardises per speaker.

    Parameters
    ----------
    name : str
        A model name such as ``"svm"``, ``"svm-sn"`` or ``"crnn-sn"``.

    Returns
    -------
    kind : str
        ``name`` without the ``-sn`` suffix.
    speaker_norm : bool
        Whether ``name`` carries the suffix.

    Examples
    --------
    >>> from sklearn_ser.pipelines import parse_model_name
    >>> parse_model_name("crnn-sn"), parse_model_name("svm")
    (('crnn', True), ('svm', False))
    """
    if name.endswith(_SPEAKER_NORM_SUFFIX):
        return name[:-len(_SPEAKER_NORM_SUFFIX)], True
    return name, False


def _known_names():
    classic, networks = sorted(CLASSIFIERS), sorted(NETWORKS)
    smile = sorted(OPENSMILE_MODELS)
    regressors = (sorted(REGRESSORS) + sorted(_CATEGORY_REGRESSOR_NAMES)
                  + sorted(_NETWORK_REGRESSOR_NAMES))
    return (classic + [k + _SPEAKER_NORM_SUFFIX for k in classic]
            + regressors + [k + _SPEAKER_NORM_SUFFIX for k in regressors] + networks
            + [k + _SPEAKER_NORM_SUFFIX for k in networks] + ["fusion", "fusion-deep"]
            + smile + [k + _SPEAKER_NORM_SUFFIX for k in smile])


def make_opensmile_pipeline(name, *, speaker_norm=False, sr=16000, memory=None, n_jobs=None,
                            random_state=None):
    """The openSMILE reference recogniser of a benchmark name such as ``"egemaps-svm"``.

    ``OpenSmileExtractor`` functionals -> ``FeatureRangeGuard`` -> [``SpeakerNormalizer``]
    -> ``StandardScaler`` -> an RBF SVC with scikit-learn's defaults (``C=1``) or the
    logistic regression of ``CLASSIFIERS``, with no training copies and no reduction: the
    plain protocol of the published baselines, so that their figures can be compared with
    this package's models.
    """
    from sklearn.preprocessing import StandardScaler

    from ..features import FeatureRangeGuard, OpenSmileExtractor, SpeakerNormalizer
    from ._classic import _STEP_NAMES
    from ._resampling import ResamplingPipeline

    feature_set, kind = OPENSMILE_MODELS[name]
    steps = [(name.split("-")[0], OpenSmileExtractor(feature_set=feature_set, sr=sr,
                                                     memory=memory, n_jobs=n_jobs)),
             ("guard", FeatureRangeGuard())]
    if speaker_norm:
        steps.append(("speakernormalizer", SpeakerNormalizer()))
    classifier = CLASSIFIERS[kind](random_state, None)
    if kind == "svm":
        # scikit-learn's default C, as the published baselines have it; the package's own C
        # was chosen for its own features (benchmarks/README.md, "openSMILE reference sets").
        classifier.set_params(C=1.0)
    steps += [("scaler", StandardScaler()), (_STEP_NAMES[kind], classifier)]
    # A ResamplingPipeline, as the classic ones: its fit checks the labels before any
    # features are extracted.
    return ResamplingPipeline(steps)


def make_named_pipeline(name, *, features=None, sr=16000, memory=None, n_jobs=None,
                        random_state=None):
    """The recogniser a benchmark model name stands for.

    Parameters
    ----------
    name : str
        A classic kind (``"svm"``, ``"lr"``, ...), the same with per-speaker standardisation
        (``"svm-sn"``, ...), a network (``"cnn"``, ``"lstm"``, ``"crnn"``), the same with
        per-speaker standardisation of the frames (``"cnn-sn"``, ...), ``"fusion"``
        (:func:`make_fusion_pipeline` with its defaults), ``"fusion-deep"`` (a soft vote of
        ``DEEP_FUSION_MEMBERS``: ``svm-sn``, ``lr-sn`` and ``crnn-sn``) or names joined by
        ``+`` (a soft vote of those models, e.g. ``"cnn+crnn"``). The openSMILE reference
        models ``egemaps-svm``, ``egemaps-lr``, ``compare-svm``, ``compare-lr`` (and each
        with ``-sn``) need the ``[opensmile]`` extra (:func:`make_opensmile_pipeline`).
        ``"svr"``, ``"ridge"`` and the network regressors ``"cnn-reg"``, ``"lstm-reg"``,
        ``"crnn-reg"`` (each also with ``-sn``) are regressors of continuous targets
        (:func:`make_regression_pipeline`); ``"svr-cat"`` and ``"ridge-cat"`` (also with
        ``-sn``) learn from the emotion categories too (``category_weight=CATEGORY_WEIGHT``),
        so their ``fit`` needs ``categories=labels``.
    features : sequence of str or None, default=None
        Extractors of a classic model (None: ``DEFAULT_FEATURES``); ignored by networks
        (their regressors included) and the openSMILE models.
    sr : int, default=16000
        Sample rate of the clips.
    memory : str, joblib.Memory or None, default=None
        Feature cache of the extractors.
    n_jobs : int or None, default=None
        Parallel feature extraction (and, for ``"fusion"``, parallel members).
    random_state : int or None, default=None
        Seed.

    Returns
    -------
    estimator
        An unfitted pipeline (or fusion of pipelines) that starts from clips.

    Examples
    --------
    >>> from sklearn_ser.pipelines import make_named_pipeline
    >>> [step for step, _ in make_named_pipeline("nb-sn").steps]
    ['noise', 'speed', 'features', 'guard', 'speakernormalizer', 'scaler', 'gaussiannb']
    """
    # Imported here: the fusion module reads this registry for its members.
    from ._fusion import make_fusion_pipeline

    if name == "fusion":
        return make_fusion_pipeline(sr=sr, memory=memory, n_jobs=n_jobs,
                                    random_state=random_state)
    if name == "fusion-deep" or "+" in name:
        members = DEEP_FUSION_MEMBERS if name == "fusion-deep" else name.split("+")
        return make_fusion_pipeline(members, method="voting", sr=sr, memory=memory,
                                    n_jobs=n_jobs, random_state=random_state)
    kind, speaker_norm = parse_model_name(name)
    if kind in OPENSMILE_MODELS:
        return make_opensmile_pipeline(kind, speaker_norm=speaker_norm, sr=sr, memory=memory,
                                       n_jobs=n_jobs, random_state=random_state)
    if kind in NETWORKS:
        return make_deep_pipeline(kind, speaker_norm=speaker_norm, sr=sr, memory=memory,
                                  random_state=random_state)
    if kind in _NETWORK_REGRESSOR_NAMES:
        return make_regression_pipeline(_NETWORK_REGRESSOR_NAMES[kind],
                                        speaker_norm=speaker_norm, sr=sr, memory=memory,
                                        random_state=random_state)
    extra = {} if features is None else {"features": features}
    if kind in _CATEGORY_REGRESSOR_NAMES:
        extra["category_weight"] = CATEGORY_WEIGHT
        kind = _CATEGORY_REGRESSOR_NAMES[kind]
    if kind in REGRESSORS:
        return make_regression_pipeline(kind, speaker_norm=speaker_norm, sr=sr, memory=memory,
                                        n_jobs=n_jobs, **extra)
    if kind in CLASSIFIERS:
        return make_classic_pipeline(kind, speaker_norm=speaker_norm, sr=sr, memory=memory,
                                     n_jobs=n_jobs, random_state=random_state, **extra)
    raise ValueError(f"Unknown model {name!r}; choose from {', '.join(_known_names())}.")
