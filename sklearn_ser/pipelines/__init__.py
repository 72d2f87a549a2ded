"""Ready-made pipelines that start from clips."""

from ._classic import (
    CLASSIFIERS,
    DEFAULT_FEATURES,
    EXTRACTORS,
    make_classic_pipeline,
    make_features,
)

__all__ = ["CLASSIFIERS", "DEFAULT_FEATURES", "EXTRACTORS", "make_classic_pipeline", "make_features"]
