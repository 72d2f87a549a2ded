"""PyTorch recognisers (sequence and multi-task networks, wrapped via skorch), regressors of
continuous targets over the same sequence networks, autoencoders.

This is the only part of sklearn_ser that imports torch.
"""

import torch as _torch

from ..utils import register_thread_pool
from ._autoencoder import AutoencoderReducer, VAEOversampler
from ._classifiers import (
    CNNClassifier,
    CRNNClassifier,
    LSTMClassifier,
    NeuralWarning,
    check_frame_sequences,
)
from ._multitask import MultiTaskClassifier
from ._pretrained import PretrainedSpeechExtractor
from ._regressors import CNNRegressor, CRNNRegressor, LSTMRegressor

# limit_threads (streaming, sklearn-ser predict) caps torch's intra-op pool while scoring.
register_thread_pool(_torch.get_num_threads, _torch.set_num_threads)

__all__ = [
    "AutoencoderReducer",
    "CNNClassifier",
    "CNNRegressor",
    "CRNNClassifier",
    "CRNNRegressor",
    "LSTMClassifier",
    "LSTMRegressor",
    "MultiTaskClassifier",
    "NeuralWarning",
    "PretrainedSpeechExtractor",
    "VAEOversampler",
    "check_frame_sequences",
]
