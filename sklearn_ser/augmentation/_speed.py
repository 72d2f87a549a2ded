"""SpeedPerturber: one speed-changed copy of every training clip per rate (a sampler)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from ..exceptions import SklearnSerWarning
from ..utils._compat import Interval, StrOptions
from ._base import _ClipSampler
from ._effects import change_speed
from ._noise import is_copy_speaker


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

    With ``groups`` a copy can also be a speaker of its own (``copy_groups="apart"``): a
    voice at 0.9x or 1.1x speed has its pitch and formants a tenth lower or higher, as
    another speaker's vocal tract would, and a
    :class:`~sklearn_ser.features.SpeakerNormalizer` then standardises it by its own
    statistics, as a new speaker. ``sources="originals"`` copies only the clips that are not
    themselves another sampler's copies (a :class:`NoiseAugmenter` before it that names its
    copies apart), so that the two kinds of copies sit side by side instead of multiplying.

    Parameters
    ----------
    rates : tuple of float, default=(0.9, 1.1)
        Speed factors, each in [0.25, 4]; > 1 is faster and shorter.
    copy_groups : {"same", "apart"}, default="same"
        Speaker id of the copies in ``groups_``: ``"same"`` keeps their source's id ``s``,
        ``"apart"`` gives the copies at rate ``r`` the id ``"s/speed{r}"`` (``"s/speed0.9"``).
    sources : {"all", "originals"}, default="all"
        Which clips are copied: all of them, or only those whose speaker id is not a copy's
        (``"s/noise1"``, as :class:`NoiseAugmenter` names its copies with
        ``copy_groups="apart"``). Without ``groups`` ``"originals"`` copies all the clips,
        with a warning.
    sr : int, default=16000
        Sample rate of the clips.
    n_jobs : int, default=None
        Copies are made in parallel with joblib; -1 uses all processors.

    Attributes
    ----------
    sample_indices_ : ndarray of shape (n_clips + n_sources * len(rates),)
        Index in X of the source of every output clip (the input clips first, then one block
        per rate).
    groups_ : ndarray of str or None
        Speaker id of every output clip, when ``groups`` was given.

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

    # The speakers reach fit_resample under sklearn's metadata routing (a Pipeline's fit
    # routes to a sampler's fit_resample).
    __metadata_request__fit_resample = {"groups": True}

    _parameter_constraints = {
        "rates": [tuple, list],
        "copy_groups": [StrOptions({"same", "apart"})],
        "sources": [StrOptions({"all", "originals"})],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, rates=(0.9, 1.1), copy_groups="same", sources="all", sr=16000,
                 n_jobs=None):
        self.rates = rates
        self.copy_groups = copy_groups
        self.sources = sources
        self.sr = sr
        self.n_jobs = n_jobs

    def _check_rates(self):
        rates = tuple(self.rates)
        if not rates or not all(isinstance(r, Real) and 0.25 <= r <= 4.0 for r in rates):
            raise ValueError(f"SpeedPerturber: rates must be a non-empty sequence of numbers "
                             f"in [0.25, 4]; got {self.rates!r}.")
        return rates

    def fit(self, X, y, groups=None):
        """Validate the parameters and data; use ``fit_resample`` to get the copies.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips.
        y : array-like of shape (n_clips,)
            Labels.
        groups : array-like of shape (n_clips,), default=None
            Speaker of each clip.

        Returns
        -------
        self : object
            The sampler.
        """
        self._validate_params()
        rates = self._check_rates()
        clips, y = self._check_inputs(X, y)
        groups = self._check_groups(groups, clips)
        self._count_copies(y[self._source_indices(clips, groups)], rates)
        return self

    _continuous_reason = (
        "a speed change moves pitch and tempo, which are cues of arousal and intensity, so "
        "a copy would not have its source's target. Use NoiseAugmenter for regressors.")

    def _count_copies(self, y, rates):
        """``sampling_strategy_``: the copies each class gets, one per copied clip and rate."""
        classes, counts = np.unique(y, return_counts=True)
        self.sampling_strategy_ = {c: int(n) * len(rates) for c, n in zip(classes, counts)}

    def _source_indices(self, clips, groups):
        """Indices of the clips to copy (``sources``); ``groups`` checked by the caller."""
        if self.sources == "all":
            return np.arange(len(clips))
        if groups is None:
            warnings.warn(
                f"SpeedPerturber(sources='originals') got no groups, so it cannot tell the "
                f"original clips from another sampler's copies: it copies all {len(clips)} "
                f"clips. Pass the speakers: fit_resample(X, y, groups=speakers), or through "
                f"a pipeline fit(X, y, groups=speakers) with metadata routing.",
                SklearnSerWarning, stacklevel=3)
            return np.arange(len(clips))
        return np.flatnonzero(~is_copy_speaker(groups))

    def fit_resample(self, X, y, groups=None):
        """Return the clips followed by one speed-changed copy of the sources per rate.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips at ``self.sr``.
        y : array-like of shape (n_clips,)
            Labels.
        groups : array-like of shape (n_clips,), default=None
            Speaker of each clip: which clips are originals (``sources="originals"``), and
            ``groups_`` for the output clips.

        Returns
        -------
        X_resampled : list of ndarray of shape (n_samples_j,)
            The input clips (validated, float32), then the copies (float32).
        y_resampled : ndarray of shape (n_samples_j,)
            Their labels.
        """
        self._validate_params()
        rates = self._check_rates()
        clips, y = self._check_inputs(X, y)  # once: the clips are converted here
        return self._fit_resample(clips, y, groups=groups, rates=rates)

    def _fit_resample(self, X, y, groups=None, rates=None):
        """Copies of validated clips ``X`` (list of 1-D float arrays) with labels ``y``."""
        rates = self._check_rates() if rates is None else rates
        clips = X
        groups = self._check_groups(groups, clips)
        sources = self._source_indices(clips, groups)
        self._count_copies(y[sources], rates)
        copies = self._copies([clips[i] for i in sources], rates)
        self.sample_indices_ = np.concatenate([np.arange(len(y))] + [sources] * len(rates))
        self.groups_ = None if groups is None else self._output_groups(
            groups.astype(str), sources, rates)
        return list(clips) + copies, y[self.sample_indices_]

    def _copies(self, clips, rates):
        """One speed-changed copy of ``clips`` per rate, rate by rate."""
        # One task per rate and chunk of clips keeps joblib's overhead small.
        chunks = np.array_split(np.arange(len(clips)), max(1, min(len(clips), 16)))
        parts = Parallel(n_jobs=self.n_jobs)(
            delayed(_change_speed_chunk)([clips[i] for i in chunk], self.sr, rate)
            for rate in rates for chunk in chunks if len(chunk)
        )
        return [clip for part in parts for clip in part]

    def _output_groups(self, ids, sources, rates):
        blocks = [ids]
        for rate in rates:
            blocks.append(np.char.add(ids[sources], f"/speed{rate:g}")
                          if self.copy_groups == "apart" else ids[sources])
        return np.concatenate(blocks)


def _change_speed_chunk(clips, sr, rate):
    return [change_speed(clip, sr=sr, rate=rate).astype(np.float32) for clip in clips]
