"""Feature extraction: batched framing kernel, cepstral extractors and pooling functionals."""

from ._activity import speech_blocks
from ._base import FUNCTIONAL_PRESETS
from ._framewise import FrameWise, check_sequences
from ._framing import analysis_window, frame_clips
from ._guard import FeatureRangeGuard, catch_out_of_range, find_guards, flagged_mask
from ._lpcc import LPCCExtractor, levinson_durbin, lpc_to_cepstrum, lpcc
from ._mfcc import LogMelExtractor, MFCCExtractor, mfcc
from ._opensmile import OPENSMILE_FEATURE_SETS, OpenSmileExtractor
from ._pooling import FUNCTIONALS, pad_sequences, pool, sequence_lengths
from ._prosody import ProsodyExtractor, pitch
from ._speaker import SpeakerNormalizer, find_speaker_normalizers
from ._spectral import SpectralExtractor, spectral
from ._union import ExtractorUnion

__all__ = [
    "FUNCTIONALS",
    "FUNCTIONAL_PRESETS",
    "OPENSMILE_FEATURE_SETS",
    "ExtractorUnion",
    "FeatureRangeGuard",
    "FrameWise",
    "LPCCExtractor",
    "LogMelExtractor",
    "MFCCExtractor",
    "OpenSmileExtractor",
    "ProsodyExtractor",
    "SpeakerNormalizer",
    "SpectralExtractor",
    "analysis_window",
    "catch_out_of_range",
    "check_sequences",
    "find_guards",
    "find_speaker_normalizers",
    "flagged_mask",
    "frame_clips",
    "levinson_durbin",
    "lpc_to_cepstrum",
    "lpcc",
    "mfcc",
    "pad_sequences",
    "pitch",
    "pool",
    "spectral",
    "speech_blocks",
    "sequence_lengths",
]
