"""Audio input (files into mono float32 clips in [-1, 1] at a chosen rate) and model files."""

from ._audio import AudioLoader, load_audio
from ._model import load_model, read_manifest, save_model

__all__ = ["AudioLoader", "load_audio", "load_model", "read_manifest", "save_model"]
