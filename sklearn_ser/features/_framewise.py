"""Apply a 2-D transformer to every frame of NaN-padded frame sequences."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .._validation import check_sequence_padding
from ..utils._compat import HasMethods, _fit_context


def check_sequences(X, *, owner="FrameWise"):
    """Validate NaN-padded 3-D frame sequences and return them with their frame mask.

    Returns
    -------
    X : ndarray of shape (n_clips, n_frames, n_coeffs), float32 or float64
    mask : ndarray of shape (n_clips, n_frames), bool
        True for real frames, False for all-NaN padding.
    """
    X = check_array(X, allow_nd=True, ensure_all_finite="allow-nan",
                    dtype=[np.float32, np.float64], ensure_2d=False)
    if X.ndim != 3:
        raise ValueError(
            f"{owner} expects 3-D frame sequences (n_clips, n_frames, n_coeffs); got shape "
            f"{X.shape}. Use an extractor with pooling=None, e.g. LogMelExtractor()."
        )
    mask, _ = check_sequence_padding(X, owner=owner)
    return X, mask


class FrameWise(TransformerMixin, BaseEstimator):
    """Fit and apply a 2-D transformer on the frames of 3-D frame sequences.

    The reducers and scalers of the sequence path: ``FrameWise(StandardScaler())`` standardises
    each coefficient over all real frames of the training clips, ``FrameWise(PCA(16))`` and
    ``FrameWise(LinearDiscriminantAnalysis())`` reduce each frame, the latter fitted with a copy
    of the clip's label on every frame. Padding frames (all-NaN) are ignored in ``fit`` and stay
    NaN in the output, so the clips' true lengths are kept.

    Parameters
    ----------
    transformer : estimator object
        A 2-D transformer with ``fit`` and ``transform``; it is cloned.

    Attributes
    ----------
    transformer_ : estimator object
        The fitted clone.
    n_features_in_ : int
        Coefficients per input frame.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_ser.features import FrameWise
    >>> X = np.random.default_rng(0).normal(5, 2, size=(3, 4, 2)).astype(np.float32)
    >>> X[0, 3:] = np.nan                     # clip 0 has 3 frames, then padding
    >>> Z = FrameWise(StandardScaler()).fit_transform(X)
    >>> Z.shape, bool(np.isnan(Z[0, 3]).all())
    ((3, 4, 2), True)
    """

    _parameter_constraints = {"transformer": [HasMethods(["fit", "transform"])]}

    def __init__(self, transformer):
        self.transformer = transformer

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the transformer on every real frame of every clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs)
            NaN-padded frame sequences.
        y : array-like of shape (n_clips,) or None
            Clip labels, repeated on each of the clip's frames (for supervised reducers).

        Returns
        -------
        self : object
        """
        X, mask = check_sequences(X)
        frames = X[mask]
        frame_y = None if y is None else np.repeat(np.asarray(y), mask.sum(axis=1))
        self.transformer_ = clone(self.transformer).fit(frames, frame_y)
        self.n_features_in_ = X.shape[2]
        return self

    def transform(self, X):
        """Transform every real frame; padding stays NaN.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs)
            NaN-padded frame sequences.

        Returns
        -------
        ndarray of shape (n_clips, n_frames, n_components), float32
        """
        check_is_fitted(self)
        X, mask = check_sequences(X)
        if X.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[2]} coefficients per frame, but FrameWise was fitted with "
                f"{self.n_features_in_}."
            )
        reduced = np.asarray(self.transformer_.transform(X[mask]), dtype=np.float32)
        out = np.full((X.shape[0], X.shape[1], reduced.shape[1]), np.nan, dtype=np.float32)
        out[mask] = reduced
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # 3-D input only: sklearn's data checks (2-D) do not apply; tests/test_common.py runs
        # the data-free checks and tests/test_features.py the behaviour.
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True
        return tags
