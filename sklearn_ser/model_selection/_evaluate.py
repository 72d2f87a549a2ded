"""Speaker-independent evaluation of any estimator: one call, one report.

``evaluate`` is ``cross_val_predict`` with the habits of emotion research built in: it refuses
splits that share a speaker, keeps inner cross-validation speaker-grouped, pools out-of-fold
predictions into UAR / WA / F1, and puts a speaker-bootstrap interval around the UAR. For a
continuous target (arousal, valence, intensity) or a regressor it reports CCC, Pearson's r and
MAE instead, with the same speaker bootstrap (:class:`RegressionReport`).
"""

import copy
import inspect
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import config_context, get_config
from sklearn.base import clone, is_regressor
from sklearn.model_selection import (
    GroupKFold,
    GroupShuffleSplit,
    LeaveOneGroupOut,
    LeavePGroupsOut,
    StratifiedGroupKFold,
)
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, mean_absolute_error
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_consistent_length
from tqdm.auto import tqdm

from .._validation import check_labels
from ..exceptions import SklearnSerWarning
from ..metrics import (
    concordance_correlation_coefficient,
    continuous_confidence_intervals,
    continuous_scores_by_speaker,
    emotion_report,
    scores_by_speaker,
    uar_confidence_interval,
    unweighted_average_recall,
)
from ..metrics import plot_confusion_matrix as _plot_confusion_matrix
from ..utils import check_speakers, estimator_sr, requested_metadata, requests_groups
from ..utils._compat import _safe_indexing
from ._split import check_speaker_independence, make_cv


@dataclass(eq=False, repr=False)
class EvaluationReport:
    """Results of :func:`evaluate`: pooled figures, per-fold, per-speaker and per-class tables.

    Every array holds one entry per out-of-fold prediction, in the original sample
    order (``indices`` gives the position of each in X).

    Attributes
    ----------
    labels : ndarray of shape (n_classes,)
        Sorted classes; the row and column order of ``confusion_matrix``.
    y_true : ndarray of shape (n_predictions,)
        True labels.
    y_pred : ndarray of shape (n_predictions,)
        Out-of-fold predictions.
    groups : ndarray of shape (n_predictions,)
        Speaker of each prediction.
    fold : ndarray of shape (n_predictions,)
        Fold (0-based) in which each sample was tested.
    indices : ndarray of shape (n_predictions,)
        Position of each prediction in X; ``arange(n_samples)`` when every sample
        was tested once.
    uar : float
        Unweighted average recall of the pooled predictions.
    wa : float
        Weighted accuracy (plain accuracy) of the pooled predictions.
    macro_precision, macro_recall, macro_f1 : float
        Macro averages over the classes of ``y_true``.
    uar_ci_low, uar_ci_high : float
        Speaker-bootstrap interval of ``uar`` (NaN with a single test speaker).
    confidence : float
        Coverage of that interval.
    per_fold : pandas.DataFrame
        Columns ``fold, test_speakers, n_train, n_test, uar, wa, macro_f1,
        fit_seconds, predict_seconds``.
    per_speaker : pandas.DataFrame
        Columns ``speaker, n, uar, wa``, sorted by speaker.
    per_class : pandas.DataFrame
        :func:`~sklearn_ser.metrics.emotion_report` of the pooled predictions.
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Counts; rows are true labels, columns predictions, both in ``labels`` order.
    fit_seconds : float
        Fit time summed over folds.
    n_folds : int
        Number of folds.
    estimators : list of estimator or None
        The fitted estimator of each fold, with ``return_estimators=True``.
    y_proba : ndarray of shape (n_predictions, n_classes) or None
        Out-of-fold class probabilities in ``labels`` order, when the estimator has
        ``predict_proba``.
    conditions : pandas.DataFrame or None
        With ``evaluate(..., test_snr=...)`` or ``test_gain=...``: one row per test condition
        (``clean``, ``snr20``, ``babble10``, ``gain-20``, ...; see :func:`evaluate`) with
        columns ``condition, noise, snr_db, gain_db, uar, wa, macro_f1, agreement``.
        ``noise`` is ``"white"``, ``"pink"``, ``"brown"``, ``"babble"``, ``"gain"``,
        ``"zeros"`` (padding), or ``"none"`` for the clean row; ``snr_db`` is ``inf`` for
        the clean, gain and padding rows (None in ``to_dict``), ``gain_db`` 0 for the clean,
        noise and padding rows; ``agreement`` is the fraction of clips whose prediction
        equals their clean one.
    uar_by_condition : dict of str to float or None
        ``{"clean": uar, "snr20": ..., ...}``, in the order of ``conditions``.
    y_pred_by_condition : dict of str to ndarray or None
        Out-of-fold predictions of each corrupted condition, in the order of ``y_true``.
    """

    labels: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    groups: np.ndarray
    fold: np.ndarray
    indices: np.ndarray
    uar: float
    wa: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    uar_ci_low: float
    uar_ci_high: float
    confidence: float
    per_fold: pd.DataFrame
    per_speaker: pd.DataFrame
    per_class: pd.DataFrame
    confusion_matrix: np.ndarray
    fit_seconds: float
    n_folds: int
    estimators: list | None = None
    y_proba: np.ndarray | None = field(default=None)
    conditions: pd.DataFrame | None = None
    uar_by_condition: dict | None = None
    y_pred_by_condition: dict | None = None

    @property
    def n_speakers(self):
        """Number of distinct speakers that were tested."""
        return len(self.per_speaker)

    def __repr__(self):
        return (
            f"EvaluationReport(uar={self.uar:.4f}, wa={self.wa:.4f}, "
            f"n_folds={self.n_folds}, n_speakers={self.n_speakers}, "
            f"n_predictions={len(self.y_true)})"
        )

    def summary(self):
        """Return a short multi-line text with the headline figures.

        Returns
        -------
        text : str
        """
        speakers = self.per_speaker.sort_values("uar")
        worst, best = speakers.iloc[0], speakers.iloc[-1]
        recalls = ", ".join(
            f"{label} {self.per_class.loc[label, 'recall']:.2f}"
            for label in self.per_class.index[:-2]
        )
        lines = [
            f"UAR {self.uar:.3f} ({self.confidence:.0%} CI {_fmt(self.uar_ci_low)}-"
            f"{_fmt(self.uar_ci_high)}, speaker bootstrap) | WA {self.wa:.3f} | "
            f"macro F1 {self.macro_f1:.3f}",
            f"{len(self.y_true)} predictions, {self.n_speakers} speakers, "
            f"{self.n_folds} folds, fit {self.fit_seconds:.1f} s in total",
            f"Per-speaker UAR: worst {worst['uar']:.3f} ({worst['speaker']}), "
            f"median {speakers['uar'].median():.3f}, best {best['uar']:.3f} "
            f"({best['speaker']})",
            f"Recall per class: {recalls}",
        ]
        if self.uar_by_condition:
            lines.append("UAR per test condition: " + ", ".join(
                f"{name} {uar:.3f}" for name, uar in self.uar_by_condition.items()
            ))
        return "\n".join(lines)

    def to_dict(self):
        """Return the figures as plain Python objects, ready for ``json.dumps``.

        NaN becomes None and numpy scalars become Python numbers. The per-sample
        arrays and the estimators are left out.

        Returns
        -------
        figures : dict
        """
        per_class = self.per_class.reset_index().rename(columns={"emotion": "label"})
        figures = {
            "uar": self.uar,
            "wa": self.wa,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "macro_f1": self.macro_f1,
            "uar_ci_low": self.uar_ci_low,
            "uar_ci_high": self.uar_ci_high,
            "confidence": self.confidence,
            "n_predictions": len(self.y_true),
            "n_speakers": self.n_speakers,
            "n_folds": self.n_folds,
            "fit_seconds": self.fit_seconds,
            "labels": self.labels,
            "confusion_matrix": self.confusion_matrix,
            "per_class": per_class.to_dict(orient="records"),
            "per_fold": self.per_fold.to_dict(orient="records"),
            "per_speaker": self.per_speaker.to_dict(orient="records"),
        }
        if self.conditions is not None:
            figures["uar_by_condition"] = self.uar_by_condition
            # JSON has no infinity: the clean and gain rows (no noise) get snr_db None.
            figures["conditions"] = _condition_records(self.conditions)
        return _to_builtin(figures)

    def plot_confusion_matrix(self, ax=None, normalize="true", title=None):
        """Plot the pooled confusion matrix.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure is created when None.
        normalize : {"true", "pred", "all"} or None, default="true"
            See :func:`sklearn_ser.metrics.plot_confusion_matrix`.
        title : str, default=None
            Axes title; by default the UAR and WA.

        Returns
        -------
        ax : matplotlib.axes.Axes
        """
        if title is None:
            title = f"UAR {self.uar:.3f} | WA {self.wa:.3f}"
        return _plot_confusion_matrix(
            self.confusion_matrix,
            labels=self.labels,
            normalize=normalize,
            ax=ax,
            title=title,
        )


