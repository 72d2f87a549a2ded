"""Unweighted average recall (UAR), its scorer, and a speaker-bootstrap confidence interval.

UAR is the headline figure of speech emotion recognition: emotion corpora are unbalanced
(EmoDB has twice as many angry clips as disgusted ones), so plain accuracy rewards a model
that favours the big classes. UAR gives every class the same weight.
"""

import copy
import numbers
import warnings

import numpy as np
from sklearn.metrics import confusion_matrix, make_scorer
from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length

from ..exceptions import SklearnSerWarning


def _recalls_from_confusion(cm):
    """Per-class recall from one or a stack of confusion matrices.

    Rows (true classes) with no samples give NaN, so that callers can leave absent
    classes out of the mean with ``nanmean``.

    Parameters
    ----------
    cm : ndarray of shape (..., n_classes, n_classes)
        Counts, rows = true labels, columns = predicted labels.

    Returns
    -------
    recalls : ndarray of shape (..., n_classes)
    """
    hits = np.diagonal(cm, axis1=-2, axis2=-1).astype(float)
    support = cm.sum(axis=-1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, hits / np.where(support > 0, support, 1), np.nan)


def _uar_from_confusion(cm):
    """UAR from one or a stack of confusion matrices: mean recall over present classes.

    Parameters
    ----------
    cm : ndarray of shape (..., n_classes, n_classes)

    Returns
    -------
    uar : float or ndarray of shape (...)
        NaN where no class has a sample.
    """
    return _uar_from_recalls(_recalls_from_confusion(cm))


def _uar_from_recalls(recalls):
    """Mean over the last axis of per-class recalls, skipping NaN (absent classes)."""
    present = ~np.isnan(recalls)
    n_present = present.sum(axis=-1)
    total = np.where(present, recalls, 0.0).sum(axis=-1)
    # Divide by hand instead of np.nanmean to avoid its "mean of empty slice" warning.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_present > 0, total / np.maximum(n_present, 1), np.nan)


def unweighted_average_recall(y_true, y_pred, *, labels=None):
    """Unweighted average recall (UAR): the mean of the per-class recalls.

    Every class counts the same however many samples it has, which makes UAR the
    standard figure for unbalanced emotion corpora. With ``labels=None`` it equals
    :func:`sklearn.metrics.balanced_accuracy_score` (with ``adjusted=False``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels.
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.
    labels : array-like of shape (n_classes,), default=None
        Classes to average over. By default, the classes present in ``y_true``.
        Samples whose true label is not in ``labels`` are ignored; a label that
        never occurs in ``y_true`` has no recall and is left out of the mean with
        a warning.

    Returns
    -------
    uar : float
        Between 0 and 1; chance level is ``1 / n_classes``.

    See Also
    --------
    emotion_report : Per-class precision, recall and F1.
    uar_confidence_interval : Speaker-bootstrap interval around UAR.

    Examples
    --------
    >>> from sklearn_ser.metrics import unweighted_average_recall
    >>> y_true = ["anger", "anger", "anger", "sadness"]
    >>> y_pred = ["anger", "anger", "sadness", "sadness"]
    >>> round(unweighted_average_recall(y_true, y_pred), 4)  # (2/3 + 1/1) / 2
    0.8333
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    if labels is None:
        labels = np.unique(y_true)
    else:
        labels = np.asarray(labels)
        missing = labels[~np.isin(labels, y_true)]
        if missing.size == labels.size:
            raise ValueError(
                f"None of the labels {labels.tolist()} occurs in y_true "
                f"(classes found: {np.unique(y_true).tolist()}). Pass labels that "
                "appear in y_true, or labels=None to use the classes of y_true."
            )
        if missing.size:
            warnings.warn(
                f"labels {missing.tolist()} do not occur in y_true, so their recall is "
                "undefined; they are left out of the UAR. Pass only the classes of y_true "
                "to silence this warning.",
                SklearnSerWarning,
                stacklevel=2,
            )
    # Columns must cover every predicted label too: confusion_matrix drops samples whose
    # prediction is outside its labels, which would shrink the recall denominators.
    all_labels = np.unique(np.concatenate([labels, y_pred]))
    cm = confusion_matrix(y_true, y_pred, labels=all_labels)
    recalls = _recalls_from_confusion(cm)[np.searchsorted(all_labels, labels)]
    return float(_uar_from_recalls(recalls))


def _check_label_pair(y_true, y_pred):
    """Turn two label sequences into 1-D arrays of one length, with a clear error."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D sequences of labels; got shapes "
            f"{y_true.shape} and {y_pred.shape}. Pass one label per sample."
        )
    check_consistent_length(y_true, y_pred)
    if y_true.size == 0:
        raise ValueError("y_true is empty; at least one labelled sample is required.")
    return y_true, y_pred


