"""Feature extraction: batched framing kernel, cepstral extractors and pooling functionals."""

from ._activity import speech_blocks
from ._base import FUNCTIONAL_PRESETS
from ._framewise import FrameWise, check_sequences
from ._guard import FeatureRangeGuard
from ._lpcc import LPCCExtractor, levinson_durbin, lpc_to_cepstrum, lpcc
from ._mfcc import LogMelExtractor, MFCCExtractor, mfcc
from ._pooling import FUNCTIONALS, sequence_lengths
from ._prosody import ProsodyExtractor, pitch
from ._speaker import SpeakerNormalizer
from ._spectral import SpectralExtractor, spectral
from ._union import ExtractorUnion

__all__ = [
    "FUNCTIONALS",
    "FUNCTIONAL_PRESETS",
    "ExtractorUnion",
    "FeatureRangeGuard",
    "FrameWise",
    "LPCCExtractor",
    "LogMelExtractor",
    "MFCCExtractor",
    "ProsodyExtractor",
    "SpeakerNormalizer",
    "SpectralExtractor",
    "check_sequences",
    "levinson_durbin",
    "lpc_to_cepstrum",
    "lpcc",
    "mfcc",
    "pitch",
    "spectral",
    "speech_blocks",
    "sequence_lengths",
]
