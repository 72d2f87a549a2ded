"""NoiseAugmenter: noisy copies of the training clips, one noise condition per speaker."""

import re
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ..utils._compat import Interval, StrOptions
from ._base import _ClipSampler, is_continuous
from ._augmenter import _check_range
from ._effects import add_noise, babble_talkers, make_babble

#: Noise kinds of :class:`NoiseAugmenter`.
NOISE_KINDS = ("white", "pink", "brown", "babble")


class NoiseAugmenter(_ClipSampler):
    """Add noisy copies of the training clips, one noise condition per speaker (a sampler).

    Noise-aware training: ``fit_resample`` returns the clips followed by ``n_copies`` noisy
    copies of all of them. Each copy of a speaker's clips shares one condition, a noise kind
    and an SNR drawn for that speaker and copy, because that is how noise reaches a
    recogniser: one microphone, one room, one call, for all of a speaker's clips. With
    ``groups`` (the speakers) the copies of a speaker can also be given a speaker id of
    their own (``copy_groups="apart"``), so that a
    :class:`~sklearn_ser.features.SpeakerNormalizer` standardises them by their own
    statistics, exactly as it standardises a test speaker recorded in noise by that
    speaker's noisy clips. Without ``groups``, or with ``conditions="clip"``, every clip
    draws its own condition: more conditions, for a model that does not standardise per
    speaker and so gains nothing from a speaker's clips sharing one.

    Babble is the sum of five other training clips (:func:`make_babble`), of other speakers
    when ``groups`` is given (other clips otherwise): a copy never hears its own speaker.
    As an imbalanced-learn sampler it runs only while a pipeline is fitted; test clips are
    never touched. :class:`~sklearn_ser.pipelines.ResamplingPipeline` hands it ``groups``
    and takes the copies' speaker ids from ``groups_``.

    Parameters
    ----------
    n_copies : int, default=1
        Noisy copies of every clip.
    snr_range : (float, float), default=(0.0, 30.0)
        SNR in dB (clip power over noise power), drawn uniformly per speaker and copy: from
        a noisy room to a quiet office.
    noise_types : sequence of {"white", "pink", "brown", "babble"}, \
            default=("white", "pink", "brown", "babble")
        Noise kinds, drawn uniformly per speaker and copy.
    conditions : {"speaker", "clip"}, default="speaker"
        One condition per speaker and copy, or one per clip and copy. Babble never
        contains the clip's own speaker either way.
    gain_range : (float, float) or None, default=None
        If given, each copy is also scaled by a gain in dB drawn uniformly from this range
        with its condition (after the noise), then clipped to [-1, 1] as a recording at
        that gain would be. The level of a clip depends on the microphone and its distance,
        not on the emotion, so a model that does not standardise per speaker learns from
        these copies not to read the absolute level. Leave it None for speaker-normalised
        models: a speaker's shared gain is standardised away. ``conditions_`` then also
        holds each ``gain``.
    copy_groups : {"apart", "same"}, default="apart"
        Speaker id of the copies in ``groups_``: ``"apart"`` gives the copies of speaker
        ``s`` the id ``"s/noise1"`` (``"s/noise2"`` ...), ``"same"`` keeps ``s``. Use
        ``"same"`` where ids decide a split (a network's early-stopping split holds out
        whole speakers, and a copy must fall on its speaker's side).
    sr : int, default=16000
        Sample rate of the clips.
    n_jobs : int, default=None
        Copies are made in parallel with joblib; -1 uses all processors.
    random_state : int, RandomState instance or None, default=None
        Seeds the conditions and the noise; drawn in ``fit_resample``.

    Attributes
    ----------
    sampling_strategy_ : dict or None
        Number of noisy clips added per class; None for continuous targets.
    sample_indices_ : ndarray of shape (n_clips * (1 + n_copies),)
        Index in X of the source of every output clip (originals first, then one block per
        copy).
    groups_ : ndarray of str or None
        Speaker id of every output clip (the originals' ids as strings), when ``groups``
        was given.
    conditions_ : list of dict
        Per copy and speaker (or clip): ``copy``, ``group``, ``noise`` and ``snr``.

    See Also
    --------
    Augmenter : Random noise, reverberation, speed, pitch and gain, drawn per copy.
    SpeedPerturber : Speed-changed copies.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.augmentation import NoiseAugmenter
    >>> rng = np.random.default_rng(0)
    >>> X = [0.1 * rng.standard_normal(4000).astype("float32") for _ in range(4)]
    >>> aug = NoiseAugmenter(random_state=0)
    >>> X_res, y_res = aug.fit_resample(X, ["a", "b", "a", "b"], groups=["s1", "s1", "s2", "s2"])
    >>> len(X_res), aug.groups_.tolist()
    (8, ['s1', 's1', 's2', 's2', 's1/noise1', 's1/noise1', 's2/noise1', 's2/noise1'])
    """

    # The speakers reach fit_resample under sklearn's metadata routing (a Pipeline's fit
    # routes to a sampler's fit_resample).
    __metadata_request__fit_resample = {"groups": True}

    _parameter_constraints = {
        "n_copies": [Interval(Integral, 1, None, closed="left")],
        "snr_range": [tuple, list],
        "noise_types": [tuple, list],
        "conditions": [StrOptions({"speaker", "clip"})],
        "gain_range": [tuple, list, None],
        "copy_groups": [StrOptions({"apart", "same"})],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, *, n_copies=1, snr_range=(0.0, 30.0), noise_types=NOISE_KINDS,
                 conditions="speaker", gain_range=None, copy_groups="apart", sr=16000,
                 n_jobs=None, random_state=None):
        self.n_copies = n_copies
        self.snr_range = snr_range
        self.noise_types = noise_types
        self.conditions = conditions
        self.gain_range = gain_range
        self.copy_groups = copy_groups
        self.sr = sr
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_settings(self):
        kinds = tuple(self.noise_types)
        if not kinds or any(k not in NOISE_KINDS for k in kinds):
            raise ValueError(f"NoiseAugmenter: noise_types must be a non-empty sequence of "
                             f"{', '.join(map(repr, NOISE_KINDS))}; got {self.noise_types!r}.")
        _check_range("snr_range", self.snr_range, owner="NoiseAugmenter")
        if self.gain_range is not None:
            _check_range("gain_range", self.gain_range, owner="NoiseAugmenter")
        return kinds

    def fit(self, X, y, groups=None):
        """Validate the parameters and data; use ``fit_resample`` to get the copies.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips.
        y : array-like of shape (n_clips,) or (n_clips, n_targets)
            Labels, or continuous targets (arousal, valence, intensity) of a regressor:
            each copy gets its source clip's.
        groups : array-like of shape (n_clips,), default=None
            Speaker of each clip.

        Returns
        -------
        self : object
            The sampler.
        """
        self._validate_params()
        self._check_settings()
        _, y = self._check_inputs(X, y)
        self._count_copies(y)
        return self

    # Noise hides cues but changes none of the speaker's: a copy's target is its source's.
    _continuous_targets = True

    def _count_copies(self, y):
        """``sampling_strategy_``: the copies each class gets, ``n_copies`` per clip (None
        for continuous targets, which have no classes)."""
        if is_continuous(y):
            self.sampling_strategy_ = None
            return
        classes, counts = np.unique(y, return_counts=True)
        self.sampling_strategy_ = {c: int(n) * self.n_copies for c, n in zip(classes, counts)}

    def fit_resample(self, X, y, groups=None):
        """Return the clips followed by their noisy copies, with labels.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips at ``self.sr``.
        y : array-like of shape (n_clips,) or (n_clips, n_targets)
            Labels, or continuous targets (arousal, valence, intensity) of a regressor:
            each copy gets its source clip's.
        groups : array-like of shape (n_clips,), default=None
            Speaker of each clip: one condition per speaker and copy, babble from other
            speakers, and ``groups_`` for the output clips.

        Returns
        -------
        X_resampled : list of ndarray of shape (n_samples_j,)
            The original clips (validated, float32), then the copies (float32, clipped to
            [-1, 1]).
        y_resampled : ndarray of shape (n_clips * (1 + n_copies),) or (..., n_targets)
            Their labels or targets.
        """
        self._validate_params()
        kinds = self._check_settings()
        clips, y = self._check_inputs(X, y)
        self._count_copies(y)
        return self._fit_resample(clips, y, groups=groups, kinds=kinds)

    def _fit_resample(self, X, y, groups=None, kinds=None):
        """Copies of validated clips ``X`` (list of 1-D float arrays) with labels ``y``."""
        kinds = self._check_settings() if kinds is None else kinds
        clips = X
        groups = self._check_groups(groups, clips)
        rng = check_random_state(self.random_state)
        # Without speakers, every clip is a condition of its own.
        speakers = np.arange(len(clips)) if groups is None else groups
        units = np.arange(len(clips)) if self.conditions == "clip" else speakers
        plan, self.conditions_ = self._plan(units, speakers, kinds, rng)
        chunks = np.array_split(np.arange(len(plan)), max(1, min(len(plan), 16)))
        parts = Parallel(n_jobs=self.n_jobs)(
            delayed(_noisy_chunk)([(clips[i], snr, kind, gain, seed,
                                    [clips[j] for j in talkers])
                                   for i, snr, kind, gain, seed, talkers
                                   in (plan[k] for k in chunk)])
            for chunk in chunks if len(chunk))
        copies = [clip for part in parts for clip in part]
        sources = np.array([p[0] for p in plan], dtype=np.intp)
        self.sample_indices_ = np.concatenate([np.arange(len(clips)), sources])
        self.groups_ = None if groups is None else self._output_groups(groups)
        return list(clips) + copies, y[self.sample_indices_]

    def _plan(self, units, speakers, kinds, rng):
        """Per output copy ``(source, snr, kind, gain, seed, babble talkers)``, and the log.

        ``units`` share a condition; babble for a clip is drawn from other ``speakers``.
        """
        plan, log = [], []
        names, index = np.unique(units, return_inverse=True)
        _, speaker_index = np.unique(speakers, return_inverse=True)
        for copy in range(self.n_copies):
            draws = [self._draw(kinds, rng) for _ in names]
            for u, name in enumerate(names.tolist()):
                snr, kind, gain = draws[u]
                entry = {"copy": copy + 1, "group": name, "noise": kind, "snr": snr}
                log.append(entry if gain is None else {**entry, "gain": gain})
            for i in range(len(units)):
                snr, kind, gain = draws[index[i]]
                talkers = ()
                if kind == "babble":
                    talkers = babble_talkers(speaker_index, i, rng)
                plan.append((i, snr, kind, gain, int(rng.randint(2**31 - 1)), talkers))
        return plan, log

    def _draw(self, kinds, rng):
        """One condition: SNR, noise kind and gain (None without ``gain_range``)."""
        snr, kind = float(rng.uniform(*self.snr_range)), kinds[rng.randint(len(kinds))]
        gain = None if self.gain_range is None else float(rng.uniform(*self.gain_range))
        return snr, kind, gain

    def _output_groups(self, groups):
        ids = groups.astype(str)
        blocks = [ids]
        for copy in range(self.n_copies):
            blocks.append(np.char.add(ids, f"/noise{copy + 1}") if self.copy_groups == "apart"
                          else ids)
        return np.concatenate(blocks)


