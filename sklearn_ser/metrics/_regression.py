"""Figures for continuous emotion targets: concordance correlation, its scorer and intervals.

Dimensional emotion (arousal, valence, intensity) is scored by Lin's concordance correlation
coefficient (CCC) in every challenge since AVEC: unlike Pearson's r it also charges a model
for a shift or a wrong scale of its predictions, and unlike the mean absolute error it does
not depend on the target's units. Pearson's r and the MAE come from scipy and scikit-learn;
what is written here is the CCC itself and the speaker bootstrap of all three.
"""

import warnings

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length

from ..exceptions import SklearnSerWarning
from ._scores import _check_bootstrap_params, _speaker_draw_weights

__all__ = [
    "ccc_scorer",
    "concordance_correlation_coefficient",
    "continuous_confidence_intervals",
    "continuous_scores_by_speaker",
]


def _check_continuous_pair(y_true, y_pred):
    """Two 1-D finite float arrays of one length, or a clear ValueError."""
    arrays = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must hold numbers (a continuous target such as arousal); got "
                f"{np.asarray(values).dtype} values. Classification labels are scored with "
                "unweighted_average_recall."
            ) from None
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, one value per sample; got shape {arr.shape}.")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(
                f"{name}[{bad[0]}] is {arr[bad[0]]}: continuous targets and predictions must be "
                "finite. Drop or fill the samples without a rating first."
            )
        arrays.append(arr)
    check_consistent_length(*arrays)
    if arrays[0].size == 0:
        raise ValueError("y_true is empty; at least one rated sample is required.")
    return arrays


def _ccc_from_moments(n, st, sp, stt, spp, stp):
    """CCC from sums (count, sums, sums of squares and of products); NaN where undefined.

    Works on scalars or arrays alike, so that a speaker bootstrap is a matrix product of
    draw counts with per-speaker sums followed by this.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mt, mp = st / n, sp / n
        vt, vp = stt / n - mt**2, spp / n - mp**2
        cov = stp / n - mt * mp
        denom = vt + vp + (mt - mp) ** 2
        return np.where(denom > 0, 2.0 * cov / np.where(denom > 0, denom, 1.0), np.nan)


def _pearson_from_moments(n, st, sp, stt, spp, stp):
    """Pearson's r from sums; NaN where either side is constant."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mt, mp = st / n, sp / n
        vt, vp = stt / n - mt**2, spp / n - mp**2
        denom = np.sqrt(np.maximum(vt, 0.0) * np.maximum(vp, 0.0))
        ok = denom > 1e-12 * np.maximum(np.abs(mt) * np.abs(mp), 1.0)
        return np.where(ok, (stp / n - mt * mp) / np.where(ok, denom, 1.0), np.nan)


def concordance_correlation_coefficient(y_true, y_pred):
    """Lin's concordance correlation coefficient (CCC) between ratings and predictions.

    ``2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))**2)``, with population
    (``ddof=0``) moments, as in Lin (1989) and the AVEC challenges. It is Pearson's r
    scaled down by how far the predictions' mean and spread are from the ratings': 1 is
    perfect agreement, 0 none, -1 perfect reversal. A model that predicts the mean rating
    for every clip scores 0, however small its error.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True values (arousal, valence, intensity ...), finite numbers.
    y_pred : array-like of shape (n_samples,)
        Predicted values.

    Returns
    -------
    ccc : float
        Between -1 and 1; NaN, with a warning, when both sides are the same constant
        (agreement is then undefined).

    See Also
    --------
    ccc_scorer : The scorer for ``GridSearchCV``.
    continuous_confidence_intervals : Speaker-bootstrap intervals of CCC, r and MAE.

    References
    ----------
    .. [1] L. I-K. Lin, "A concordance correlation coefficient to evaluate
           reproducibility", Biometrics 45, 1989.

    Examples
    --------
    >>> from sklearn_ser.metrics import concordance_correlation_coefficient
    >>> concordance_correlation_coefficient([0.1, 0.5, 0.9], [0.1, 0.5, 0.9])
    1.0
    >>> round(concordance_correlation_coefficient([0.1, 0.5, 0.9], [0.3, 0.5, 0.7]), 4)
    0.8
    """
    t, p = _check_continuous_pair(y_true, y_pred)
    # Centred moments here (not the running sums of the bootstrap): exact for exact input.
    dt, dp = t - t.mean(), p - p.mean()
    denom = dt @ dt / len(t) + dp @ dp / len(p) + (t.mean() - p.mean()) ** 2
    value = float(2.0 * (dt @ dp) / len(t) / denom) if denom > 0 else float("nan")
    if np.isnan(value):
        warnings.warn(
            "CCC is undefined when y_true and y_pred are one and the same constant; "
            "returning nan. Score on samples whose ratings vary.",
            SklearnSerWarning,
            stacklevel=2,
        )
    return value


