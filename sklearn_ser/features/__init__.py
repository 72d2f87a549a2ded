"""Feature extraction: batched framing kernel, cepstral extractors and pooling functionals."""

from ._base import FUNCTIONAL_PRESETS
from ._lpcc import LPCCExtractor, levinson_durbin, lpc_to_cepstrum, lpcc
from ._mfcc import MFCCExtractor, mfcc
from ._pooling import FUNCTIONALS

__all__ = [
    "FUNCTIONALS",
    "FUNCTIONAL_PRESETS",
    "LPCCExtractor",
    "MFCCExtractor",
    "levinson_durbin",
    "lpc_to_cepstrum",
    "lpcc",
    "mfcc",
]
