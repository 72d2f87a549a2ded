"""The Augmenter: an imbalanced-learn sampler that adds augmented copies of training clips."""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from imblearn.utils import check_sampling_strategy
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from .._validation import check_clips
from ..utils._compat import Interval, StrOptions
from ._base import _ClipSampler
from ._effects import (
    NOISE_COLORS,
    add_noise,
    apply_gain,
    babble_talkers,
    change_speed,
    echo,
    make_babble,
    pitch_shift,
    reverberate,
)

_RANGE = [tuple, list]

#: Noise kinds of ``Augmenter(noise_types=...)``.
NOISE_TYPES = ("white", "pink", "brown", "babble", "clips")


def _check_range(name, value, low=None, high=None, owner="Augmenter"):
    if len(value) != 2 or not value[0] <= value[1]:
        raise ValueError(f"{owner}: {name} must be a (low, high) pair with low <= high; "
                         f"got {value!r}.")
    if (low is not None and value[0] < low) or (high is not None and value[1] > high):
        raise ValueError(f"{owner}: {name}={value!r} must lie within [{low}, {high}].")


class Augmenter(_ClipSampler):
    """Add randomly augmented copies of the training clips (an imbalanced-learn sampler).

    ``fit_resample(X, y)`` returns the original clips followed by augmented copies: noise at a
    random SNR (white, pink, or excerpts of noise recordings), synthetic room reverberation,
    a delay-and-decay echo, speed change, pitch shift and gain, each applied to a copy with
    its own probability.
    As a sampler it has no ``transform``: inside :class:`imblearn.pipeline.Pipeline` it runs
    while the pipeline is fitted and is skipped by ``predict``, so test clips are never
    augmented, under ``cross_validate``, ``GridSearchCV`` and :func:`~sklearn_ser.model_selection.evaluate`
    alike. Augmenting before splitting, the usual leak of SER papers, is thereby impossible
    to write by accident.

    Parameters
    ----------
    sr : int, default=16000
        Sample rate of the clips.
    n_copies : int, default=1
        Augmented copies of every clip.
    sampling_strategy : None, str, float, dict or callable, default=None
        None: only the ``n_copies`` copies of every clip. Otherwise imblearn's
        over-sampling meaning (``"auto"``/``"not majority"``, ``"minority"``,
        ``"not minority"``, ``"all"``, a dict ``{class: n_samples}``, a callable): after the
        ``n_copies`` copies, further copies of randomly drawn clips of each class are added
        until the class counts reach that target, so augmentation also balances the classes.
    p_noise : float, default=0.8
        Probability that a copy gets additive noise.
    snr_range : (float, float), default=(0.0, 20.0)
        SNR in dB, drawn uniformly.
    noise_types : sequence of {"white", "pink", "brown", "babble", "clips"} or None, \
            default=None
        Noise kinds drawn uniformly; ``"babble"`` mixes five other clips of the training
        batch (:func:`~sklearn_ser.augmentation.make_babble`; never the copy's own source
        clip), ``"clips"`` takes a random excerpt of a random recording from
        ``noise_clips``. None: ``("white", "pink")``, plus ``"clips"`` when ``noise_clips``
        is given.
    noise_clips : list of ndarray or None, default=None
        Noise recordings at ``sr`` (babble, street, ...).
    p_reverb : float, default=0.3
        Probability of reverberation by a synthetic room response.
    rt60_range : (float, float), default=(0.2, 0.8)
        Reverberation time in seconds.
    drr_range : (float, float), default=(0.0, 10.0)
        Direct-to-reverberant ratio in dB.
    p_echo : float, default=0.0
        Probability of an echo (:func:`~sklearn_ser.augmentation.echo`: the clip repeated
        after a delay, each repetition quieter by a decay factor). Off by default, so that
        the copies a seed gave before the echo existed stay the same.
    echo_delay_range : (float, float), default=(0.1, 0.4)
        Delay between repetitions in seconds.
    echo_decay_range : (float, float), default=(0.2, 0.6)
        Amplitude of each repetition relative to the one before, within [0, 0.99].
    p_speed : float, default=0.3
        Probability of a speed change (resampling: duration and pitch change together).
    speed_range : (float, float), default=(0.9, 1.1)
        Speed factor.
    p_pitch : float, default=0.3
        Probability of a pitch shift (duration kept).
    pitch_range : (float, float), default=(-2.0, 2.0)
        Shift in semitones.
    p_gain : float, default=0.5
        Probability of a gain change.
    gain_range : (float, float), default=(-6.0, 6.0)
        Gain in dB.
    n_jobs : int, default=None
        Copies are made in parallel with joblib; -1 uses all processors.
    random_state : int, RandomState instance or None, default=None
        Seeds every random choice; drawn in ``fit_resample``.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of augmented clips added per class.
    sample_indices_ : ndarray of shape (n_resampled,)
        Index in X of the source of every output clip (originals first).
    augmentations_ : list of dict
        The effects and their settings for each added clip, in output order.

    See Also
    --------
    imblearn.over_sampling.RandomOverSampler : Balance by repeating pooled feature rows.
    sklearn_ser.preprocessing.Denoiser : Clean clips at both fit and predict time.

    Notes
    -----
    Effects run in a fixed order: speed, pitch, reverberation, echo, noise, gain; the result is
    clipped to [-1, 1]. Output clips are float32 and are returned as a list (speed changes
    lengths). ``n_features_in_`` is undefined: clip length is not a feature count.

    Examples
    --------
    An augmented recogniser: the Augmenter goes first in an imblearn Pipeline, followed by
    the steps of a classic pipeline.

    >>> import numpy as np
    >>> from imblearn.pipeline import Pipeline
    >>> from sklearn_ser.augmentation import Augmenter
    >>> from sklearn_ser.pipelines import make_classic_pipeline
    >>> rng = np.random.default_rng(0)
    >>> X = [0.1 * rng.standard_normal(8000).astype("float32") for _ in range(6)]
    >>> y = ["anger", "anger", "anger", "anger", "sadness", "sadness"]
    >>> X_aug, y_aug = Augmenter(n_copies=1, p_pitch=0, random_state=0).fit_resample(X, y)
    >>> len(X_aug), len(y_aug)
    (12, 12)
    >>> balanced = Augmenter(n_copies=0, sampling_strategy="auto", random_state=0)
    >>> _, y_bal = balanced.fit_resample(X, y)
    >>> [int((y_bal == c).sum()) for c in ("anger", "sadness")]
    [4, 4]
    >>> classic = make_classic_pipeline("svm", features="mfcc", speed_perturbation=None,
    ...                                 noise_augmentation=None)
    >>> model = Pipeline([("augmenter", Augmenter(n_copies=2, random_state=0)),
    ...                   *classic.steps])
    >>> [name for name, _ in model.steps]
    ['augmenter', 'mfcc', 'guard', 'scaler', 'lda', 'svc']
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "n_copies": [Interval(Integral, 0, None, closed="left")],
        "sampling_strategy": [
            None,
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto", "minority", "not minority", "not majority", "all"}),
            Mapping,
            callable,
        ],
        "p_noise": [Interval(Real, 0, 1, closed="both")],
        "snr_range": _RANGE,
        "noise_types": [list, tuple, None],
        "noise_clips": [list, tuple, np.ndarray, None],
        "p_reverb": [Interval(Real, 0, 1, closed="both")],
        "rt60_range": _RANGE,
        "drr_range": _RANGE,
        "p_echo": [Interval(Real, 0, 1, closed="both")],
        "echo_delay_range": _RANGE,
        "echo_decay_range": _RANGE,
        "p_speed": [Interval(Real, 0, 1, closed="both")],
        "speed_range": _RANGE,
        "p_pitch": [Interval(Real, 0, 1, closed="both")],
        "pitch_range": _RANGE,
        "p_gain": [Interval(Real, 0, 1, closed="both")],
        "gain_range": _RANGE,
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        sr=16000,
        n_copies=1,
        sampling_strategy=None,
        p_noise=0.8,
        snr_range=(0.0, 20.0),
        noise_types=None,
        noise_clips=None,
        p_reverb=0.3,
        rt60_range=(0.2, 0.8),
        drr_range=(0.0, 10.0),
        p_echo=0.0,
        echo_delay_range=(0.1, 0.4),
        echo_decay_range=(0.2, 0.6),
        p_speed=0.3,
        speed_range=(0.9, 1.1),
        p_pitch=0.3,
        pitch_range=(-2.0, 2.0),
        p_gain=0.5,
        gain_range=(-6.0, 6.0),
        n_jobs=None,
        random_state=None,
    ):
        self.sr = sr
        self.n_copies = n_copies
        self.sampling_strategy = sampling_strategy
        self.p_noise = p_noise
        self.snr_range = snr_range
        self.noise_types = noise_types
        self.noise_clips = noise_clips
        self.p_reverb = p_reverb
        self.rt60_range = rt60_range
        self.drr_range = drr_range
        self.p_echo = p_echo
        self.echo_delay_range = echo_delay_range
        self.echo_decay_range = echo_decay_range
        self.p_speed = p_speed
        self.speed_range = speed_range
        self.p_pitch = p_pitch
        self.pitch_range = pitch_range
        self.p_gain = p_gain
        self.gain_range = gain_range
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- validation ------------------------------------------------------------------------

    def _check_settings(self):
        _check_range("snr_range", self.snr_range)
        _check_range("rt60_range", self.rt60_range, low=1e-3)
        _check_range("drr_range", self.drr_range)
        _check_range("echo_delay_range", self.echo_delay_range, low=1e-3)
        _check_range("echo_decay_range", self.echo_decay_range, low=0.0, high=0.99)
        _check_range("speed_range", self.speed_range, low=0.25, high=4.0)
        _check_range("pitch_range", self.pitch_range, low=-24.0, high=24.0)
        _check_range("gain_range", self.gain_range)
        kinds = self.noise_types
        if kinds is None:
            kinds = NOISE_COLORS + (("clips",) if self.noise_clips is not None else ())
        kinds = tuple(kinds)
        unknown = [k for k in kinds if k not in NOISE_TYPES]
        if not kinds or unknown:
            raise ValueError(
                f"Augmenter: noise_types must be a non-empty sequence of "
                f"{', '.join(map(repr, NOISE_TYPES))}; got {self.noise_types!r}."
            )
        noise_clips = None
        if "clips" in kinds:
            if self.noise_clips is None or len(self.noise_clips) == 0:
                raise ValueError(
                    "Augmenter: noise_types contains 'clips' but noise_clips is empty; pass "
                    "noise_clips=[recording, ...] at the clips' sample rate."
                )
            noise_clips = check_clips(list(self.noise_clips), dtype=np.float64)
        return kinds, noise_clips

    def _target_counts(self, y):
        """Augmented clips to add per class: n_copies each, then balancing."""
        classes, counts = np.unique(y, return_counts=True)
        added = {c: int(n) * self.n_copies for c, n in zip(classes, counts)}
        if self.sampling_strategy is not None:
            after = np.repeat(classes, counts * (1 + self.n_copies))
            extra = check_sampling_strategy(self.sampling_strategy, after, "over-sampling")
            for c, n in extra.items():
                added[c] += int(n)
        return added

    def fit(self, X, y):
        """Validate the parameters and data, and compute how many clips each class gets.

        Use ``fit_resample``: ``fit`` alone augments nothing.

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
        self._check_settings()
        _, y = self._check_inputs(X, y)
        self.sampling_strategy_ = self._target_counts(y)
        return self

    def fit_resample(self, X, y):
        """Return the clips followed by their augmented copies, with labels.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Training clips at ``self.sr``.
        y : array-like of shape (n_clips,)
            Labels.

        Returns
        -------
        X_resampled : list of ndarray of shape (n_samples_j,)
            The original clips (validated, float32), then the augmented copies.
        y_resampled : ndarray of shape (n_resampled,)
            Their labels.
        """
        self._validate_params()
        settings = self._check_settings()
        clips, y = self._check_inputs(X, y)
        return self._fit_resample(clips, y, settings=settings)

    def _fit_resample(self, X, y, settings=None):
        """Augment validated clips ``X`` (list of 1-D float arrays) with labels ``y``."""
        kinds, noise_clips = self._check_settings() if settings is None else settings
        clips = X
        rng = check_random_state(self.random_state)
        self.sampling_strategy_ = self._target_counts(y)

        sources = [np.repeat(np.arange(len(y)), self.n_copies)]
        for c, n_total in self.sampling_strategy_.items():
            n_extra = n_total - self.n_copies * int(np.sum(y == c))
            if n_extra > 0:
                members = np.flatnonzero(y == c)
                sources.append(np.sort(rng.choice(members, size=n_extra, replace=True)))
        sources = np.concatenate(sources).astype(np.intp)
        seeds = rng.randint(0, 2**31 - 1, size=len(sources))

        effects = dict(
            sr=self.sr, kinds=kinds, noise_clips=noise_clips,
            p_noise=self.p_noise, snr_range=self.snr_range,
            p_reverb=self.p_reverb, rt60_range=self.rt60_range, drr_range=self.drr_range,
            p_echo=self.p_echo, echo_delay_range=self.echo_delay_range,
            echo_decay_range=self.echo_decay_range,
            p_speed=self.p_speed, speed_range=self.speed_range,
            p_pitch=self.p_pitch, pitch_range=self.pitch_range,
            p_gain=self.p_gain, gain_range=self.gain_range,
        )
        # Babble talkers are drawn only when babble is asked for, so that the other settings
        # keep their random streams.
        talkers = ([babble_talkers(np.arange(len(clips)), source, rng) for source in sources]
                   if "babble" in kinds else [()] * len(sources))
        # One task per chunk of copies keeps joblib's overhead small.
        chunks = np.array_split(np.arange(len(sources)), max(1, min(len(sources), 64)))
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_augment_chunk)([clips[sources[i]] for i in chunk], seeds[chunk], effects,
                                    [[clips[j] for j in talkers[i]] for i in chunk])
            for chunk in chunks
            if len(chunk)
        )
        copies = [clip for part in results for clip in part[0]]
        self.augmentations_ = [log for part in results for log in part[1]]
        self.sample_indices_ = np.concatenate([np.arange(len(y)), sources])
        return list(clips) + copies, y[self.sample_indices_]


