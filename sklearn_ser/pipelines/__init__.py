"""Ready-made pipelines that start from clips."""

from ._classic import (
    CLASSIFIERS,
    DEFAULT_FEATURES,
    EXTRACTORS,
    make_classic_pipeline,
    make_features,
)
from ._category import CategoryStackingRegressor
from ._concordant import ConcordantRegressor
from ._deep import NETWORKS, make_deep_pipeline
from ._regression import REGRESSORS, make_regression_pipeline
from ._resampling import ResamplingPipeline
from ._fusion import (
    SpeakerStackingClassifier,
    SpeakerVotingClassifier,
    make_fusion_pipeline,
    with_probabilities,
)
from ._personal import adapt_to_speaker, enroll_speaker, load_profiles, save_profiles
from ._registry import (
    DEEP_FUSION_MEMBERS,
    DEFAULT_FUSION_MEMBERS,
    FUSION_FEATURES,
    OPENSMILE_MODELS,
    make_named_pipeline,
    make_opensmile_pipeline,
    parse_model_name,
)

__all__ = [
    "CLASSIFIERS",
    "CategoryStackingRegressor",
    "ConcordantRegressor",
    "DEEP_FUSION_MEMBERS",
    "DEFAULT_FEATURES",
    "DEFAULT_FUSION_MEMBERS",
    "EXTRACTORS",
    "FUSION_FEATURES",
    "NETWORKS",
    "OPENSMILE_MODELS",
    "REGRESSORS",
    "ResamplingPipeline",
    "SpeakerStackingClassifier",
    "SpeakerVotingClassifier",
    "adapt_to_speaker",
    "enroll_speaker",
    "load_profiles",
    "make_classic_pipeline",
    "make_deep_pipeline",
    "make_features",
    "make_fusion_pipeline",
    "make_named_pipeline",
    "make_opensmile_pipeline",
    "make_regression_pipeline",
    "parse_model_name",
    "save_profiles",
    "with_probabilities",
]
