"""Ready-made pipelines that start from clips."""

from ._classic import (
    CLASSIFIERS,
    DEFAULT_FEATURES,
    EXTRACTORS,
    make_classic_pipeline,
    make_features,
)
from ._deep import NETWORKS, make_deep_pipeline

__all__ = [
    "CLASSIFIERS",
    "DEFAULT_FEATURES",
    "EXTRACTORS",
    "NETWORKS",
    "make_classic_pipeline",
    "make_deep_pipeline",
    "make_features",
]
