"""Apply a 2-D transformer to every frame of NaN-padded frame sequences."""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import Bunch, check_array
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from .._validation import check_sequence_padding, reject_ragged
from ..utils._compat import HasMethods, _fit_context, _raise_for_params, _routing_enabled


def check_sequences(X, *, owner="FrameWise"):
    """Validate NaN-padded 3-D frame sequences and return them with their frame mask.

    Returns
    -------
    X : ndarray of shape (n_clips, n_frames, n_coeffs), float32 or float64
    mask : ndarray of shape (n_clips, n_frames), bool
        True for real frames, False for all-NaN padding.
    """
    reject_ragged(X, owner=owner, expected="NaN-padded 3-D frame sequences "
                  "(n_clips, n_frames, n_coeffs)")
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

    Metadata that the transformer requests through sklearn's metadata routing (its speakers,
    ``groups``, or a ``sample_weight``) is routed to it with each clip's value copied onto
    every real frame of that clip: ``FrameWise(SpeakerNormalizer())`` standardises the frames
    of each speaker by that speaker's own frame statistics.

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
    def fit(self, X, y=None, **params):
        """Fit the transformer on every real frame of every clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs)
            NaN-padded frame sequences.
        y : array-like of shape (n_clips,) or None
            Clip labels, repeated on each of the clip's frames (for supervised reducers).
        **params : dict
            Per-clip metadata requested by the transformer's ``fit`` (sklearn's metadata
            routing must be enabled), repeated on each of the clip's frames.

        Returns
        -------
        self : object
        """
        X, mask = check_sequences(X)
        routed = self._route(params, "fit")
        self._fit_frames(X, mask, y, routed.fit)
        return self

    def transform(self, X, **params):
        """Transform every real frame; padding stays NaN.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs)
            NaN-padded frame sequences.
        **params : dict
            Per-clip metadata requested by the transformer's ``transform`` (sklearn's
            metadata routing must be enabled), repeated on each of the clip's frames.

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
        return self._transform_frames(X, mask, self._route(params, "transform").transform)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None, **params):
        """Fit on every real frame, then transform them (metadata routed to both steps).

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs)
            NaN-padded frame sequences.
        y : array-like of shape (n_clips,) or None
            Clip labels, repeated on each of the clip's frames.
        **params : dict
            Per-clip metadata requested by the transformer's ``fit`` or ``transform``.

        Returns
        -------
        ndarray of shape (n_clips, n_frames, n_components), float32
        """
        X, mask = check_sequences(X)
        routed = self._route(params, "fit_transform")
        self._fit_frames(X, mask, y, routed.fit)
        return self._transform_frames(X, mask, routed.transform)

    def get_metadata_routing(self):
        """Metadata routing of this object: the transformer's requests, per clip.

        Returns
        -------
        routing : MetadataRouter
        """
        mapping = (MethodMapping()
                   .add(caller="fit", callee="fit")
                   .add(caller="fit_transform", callee="fit")
                   .add(caller="fit_transform", callee="transform")
                   .add(caller="transform", callee="transform"))
        return MetadataRouter(owner=self).add(transformer=self.transformer,
                                              method_mapping=mapping)

    def _route(self, params, method):
        """The metadata for the transformer's methods, as routed for ``method``."""
        _raise_for_params(params, self, method)
        if not _routing_enabled():
            return Bunch(fit={}, transform={})  # routing off: no metadata
        return process_routing(self, method, **params).transformer

    def _fit_frames(self, X, mask, y, params):
        if y is not None:
            check_consistent_length(X, y)  # before y is repeated over the frames
        frames = X[mask]
        counts = mask.sum(axis=1)
        frame_y = None if y is None else np.repeat(np.asarray(y), counts)
        self.transformer_ = clone(self.transformer).fit(
            frames, frame_y, **_per_frame(params, counts))
        self.n_features_in_ = X.shape[2]

    def _transform_frames(self, X, mask, params):
        frame_params = _per_frame(params, mask.sum(axis=1))
        reduced = np.asarray(self.transformer_.transform(X[mask], **frame_params),
                             dtype=np.float32)
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


def _per_frame(params, counts):
    """Per-clip metadata (one value per clip) repeated on each of the clip's real frames."""
    n_clips = len(counts)
    return {
        name: (np.repeat(np.asarray(value), counts, axis=0)
               if hasattr(value, "__len__") and not isinstance(value, (str, bytes))
               and len(value) == n_clips else value)
        for name, value in params.items()
    }
