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


class ModelVersionError(ValueError):
    """A saved model was made with package versions that differ from the installed ones.

    The message names each mismatched package with the saved and the installed version, and
    how to proceed (install the saved versions, or ``load_model(...,
    allow_version_mismatch=True)`` at your own risk).
    """


class ModelVersionWarning(SklearnSerWarning):
    """A saved model was loaded despite package versions that differ from the installed ones."""


__all__ = [
    "AudioLoadError",
    "AudioWarning",
    "DataWarning",
    "ModelVersionError",
    "ModelVersionWarning",
    "SklearnSerWarning",
    "SpeakerLeakageError",
]
