"""Speaker-independent splitters and the check that no speaker leaks across a split.

An emotion model tested on a speaker it was trained on learns the voice, not the emotion,
and reports figures that do not hold for new speakers. Every splitter here keeps each
speaker on one side, and :func:`check_speaker_independence` proves it for any splitter.
"""

import numbers
from collections.abc import Iterable

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedGroupKFold, check_cv

from ..exceptions import SpeakerLeakageError
from ..utils import check_speakers


class LeaveOneSpeakerOut(LeaveOneGroupOut):
    """Leave-one-speaker-out (LOSO) cross-validator.

    Each fold tests on every clip of one speaker and trains on all the others, the
    standard protocol for speaker-independent emotion recognition. It is
    :class:`sklearn.model_selection.LeaveOneGroupOut` with speaker ids required and
    explained when missing; it works in ``cross_validate`` and ``GridSearchCV``
    wherever ``groups=`` is passed (or routed).

    Notes
    -----
    Folds are ordered by sorted speaker id.

    See Also
    --------
    SpeakerStratifiedKFold : Fewer folds, several speakers per test side.
    check_speaker_independence : Verify that any splitter keeps speakers apart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.model_selection import LeaveOneSpeakerOut
    >>> X = np.zeros((4, 1)); y = ["anger", "sadness", "anger", "sadness"]
    >>> speakers = ["s1", "s1", "s2", "s2"]
    >>> cv = LeaveOneSpeakerOut()
    >>> cv.get_n_splits(groups=speakers)
    2
    >>> [test.tolist() for _, test in cv.split(X, y, groups=speakers)]
    [[0, 1], [2, 3]]
    """

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of folds: the number of distinct speakers.

        Parameters
        ----------
        X : object, default=None
            Ignored.
        y : object, default=None
            Ignored.
        groups : array-like of shape (n_samples,)
            Speaker id of each sample. Required.

        Returns
        -------
        n_splits : int
        """
        groups = check_speakers(groups, "LeaveOneSpeakerOut.get_n_splits")
        return len(np.unique(groups))

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, one fold per speaker.

        Parameters
        ----------
        X : array-like or list of shape (n_samples, ...)
            Samples; only their number is used, so a list of clips works.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,)
            Speaker id of each sample. Required.

        Yields
        ------
        train : ndarray of int
            Training indices of the fold.
        test : ndarray of int
            Test indices: every sample of one speaker.
        """
        # Checked here, before the generator starts, so the error points at the call.
        groups = check_speakers(groups, "LeaveOneSpeakerOut.split", min_speakers=2)
        return super().split(X, y, groups)