# greater_is_better=True by default: a higher CCC is a better model.
ccc_scorer = make_scorer(concordance_correlation_coefficient)
ccc_scorer.__doc__ = """Scorer for ``GridSearchCV(scoring=...)`` that computes Lin's CCC.

Use it as ``scoring=ccc_scorer`` or ``scoring=get_scorer("ccc")``.
"""


def _moments_by_group(t, p, groups):
    """Per-group sums for CCC, r and MAE: (speakers, array of shape (n_groups, 7))."""
    speakers, idx = np.unique(groups, return_inverse=True)
    columns = [np.ones_like(t), t, p, t * t, p * p, t * p, np.abs(t - p)]
    sums = np.stack([np.bincount(idx, weights=c, minlength=len(speakers)) for c in columns],
                    axis=1)
    return speakers, sums


def _figures_from_sums(sums):
    """CCC, Pearson's r and MAE from sums of shape (..., 7)."""
    n, st, sp, stt, spp, stp, sad = np.moveaxis(sums, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.where(n > 0, sad / np.where(n > 0, n, 1.0), np.nan)
    return (_ccc_from_moments(n, st, sp, stt, spp, stp),
            _pearson_from_moments(n, st, sp, stt, spp, stp), mae)


def continuous_scores_by_speaker(y_true, y_pred, groups):
    """CCC, Pearson's r and MAE of each speaker's predictions.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted values.
    groups : array-like of shape (n_samples,)
        Speaker id of each sample.

    Returns
    -------
    scores : dict of str to ndarray of shape (n_speakers,)
        ``"speaker"`` (sorted ids), ``"n"``, ``"ccc"``, ``"pearson"`` (NaN for a speaker
        whose ratings or predictions are constant) and ``"mae"``.

    Examples
    --------
    >>> from sklearn_ser.metrics import continuous_scores_by_speaker
    >>> scores = continuous_scores_by_speaker([0, 1, 0, 1], [0, 1, 1, 0], ["a", "a", "b", "b"])
    >>> scores["ccc"].tolist(), scores["mae"].tolist()
    ([1.0, -1.0], [0.0, 1.0])
    """
    t, p = _check_continuous_pair(y_true, y_pred)
    groups = np.asarray(groups)
    check_consistent_length(t, groups)
    speakers, sums = _moments_by_group(t, p, groups)
    ccc, r, mae = _figures_from_sums(sums)
    return {"speaker": speakers, "n": sums[:, 0].astype(int), "ccc": ccc, "pearson": r,
            "mae": mae}


def continuous_confidence_intervals(
    y_true, y_pred, groups, *, confidence=0.95, n_bootstraps=1000, random_state=0
):
    """Speaker-bootstrap intervals of the pooled CCC, Pearson's r and MAE.

    The same cluster bootstrap as :func:`uar_confidence_interval` (the same speaker draws
    for the same ``random_state``): each resample picks speakers with replacement and pools
    all their predictions, since clips of one speaker are not independent.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True values and out-of-fold predictions.
    groups : array-like of shape (n_samples,)
        Speaker id of each sample.
    confidence : float, default=0.95
        Coverage of each interval, strictly between 0 and 1.
    n_bootstraps : int, default=1000
        Number of speaker resamples.
    random_state : int, RandomState instance or None, default=0
        Seeds the resampling.

    Returns
    -------
    intervals : dict of str to (float, float)
        ``{"ccc": (low, high), "pearson": (low, high), "mae": (low, high)}``; (nan, nan),
        with a warning, when there is a single speaker.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.metrics import continuous_confidence_intervals
    >>> rng = np.random.RandomState(0)
    >>> y_true = rng.rand(200)
    >>> y_pred = y_true + 0.2 * rng.randn(200)
    >>> low, high = continuous_confidence_intervals(y_true, y_pred, np.arange(200) // 20)["ccc"]
    >>> bool(0 < low < high < 1)
    True
    """
    t, p = _check_continuous_pair(y_true, y_pred)
    groups = np.asarray(groups)
    check_consistent_length(t, groups)
    _check_bootstrap_params(confidence, n_bootstraps)
    speakers, sums = _moments_by_group(t, p, groups)
    if len(speakers) < 2:
        warnings.warn(
            f"Only one speaker ({speakers.tolist()[0]!r}) in groups: a speaker bootstrap needs "
            "at least 2 speakers, so the intervals are (nan, nan). Evaluate on more speakers "
            "to get them.",
            SklearnSerWarning,
            stacklevel=2,
        )
        return dict.fromkeys(("ccc", "pearson", "mae"), (float("nan"), float("nan")))
    weights = _speaker_draw_weights(len(speakers), n_bootstraps, check_random_state(random_state))
    figures = _figures_from_sums(weights @ sums)
    alpha = (1.0 - confidence) / 2.0
    intervals = {}
    for name, values in zip(("ccc", "pearson", "mae"), figures):
        values = values[~np.isnan(values)]
        low, high = np.quantile(values, [alpha, 1 - alpha]) if values.size else (np.nan,) * 2
        intervals[name] = (float(low), float(high))
    return intervals
