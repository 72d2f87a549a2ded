"""Ready-made pipelines that start from clips."""

from ._classic import CLASSIFIERS, EXTRACTORS, make_classic_pipeline, make_features

__all__ = ["CLASSIFIERS", "EXTRACTORS", "make_classic_pipeline", "make_features"]