@dataclass(eq=False, repr=False)
class RegressionReport:
    """Results of :func:`evaluate` on a continuous target: CCC, Pearson's r and MAE.

    Every array holds one entry per out-of-fold prediction, in the original sample order.

    Attributes
    ----------
    y_true, y_pred : ndarray of shape (n_predictions,)
        True values and out-of-fold predictions.
    groups, fold, indices : ndarray of shape (n_predictions,)
        Speaker, fold (0-based) and position in X of each prediction.
    ccc : float
        Lin's concordance correlation coefficient of the pooled predictions.
    pearson : float
        Pearson's r of the pooled predictions (NaN when either side is constant).
    mae : float
        Mean absolute error, in the target's units.
    ccc_ci_low, ccc_ci_high, pearson_ci_low, pearson_ci_high, mae_ci_low, mae_ci_high : float
        Speaker-bootstrap intervals (NaN with a single test speaker).
    confidence : float
        Coverage of those intervals.
    per_fold : pandas.DataFrame
        Columns ``fold, test_speakers, n_train, n_test, ccc, pearson, mae, fit_seconds,
        predict_seconds``.
    per_speaker : pandas.DataFrame
        Columns ``speaker, n, ccc, pearson, mae``, sorted by speaker. A speaker's CCC is
        over their own clips only, so it is low where their ratings hardly vary.
    fit_seconds : float
        Fit time summed over folds.
    n_folds : int
        Number of folds.
    estimators : list of estimator or None
        The fitted estimator of each fold, with ``return_estimators=True``.
    conditions : pandas.DataFrame or None
        With test conditions (``test_snr``, ``test_gain``, ``test_padding``): one row per
        condition with columns ``condition, noise, snr_db, gain_db, ccc, pearson, mae``.
    ccc_by_condition : dict of str to float or None
        ``{"clean": ccc, "snr20": ..., ...}``.
    y_pred_by_condition : dict of str to ndarray or None
        Out-of-fold predictions of each corrupted condition.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    groups: np.ndarray
    fold: np.ndarray
    indices: np.ndarray
    ccc: float
    pearson: float
    mae: float
    ccc_ci_low: float
    ccc_ci_high: float
    pearson_ci_low: float
    pearson_ci_high: float
    mae_ci_low: float
    mae_ci_high: float
    confidence: float
    per_fold: pd.DataFrame
    per_speaker: pd.DataFrame
    fit_seconds: float
    n_folds: int
    estimators: list | None = None
    conditions: pd.DataFrame | None = None
    ccc_by_condition: dict | None = None
    y_pred_by_condition: dict | None = None

    @property
    def n_speakers(self):
        """Number of distinct speakers that were tested."""
        return len(self.per_speaker)

    def __repr__(self):
        return (
            f"RegressionReport(ccc={self.ccc:.4f}, pearson={self.pearson:.4f}, "
            f"mae={self.mae:.4f}, n_folds={self.n_folds}, n_speakers={self.n_speakers}, "
            f"n_predictions={len(self.y_true)})"
        )

    def summary(self):
        """Return a short multi-line text with the headline figures.

        Returns
        -------
        text : str
        """
        speakers = self.per_speaker.sort_values("ccc", na_position="first")
        worst, best = speakers.iloc[0], speakers.iloc[-1]
        ci = f"{self.confidence:.0%} CI"
        lines = [
            f"CCC {self.ccc:.3f} ({ci} {_fmt(self.ccc_ci_low)}-{_fmt(self.ccc_ci_high)}, "
            f"speaker bootstrap) | Pearson r {_fmt(self.pearson)} ({ci} "
            f"{_fmt(self.pearson_ci_low)}-{_fmt(self.pearson_ci_high)}) | MAE "
            f"{self.mae:.3f} ({ci} {_fmt(self.mae_ci_low)}-{_fmt(self.mae_ci_high)})",
            f"{len(self.y_true)} predictions, {self.n_speakers} speakers, "
            f"{self.n_folds} folds, fit {self.fit_seconds:.1f} s in total",
            f"Per-speaker CCC: worst {_fmt(worst['ccc'])} ({worst['speaker']}), "
            f"median {_fmt(speakers['ccc'].median())}, best {_fmt(best['ccc'])} "
            f"({best['speaker']})",
        ]
        if self.ccc_by_condition:
            lines.append("CCC per test condition: " + ", ".join(
                f"{name} {_fmt(value)}" for name, value in self.ccc_by_condition.items()
            ))
        return "\n".join(lines)

    def to_dict(self):
        """Return the figures as plain Python objects, ready for ``json.dumps``.

        Returns
        -------
        figures : dict
        """
        figures = {
            name: getattr(self, name)
            for name in ("ccc", "pearson", "mae", "ccc_ci_low", "ccc_ci_high", "pearson_ci_low",
                         "pearson_ci_high", "mae_ci_low", "mae_ci_high", "confidence")
        }
        figures.update(
            n_predictions=len(self.y_true), n_speakers=self.n_speakers, n_folds=self.n_folds,
            fit_seconds=self.fit_seconds,
            per_fold=self.per_fold.to_dict(orient="records"),
            per_speaker=self.per_speaker.to_dict(orient="records"),
        )
        if self.conditions is not None:
            figures["ccc_by_condition"] = self.ccc_by_condition
            figures["conditions"] = _condition_records(self.conditions)
        return _to_builtin(figures)

    def plot_predictions(self, ax=None, title=None):
        """Scatter the out-of-fold predictions against the true values.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure is created when None.
        title : str, default=None
            Axes title; by default the CCC and MAE.

        Returns
        -------
        ax : matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(self.y_true, self.y_pred, s=8, alpha=0.5)
        low = float(min(self.y_true.min(), self.y_pred.min()))
        high = float(max(self.y_true.max(), self.y_pred.max()))
        ax.plot([low, high], [low, high], color="grey", linewidth=1)  # perfect agreement
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
        ax.set_title(title or f"CCC {self.ccc:.3f} | MAE {self.mae:.3f}")
        return ax


