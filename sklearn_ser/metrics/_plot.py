"""Confusion-matrix plot with proportions and counts in every cell."""

import numpy as np
from sklearn.metrics import confusion_matrix

_NORMALIZE_OPTIONS = ("true", "pred", "all", None)


def _normalize(cm, normalize):
    """Divide counts by row, column or grand total; empty rows or columns stay 0."""
    cm = cm.astype(float)
    if normalize == "true":
        totals = cm.sum(axis=1, keepdims=True)
    elif normalize == "pred":
        totals = cm.sum(axis=0, keepdims=True)
    elif normalize == "all":
        totals = cm.sum()
    else:
        return cm
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, cm / np.where(totals > 0, totals, 1), 0.0)


def _counts_and_labels(cm_or_y_true, y_pred, labels):
    """Return (square count matrix, tick labels) from either calling convention."""
    if y_pred is None:
        cm = np.asarray(cm_or_y_true)
        if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
            raise ValueError(
                f"Without y_pred, the first argument must be a square confusion matrix; "
                f"got shape {cm.shape}. Pass plot_confusion_matrix(y_true, y_pred) to "
                "plot labels, or a (n_classes, n_classes) matrix of counts."
            )
        if labels is None:
            labels = np.arange(cm.shape[0])
        elif len(labels) != cm.shape[0]:
            raise ValueError(
                f"labels has {len(labels)} entries but the confusion matrix has "
                f"{cm.shape[0]} rows; pass one label per row, in row order."
            )
        return cm, np.asarray(labels)
    y_true = np.asarray(cm_or_y_true)
    y_pred = np.asarray(y_pred)
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    labels = np.asarray(labels)
    return confusion_matrix(y_true, y_pred, labels=labels), labels


def plot_confusion_matrix(
    cm_or_y_true,
    y_pred=None,
    *,
    labels=None,
    normalize="true",
    ax=None,
    title=None,
    cmap="Blues",
):
    """Plot a confusion matrix, each cell showing the proportion and the count.

    Parameters
    ----------
    cm_or_y_true : array-like of shape (n_classes, n_classes) or (n_samples,)
        A confusion matrix of counts (rows = true labels) when ``y_pred`` is None,
        otherwise the true labels.
    y_pred : array-like of shape (n_samples,), default=None
        Predicted labels; give it to build the matrix from labels.
    labels : array-like of shape (n_classes,), default=None
        Class names in row order. From labels, defaults to the sorted classes of
        ``y_true`` and ``y_pred``; for a matrix, to ``0 .. n_classes - 1``.
    normalize : {"true", "pred", "all"} or None, default="true"
        Colour and proportion by row (recall), by column (precision), by the grand
        total, or, with None, show raw counts only.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure is created when None.
    title : str, default=None
        Axes title.
    cmap : str or matplotlib colormap, default="Blues"
        Colour map of the cells.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The Axes drawn on. Nothing is shown: call ``plt.show()`` or
        ``ax.figure.savefig(...)`` yourself.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_ser.metrics import plot_confusion_matrix
    >>> ax = plot_confusion_matrix(["anger", "sadness"], ["anger", "anger"])
    >>> ax.get_xlabel()
    'Predicted label'
    """
    if normalize not in _NORMALIZE_OPTIONS:
        raise ValueError(
            f"normalize must be one of 'true', 'pred', 'all' or None; got {normalize!r}."
        )
    # Imported here so that `import sklearn_ser.metrics` stays fast and headless-safe.
    import matplotlib.pyplot as plt

    counts, labels = _counts_and_labels(cm_or_y_true, y_pred, labels)
    shown = _normalize(counts, normalize)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.7 * len(labels)))

    vmax = 1.0 if normalize is not None else max(float(shown.max()), 1.0)
    image = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=vmax)
    ax.figure.colorbar(image, ax=ax)
    for i in range(shown.shape[0]):
        for j in range(shown.shape[1]):
            text = f"{int(counts[i, j])}"
            if normalize is not None:
                text = f"{shown[i, j]:.2f}\n({text})"
            # Light text on dark cells keeps every number readable.
            colour = "white" if shown[i, j] > 0.5 * vmax else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=8)

    names = [str(label) for label in labels]
    ax.set_xticks(np.arange(len(names)), labels=names, rotation=45, ha="right")
    ax.set_yticks(np.arange(len(names)), labels=names)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    if title is not None:
        ax.set_title(title)
    return ax
