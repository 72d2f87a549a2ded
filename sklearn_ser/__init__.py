"""sklearn_ser: a scikit-learn-compatible toolkit for speech emotion recognition.

The public names of every part are available here (``sklearn_ser.MFCCExtractor``) and in their
subpackages (``sklearn_ser.features.MFCCExtractor``). They are imported on first use, so that
``import sklearn_ser`` stays fast and pulls in librosa only when audio is touched.
"""

import importlib

__version__ = "0.1.0"

# Public name -> subpackage that defines it.
_PUBLIC = {
    "io": ("load_audio", "AudioLoader", "save_model", "load_model"),
    "datasets": (
        "load_emodb", "load_ravdess", "load_tess", "load_cremad", "load_folder",
        "fetch_emodb", "fetch_ravdess", "make_emotional_speech", "get_data_home",
        "load_msp_podcast", "load_iemocap", "emotion_dimensions",
    ),
    "features": (
        "MFCCExtractor", "LPCCExtractor", "LogMelExtractor", "SpectralExtractor",
        "ProsodyExtractor", "ExtractorUnion", "FrameWise", "SpeakerNormalizer",
        "FeatureRangeGuard", "OpenSmileExtractor", "mfcc", "lpcc",
    ),
    "model_selection": (
        "LeaveOneSpeakerOut", "SpeakerStratifiedKFold", "evaluate", "EvaluationReport",
        "RegressionReport",
        "check_speaker_independence", "make_cv",
    ),
    "metrics": (
        "unweighted_average_recall", "uar_scorer", "get_scorer", "emotion_report",
        "uar_confidence_interval", "plot_confusion_matrix",
        "concordance_correlation_coefficient", "ccc_scorer",
    ),
    "pipelines": (
        "make_classic_pipeline", "make_deep_pipeline", "make_fusion_pipeline",
        "make_regression_pipeline",
        "ResamplingPipeline", "SpeakerStackingClassifier", "SpeakerVotingClassifier",
        "ConcordantRegressor", "CategoryStackingRegressor",
        "enroll_speaker", "adapt_to_speaker", "save_profiles", "load_profiles",
    ),
    "neural": (
        "CNNClassifier", "LSTMClassifier", "CRNNClassifier", "MultiTaskClassifier",
        "CNNRegressor", "LSTMRegressor", "CRNNRegressor",
        "AutoencoderReducer", "VAEOversampler", "PretrainedSpeechExtractor",
    ),
    "preprocessing": (
        "Denoiser", "BandpassFilter", "LoudnessNormalizer", "SilenceTrimmer", "FixedDuration",
        "split_windows",
    ),
    "augmentation": ("Augmenter", "NoiseAugmenter", "SpeedPerturber"),
    "streaming": ("StreamingRecognizer",),
}
_WHERE = {name: module for module, names in _PUBLIC.items() for name in names}
_SUBPACKAGES = (
    "io", "datasets", "features", "model_selection", "metrics", "pipelines", "cli", "utils",
    "exceptions", "preprocessing", "augmentation", "neural", "streaming",
)

__all__ = sorted(_WHERE) + list(_SUBPACKAGES) + ["__version__"]


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'sklearn_ser' has no attribute {name!r}")


def __dir__():
    return __all__
