"""Audio input: read files into clips (mono float32 in [-1, 1] at a chosen rate)."""

from ._audio import AudioLoader, load_audio

__all__ = ["AudioLoader", "load_audio"]