class SpeakerStratifiedKFold(StratifiedGroupKFold):
    """K-fold cross-validator with whole speakers per fold, stratified by emotion.

    Each speaker lands in exactly one test fold, and folds are balanced in emotion
    classes as far as whole speakers allow. Built on
    :class:`sklearn.model_selection.StratifiedGroupKFold`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; at least 2 and at most the number of speakers.
    shuffle : bool, default=False
        Shuffle speakers before assigning them to folds.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle; set it only with ``shuffle=True``.

    See Also
    --------
    LeaveOneSpeakerOut : One fold per speaker.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.model_selection import SpeakerStratifiedKFold
    >>> y = np.tile(["anger", "sadness"], 6)
    >>> speakers = np.repeat(["s1", "s2", "s3"], 4)
    >>> cv = SpeakerStratifiedKFold(n_splits=3)
    >>> sorted(len(test) for _, test in cv.split(np.zeros((12, 1)), y, speakers))
    [4, 4, 4]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X, y, groups=None):
        """Generate train and test indices with whole speakers on each side.

        Parameters
        ----------
        X : array-like or list of shape (n_samples, ...)
            Samples; only their number is used, so a list of clips works.
        y : array-like of shape (n_samples,)
            Emotion labels, used for stratification. Required.
        groups : array-like of shape (n_samples,)
            Speaker id of each sample. Required.

        Yields
        ------
        train : ndarray of int
            Training indices of the fold.
        test : ndarray of int
            Test indices of the fold.
        """
        groups = check_speakers(
            groups, "SpeakerStratifiedKFold.split", min_speakers=self.n_splits
        )
        if y is None:
            raise ValueError(
                "SpeakerStratifiedKFold.split stratifies by emotion and needs y; got "
                "y=None. Pass the labels: cv.split(X, y, groups=speakers)."
            )
        return super().split(X, y, groups)


def _as_indices(part, n_samples):
    """Integer indices from an index array or a boolean mask."""
    part = np.asarray(part)
    if part.dtype == bool:
        return np.flatnonzero(part)
    return part.astype(np.intp, copy=False)


def check_speaker_independence(cv, X, y, groups):
    """Check that no split of ``cv`` puts a speaker on both sides, and return the splits.

    Parameters
    ----------
    cv : cross-validator, str or int
        A splitter (anything with ``split``), or a spec accepted by :func:`make_cv`.
    X : array-like or list of shape (n_samples, ...)
        Samples, passed to ``cv.split``.
    y : array-like of shape (n_samples,) or None
        Labels, passed to ``cv.split``.
    groups : array-like of shape (n_samples,)
        Speaker id of each sample.

    Returns
    -------
    splits : list of (ndarray, ndarray)
        The ``(train, test)`` integer indices of every fold. Reuse them instead of
        splitting again: a shuffling splitter without a seed would split differently.

    Raises
    ------
    SpeakerLeakageError
        Naming the first leaky fold and the speakers it shares.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import KFold
    >>> from sklearn_ser.model_selection import check_speaker_independence
    >>> speakers = np.tile(["s1", "s2"], 3)
    >>> X = np.zeros((6, 1))
    >>> check_speaker_independence(KFold(2), X, None, speakers)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sklearn_ser.exceptions.SpeakerLeakageError: Fold 0 of KFold(...) puts speakers ['s1', 's2'] ...
    """
    cv = make_cv(cv)
    groups = check_speakers(groups, "check_speaker_independence")
    n_samples = len(groups)
    splits = []
    for fold, (train, test) in enumerate(cv.split(X, y, groups)):
        train, test = _as_indices(train, n_samples), _as_indices(test, n_samples)
        shared = np.intersect1d(groups[train], groups[test])
        if shared.size:
            _raise_leakage(cv, fold, shared, n_test=len(np.unique(groups[test])))
        splits.append((train, test))
    return splits


def _raise_leakage(cv, fold, shared, n_test):
    names = shared.tolist()
    shown = names if len(names) <= 10 else names[:10] + [f"... {len(names) - 10} more"]
    raise SpeakerLeakageError(
        f"Fold {fold} of {cv!r} puts speaker{'s' if len(names) > 1 else ''} {shown} on "
        f"both the training and the test side ({len(names)} of its {n_test} test "
        "speakers). Scores from such a split measure speaker recognition as much as "
        "emotion. Use a speaker-grouped splitter, e.g. LeaveOneSpeakerOut(), "
        "SpeakerStratifiedKFold() or GroupKFold(), and pass speaker ids via groups=..."
    )


def make_cv(spec):
    """Turn a cross-validation spec into a speaker-grouped splitter.

    Parameters
    ----------
    spec : {"loso", "kfold", "kfold:N"}, int, cross-validator or iterable
        * ``"loso"``: :class:`LeaveOneSpeakerOut`.
        * ``"kfold:N"`` or the int ``N``: ``SpeakerStratifiedKFold(n_splits=N)``
          (``"kfold"`` alone means 5 folds).
        * An object with ``split`` and ``get_n_splits``: returned unchanged.
        * An iterable of ``(train, test)`` index pairs: wrapped as sklearn does.

    Returns
    -------
    cv : cross-validator

    Examples
    --------
    >>> from sklearn_ser.model_selection import make_cv
    >>> make_cv("loso")
    LeaveOneSpeakerOut()
    >>> make_cv("kfold:10")
    SpeakerStratifiedKFold(n_splits=10, random_state=None, shuffle=False)
    """
    if isinstance(spec, str):
        return _cv_from_string(spec)
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        return _kfold(spec, spec)
    if hasattr(spec, "split") and hasattr(spec, "get_n_splits"):
        return spec
    if isinstance(spec, Iterable):
        return check_cv(spec)
    raise TypeError(
        f"cv must be 'loso', 'kfold:N', an int, a splitter with split() and "
        f"get_n_splits(), or an iterable of (train, test) indices; got {spec!r}."
    )


def _cv_from_string(spec):
    name, _, count = spec.strip().lower().partition(":")
    if name == "loso" and not count:
        return LeaveOneSpeakerOut()
    if name == "kfold":
        if not count:
            return SpeakerStratifiedKFold()
        if count.strip().isdigit():
            return _kfold(int(count), spec)
    raise ValueError(
        f"Unknown cv spec {spec!r}; expected 'loso', 'kfold' or 'kfold:N' with an "
        "integer N >= 2 (e.g. 'kfold:5'), an int, or a splitter object."
    )


def _kfold(n_splits, spec):
    if n_splits < 2:
        raise ValueError(
            f"cv={spec!r} asks for {n_splits} fold(s); speaker k-fold needs at least 2. "
            "Use e.g. 'kfold:5', or 'loso' for one fold per speaker."
        )
    return SpeakerStratifiedKFold(n_splits=n_splits)
