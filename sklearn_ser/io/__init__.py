"""Audio input (files into mono float32 clips in [-1, 1] at a chosen rate) and model files.

Model files (``save_model`` / ``load_model``) hold no pickle: loading checks the file and builds
only trusted types, so a file from elsewhere runs no code of its own by default.
"""

from ._audio import AUDIO_EXTENSIONS, AudioLoader, load_audio, load_many, stream_audio
from ._model import load_model, read_manifest, save_model

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioLoader",
    "load_audio",
    "load_many",
    "load_model",
    "read_manifest",
    "save_model",
    "stream_audio",
]
