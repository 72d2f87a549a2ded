"""ResamplingPipeline: an imblearn Pipeline whose leading samplers keep fit metadata aligned."""

import inspect
from numbers import Integral

from imblearn.pipeline import Pipeline
from sklearn import get_config
from sklearn.base import is_classifier

from .._validation import check_labels
from ..augmentation import NoiseAugmenter, SpeedPerturber
from ..utils._compat import _num_samples, _safe_indexing

#: Speed factors of the training copies that ``speed_perturbation="auto"`` adds.
DEFAULT_SPEEDS = (0.9, 1.1)
#: Noisy copies per clip that ``noise_augmentation="auto"`` adds to speaker-normalised
#: pipelines.
DEFAULT_NOISE_COPIES = 2
#: Gain (dB) range of the noisy copies of the pipelines without a speaker normaliser.
NOISE_GAIN_RANGE_DB = (-25.0, 5.0)


class ResamplingPipeline(Pipeline):
    """An imbalanced-learn Pipeline that keeps per-clip fit metadata with resampled clips.

    In :class:`imblearn.pipeline.Pipeline` a sampler changes ``X`` and ``y`` but not the
    other per-clip arguments of ``fit``: after an augmenter has tripled the clips, ``groups``
    (the speakers) still has the old length, so a speaker normaliser or a network that holds
    out whole speakers for early stopping cannot use it. Here each sampler at the head of the
    pipeline is fitted first, and every fit argument with one entry per clip (``groups``,
    ``sample_weight``, with or without a ``step__`` prefix) is re-indexed by the sampler's
    ``sample_indices_``, so each copy carries the speaker and weight of its source clip.
    A sampler whose ``fit_resample`` takes ``groups`` (a
    :class:`~sklearn_ser.augmentation.NoiseAugmenter`) is handed the speakers, and where it
    sets ``groups_`` those become the speakers of its output clips. The rest is imblearn's
    Pipeline: samplers are skipped by ``predict``, so test clips are never resampled.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As in :class:`imblearn.pipeline.Pipeline`. Samplers before the first transformer
        must record ``sample_indices_`` (as :class:`~sklearn_ser.augmentation.Augmenter`,
        :class:`~sklearn_ser.augmentation.SpeedPerturber` and imblearn's random samplers do)
        when per-clip metadata is passed.
    memory : str, joblib.Memory or None, default=None
        Caches the fitted transformers, as in imblearn's Pipeline.
    verbose : bool, default=False
        Print the time of each step.

    See Also
    --------
    sklearn_ser.pipelines.make_classic_pipeline : Uses it when speed perturbation is on.
    sklearn_ser.pipelines.make_deep_pipeline : Likewise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn import config_context
    >>> from sklearn_ser.augmentation import SpeedPerturber
    >>> from sklearn_ser.features import MFCCExtractor, SpeakerNormalizer
    >>> from sklearn_ser.pipelines import ResamplingPipeline
    >>> from sklearn.svm import SVC
    >>> rng = np.random.default_rng(0)
    >>> clips = [0.1 * rng.standard_normal(8000).astype("float32") for _ in range(8)]
    >>> y, speakers = ["anger", "sadness"] * 4, ["a", "a", "b", "b", "c", "c", "d", "d"]
    >>> with config_context(enable_metadata_routing=True):
    ...     pipe = ResamplingPipeline([
    ...         ("speed", SpeedPerturber()), ("mfcc", MFCCExtractor()),
    ...         ("norm", SpeakerNormalizer().set_fit_request(groups=True)), ("svc", SVC())])
    ...     _ = pipe.fit(clips, y, groups=speakers)
    >>> pipe.named_steps["norm"].n_speakers_
    4
    """

    def fit(self, X, y=None, **params):
        """Resample with the leading samplers, align per-clip metadata, then fit the rest.

        Parameters
        ----------
        X : iterable
            Training data (clips) for the first step.
        y : array-like of shape (n_clips,), default=None
            Labels. When the pipeline ends in a classifier they are checked first (see
            :func:`~sklearn_ser._validation.check_labels`): missing labels, mixed types and a
            single class raise a ``ValueError`` before any step runs.
        **params : dict
            Fit parameters, routed as in imblearn's Pipeline; per-clip ones follow the clips.

        Returns
        -------
        self : ResamplingPipeline
            The fitted pipeline.
        """
        if y is not None and is_classifier(self):
            # Before the samplers and extractors run: mixed label types or a single class
            # would otherwise fail only after every clip's features were computed.
            y = check_labels(y, n_samples=_num_samples(X), owner=type(self).__name__)
        original = list(self.steps)
        X, y, params, fitted = self._resample_head(X, y, params)
        if not fitted:
            return super().fit(X, y, **params)
        # The head is already applied: imblearn fits the rest with it as passthrough, then
        # the (fitted in place, as imblearn does) samplers go back into their steps.
        self.steps = [(name, "passthrough" if name in fitted else step)
                      for name, step in original]
        try:
            super().fit(X, y, **self._still_requested(params))
        finally:
            self.steps = [(name, original[i][1] if name in fitted else step)
                          for i, (name, step) in enumerate(self.steps)]
        return self

    def _still_requested(self, params):
        """The fit arguments that the steps after the fitted head still ask for.

        Under metadata routing, ``groups`` may have been asked for by a head sampler alone
        (a NoiseAugmenter before a plain classifier); once the head is applied nothing
        else consumes it, and the rest of the pipeline must not be handed it.
        """
        if not params or not get_config().get("enable_metadata_routing", False):
            return params
        consumed = self.get_metadata_routing().consumes(method="fit", params=set(params))
        return {key: value for key, value in params.items() if key in consumed}

    def _resample_head(self, X, y, params):
        """Fit the samplers that open the pipeline; re-index per-clip params after each."""
        fitted = {}
        for name, step in self.steps[:-1]:
            if step is None or step == "passthrough":
                continue
            if not hasattr(step, "fit_resample") or hasattr(step, "transform"):
                break
            n_before = _num_samples(X)
            if _takes_groups(step):
                X, y = step.fit_resample(X, y, groups=params.get("groups"))
            else:
                X, y = step.fit_resample(X, y)
            per_clip = [key for key, value in params.items() if _is_per_clip(value, n_before)]
            if per_clip:
                index = getattr(step, "sample_indices_", None)
                if index is None:
                    raise ValueError(
                        f"ResamplingPipeline: step {name!r} ({type(step).__name__}) does not "
                        f"record sample_indices_, so {per_clip} cannot follow its output "
                        f"clips. Use a sampler that records it, or leave these out of fit.")
                params = {key: _safe_indexing(value, index) if key in per_clip else value
                          for key, value in params.items()}
            # A sampler may name the speakers of its copies itself (NoiseAugmenter's copies
            # can be speakers of their own).
            if "groups" in params and getattr(step, "groups_", None) is not None:
                params["groups"] = step.groups_
            fitted[name] = step
        return X, y, params, fitted