def _augment_chunk(clips, seeds, settings, talkers):
    out, logs = [], []
    for clip, seed, others in zip(clips, seeds, talkers):
        y, log = augment_clip(clip, random_state=int(seed), babble_sources=others, **settings)
        out.append(y)
        logs.append(log)
    return out, logs


def augment_clip(
    clip, *, sr, random_state, kinds=NOISE_COLORS, noise_clips=None,
    p_noise=0.8, snr_range=(0.0, 20.0), p_reverb=0.3, rt60_range=(0.2, 0.8),
    drr_range=(0.0, 10.0), p_speed=0.3, speed_range=(0.9, 1.1), p_pitch=0.3,
    pitch_range=(-2.0, 2.0), p_gain=0.5, gain_range=(-6.0, 6.0), babble_sources=(),
    p_echo=0.0, echo_delay_range=(0.1, 0.4), echo_decay_range=(0.2, 0.6),
):
    """Make one augmented copy of a clip; return it (float32) and a log of what was done.

    ``babble_sources`` are the clips mixed into babble noise, when ``kinds`` has it.
    """
    rng = np.random.default_rng(random_state)
    # Every draw happens whether or not the effect applies, so that changing one
    # probability does not reshuffle the settings of the others.
    draws = rng.random(5)
    speed = rng.uniform(*speed_range)
    steps = rng.uniform(*pitch_range)
    rt60, drr = rng.uniform(*rt60_range), rng.uniform(*drr_range)
    snr, kind = rng.uniform(*snr_range), kinds[int(rng.integers(len(kinds)))]
    gain = rng.uniform(*gain_range)
    effect_seed = int(rng.integers(2**31 - 1))
    # The echo's draws come after all the others, so that adding it left their values (and
    # the copies of a seed without echo) unchanged.
    echo_draw = rng.random()
    delay, decay = rng.uniform(*echo_delay_range), rng.uniform(*echo_decay_range)

    y = np.asarray(clip, dtype=np.float64)
    log = {}
    if draws[0] < p_speed:
        y = change_speed(y, sr=sr, rate=speed)
        log["speed"] = speed
    if draws[1] < p_pitch:
        y = pitch_shift(y, sr=sr, n_steps=steps)
        log["pitch"] = steps
    if draws[2] < p_reverb:
        y = reverberate(y, sr=sr, rt60=rt60, drr_db=drr, random_state=effect_seed)
        log["rt60"], log["drr"] = rt60, drr
    if echo_draw < p_echo:
        y = echo(y, sr=sr, delay=delay, decay=decay)
        log["echo_delay"], log["echo_decay"] = delay, decay
    if draws[3] < p_noise:
        noise = kind
        if kind == "clips":
            noise = noise_clips[effect_seed % len(noise_clips)]
        elif kind == "babble":
            noise = make_babble(babble_sources, len(y), n_talkers=len(babble_sources),
                                random_state=effect_seed + 2)
        y = add_noise(y, snr=snr, noise=noise, random_state=effect_seed + 1)
        log["snr"], log["noise"] = snr, kind
    if draws[4] < p_gain:
        y = apply_gain(y, gain_db=gain)
        log["gain"] = gain
    return np.clip(y, -1.0, 1.0).astype(np.float32), log
