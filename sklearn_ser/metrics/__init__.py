"""Metrics for speech emotion recognition: UAR and CCC, their scorers and intervals, reports,
plots."""

from ._plot import plot_confusion_matrix
from ._regression import (
    ccc_scorer,
    concordance_correlation_coefficient,
    continuous_confidence_intervals,
    continuous_scores_by_speaker,
)
from ._report import emotion_report
from ._scores import (
    get_scorer,
    scores_by_speaker,
    uar_confidence_interval,
    uar_scorer,
    unweighted_average_recall,
)

__all__ = [
    "ccc_scorer",
    "concordance_correlation_coefficient",
    "continuous_confidence_intervals",
    "continuous_scores_by_speaker",
    "emotion_report",
    "get_scorer",
    "plot_confusion_matrix",
    "scores_by_speaker",
    "uar_confidence_interval",
    "uar_scorer",
    "unweighted_average_recall",
]
