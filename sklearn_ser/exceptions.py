"""Warnings and errors raised by sklearn_ser.

Every class subclasses the built-in type that sklearn and user code already catch
(``ValueError``, ``UserWarning``), so ``except ValueError`` keeps working.
"""

import numpy as np


class SklearnSerWarning(UserWarning):
    """Base class of every warning sklearn_ser emits."""


class AudioWarning(SklearnSerWarning):
    """A clip was usable only after a documented fallback (silent, very short, integer PCM)."""


class DataWarning(SklearnSerWarning):
    """A dataset loader skipped or repaired a file; the message names the file and why."""


class OutOfRangeWarning(SklearnSerWarning):
    """Clips whose features lie far outside the training range (see ``FeatureRangeGuard``).

    Their predictions are extrapolations: digital silence, a wild recording level or a broken
    file are scored as if they were speech. One warning names every flagged clip of a call.

    Parameters
    ----------
    message : str
        The text shown to the user.
    indices : array-like of int, default=()
        Positions of the flagged clips in the ``X`` that was transformed.
    features : sequence of tuple of str, default=()
        For each flagged clip, its features most out of range, worst first.

    Attributes
    ----------
    indices : ndarray of shape (n_flagged,), int
        Positions of the flagged clips, ascending; ``mask[warning.indices] = True`` marks them.
    features : list of tuple of str
        The worst features of each clip of ``indices``.
    """

    def __init__(self, message="", indices=(), features=()):
        super().__init__(message)
        self.indices = np.asarray(indices, dtype=np.intp).reshape(-1)
        self.features = [tuple(names) for names in features]

    def __reduce__(self):
        # Keep the attributes through pickling (joblib workers, multiprocessing).
        return type(self), (str(self), self.indices, self.features)


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
    "OutOfRangeWarning",
    "SklearnSerWarning",
    "SpeakerLeakageError",
    "UntrustedModelError",
]


class UntrustedModelError(ValueError):
    """A model file holds types that loading would have to trust, or is an unchecked pickle.

    Raised by :func:`sklearn_ser.io.load_model` before anything in the file is built. The
    message names the file and the refused types, and how to load it anyway when you trust
    its source: ``load_model(path, trusted=[...names...])`` or ``trusted=True``, or the
    command line's ``--trust``.

    Attributes
    ----------
    types : list of str
        The refused type names (empty for a pickle, whose content cannot be listed).
    """

    def __init__(self, message="", types=()):
        super().__init__(message)
        self.types = list(types)

    def __reduce__(self):
        return type(self), (str(self), self.types)
