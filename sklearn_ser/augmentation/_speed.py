"""SpeedPerturber: one speed-changed copy of every training clip per rate (a sampler)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from ..utils._compat import Interval
from ._base import _ClipSampler
from ._effects import change_speed


class SpeedPerturber(_ClipSampler):
    """Add a speed-changed copy of every training clip for each rate (a sampler).

    Speed perturbation as in speech recognition recipes (Ko et al., 2015): each clip is
    resampled as if played ``rate`` times faster, so duration and pitch change together, and
    every rate gives one copy of the whole training set. With the default rates (0.9, 1.1)
    the training set triples. Unlike :class:`~sklearn_ser.augmentation.Augmenter`, which
    draws random effects per copy, the copies are fixed, so no seed is needed.

    As an imbalanced-learn sampler it runs only while a pipeline is fitted: test clips are
    never perturbed. :class:`~sklearn_ser.pipelines.ResamplingPipeline` keeps the speakers
    (``groups``) aligned with the copies, which speaker normalisation and speaker-grouped
    early stopping need.

    Parameters
    ----------
    rates : tuple of float, default=(0.9, 1.1)
        Speed factors, each in [0.25, 4]; > 1 is faster and shorter.
    sr : int, default=16000
        Sample rate of the clips.
    n_jobs : int, default=None
        Copies are made in parallel with joblib; -1 uses all processors.

    Attributes
    ----------
    sample_indices_ : ndarray of shape (n_clips * (1 + len(rates)),)
        Index in X of the source of every output clip (originals first, then one block per
        rate).

    See Also
    --------
    sklearn_ser.augmentation.Augmenter : Random noise, reverberation, speed, pitch and gain.
    sklearn_ser.augmentation.change_speed : The effect applied to each copy.

    Notes
    -----
    The copies give a network (or a classifier) the same utterance at other speaking rates
    and pitches, which a test speaker's voice may have. On EmoDB leave-one-speaker-out the
    copies at 0.9 and 1.1 raised a log-mel CNN's UAR over every seed tried
    (benchmarks/results/emodb-deep-speed-gpu.md).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.augmentation import SpeedPerturber
    >>> clips = [np.zeros(16000, dtype="float32"), np.zeros(8000, dtype="float32")]
    >>> X_res, y_res = SpeedPerturber().fit_resample(clips, ["anger", "sadness"])
    >>> [len(c) for c in X_res]
    [16000, 8000, 17778, 8889, 14546, 7273]
    >>> y_res.tolist()
    ['anger', 'sadness', 'anger', 'sadness', 'anger', 'sadness']
    """

    _parameter_constraints = {
        "rates": [tuple, list],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, rates=(0.9, 1.1), sr=16000, n_jobs=None):
        self.rates = rates
        self.sr = sr
        self.n_jobs = n_jobs

    def _check_rates(self):
        rates = tuple(self.rates)
        if not rates or not all(isinstance(r, Real) and 0.25 <= r <= 4.0 for r in rates):
            raise ValueError(f"SpeedPerturber: rates must be a non-empty sequence of numbers "
                             f"in [0.25, 4]; got {self.rates!r}.")
        return rates

    def fit(self, X, y):
        """Validate the parameters and data; use ``fit_resample`` to get the copies.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips.
        y : array-like of shape (n_clips,)
            Labels.

        Returns
        -------
        self : object
            The sampler.
        """
        self._validate_params()
        rates = self._check_rates()
        _, y = self._check_inputs(X, y)
        self._count_copies(y, rates)
        return self

    _continuous_reason = (
        "a speed change moves pitch and tempo, which are cues of arousal and intensity, so "
        "a copy would not have its source's target. Use NoiseAugmenter for regressors.")

    def _count_copies(self, y, rates):
        """``sampling_strategy_``: the copies each class gets, one per clip and rate."""
        classes, counts = np.unique(y, return_counts=True)
        self.sampling_strategy_ = {c: int(n) * len(rates) for c, n in zip(classes, counts)}

    def fit_resample(self, X, y):
        """Return the clips followed by one speed-changed copy of them per rate.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips at ``self.sr``.
        y : array-like of shape (n_clips,)
            Labels.

        Returns
        -------
        X_resampled : list of ndarray of shape (n_samples_j,)
            The original clips (validated, float32), then the copies (float32).
        y_resampled : ndarray of shape (n_clips * (1 + len(rates)),)
            Their labels.
        """
        self._validate_params()
        rates = self._check_rates()
        clips, y = self._check_inputs(X, y)  # once: the clips are converted here
        self._count_copies(y, rates)
        return self._fit_resample(clips, y, rates=rates)

    def _fit_resample(self, X, y, rates=None):
        """Copies of validated clips ``X`` (list of 1-D float arrays) with labels ``y``."""
        rates = self._check_rates() if rates is None else rates
        # One task per rate and chunk of clips keeps joblib's overhead small.
        chunks = np.array_split(np.arange(len(X)), max(1, min(len(X), 16)))
        parts = Parallel(n_jobs=self.n_jobs)(
            delayed(_change_speed_chunk)([X[i] for i in chunk], self.sr, rate)
            for rate in rates for chunk in chunks if len(chunk)
        )
        copies = [clip for part in parts for clip in part]
        self.sample_indices_ = np.concatenate([np.arange(len(y))] * (1 + len(rates)))
        return list(X) + copies, y[self.sample_indices_]


def _change_speed_chunk(clips, sr, rate):
    return [change_speed(clip, sr=sr, rate=rate).astype(np.float32) for clip in clips]
