"""Per-emotion precision, recall and F1 as a pandas DataFrame."""

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from ._scores import _check_label_pair

_COLUMNS = ["precision", "recall", "f1", "support"]


def emotion_report(y_true, y_pred, *, labels=None):
    """Precision, recall, F1 and support per emotion, plus macro and weighted averages.

    A DataFrame counterpart of :func:`sklearn.metrics.classification_report`, easy to
    sort, plot or write to CSV.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True emotion labels.
    y_pred : array-like of shape (n_samples,)
        Predicted emotion labels.
    labels : array-like of shape (n_classes,), default=None
        Classes to report, in this order. By default, the sorted classes of
        ``y_true``, so that the macro recall equals
        :func:`unweighted_average_recall`. A class with no true or no predicted
        sample gets 0 for the undefined figure.

    Returns
    -------
    report : pandas.DataFrame
        One row per class, then the rows ``"macro avg"`` (plain mean over the
        class rows; its recall is the UAR) and ``"weighted avg"`` (weighted by
        support). Columns: ``precision``, ``recall``, ``f1`` (floats) and
        ``support`` (int).

    See Also
    --------
    unweighted_average_recall : The macro-average recall alone.

    Examples
    --------
    >>> from sklearn_ser.metrics import emotion_report
    >>> report = emotion_report(["anger", "anger", "sadness"], ["anger", "sadness", "sadness"])
    >>> report.loc["anger", "recall"]
    np.float64(0.5)
    >>> list(report.index)
    ['anger', 'sadness', 'macro avg', 'weighted avg']
    """
    y_true, y_pred = _check_label_pair(y_true, y_pred)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    # zero_division=0: a class never predicted has precision 0, without sklearn's warning,
    # which would fire on every fold of a weak baseline.
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0.0
    )
    per_class = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels.tolist(), name="emotion", dtype=object),
    )
    total = int(support.sum())
    weights = support / total if total else np.zeros_like(support, dtype=float)
    averages = pd.DataFrame(
        {
            "precision": [precision.mean(), weights @ precision],
            "recall": [recall.mean(), weights @ recall],
            "f1": [f1.mean(), weights @ f1],
            "support": [total, total],
        },
        index=pd.Index(["macro avg", "weighted avg"], name="emotion", dtype=object),
    )
    report = pd.concat([per_class, averages])
    report["support"] = report["support"].astype(int)
    return report[_COLUMNS]