# greater_is_better=True by default: a higher UAR is a better model.
uar_scorer = make_scorer(unweighted_average_recall)
uar_scorer.__doc__ = """Scorer for ``GridSearchCV(scoring=...)`` that computes UAR.

Use it as ``scoring=uar_scorer`` or ``scoring={"uar": uar_scorer}``.
"""


def get_scorer(scoring):
    """Return a scorer by name, knowing ``"uar"`` and ``"ccc"`` besides sklearn's names.

    Parameters
    ----------
    scoring : str or callable
        ``"uar"`` for :data:`uar_scorer`, ``"ccc"`` for
        :data:`~sklearn_ser.metrics.ccc_scorer` (continuous targets, Lin's concordance
        correlation); anything else is passed to
        :func:`sklearn.metrics.get_scorer` (``"accuracy"``, ``"f1_macro"``, ...).

    Returns
    -------
    scorer : callable
        A scorer with the signature ``scorer(estimator, X, y)``. A copy is returned,
        as sklearn does, so changing it leaves the module's scorer alone.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV, GroupKFold
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ser.metrics import get_scorer
    >>> search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]},
    ...                       cv=GroupKFold(3), scoring=get_scorer("uar"))
    """
    if isinstance(scoring, str) and scoring.lower() == "uar":
        return copy.deepcopy(uar_scorer)
    if isinstance(scoring, str) and scoring.lower() == "ccc":
        from ._regression import ccc_scorer

        return copy.deepcopy(ccc_scorer)
    return _sklearn_get_scorer(scoring)


def _confusion_by_group(y_true, y_pred, groups):
    """One confusion matrix per group (speaker), computed in one ``bincount``.

    Parameters
    ----------
    y_true, y_pred, groups : ndarray of shape (n_samples,)

    Returns
    -------
    speakers : ndarray of shape (n_groups,)
        Sorted unique groups.
    labels : ndarray of shape (n_classes,)
        Sorted classes of ``y_true`` and ``y_pred`` together, so no sample is dropped.
    cms : ndarray of shape (n_groups, n_classes, n_classes)
        Counts, rows = true labels in ``labels`` order.
    """
    speakers, g_idx = np.unique(groups, return_inverse=True)
    labels, label_idx = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    t_idx, p_idx = label_idx[: len(y_true)], label_idx[len(y_true) :]
    n_classes = len(labels)
    flat = (g_idx * n_classes + t_idx) * n_classes + p_idx
    counts = np.bincount(flat, minlength=len(speakers) * n_classes * n_classes)
    return speakers, labels, counts.reshape(len(speakers), n_classes, n_classes)


