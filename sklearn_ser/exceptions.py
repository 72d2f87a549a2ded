"""Warnings and errors raised by sklearn_ser.

Every class subclasses the built-in type that sklearn and user code already catch
(``ValueError``, ``UserWarning``), so ``except ValueError`` keeps working.
"""


class SklearnSerWarning(UserWarning):
    """Base class of every warning sklearn_ser emits."""


class AudioWarning(SklearnSerWarning):
    """A clip was usable only after a documented fallback (silent, very short, integer PCM)."""


class DataWarning(SklearnSerWarning):
    """A dataset loader skipped or repaired a file; the message names the file and why."""


class AudioLoadError(ValueError):
    """An audio file exists but cannot be decoded; the message names the path."""


class SpeakerLeakageError(ValueError):
    """A split puts one speaker on both the training and the test side."""


__all__ = [
    "AudioLoadError",
    "AudioWarning",
    "DataWarning",
    "SklearnSerWarning",
    "SpeakerLeakageError",
]
