"""PyTorch recognisers over frame sequences, wrapped as scikit-learn classifiers via skorch.

This is the only part of sklearn_ser that imports torch.
"""

from ._classifiers import (
    CNNClassifier,
    CRNNClassifier,
    LSTMClassifier,
    NeuralWarning,
    check_frame_sequences,
)

__all__ = [
    "CNNClassifier",
    "CRNNClassifier",
    "LSTMClassifier",
    "NeuralWarning",
    "check_frame_sequences",
]
