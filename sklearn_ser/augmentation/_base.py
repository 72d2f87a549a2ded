"""What the clip samplers share: input checks and tags for lists of labelled clips."""

import numpy as np
from imblearn.base import BaseSampler
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length

from .._validation import check_clips


class _ClipSampler(BaseSampler):
    """An imblearn sampler whose X is a list of clips (or an equal-length 2-D batch)."""

    _sampling_type = "over-sampling"
    # Whether y may be continuous (regression targets, one column or several): only for a
    # sampler whose copies keep every cue of the target, so that a copy's target is its
    # source's.
    _continuous_targets = False

    def _check_inputs(self, X, y):
        owner = type(self).__name__
        clips = check_clips(X)
        if y is None:
            raise ValueError(
                f"{owner} requires y to be passed, but the target y is None: the copies need "
                f"labels. Call fit_resample(X, y)."
            )
        y = np.asarray(y)
        if is_continuous(y):
            return clips, self._check_continuous(clips, y)
        if y.ndim != 1:
            raise ValueError(f"{owner} expects y of shape (n_clips,); got shape {y.shape}.")
        check_consistent_length(clips, y)
        check_classification_targets(y)
        return clips, y

    def _check_continuous(self, clips, y):
        owner = type(self).__name__
        if not self._continuous_targets:
            raise ValueError(f"{owner} takes class labels, not continuous targets: "
                             f"{self._continuous_reason}")
        if y.ndim not in (1, 2):
            raise ValueError(f"{owner} expects y of shape (n_clips,) or (n_clips, n_targets); "
                             f"got shape {y.shape}.")
        check_consistent_length(clips, y)
        bad = np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))
        if len(bad):
            raise ValueError(f"{owner}: y has NaN or infinite targets in rows "
                             f"{bad[:10].tolist()}; drop those clips or fill their targets.")
        return y

    def _check_groups(self, groups, clips):
        """``groups`` as an array with one speaker per clip, or None."""
        if groups is None:
            return None
        groups = np.asarray(groups)
        if len(groups) != len(clips):
            raise ValueError(f"{type(self).__name__}: groups has {len(groups)} entries for "
                             f"{len(clips)} clips.")
        return groups

    _continuous_reason = "its copies change what the target is heard in."

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # equal-length batches are accepted as 2-D arrays
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags


def is_continuous(y):
    """Whether ``y`` holds continuous targets (floats that are not class labels)."""
    y = np.asarray(y)
    if y.dtype.kind != "f":
        return False
    if not np.isfinite(y).all():  # type_of_target refuses these; they are not labels
        return True
    return type_of_target(y) in ("continuous", "continuous-multioutput")