def scores_by_speaker(y_true, y_pred, groups):
    """UAR and accuracy (WA) of each speaker's predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels.
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.
    groups : array-like of shape (n_samples,)
        Speaker id of each sample.

    Returns
    -------
    scores : dict of str to ndarray of shape (n_speakers,)
        ``"speaker"`` (sorted ids), ``"n"`` (samples), ``"uar"`` (over the classes the
        speaker has samples of) and ``"wa"`` (accuracy).

    Examples
    --------
    >>> from sklearn_ser.metrics import scores_by_speaker
    >>> scores = scores_by_speaker(["a", "b", "a", "b"], ["a", "b", "b", "b"], [1, 1, 2, 2])
    >>> scores["uar"].tolist(), scores["wa"].tolist()
    ([1.0, 0.5], [1.0, 0.5])
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    groups = np.asarray(groups)
    check_consistent_length(y_true, groups)
    speakers, _, cms = _confusion_by_group(y_true, y_pred, groups)
    n = cms.sum(axis=(1, 2))
    return {"speaker": speakers, "n": n, "uar": _uar_from_confusion(cms),
            "wa": np.trace(cms, axis1=1, axis2=2) / n}


def _check_bootstrap_params(confidence, n_bootstraps):
    if not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(
            f"confidence must be a float strictly between 0 and 1, e.g. 0.95; "
            f"got {confidence!r}."
        )
    if (
        not isinstance(n_bootstraps, numbers.Integral)
        or isinstance(n_bootstraps, bool)
        or n_bootstraps < 1
    ):
        raise ValueError(
            f"n_bootstraps must be a positive integer, e.g. 1000; got {n_bootstraps!r}."
        )


def uar_confidence_interval(
    y_true, y_pred, groups, *, confidence=0.95, n_bootstraps=1000, random_state=0
):
    """Confidence interval of the pooled UAR by resampling speakers (cluster bootstrap).

    Clips of one speaker are not independent: resampling clips would understate the
    uncertainty. Each bootstrap draw picks speakers with replacement, pools all their
    predictions and recomputes UAR; the interval is the central ``confidence`` part of
    the resulting distribution (percentile method).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels.
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels (out-of-fold predictions).
    groups : array-like of shape (n_samples,)
        Speaker id of each sample.
    confidence : float, default=0.95
        Coverage of the interval, strictly between 0 and 1.
    n_bootstraps : int, default=1000
        Number of speaker resamples.
    random_state : int, RandomState instance or None, default=0
        Seeds the resampling; the default makes the interval reproducible.

    Returns
    -------
    low : float
        Lower bound; NaN when there is a single speaker.
    high : float
        Upper bound; NaN when there is a single speaker.

    Warns
    -----
    SklearnSerWarning
        With a single speaker, where a speaker bootstrap is impossible.

    Notes
    -----
    Per-speaker confusion matrices are computed once; a resample is then a weighted
    sum of them (a matrix product with the speaker draw counts), so even many
    resamples are cheap.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.metrics import uar_confidence_interval
    >>> rng = np.random.RandomState(0)
    >>> y_true = rng.randint(0, 3, 300)
    >>> y_pred = np.where(rng.rand(300) < 0.7, y_true, rng.randint(0, 3, 300))
    >>> groups = np.repeat(np.arange(10), 30)
    >>> low, high = uar_confidence_interval(y_true, y_pred, groups)
    >>> bool(low < high)
    True
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    groups = np.asarray(groups)
    check_consistent_length(y_true, groups)
    _check_bootstrap_params(confidence, n_bootstraps)
    speakers, _, cms = _confusion_by_group(y_true, y_pred, groups)
    n_speakers = len(speakers)
    if n_speakers < 2:
        warnings.warn(
            f"Only one speaker ({speakers.tolist()[0]!r}) in groups: a speaker bootstrap needs "
            "at least 2 speakers, so the interval is (nan, nan). Evaluate on more "
            "speakers to get an interval.",
            SklearnSerWarning,
            stacklevel=2,
        )
        return float("nan"), float("nan")

    weights = _speaker_draw_weights(n_speakers, n_bootstraps, check_random_state(random_state))
    # UAR needs only the diagonal and the row sums, so sum those instead of full matrices.
    hits = weights @ np.diagonal(cms, axis1=1, axis2=2)
    support = weights @ cms.sum(axis=2)
    recalls = np.where(support > 0, hits / np.maximum(support, 1), np.nan)
    uars = _uar_from_recalls(recalls)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(uars, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _speaker_draw_weights(n_speakers, n_bootstraps, rng):
    """How often each speaker is drawn in each bootstrap resample.

    Shared by the UAR and the continuous-target intervals, so that the same
    ``random_state`` resamples the same speakers for both.

    Returns
    -------
    weights : ndarray of shape (n_bootstraps, n_speakers)
    """
    draws = rng.randint(0, n_speakers, size=(n_bootstraps, n_speakers))
    rows = np.repeat(np.arange(n_bootstraps), n_speakers)
    return np.bincount(
        rows * n_speakers + draws.ravel(), minlength=n_bootstraps * n_speakers
    ).reshape(n_bootstraps, n_speakers)
