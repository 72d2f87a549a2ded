"""Flag clips whose features lie far outside the training range, without changing them."""

import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..exceptions import OutOfRangeWarning
from ..utils._compat import Interval, StrOptions, _fit_context, validate_data
from .._validation import reject_ragged
from ._framewise import check_sequences

# The interquartile range of a normal distribution is 1.349 standard deviations: dividing by
# it puts the robust scale in the units of a standard deviation.
_IQR_PER_SIGMA = 1.3489795003921634

# tolerance="auto" (see the class's Notes for why).
_AUTO_SEQUENCE_TOLERANCE = 3.0
_AUTO_POOLED_TOLERANCE = 100.0

# How many clips a warning names, and how many of them get their worst features listed.
_NAMED_CLIPS = 10
_EXPLAINED_CLIPS = 3
_NAMED_FEATURES = 3


class FeatureRangeGuard(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Warn about clips whose features lie far outside the training range.

    A clip of digital silence, at a wild recording level, or from a broken file gets features
    that no training clip had, and a classifier scores it as confidently as any other. Placed
    right after the feature step of a pipeline, the guard records the training range of every
    feature in ``fit`` and, in ``transform``, returns its input *unchanged* and raises one
    :class:`~sklearn_ser.exceptions.OutOfRangeWarning` per call that names the clips (by
    position in ``X``) that lie far outside it, with their worst features. Predictions are
    never altered; :meth:`out_of_range` and :meth:`explain` give the same verdict as arrays
    for callers that mark clips (streaming, the command line).

    The rule: a value is out of range when it lies beyond the training ``[min, max]`` of its
    feature by more than ``tolerance`` training scales, where the scale is the feature's
    interquartile range over 1.349 (the standard deviation of a normal distribution with
    that IQR), or its standard deviation where the IQR is 0 (a feature with many equal
    values), or 1 for a constant feature. A clip is out of range when any of its features is.

    Frame sequences, 3-D NaN-padded ``(n_clips, n_frames, n_coeffs)`` arrays as the
    extractors with ``pooling=None`` produce them, are handled per coefficient: the training
    statistics are taken over all real frames of the training clips (padding frames are
    ignored), and a clip's excess on a coefficient is the *median* over its real frames of
    each frame's excess. A coefficient is thus out of range, roughly, when half of the clip's
    frames are, so a click or one odd frame does not flag a clip, while a silent or clipped
    clip does.

    Parameters
    ----------
    tolerance : float or "auto", default="auto"
        How far beyond the training ``[min, max]`` a value may lie, in training scales; 0
        flags any value outside the training range. ``"auto"`` means 3.0 for frame sequences
        and 100.0 for pooled features (see Notes).

    Attributes
    ----------
    tolerance_ : float
        The tolerance in use (``"auto"`` resolved).
    center_ : ndarray of shape (n_features,)
        Median of each feature over the training clips (or frames).
    scale_ : ndarray of shape (n_features,)
        Robust scale of each feature (see the rule above); never 0.
    data_min_ : ndarray of shape (n_features,)
        Smallest training value of each feature (NaN where a feature was never finite).
    data_max_ : ndarray of shape (n_features,)
        Largest training value of each feature.
    sequences_ : bool
        Whether the guard was fitted on 3-D frame sequences.
    n_features_in_ : int
        Features per clip (coefficients per frame for sequences).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` was a DataFrame with string column names.

    See Also
    --------
    sklearn_ser.exceptions.OutOfRangeWarning : The warning, with ``indices`` and ``features``.
    sklearn_ser.pipelines.make_classic_pipeline : Has the guard as step ``"guard"``.

    Notes
    -----
    Why the ``"auto"`` tolerances. The training range already spans the most extreme training
    clips (and their augmented copies); the tolerance adds what an ordinary new clip may still
    exceed it by, and must stay below what the failures give. A pooled vector holds up to
    thousands of functionals, many of them heavy-tailed (kurtosis, skewness, slopes), and any
    one of them may flag the clip. By chance alone, ordinary clips of unseen speakers put one
    of them tens of robust scales beyond the training range: a heavy tail, or a feature that
    sits at a floor in every training clip (the 10th percentile of the energy when all of
    them have pauses) and moves off it in a clip without. Silence, a level a thousand times
    off or a broken file put many of them hundreds to thousands of scales out; 100, the
    order of magnitude between the two, is the threshold there. A sequence's excess is a
    median over the clip's frames, so ordinary clips hardly leave the range of the training
    frames at all, while a silent or far too loud clip leaves it by tens of scales on log-mel
    bands (by less on cepstra, where a level change moves mostly the first coefficient);
    three robust standard deviations past the most extreme training frame, the usual outlier
    bound, is the threshold there. With fewer, well-behaved pooled features, a smaller
    tolerance catches milder shifts.

    NaN values are left out of the statistics and are never flagged (the steps after the
    guard reject NaN themselves); infinite values are rejected. ``transform`` writes nothing
    to the estimator: the flags of a call are in its warning, or from :meth:`out_of_range`.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_ser.features import FeatureRangeGuard
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> guard = FeatureRangeGuard().fit(X)
    >>> X_new = np.array([[0.1, -0.5, 0.3], [0.2, 1e4, 0.0]])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     Z = guard.transform(X_new)
    >>> Z is X_new, caught[0].message.indices.tolist(), caught[0].message.features
    (True, [1], [('x1',)])
    >>> guard.out_of_range(X_new).tolist()
    [False, True]
    """

    _parameter_constraints = {
        "tolerance": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
    }

    def __init__(self, *, tolerance="auto"):
        self.tolerance = tolerance

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record each feature's training median, scale and range.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features, or NaN-padded frame sequences.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        reject_ragged(X, owner=type(self).__name__, expected="pooled features (n_clips, "
                      "n_features) or NaN-padded frame sequences (n_clips, n_frames, n_coeffs)")
        sequences = _is_sequences(X)
        if sequences:
            X, mask = check_sequences(X, owner=type(self).__name__)
            values = X[mask]
            self.n_features_in_ = X.shape[2]
            if hasattr(self, "feature_names_in_"):  # names of an earlier 2-D fit
                del self.feature_names_in_
        else:
            values = validate_data(self, X, dtype=[np.float64, np.float32],
                                   ensure_all_finite="allow-nan")
        self.center_, self.scale_, self.data_min_, self.data_max_ = _statistics(values)
        self.sequences_ = sequences
        if self.tolerance == "auto":
            self.tolerance_ = _AUTO_SEQUENCE_TOLERANCE if sequences else _AUTO_POOLED_TOLERANCE
        else:
            self.tolerance_ = float(self.tolerance)
        return self

    def transform(self, X):
        """Return X unchanged; warn once about the clips that are out of range.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_coeffs)
            What the guard was fitted on: pooled features or frame sequences.

        Returns
        -------
        X : ndarray
            The input itself (an array is returned as it is; other containers as the array
            they were validated into).

        Warns
        -----
        OutOfRangeWarning
            When any clip is out of range: one warning that names the clips and their worst
            features.
        """
        check_is_fitted(self)
        X, excess = self._excess(X)
        flagged = np.flatnonzero((excess > self.tolerance_).any(axis=1))
        if flagged.size:
            warnings.warn(self._warning(excess, flagged), stacklevel=2)
        return X

    def excess(self, X):
        """How far each clip's features lie beyond the training range, in training scales.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features or frame sequences.

        Returns
        -------
        ndarray of shape (n_clips, n_features)
            0 within the range (and for NaN values), else the distance to the nearest end of
            the range over the scale; for sequences, the median over the clip's real frames.
        """
        check_is_fitted(self)
        return self._excess(X)[1]

    def out_of_range(self, X):
        """Which clips are out of range (what ``transform`` warns about), without a warning.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features or frame sequences.

        Returns
        -------
        ndarray of shape (n_clips,), bool
        """
        return (self.excess(X) > self.tolerance_).any(axis=1)

    def explain(self, X, *, max_features=_NAMED_FEATURES):
        """The out-of-range features of each flagged clip, worst first, as a table.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features or frame sequences.
        max_features : int, default=3
            Features listed per clip, at most.

        Returns
        -------
        pandas.DataFrame
            Columns ``clip`` (position in X), ``feature`` (name) and ``excess`` (training
            scales beyond the range); one row per out-of-range feature of each flagged clip,
            sorted by clip, then by excess, decreasing. Empty when no clip is flagged.
        """
        import pandas as pd

        if not isinstance(max_features, Integral) or max_features < 1:
            raise ValueError(f"max_features must be a positive int; got {max_features!r}.")
        excess = self.excess(X)
        names = self.get_feature_names_out()
        rows = []
        for clip in np.flatnonzero((excess > self.tolerance_).any(axis=1)):
            for column in _worst(excess[clip], self.tolerance_, max_features):
                rows.append((int(clip), str(names[column]), float(excess[clip, column])))
        return pd.DataFrame(rows, columns=["clip", "feature", "excess"])

    def _excess(self, X):
        """Validated X and its excess per clip and feature."""
        if self.sequences_:
            if not _is_sequences(X):
                raise ValueError(
                    f"{type(self).__name__} was fitted on 3-D frame sequences; got an array of "
                    f"{np.ndim(X)} dimension(s). Pass (n_clips, n_frames, n_coeffs) sequences.")
            X, mask = check_sequences(X, owner=type(self).__name__)
            if X.shape[2] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[2]} coefficients per frame, but {type(self).__name__} "
                    f"was fitted with {self.n_features_in_}.")
            frames = self._frame_excess(X)
            frames[~mask] = np.nan
            return X, _median_over_frames(frames, mask.sum(axis=1))
        reject_ragged(X, owner=type(self).__name__)
        X = validate_data(self, X, dtype=[np.float64, np.float32],
                          ensure_all_finite="allow-nan", reset=False)
        return X, self._frame_excess(X)

    def _frame_excess(self, X):
        above = (X - self.data_max_) / self.scale_
        below = (self.data_min_ - X) / self.scale_
        # fmax ignores NaN: a NaN value, or a feature never finite in training, gives 0.
        return np.fmax(np.fmax(above, below), 0.0)

    def _warning(self, excess, flagged):
        names = self.get_feature_names_out()
        worst = [[str(names[c]) for c in _worst(excess[i], self.tolerance_, _NAMED_FEATURES)]
                 for i in flagged]
        shown = flagged[:_NAMED_CLIPS].tolist()
        more = f" and {flagged.size - _NAMED_CLIPS} more" if flagged.size > _NAMED_CLIPS else ""
        peak = excess[flagged].max(axis=1)
        details = "; ".join(
            f"clip {flagged[k]}: " + ", ".join(
                f"{names[c]} {excess[flagged[k], c]:.3g}"
                for c in _worst(excess[flagged[k]], self.tolerance_, _NAMED_FEATURES))
            for k in np.argsort(-peak, kind="stable")[:_EXPLAINED_CLIPS])
        message = (
            f"{type(self).__name__}: {flagged.size} of {excess.shape[0]} clip(s) have features "
            f"more than tolerance={self.tolerance_:g} training scales outside the training "
            f"range, so their predictions are extrapolations (silence, a wild level or a "
            f"broken file?): clips {shown}{more}. Worst features, in training scales beyond "
            f"the range: {details}. FeatureRangeGuard.explain(X) lists them all.")
        return OutOfRangeWarning(message, indices=flagged, features=worst)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # left out of the statistics, never flagged
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _is_sequences(X):
    return getattr(X, "ndim", None) == 3


def _statistics(values):
    """Median, robust scale, minimum and maximum of each column, NaN left out."""
    values = np.asarray(values)
    with warnings.catch_warnings():
        # A column that is all NaN has NaN statistics, which flag nothing (see _frame_excess).
        warnings.simplefilter("ignore", RuntimeWarning)
        has_nan = bool(np.isnan(values).any())
        percentile, lowest, highest, std = (
            (np.nanpercentile, np.nanmin, np.nanmax, np.nanstd) if has_nan
            else (np.percentile, np.min, np.max, np.std))
        q25, center, q75 = percentile(values, [25, 50, 75], axis=0).astype(np.float64)
        low = lowest(values, axis=0).astype(np.float64)
        high = highest(values, axis=0).astype(np.float64)
        spread = std(values, axis=0, dtype=np.float64)
    scale = (q75 - q25) / _IQR_PER_SIGMA
    # Numerically zero: a few ulps of the values' magnitude (as StandardScaler treats it).
    tiny = 10 * np.finfo(np.float64).eps * np.fmax(np.abs(center), 1.0)
    scale = np.where(scale > tiny, scale, spread)
    scale = np.where(scale > tiny, scale, 1.0)  # constant (or all-NaN) feature
    return center, scale, low, high


def _median_over_frames(frames, lengths):
    """Median over each clip's real frames of ``(n_clips, n_frames, n_coeffs)`` values.

    The padding is NaN, which ``np.sort`` puts last, so each clip's real values come first and
    its median is read at its own length.
    """
    ordered = np.sort(frames, axis=1)
    lower = ((lengths - 1) // 2)[:, None, None]
    upper = (lengths // 2)[:, None, None]
    low = np.take_along_axis(ordered, lower, axis=1)[:, 0]
    high = np.take_along_axis(ordered, upper, axis=1)[:, 0]
    return 0.5 * (low + high)


def _worst(excess_row, tolerance, n):
    """Columns of one clip that are out of range, the worst first, at most ``n``."""
    out = np.flatnonzero(excess_row > tolerance)
    return out[np.argsort(-excess_row[out], kind="stable")][:n]


def find_guards(estimator):
    """Every :class:`FeatureRangeGuard` inside a (possibly nested) fitted estimator.

    Looks through pipelines (sklearn's and imblearn's), feature unions, the members of
    stacking and voting ensembles (fitted ``estimators_``), calibrated classifiers and
    ``FrameWise``; a guard that is ``"passthrough"`` or dropped is not there.

    Parameters
    ----------
    estimator : estimator

    Returns
    -------
    list of FeatureRangeGuard
    """
    found, seen = [], set()

    def visit(obj):
        if obj is None or isinstance(obj, str) or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, FeatureRangeGuard):
            found.append(obj)
            return
        for attribute in ("steps", "transformer_list", "estimators", "estimators_"):
            for part in getattr(obj, attribute, None) or []:
                visit(part[1] if isinstance(part, tuple) else part)
        for attribute in ("best_estimator_", "estimator", "transformer_", "final_estimator_"):
            visit(getattr(obj, attribute, None))
        for calibrated in getattr(obj, "calibrated_classifiers_", None) or []:
            visit(getattr(calibrated, "estimator", None))

    visit(estimator)
    return found


@contextmanager
def catch_out_of_range():
    """Collect the :class:`~sklearn_ser.exceptions.OutOfRangeWarning` of a block.

    Inside the block every out-of-range warning is recorded instead of shown (whatever the
    warning filters say); other warnings are issued again at its end, as they would have
    been.

    Yields
    ------
    caught : list of OutOfRangeWarning
        Filled when the block ends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.features import FeatureRangeGuard, catch_out_of_range, flagged_mask
    >>> guard = FeatureRangeGuard().fit(np.arange(20.0).reshape(10, 2))
    >>> with catch_out_of_range() as caught:
    ...     _ = guard.transform(np.array([[1.0, 2.0], [1e6, 3.0]]))
    >>> flagged_mask(caught, 2).tolist()
    [False, True]
    """
    caught = []
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always", OutOfRangeWarning)
        try:
            yield caught
        finally:
            others = []
            for note in recorded:
                if issubclass(note.category, OutOfRangeWarning):
                    caught.append(note.message)
                else:
                    others.append(note)
    for note in others:
        warnings.warn_explicit(note.message, note.category, note.filename, note.lineno,
                               source=note.source)


def flagged_mask(caught, n_clips):
    """Boolean mask of the clips that any of the warnings ``caught`` names.

    Parameters
    ----------
    caught : iterable of OutOfRangeWarning
    n_clips : int

    Returns
    -------
    ndarray of shape (n_clips,), bool
    """
    mask = np.zeros(n_clips, dtype=bool)
    for warning in caught:
        mask[warning.indices[warning.indices < n_clips]] = True
    return mask
