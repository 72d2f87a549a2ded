"""Shared machinery of the clip-to-clip transformers of :mod:`sklearn_ser.preprocessing`.

Every preprocessing step is a thin stateless wrapper around a keyword-only DSP function that maps
one clip to one clip (CONTRIBUTING.md, "DSP functions and their estimators"). The base class
validates the parameters and the clips, applies the function to each clip on its own (so a
clip's output never depends on the batch), and returns the kind of container it was given
(CONTRIBUTING.md, "Waveform input"): a list for a list of arrays, a 1-D object array for an
object array, a 2-D array for a 2-D array (or a list of plain Python lists, which numpy reads as
2-D) when every output clip has the same length; a list otherwise, for instance when
:class:`SilenceTrimmer` trims the rows of a 2-D array differently.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._validation import check_clips, clip_container

#: Float dtypes kept as they are; anything else (int PCM, float16) becomes float32.
_FLOAT_DTYPES = [np.float32, np.float64]


def validated_clips(X):
    """Validate X and return ``(clips, kind)`` where ``kind`` names the input container."""
    container = clip_container(X)
    if isinstance(container, np.ndarray):
        kind = "object" if container.dtype == object else "array"
    elif len(container) and not any(isinstance(c, np.ndarray) for c in container):
        # Nested Python lists of numbers are tabular array-likes (numpy reads them as 2-D):
        # they come back as a 2-D array when the output rows have equal lengths.
        kind = "array"
    else:
        kind = "list"
    return check_clips(X, dtype=_FLOAT_DTYPES), kind


def as_container(clips, kind):
    """Return processed clips in the container kind the caller gave."""
    if kind == "array" and len({len(c) for c in clips}) == 1 and len(
        {c.dtype for c in clips}
    ) == 1:
        return np.stack(clips)
    if kind == "object":
        out = np.empty(len(clips), dtype=object)
        out[:] = clips
        return out
    return list(clips)


class _ClipTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class: a stateless clip-to-clip transformer.

    Subclasses define ``_parameter_constraints``, ``__init__``, ``_check_parameters()`` for
    cross-parameter checks, and ``_process(clips)`` returning a list of processed clips (new
    arrays, never views written into).
    """

    def fit(self, X, y=None):
        """Validate the parameters and the clips; nothing is learned.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._validate_params()
        self._check_parameters()
        validated_clips(X)
        return self

    def transform(self, X):
        """Process each clip independently.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.

        Returns
        -------
        list of ndarray of shape (n_samples_j,) or ndarray of shape (n_clips, n_samples_j)
            The processed clips, in the container kind of ``X``; the caller's arrays are
            never modified.
        """
        self._validate_params()
        self._check_parameters()
        clips, kind = validated_clips(X)
        return as_container(self._process(clips), kind)

    def _check_parameters(self):
        """Cross-parameter checks that constraints alone cannot express."""

    def _process(self, clips):  # pragma: no cover - abstract
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = True  # equal-length batches are accepted as 2-D arrays
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
