"""Speaker-independent splitters, leakage checks and one-call evaluation."""

from ._evaluate import EvaluationReport, RegressionReport, evaluate
from ._split import (
    LeaveOneSpeakerOut,
    SpeakerStratifiedKFold,
    check_speaker_independence,
    make_cv,
)

__all__ = [
    "EvaluationReport",
    "LeaveOneSpeakerOut",
    "RegressionReport",
    "SpeakerStratifiedKFold",
    "check_speaker_independence",
    "evaluate",
    "make_cv",
]
