"""Clip-to-clip preprocessing: denoising, band-pass filtering, loudness, silence, duration.

Every transformer here takes clips and returns clips (the same kind of container), has an
``sr`` parameter, processes each clip on its own and never modifies the caller's arrays. They
are stateless (``requires_fit=False``) and sit before a feature extractor in a Pipeline.
Each wraps a keyword-only function that processes one clip.
"""

from ._denoise import Denoiser, denoise, istft, stft
from ._filters import BandpassFilter, bandpass
from ._loudness import (
    LoudnessNormalizer,
    integrated_loudness,
    k_weighting_sos,
    level_db,
    normalize_loudness,
)
from ._padding import FixedDuration, SilenceTrimmer, fix_duration, split_windows, trim_silence

__all__ = [
    "BandpassFilter",
    "Denoiser",
    "FixedDuration",
    "LoudnessNormalizer",
    "SilenceTrimmer",
    "bandpass",
    "denoise",
    "fix_duration",
    "integrated_loudness",
    "istft",
    "k_weighting_sos",
    "level_db",
    "normalize_loudness",
    "split_windows",
    "stft",
    "trim_silence",
]