def _takes_groups(sampler):
    """Whether a sampler's ``fit_resample`` takes the speakers (``groups=``)."""
    try:
        return "groups" in inspect.signature(sampler.fit_resample).parameters
    except (TypeError, ValueError):
        return False


def _is_per_clip(value, n_clips):
    """An array-like fit argument with one entry per clip (not a string or a scalar)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return False
    try:
        return _num_samples(value) == n_clips
    except TypeError:
        return False


def resolve_speeds(speed_perturbation, speaker_norm, *, with_norm=None):
    """The speed factors a pipeline's ``speed_perturbation`` asks for, or None for none.

    ``"auto"`` means ``DEFAULT_SPEEDS`` without speaker normalisation and ``with_norm`` with
    it: the classic pipelines pass ``DEFAULT_SPEEDS`` (their speaker-normalised models were
    measured with the copies as speakers of their own), the networks None (not measured).
    """
    if isinstance(speed_perturbation, str):
        if speed_perturbation != "auto":
            raise ValueError(f"speed_perturbation must be 'auto', a tuple of speed factors or "
                             f"None; got {speed_perturbation!r}.")
        return with_norm if speaker_norm else DEFAULT_SPEEDS
    if speed_perturbation is None or len(speed_perturbation) == 0:
        return None
    return tuple(speed_perturbation)


def resolve_noise_copies(noise_augmentation):
    """The noisy copies per clip that a pipeline's ``noise_augmentation`` asks for (0: none).

    ``"auto"`` means ``DEFAULT_NOISE_COPIES`` (see the classic pipeline's Notes).
    """
    if isinstance(noise_augmentation, str):
        if noise_augmentation != "auto":
            raise ValueError(f"noise_augmentation must be 'auto', a number of copies or None; "
                             f"got {noise_augmentation!r}.")
        return DEFAULT_NOISE_COPIES
    if noise_augmentation is None:
        return 0
    if isinstance(noise_augmentation, bool) or not isinstance(noise_augmentation, Integral) \
            or noise_augmentation < 0:
        raise ValueError(f"noise_augmentation must be 'auto', a number of copies >= 0 or "
                         f"None; got {noise_augmentation!r}.")
    return int(noise_augmentation)


def noise_copy_settings(noise_augmentation, speaker_norm):
    """The ``speed_perturbed`` arguments of a pipeline's noisy copies.

    With a speaker normaliser: one condition per speaker and copy, at the clip's own level
    (the normaliser standardises a speaker's shared level away). Without one: one condition
    per clip and copy, each at a random level in ``NOISE_GAIN_RANGE_DB`` (nothing uses a
    speaker's shared condition, and the copies teach the model not to read the level).
    Chosen on the classic pipelines; see ``make_classic_pipeline``'s Notes.
    """
    return dict(noise_copies=resolve_noise_copies(noise_augmentation),
                noise_conditions="speaker" if speaker_norm else "clip",
                noise_gain_range=None if speaker_norm else NOISE_GAIN_RANGE_DB)


def speed_perturbed(steps, speeds, *, sr, n_jobs=None, noise_copies=0,
                    noise_conditions="speaker", noise_gain_range=None, speed_apart=False,
                    random_state=None):
    """A ResamplingPipeline of ``steps``, headed by the samplers of the training copies.

    Noisy copies (a :class:`~sklearn_ser.augmentation.NoiseAugmenter`, step ``"noise"``)
    come first, then the speed copies (step ``"speed"``). The noisy copies of a speaker are
    standardised as a speaker of their own (``copy_groups="apart"``), as a speaker recorded
    in noise is at prediction time. ``noise_conditions`` is the NoiseAugmenter's
    ``conditions``: one noise condition per speaker and copy, or per clip;
    ``noise_gain_range`` its ``gain_range`` (copies at a random level, or None).

    The speed copies are made of every clip, noisy ones included, and keep their source's
    speaker; with ``speed_apart`` they are made of the original clips only and are speakers
    of their own (``SpeedPerturber(copy_groups="apart", sources="originals")``), beside
    the noisy copies instead of multiplying them, for a speaker normaliser to standardise
    each as a new voice.
    """
    head = []
    if noise_copies:
        head.append(("noise", NoiseAugmenter(n_copies=noise_copies, sr=sr, n_jobs=n_jobs,
                                             conditions=noise_conditions,
                                             gain_range=noise_gain_range,
                                             random_state=random_state)))
    if speeds is not None:
        apart = dict(copy_groups="apart", sources="originals") if speed_apart else {}
        head.append(("speed", SpeedPerturber(rates=speeds, sr=sr, n_jobs=n_jobs, **apart)))
    # A ResamplingPipeline even without copies: its fit checks the labels before any
    # features are extracted.
    return ResamplingPipeline([*head, *steps])