def _fmt(value):
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"


def _to_builtin(value):
    """Recursively turn numpy and pandas values into JSON-friendly Python objects."""
    if isinstance(value, Mapping):
        return {str(_to_builtin(k)): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [_to_builtin(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_to_builtin(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def evaluate(
    estimator,
    X,
    y,
    *,
    groups,
    cv="loso",
    n_jobs=None,
    verbose=0,
    fit_params=None,
    return_estimators=False,
    confidence=0.95,
    n_bootstraps=1000,
    random_state=0,
    test_snr=None,
    test_noise="white",
    test_gain=None,
    test_padding=None,
):
    """Evaluate an estimator speaker-independently and report UAR, WA, F1 and more.

    Each fold fits a clone of ``estimator`` on the training speakers and predicts the
    test speakers; the out-of-fold predictions are pooled into the report. Splits that
    put a speaker on both sides are refused before anything is fitted.

    Parameters
    ----------
    estimator : estimator object
        Anything with ``fit`` and ``predict``: a classifier, a Pipeline, a
        ``GridSearchCV``. X can be any container the estimator accepts (a list of
        clips, an object array, a 2-D array or a DataFrame).
    X : array-like, list or DataFrame of n_samples entries
        Samples.
    y : array-like of shape (n_samples,)
        Emotion labels, or a continuous target (floats such as arousal, valence or
        intensity). A continuous target, or an estimator that is a regressor
        (``sklearn.base.is_regressor``), gives a :class:`RegressionReport`; float labels
        with whole values only (``0.0``, ``1.0``) are classes for a classifier.
    groups : array-like of shape (n_samples,)
        Speaker id of each sample. Required: without speaker ids, an evaluation
        cannot be speaker-independent.
    cv : {"loso", "kfold:N"}, int, cross-validator or iterable, default="loso"
        How to split; see :func:`make_cv`. Test sides must not overlap.
    n_jobs : int, default=None
        Folds run in parallel with joblib; None means 1 unless in a
        ``joblib.parallel_config`` context, -1 means all processors.
    verbose : int, default=0
        Show a progress bar over folds when > 0.
    fit_params : dict, default=None
        Extra arguments to ``estimator.fit``. Values with one entry per sample (such
        as ``sample_weight``) are cut to the training part of each fold. A step that
        cannot fit without metadata it asks for (the ``categories`` of a
        ``CategoryStackingRegressor``) is refused before the first fold when they are missing.
    return_estimators : bool, default=False
        Keep the fitted estimator of each fold in the report.
    confidence : float, default=0.95
        Coverage of the speaker-bootstrap interval around the UAR.
    n_bootstraps : int, default=1000
        Speaker resamples of that interval.
    random_state : int, RandomState instance or None, default=0
        Seeds the bootstrap and the test noise of ``test_snr``; the estimator's own
        ``random_state`` governs fitting.
    test_snr : sequence of float or None, default=None
        Robustness conditions: for each SNR (dB) and each noise of ``test_noise`` the fitted
        estimator of every fold also predicts that fold's test clips with that noise added
        at that SNR (the power of the clip over that of the noise,
        :func:`sklearn_ser.augmentation.add_noise`), clipped to [-1, 1]. Training clips are
        never touched. X must then be clips. Results are in ``report.conditions`` and
        ``report.uar_by_condition``; the headline figures stay those of the clean clips.
    test_noise : str or sequence of str, default="white"
        The noises of ``test_snr``, from ``"white"``, ``"pink"``, ``"brown"`` and
        ``"babble"``; every SNR is run with every noise. White, pink (1/f) and brown (1/f^2)
        are Gaussian noises. Babble is the sum of five talkers
        (:func:`~sklearn_ser.augmentation.make_babble`) drawn from **the fold's training
        clips only**, so it is always other speakers and never the test speaker's own voice;
        each test clip gets its own babble. The noise is seeded from ``random_state``, the
        fold, the SNR and the noise, so every estimator meets the same noise.
    test_gain : sequence of float or None, default=None
        Level conditions: for each gain (dB) the test clips are also predicted multiplied by
        ``10 ** (gain / 20)`` and clipped to [-1, 1]. A negative gain makes them quieter; a
        positive gain that pushes samples past full scale saturates them, as an overdriven
        recording does (the "gain that clips" case).
    test_padding : sequence of float or None, default=None
        Digital-silence conditions: for each duration (seconds) the test clips are also
        predicted with that much exact silence (zeros) before and after them, as
        ``FixedDuration`` padding or a recording with gaps gives. The condition's
        ``agreement`` (see Returns) says how often the prediction stayed that of the
        unpadded clip.

    Returns
    -------
    report : EvaluationReport or RegressionReport
        Pooled figures, per-fold, per-speaker and per-class tables, the confusion
        matrix and the out-of-fold predictions; for a continuous target CCC, Pearson's r
        and MAE with their speaker-bootstrap intervals, per fold and per speaker. With a
        continuous target, ``cv="kfold:N"`` stratifies the speaker-grouped folds by the
        target's quintiles.

    Raises
    ------
    SpeakerLeakageError
        When a split puts one speaker on both the training and the test side.
    ValueError
        When ``groups`` is None or does not match X, or test sides overlap, or
        ``test_snr``, ``test_noise`` or ``test_gain`` is malformed; when the labels are
        missing (NaN, None), of mixed types (numbers and strings), of only one class, or a
        fold's training side has only one class. Labels and splits are checked before any
        fold is fitted.

    Warns
    -----
    SklearnSerWarning
        When a fold's training side lacks a class that its test side has: that fold's model
        cannot predict the class, so its clips of that class count as errors (evaluate goes
        on; the warning names each such fold and class).

    Notes
    -----
    The training speakers' ids are passed to ``estimator.fit(..., groups=...)`` when
    the estimator takes them: when ``fit`` has a ``groups`` parameter, when it is a
    hyper-parameter search (``GridSearchCV``, ``RandomizedSearchCV``, ...), or, with
    ``sklearn.set_config(enable_metadata_routing=True)``, when something inside it
    requests ``groups`` (for instance a Pipeline ending in a GridSearchCV with a
    GroupKFold). Inner cross-validation then stays speaker-grouped too. A search whose
    own ``cv`` ignores groups (``cv=5``, ``KFold``) makes sklearn warn "The groups
    parameter is ignored by ...": its hyper-parameter choice then sees speakers on both
    sides, although the outer figures stay speaker-independent.

    The test conditions are named ``snr20`` for white noise at 20 dB (the name from before
    other noises existed), ``pink20``, ``brown10``, ``babble0``, ``babble-5`` for the other
    noises, and ``gain-20``, ``gain+20`` for gains (the sign is always written), after the
    ``clean`` condition, in the order noise by noise, SNR by SNR, then the gains.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_ser.model_selection import evaluate
    >>> X, y = make_classification(n_samples=120, n_classes=3, n_informative=4,
    ...                            random_state=0)
    >>> speakers = np.repeat(np.arange(6), 20)
    >>> report = evaluate(LogisticRegression(), X, y, groups=speakers)
    >>> report.n_folds
    6
    >>> 0.0 <= report.uar <= 1.0
    True
    """
    _check_estimator(estimator)
    continuous = _is_continuous(estimator, y)
    # Labels first: mixed types or a single class must not wait for feature extraction.
    y = _check_continuous_target(y) if continuous else check_labels(y, owner="evaluate")
    groups = check_speakers(groups, "evaluate", n_samples=len(y), min_speakers=2)
    check_consistent_length(X, y, groups)
    fit_params = _check_fit_params(fit_params)
    _check_required_fit_metadata(estimator, fit_params)

    splitter = make_cv(cv)
    # Stratified folds need classes: a continuous target is split by its quintiles.
    splits = check_speaker_independence(splitter, X, _quantile_bins(y) if continuous else y,
                                        groups)
    _check_tests_disjoint(splits, len(y))
    if not continuous:
        _check_fold_classes(splits, y, groups)
    noisy = _test_conditions(test_snr, test_noise, test_gain, random_state, len(splits),
                             test_padding=test_padding, sr=estimator_sr(estimator))

    # Steps that ask for the speakers (SpeakerNormalizer at predict time, a network for its
    # early-stopping split in fit) need sklearn's metadata routing; it is switched on for this
    # call only, and only when they exist.
    predict_groups = requests_groups(estimator, "predict")
    routing = (get_config()["enable_metadata_routing"] or predict_groups
               or requests_groups(estimator, "fit"))
    with config_context(enable_metadata_routing=routing):
        pass_groups = _fit_accepts_groups(estimator)
        want_proba = not continuous and hasattr(estimator, "predict_proba")
        tasks = (
            delayed(_fit_and_predict)(
                clone(estimator), X, y, groups, train, test, fit_params, pass_groups,
                want_proba, predict_groups, noisy_conditions=noisy[i],
            )
            for i, (train, test) in enumerate(splits)
        )
        # A generator keeps fold order and lets the bar advance as each fold finishes.
        results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
        results = list(
            tqdm(results, total=len(splits), disable=verbose <= 0, desc="evaluate", unit="fold")
        )
    build = _build_regression_report if continuous else _build_report
    return build(
        results,
        splits,
        y,
        groups,
        conditions=noisy[0] if splits else (),
        return_estimators=return_estimators,
        confidence=confidence,
        n_bootstraps=n_bootstraps,
        random_state=random_state,
    )


def _check_estimator(estimator):
    if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
        raise TypeError(
            f"evaluate needs an estimator with fit and predict; got "
            f"{type(estimator).__name__}. Pass a classifier, a Pipeline ending in one, "
            "or a GridSearchCV."
        )
    _warn_ungrouped_search(estimator)


# Splitters that keep each group (speaker) on one side of every split.
_GROUP_SPLITTERS = (GroupKFold, GroupShuffleSplit, LeaveOneGroupOut, LeavePGroupsOut,
                    StratifiedGroupKFold)


def _warn_ungrouped_search(estimator):
    """Warn when a search's inner CV ignores speakers (its tuning then sees test speakers)."""
    if not _is_search_cv(estimator):
        return
    inner = estimator.cv
    if isinstance(inner, _GROUP_SPLITTERS):
        return
    warnings.warn(
        f"The inner cv of {type(estimator).__name__} ({inner!r}) does not split by speaker, "
        "so its tuning compares parameters on clips of speakers it trained on and favours "
        "them optimistically. Use cv=SpeakerStratifiedKFold(...) or GroupKFold(...); "
        "evaluate hands it the training speakers.",
        SklearnSerWarning,
        stacklevel=3,
    )


def _check_fold_classes(splits, y, groups):
    """Check each training side's classes before anything is fitted.

    A training side with only one class cannot be fitted: an error. A training side that
    lacks a class its test side has gives a model that can never predict that class: those
    test clips count as errors, which is the honest figure for such a split, so evaluate goes
    on and warns once, naming each such fold.
    """
    short = []
    for i, (train, test) in enumerate(splits):
        trained = np.unique(y[train]).tolist()  # plain values: their repr is the label's
        speakers = np.unique(groups[test]).tolist()[:10]
        if len(trained) < 2:
            found = f"only one class ({trained[0]!r})" if len(trained) else "no clips"
            raise ValueError(
                f"evaluate: the training side of fold {i} (testing speakers {speakers}) has "
                f"{found}, so no classifier can be fitted on it. Use a splitter with fewer, "
                "larger folds (cv='kfold:N'), or check the labels."
            )
        missing = np.setdiff1d(np.unique(y[test]), trained)
        if missing.size:
            short.append(f"fold {i} (testing speakers {speakers}) lacks {missing.tolist()}")
    if short:
        warnings.warn(
            "Some training folds lack a class that their test clips have, so their models "
            f"cannot predict it and those clips count as errors: {'; '.join(short)}. Every "
            "class needs clips from more than one speaker; merge or drop the rare classes for "
            "a fair comparison.",
            SklearnSerWarning,
            stacklevel=3,
        )


def _check_fit_params(fit_params):
    if fit_params is None:
        return {}
    if not isinstance(fit_params, Mapping):
        raise TypeError(
            f"fit_params must be a dict of fit arguments; got {type(fit_params).__name__}."
        )
    if "groups" in fit_params:
        raise ValueError(
            "fit_params must not contain 'groups': evaluate passes each fold's training "
            "speakers to fit itself. Pass speaker ids as evaluate(..., groups=...)."
        )
    return dict(fit_params)


#: Metadata that a step cannot fit without once it asks for it: ``categories``, the emotion
#: category a ``CategoryStackingRegressor`` stacks beside the features.
_REQUIRED_FIT_METADATA = ("categories",)


def _check_required_fit_metadata(estimator, fit_params):
    """Refuse, before any fold, an estimator that asks for metadata its ``fit`` cannot do
    without when ``fit_params`` lacks it: otherwise the first fold would fail only after
    its features were extracted."""
    missing = sorted(requested_metadata(estimator, "fit", _REQUIRED_FIT_METADATA)
                     - set(fit_params))
    if missing:
        name = missing[0]
        raise ValueError(
            f"The estimator asks for {name!r} in fit, and evaluate got none: pass "
            f"fit_params={{{name!r}: values}} with one value per clip (for 'categories', "
            "the emotion label of every clip); evaluate cuts it to each fold's training "
            "clips.")


def _check_tests_disjoint(splits, n_samples):
    tested = np.bincount(
        np.concatenate([test for _, test in splits]), minlength=n_samples
    )
    repeated = np.flatnonzero(tested > 1)
    if repeated.size:
        raise ValueError(
            f"Samples {repeated[:10].tolist()} are in the test side of more than one "
            "fold, but evaluate keeps one out-of-fold prediction per sample. Use a "
            "splitter whose test sides do not overlap, such as LeaveOneSpeakerOut, "
            "SpeakerStratifiedKFold or GroupKFold."
        )


def _is_search_cv(estimator):
    # BaseSearchCV is private in sklearn; matching the name covers GridSearchCV,
    # RandomizedSearchCV and the Halving searches without importing it.
    return any(cls.__name__ == "BaseSearchCV" for cls in type(estimator).__mro__)


def _fit_accepts_groups(estimator):
    """Whether ``estimator.fit`` takes the training speakers as ``groups=``."""
    try:
        if "groups" in inspect.signature(estimator.fit).parameters:
            return True
    except (TypeError, ValueError):  # signature unavailable (C extension, ...)
        pass
    if get_config()["enable_metadata_routing"]:
        # With routing on, pass groups only where a consumer asked for it; passing it
        # unrequested makes sklearn raise.
        return requests_groups(estimator, "fit")
    # With routing off, searches pop groups from **params and give it to their splitter.
    return _is_search_cv(estimator)


def _fold_fit_params(fit_params, train, n_samples):
    """Cut per-sample fit arguments (``sample_weight``, ...) to the training part."""
    fold_params = {}
    for name, value in fit_params.items():
        per_sample = (
            hasattr(value, "__len__")
            and not isinstance(value, (str, bytes, Mapping))
            and len(value) == n_samples
        )
        fold_params[name] = _safe_indexing(value, train) if per_sample else value
    return fold_params


#: Noises of ``evaluate(..., test_noise=...)``.
_TEST_NOISES = ("white", "pink", "brown", "babble")


@dataclass(frozen=True)
class _TestCondition:
    """One corrupted copy of a fold's test clips: a noise at an SNR, or a gain."""

    name: str
    noise: str  # one of _TEST_NOISES, "gain" or "zeros"
    snr_db: float = math.inf
    gain_db: float = 0.0
    seed: tuple = ()
    padding: int = 0  # samples of zeros before and after each clip


def _check_db_values(values, name, example):
    """``values`` as a list of distinct finite floats (dB), or a clear ValueError."""
    try:
        floats = [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float))]
    except (TypeError, ValueError):
        floats = []
    if not floats or not all(math.isfinite(v) for v in floats) or len(set(floats)) != len(floats):
        raise ValueError(
            f"{name} must be a sequence of distinct finite values in dB, e.g. {example}; "
            f"got {values!r}."
        )
    return floats


def _check_test_noise(test_noise):
    """``test_noise`` as a list of distinct names from _TEST_NOISES."""
    noises = [test_noise] if isinstance(test_noise, str) else test_noise
    try:
        noises = list(noises)
    except TypeError:
        noises = []
    if (not noises or not all(isinstance(n, str) and n in _TEST_NOISES for n in noises)
            or len(set(noises)) != len(noises)):
        raise ValueError(
            f"test_noise must be one of {', '.join(map(repr, _TEST_NOISES))} or a sequence of "
            f"distinct ones; got {test_noise!r}."
        )
    return noises


def _test_conditions(test_snr, test_noise, test_gain, random_state, n_folds,
                     test_padding=None, sr=16000):
    """Per fold, the tuple of ``_TestCondition`` of ``test_snr`` x ``test_noise``, then
    ``test_gain``, then ``test_padding``."""
    noises = _check_test_noise(test_noise)
    snrs = [] if test_snr is None else _check_db_values(test_snr, "test_snr", "[20, 10, 0]")
    gains = [] if test_gain is None else _check_db_values(test_gain, "test_gain", "[-20, 20]")
    pads = [] if test_padding is None else _check_db_values(test_padding, "test_padding",
                                                            "[0.5]")
    if any(p <= 0 for p in pads):
        raise ValueError(f"test_padding must be durations in seconds > 0, e.g. [0.5]; got "
                         f"{test_padding!r}.")
    base = None
    if snrs:
        from sklearn.utils import check_random_state

        # A copy, so that drawing the noise seed does not move the bootstrap's stream.
        base = check_random_state(copy.deepcopy(random_state)).randint(2**31 - 1)
    folds = []
    for fold in range(n_folds):
        conditions = [
            _TestCondition(_condition_name(snr, noise), noise, snr_db=snr,
                           seed=_condition_seed(base, fold, j, noise))
            for noise in noises
            for j, snr in enumerate(snrs)
        ]
        conditions += [_TestCondition(_gain_name(g), "gain", gain_db=g) for g in gains]
        conditions += [_TestCondition(f"zeros{p:g}", "zeros", padding=int(round(p * sr)))
                       for p in pads]
        folds.append(tuple(conditions))
    names = [c.name for c in folds[0]] if folds else []
    # Names show 6 significant digits, so 1 and 1.0000001 would share one.
    if len(set(names)) != len(names):
        raise ValueError(f"test_snr and test_gain give test conditions of the same name: "
                         f"{names}; use values that differ in their first 6 digits.")
    return folds


def _condition_seed(base, fold, j, noise):
    # White noise keeps the seed it had before other noises existed, so its figures do not
    # change; the others add their noise, so each noise is the same whatever else is listed.
    if noise == "white":
        return (base, fold, j)
    return (base, fold, j, _TEST_NOISES.index(noise))


def _condition_name(snr, noise="white"):
    # White noise keeps the old name (and results key uar_snr20) for existing results.
    return f"snr{snr:g}" if noise == "white" else f"{noise}{snr:g}"


def _gain_name(gain_db):
    return f"gain{gain_db:+g}"


def _corrupt(X_test, snr, noise, seed, *, sources=None):
    """The test clips with noise at ``snr`` dB, one seeded stream per fold and condition.

    Babble is mixed anew for every clip from ``sources``, the fold's training clips.
    """
    from .._validation import check_clips
    from ..augmentation import BABBLE_TALKERS, add_noise, make_babble

    if noise == "babble" and sources is None:
        raise ValueError("babble test noise needs source clips (the fold's training clips).")
    rng = np.random.default_rng(seed)
    noisy = []
    for c in check_clips(X_test):
        kind = noise
        if noise == "babble":
            kind = make_babble(sources, len(c), n_talkers=BABBLE_TALKERS, random_state=rng)
        noisy.append(
            np.clip(add_noise(c, snr=snr, noise=kind, random_state=rng), -1.0, 1.0).astype(
                np.float32
            )
        )
    return noisy


def _amplify(X_test, gain_db):
    """The test clips scaled by ``gain_db`` and clipped to [-1, 1], as a saturated recording."""
    from .._validation import check_clips
    from ..augmentation import apply_gain

    return [
        np.clip(apply_gain(c, gain_db=gain_db), -1.0, 1.0).astype(np.float32)
        for c in check_clips(X_test)
    ]


def _zero_padded(X_test, n_zeros):
    """The test clips with ``n_zeros`` exact zeros before and after each."""
    from .._validation import check_clips

    zeros = np.zeros(n_zeros, dtype=np.float32)
    return [np.concatenate([zeros, np.asarray(c, dtype=np.float32), zeros])
            for c in check_clips(X_test)]


def _apply_condition(X_test, condition, sources):
    if condition.noise == "gain":
        return _amplify(X_test, condition.gain_db)
    if condition.noise == "zeros":
        return _zero_padded(X_test, condition.padding)
    return _corrupt(X_test, condition.snr_db, condition.noise, condition.seed, sources=sources)


def _fit_and_predict(estimator, X, y, groups, train, test, fit_params, pass_groups, want_proba,
                     predict_groups=False, *, noisy_conditions=()):
    """Fit one fold and predict its test part; runs in a joblib worker.

    With ``predict_groups`` the test speakers go to ``predict`` (and ``predict_proba``): a
    speaker normaliser then standardises each test speaker by that speaker's own clips.
    """
    params = _fold_fit_params(fit_params, train, len(y))
    if pass_groups:
        params["groups"] = groups[train]
    predict_params = {"groups": groups[test]} if predict_groups else {}
    try:
        start = time.perf_counter()
        estimator.fit(_safe_indexing(X, train), y[train], **params)
        fit_seconds = time.perf_counter() - start
        X_test = _safe_indexing(X, test)
        start = time.perf_counter()
        y_pred = np.asarray(estimator.predict(X_test, **predict_params))
        predict_seconds = time.perf_counter() - start
        proba = estimator.predict_proba(X_test, **predict_params) if want_proba else None
        # Babble is mixed from the training clips only: other speakers, never a test speaker.
        babble = any(c.noise == "babble" for c in noisy_conditions)
        sources = _safe_indexing(X, train) if babble else None
        noisy_pred = {
            condition.name: np.asarray(
                estimator.predict(_apply_condition(X_test, condition, sources), **predict_params)
            )
            for condition in noisy_conditions
        }
    except Exception as exc:
        # Say which fold failed without changing the exception type users catch.
        if hasattr(exc, "add_note"):  # Python >= 3.11
            exc.add_note(
                f"Raised in evaluate while fitting or predicting the fold that tests "
                f"speakers {np.unique(groups[test]).tolist()[:10]}."
            )
        raise
    return {
        "estimator": estimator,
        "y_pred": y_pred,
        "proba": proba,
        "classes": getattr(estimator, "classes_", None),
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "noisy_pred": noisy_pred,
    }


def _build_report(results, splits, y, groups, *, conditions=(), return_estimators,
                  **ci_params):
    """Pool the fold results into an EvaluationReport."""
    tests = np.concatenate([test for _, test in splits])
    order = np.argsort(tests, kind="stable")
    indices = tests[order]
    y_true = y[indices]
    y_pred = np.concatenate([r["y_pred"] for r in results])[order]
    fold = np.concatenate([np.full(len(test), i) for i, (_, test) in enumerate(splits)])[order]
    speakers = groups[indices]
    labels = np.unique(np.concatenate([y_true, y_pred]))

    per_class = emotion_report(y_true, y_pred)
    low, high = uar_confidence_interval(y_true, y_pred, speakers, **ci_params)
    conditions, by_condition = _condition_tables(results, conditions, order, y_true, y_pred)
    return EvaluationReport(
        labels=labels,
        y_true=y_true,
        y_pred=y_pred,
        groups=speakers,
        fold=fold,
        indices=indices,
        uar=unweighted_average_recall(y_true, y_pred),
        wa=float(accuracy_score(y_true, y_pred)),
        macro_precision=float(per_class.loc["macro avg", "precision"]),
        macro_recall=float(per_class.loc["macro avg", "recall"]),
        macro_f1=float(per_class.loc["macro avg", "f1"]),
        uar_ci_low=low,
        uar_ci_high=high,
        confidence=ci_params["confidence"],
        per_fold=_per_fold_table(results, splits, y, groups),
        per_speaker=_per_speaker_table(y_true, y_pred, speakers),
        per_class=per_class,
        confusion_matrix=confusion_matrix(y_true, y_pred, labels=labels),
        fit_seconds=float(sum(r["fit_seconds"] for r in results)),
        n_folds=len(splits),
        estimators=[r["estimator"] for r in results] if return_estimators else None,
        y_proba=_pooled_proba(results, labels, order),
        conditions=conditions,
        uar_by_condition=(
            None if conditions is None
            else dict(zip(conditions["condition"], conditions["uar"].astype(float)))
        ),
        y_pred_by_condition=by_condition,
    )


def _condition_tables(results, conditions, order, y_true, y_pred, figures=None,
                      as_predictions=np.asarray):
    """Pooled figures of the clean and each corrupted test condition (None without any).

    ``figures(y_true, pred)`` gives a row's figures (UAR, WA, macro-F1 and agreement with
    the clean predictions by default); ``as_predictions`` shapes one fold's predictions.
    """
    if not conditions or not results:
        return None, None
    if figures is None:
        def figures(y_true, pred):
            return {
                "uar": unweighted_average_recall(y_true, pred),
                "wa": float(accuracy_score(y_true, pred)),
                "macro_f1": float(
                    f1_score(y_true, pred, labels=np.unique(y_true), average="macro",
                             zero_division=0.0)
                ),
                "agreement": float(np.mean(pred == y_pred)),
            }
    by_condition = {
        c.name: np.concatenate([as_predictions(r["noisy_pred"][c.name])
                                for r in results])[order]
        for c in conditions
    }
    clean = _TestCondition("clean", "none")
    rows = [{"condition": c.name, "noise": c.noise, "snr_db": c.snr_db, "gain_db": c.gain_db,
             **figures(y_true, pred)}
            for c, pred in [(clean, y_pred), *zip(conditions, by_condition.values())]]
    return pd.DataFrame(rows), by_condition


def _condition_records(conditions):
    """The conditions table as JSON records: the clean and gain rows get snr_db None."""
    return [{**row, "snr_db": None if math.isinf(row["snr_db"]) else row["snr_db"]}
            for row in conditions.to_dict(orient="records")]


def _per_fold_table(results, splits, y, groups):
    rows = []
    for i, (result, (train, test)) in enumerate(zip(results, splits)):
        y_true, y_pred = y[test], result["y_pred"]
        rows.append(
            {
                "fold": i,
                "test_speakers": np.unique(groups[test]).tolist(),
                "n_train": len(train),
                "n_test": len(test),
                "uar": unweighted_average_recall(y_true, y_pred),
                "wa": float(accuracy_score(y_true, y_pred)),
                # Over the fold's true classes, as UAR: a speaker without a class should
                # not be charged a zero F1 for it.
                "macro_f1": float(
                    f1_score(
                        y_true, y_pred, labels=np.unique(y_true), average="macro",
                        zero_division=0.0,
                    )
                ),
                "fit_seconds": result["fit_seconds"],
                "predict_seconds": result["predict_seconds"],
            }
        )
    return pd.DataFrame(rows)


def _per_speaker_table(y_true, y_pred, speakers):
    scores = scores_by_speaker(y_true, y_pred, speakers)
    return pd.DataFrame({**scores, "speaker": scores["speaker"].tolist()})


def _pooled_proba(results, labels, order):
    """Stack fold probabilities into columns of ``labels``, or None if unavailable."""
    if any(r["proba"] is None or r["classes"] is None for r in results):
        return None
    blocks = []
    for r in results:
        # A fold that never saw a class has no column for it: its probability is 0.
        block = np.zeros((len(r["proba"]), len(labels)))
        block[:, np.searchsorted(labels, r["classes"])] = r["proba"]
        blocks.append(block)
    return np.concatenate(blocks)[order]


def _is_continuous(estimator, y):
    """Whether evaluate scores a continuous target: a regressor, or float targets that are
    not whole numbers (sklearn's ``type_of_target`` is ``"continuous"``)."""
    if is_regressor(estimator):
        return True
    try:
        return type_of_target(y) == "continuous"
    except ValueError:  # NaN or a ragged y: check_labels gives the message
        return False


def _check_continuous_target(y):
    """A continuous target as a 1-D float array, or a ValueError naming the bad value."""
    if y is None:
        raise ValueError("evaluate: the target y is required, one value per clip; got None.")
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    try:
        arr = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            "evaluate: a regressor needs a numeric target (arousal, valence, intensity ...); "
            f"got values such as {np.asarray(y, dtype=object)[:3].tolist()}. Pass floats, or "
            "a classifier for emotion labels."
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"evaluate: y must be 1-D, one value per clip; got shape {arr.shape}.")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(
            f"evaluate: y[{bad[0]}] is {arr[bad[0]]}; a continuous target must be finite. "
            f"{bad.size} clip(s) have no value: drop them (with their clips and speakers) "
            "before evaluating."
        )
    if np.unique(arr).size < 2:
        raise ValueError("evaluate: every clip has the same target value, so there is "
                         "nothing to predict and CCC is undefined.")
    return arr


def _quantile_bins(y, n_bins=5):
    """The quintile of each value: classes for a stratified splitter."""
    edges = np.quantile(y, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, y, side="right")


def _continuous_figures(y_true, y_pred):
    """CCC, Pearson's r and MAE, without warnings for a constant side (NaN instead)."""
    scores = continuous_scores_by_speaker(y_true, y_pred, np.zeros(len(y_true)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SklearnSerWarning)
        ccc = concordance_correlation_coefficient(y_true, y_pred)
    return {"ccc": ccc, "pearson": float(scores["pearson"][0]),
            "mae": float(mean_absolute_error(y_true, y_pred))}


def _build_regression_report(results, splits, y, groups, *, conditions=(), return_estimators,
                             confidence, n_bootstraps, random_state):
    """Pool the fold results of a continuous target into a RegressionReport."""
    tests = np.concatenate([test for _, test in splits])
    order = np.argsort(tests, kind="stable")
    indices = tests[order]
    y_true = y[indices]
    y_pred = np.concatenate([_float_predictions(r["y_pred"]) for r in results])[order]
    speakers = groups[indices]
    pooled = _continuous_figures(y_true, y_pred)
    intervals = continuous_confidence_intervals(
        y_true, y_pred, speakers, confidence=confidence, n_bootstraps=n_bootstraps,
        random_state=random_state)
    per_speaker = continuous_scores_by_speaker(y_true, y_pred, speakers)
    table, by_condition = _condition_tables(results, conditions, order, y_true, y_pred,
                                            figures=_continuous_figures,
                                            as_predictions=_float_predictions)
    return RegressionReport(
        y_true=y_true,
        y_pred=y_pred,
        groups=speakers,
        fold=np.concatenate([np.full(len(test), i)
                             for i, (_, test) in enumerate(splits)])[order],
        indices=indices,
        **pooled,
        **{f"{name}_ci_{end}": bound for name, (low, high) in intervals.items()
           for end, bound in (("low", low), ("high", high))},
        confidence=confidence,
        per_fold=pd.DataFrame([
            {"fold": i, "test_speakers": np.unique(groups[test]).tolist(),
             "n_train": len(train), "n_test": len(test),
             **_continuous_figures(y[test], _float_predictions(r["y_pred"])),
             "fit_seconds": r["fit_seconds"], "predict_seconds": r["predict_seconds"]}
            for i, (r, (train, test)) in enumerate(zip(results, splits))
        ]),
        per_speaker=pd.DataFrame({**per_speaker, "speaker": per_speaker["speaker"].tolist()}),
        fit_seconds=float(sum(r["fit_seconds"] for r in results)),
        n_folds=len(splits),
        estimators=[r["estimator"] for r in results] if return_estimators else None,
        conditions=table,
        ccc_by_condition=(None if table is None
                          else dict(zip(table["condition"], table["ccc"].astype(float)))),
        y_pred_by_condition=by_condition,
    )


def _float_predictions(pred):
    return np.asarray(pred, dtype=float).ravel()
