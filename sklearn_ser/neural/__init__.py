"""PyTorch recognisers (sequence and multi-task networks, wrapped via skorch), autoencoders.

This is the only part of sklearn_ser that imports torch.
"""

from ._autoencoder import AutoencoderReducer, VAEOversampler
from ._classifiers import (
    CNNClassifier,
    CRNNClassifier,
    LSTMClassifier,
    NeuralWarning,
    check_frame_sequences,
)
from ._multitask import MultiTaskClassifier

__all__ = [
    "AutoencoderReducer",
    "CNNClassifier",
    "CRNNClassifier",
    "LSTMClassifier",
    "MultiTaskClassifier",
    "NeuralWarning",
    "VAEOversampler",
    "check_frame_sequences",
]