def source_speakers(groups):
    """The speaker each sample was recorded by: a copy's id (``"s/noise1"``, as
    :class:`NoiseAugmenter` with ``copy_groups="apart"`` names it, or ``"s/speed0.9"`` as
    :class:`SpeedPerturber` does) back to its source's (``"s"``), every other id as a string.

    For splits made inside ``fit`` after the copies (a regressor's inner folds): a copy must
    fall on its source speaker's side, or the held-out part shares a voice with the training
    part and looks easier than a new speaker.

    Examples
    --------
    >>> from sklearn_ser.augmentation import source_speakers
    >>> source_speakers(["a", "b", "a/noise1", "b/noise2"]).tolist()
    ['a', 'b', 'a', 'b']
    """
    ids = np.asarray(groups).astype(str)
    return np.array([_COPY_SUFFIX.sub("", g) for g in ids], dtype=ids.dtype)


def is_copy_speaker(groups):
    """True for each speaker id that names a copy (``"s/noise1"``, ``"s/speed0.9"``), as
    the samplers name their copies with ``copy_groups="apart"``."""
    ids = np.asarray(groups).astype(str)
    return np.fromiter((_COPY_SUFFIX.search(g) is not None for g in ids), dtype=bool,
                       count=len(ids))


# How the samplers mark a copy's speaker id (NoiseAugmenter's and SpeedPerturber's
# _output_groups); a copy of a copy carries both marks.
_COPY_SUFFIX = re.compile(r"(/noise[0-9]+|/speed[0-9.]+)+$")


def _noisy_chunk(items):
    out = []
    for clip, snr, kind, gain, seed, talkers in items:
        noise = kind
        if kind == "babble":
            noise = make_babble(talkers, len(clip), n_talkers=len(talkers), random_state=seed)
        noisy = add_noise(clip, snr=snr, noise=noise, random_state=seed + 1)
        if gain is not None:
            noisy = noisy * 10.0 ** (gain / 20.0)
        out.append(np.clip(noisy, -1.0, 1.0).astype(np.float32))
    return out
