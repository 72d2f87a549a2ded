"""Metrics for speech emotion recognition: UAR, its scorer and interval, reports, plots."""

from ._plot import plot_confusion_matrix
from ._report import emotion_report
from ._scores import (
    get_scorer,
    scores_by_speaker,
    uar_confidence_interval,
    uar_scorer,
    unweighted_average_recall,
)

__all__ = [
    "emotion_report",
    "get_scorer",
    "plot_confusion_matrix",
    "scores_by_speaker",
    "uar_confidence_interval",
    "uar_scorer",
    "unweighted_average_recall",
]
