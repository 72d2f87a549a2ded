"""What the clip samplers share: input checks and tags for lists of labelled clips."""

import numpy as np
from imblearn.base import BaseSampler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length

from .._validation import check_clips


class _ClipSampler(BaseSampler):
    """An imblearn sampler whose X is a list of clips (or an equal-length 2-D batch)."""

    _sampling_type = "over-sampling"

    def _check_inputs(self, X, y):
        owner = type(self).__name__
        clips = check_clips(X)
        if y is None:
            raise ValueError(
                f"{owner} requires y to be passed, but the target y is None: the copies need "
                f"labels. Call fit_resample(X, y)."
            )
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"{owner} expects y of shape (n_clips,); got shape {y.shape}.")
        check_consistent_length(clips, y)
        check_classification_targets(y)
        return clips, y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # equal-length batches are accepted as 2-D arrays
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags
