"""Ready-made deep recognisers: clips -> frame sequences -> frame-wise scaling -> network.

The networks live in :mod:`sklearn_ser.neural`, imported only when a pipeline is built, so that
importing :mod:`sklearn_ser.pipelines` never imports torch. The frame steps and the network
settings here also serve the network regressors of ``_regression.py``.
"""

from sklearn.preprocessing import StandardScaler

from ..features import (
    FeatureRangeGuard,
    FrameWise,
    LogMelExtractor,
    MFCCExtractor,
    SpeakerNormalizer,
)
from ..utils import request_speakers
from ._resampling import noise_copy_settings, resolve_speeds, speed_perturbed

#: Network class (in sklearn_ser.neural) and step name of each kind.
NETWORKS = {
    "cnn": ("CNNClassifier", "cnnclassifier"),
    "lstm": ("LSTMClassifier", "lstmclassifier"),
    "crnn": ("CRNNClassifier", "crnnclassifier"),
}

# Settings of each network inside the pipelines, chosen on EmoDB (speaker-grouped 5-fold CV, then
# leave-one-speaker-out, on the pipeline's own log-mel frames): 2 s random crops in training help
# every network, SpecAugment stripes help the recurrent ones, a wider CNN with a higher learning
# rate and more epochs beats a narrower one, the CRNN gains from more GRU units, and the LSTM
# steps over 4 stacked frames. Figures: benchmarks/README.md, "Deep pipelines on EmoDB".
_NETWORK_SETTINGS = {
    "cnn": dict(channels=(32, 64, 128), n_hidden=128, crop_frames=100),
    "lstm": dict(stack_frames=4, n_units=128, crop_frames=100, time_masks=2, freq_masks=2),
    "crnn": dict(channels=(32, 64), n_units=128, crop_frames=100, time_masks=2, freq_masks=2),
}
_LEARNING_RATE = 3e-3
_TRAINING_SETTINGS = dict(lr=_LEARNING_RATE, class_weight="balanced")

# How long each pipeline trains: early stopping on a held-out tenth of the training clips
# picked a noisy epoch, whether the tenth was whole speakers (the honest split) or a stratified
# sample of clips. A fixed number of epochs with a cosine schedule on all training clips did
# better for every network, plain or speaker-normalised (for the speaker-normalised CRNN on
# every fold); mixup did not help the CNN. Figures: benchmarks/README.md, "Deep pipelines on
# EmoDB".
_SCHEDULE = dict(max_epochs=60, validation_fraction=None, lr_schedule="cosine")

# Speed-perturbed training copies (0.9x and 1.1x, speed_perturbation="auto") for the plain
# pipelines: they raised the CNN on EmoDB over every seed tried and on most folds, and partial
# runs pointed the same way for the CRNN and LSTM (benchmarks/results/emodb-deep-speed-gpu.md).
# Not measured with speaker normalisation.


def make_deep_pipeline(kind="cnn", *, sr=16000, features="logmel", n_mels=40, n_mfcc=20,
                       hop_length=320, max_frames=300, speaker_norm=False,
                       speed_perturbation="auto", noise_augmentation="auto", guard=True,
                       speech_only="audible", memory=None, random_state=None, **net_params):
    """A deep recogniser that starts from clips.

    The pipeline is ``extractor(pooling=None) -> FeatureRangeGuard -> FrameWise(StandardScaler())
    -> network``: the extractor returns NaN-padded frame sequences, the guard warns about clips
    far outside the training range, the scaler standardises each coefficient over the real
    frames of the training clips, and the network masks the padding. With speed
    perturbation a :class:`~sklearn_ser.augmentation.SpeedPerturber` goes first, in a
    :class:`~sklearn_ser.pipelines.ResamplingPipeline`: it adds speed-changed copies of the
    training clips in ``fit`` only. Every parameter
    is reachable by ``set_params`` and ``GridSearchCV`` (``logmel__n_mels``,
    ``cnnclassifier__channels``, ``lstmclassifier__n_units``, ...).

    Parameters
    ----------
    kind : {"cnn", "lstm", "crnn"}, default="cnn"
        :class:`~sklearn_ser.neural.CNNClassifier`,
        :class:`~sklearn_ser.neural.LSTMClassifier` or
        :class:`~sklearn_ser.neural.CRNNClassifier`.
    sr : int, default=16000
        Sample rate of the clips.
    features : {"logmel", "mfcc"}, default="logmel"
        Log-mel bands, or MFCCs with deltas and delta-deltas.
    n_mels : int, default=40
        Mel bands (of the log-mel features, or of the filterbank under the MFCCs).
    n_mfcc : int, default=20
        Cepstral coefficients with ``features="mfcc"``.
    hop_length : int, default=320
        Samples between frames (20 ms at 16 kHz); windows are twice as long.
    max_frames : int or None, default=300
        Frames per sequence (longer clips are centre-cropped; 300 frames are 6 s at 20 ms).
        None takes the longest training clip.
    speaker_norm : bool, default=False
        Standardise each coefficient per speaker, over all real frames of that speaker's clips
        (``FrameWise(SpeakerNormalizer())`` in place of the pooled scaler), as the classic
        ``-sn`` models do with their functionals. At predict time each test speaker is
        standardised by the statistics of their own clips in ``X`` (never their labels), so
        ``groups`` must reach ``predict`` through metadata routing, as
        :func:`~sklearn_ser.model_selection.evaluate` does. A speaker with a single clip is
        standardised by that clip's frames. On EmoDB leave-one-speaker-out it lifted every
        network (benchmarks/README.md, "Deep pipelines on EmoDB").
    speed_perturbation : "auto", tuple of float or None, default="auto"
        Speed factors of the training copies (step ``"speed"``; one copy of every training
        clip per factor, duration and pitch changed together). ``"auto"``: (0.9, 1.1)
        without speaker normalisation, where it was measured (see Notes), and none with it.
        None: no copies.
    noise_augmentation : "auto", int or None, default="auto"
        Noisy copies of every training clip that a
        :class:`~sklearn_ser.augmentation.NoiseAugmenter` (step ``"noise"``) adds in ``fit``
        only, made as the classic pipelines make theirs (white, pink, brown or babble noise
        of other training speakers at 0-30 dB SNR; with speaker normalisation one condition
        per speaker and copy, standardised as speakers of their own; without it one per
        clip and copy, at a random level, the speed copies made of them too). ``"auto"``:
        two copies with speaker normalisation and for the plain ``"lstm"``, none for the
        plain ``"cnn"`` and ``"crnn"`` (see Notes). An int: that many copies. None or 0: no
        copies.
    guard : bool, default=True
        Put a :class:`~sklearn_ser.features.FeatureRangeGuard` (step ``"guard"``) on the raw
        frame sequences, before the scaler: it learns each coefficient's range over the
        training frames in ``fit`` (speed copies included) and, at prediction time, warns
        with an :class:`~sklearn_ser.exceptions.OutOfRangeWarning` naming the clips whose
        typical (median) frame lies far outside it. It never changes a prediction. False
        leaves it out; ``set_params(guard="passthrough")`` turns it off in a built pipeline.
    speech_only : bool, "edges" or "audible", default="audible"
        Which frames of a clip the network gets (the extractor's ``speech_only``).
        ``"audible"``: every frame but those of exact digital silence, so that zero padding
        (``FixedDuration``, a stream's gaps, an editor's silence) changes nothing while a
        recording's own pauses and noise floor stay. True: only the frames of the clip's
        voice-activity mask, as the classic pipelines pool their functionals. ``"edges"``:
        every frame from the first to the last speech frame. False: every frame. Chosen on
        EmoDB and RAVDESS with ``crnn-sn``: with every frame, 0.5 s of zeros around a clip
        changed the label of a third to a half of the clips; speech frames only and
        ``"edges"`` kept every label and gained in noise, but cost clean accuracy on both
        corpora (benchmarks/README.md, "Robustness of the ready-made recognisers").
    memory : str, joblib.Memory or None, default=None
        Feature cache of the extractor (its ``memory`` parameter): a grid search over network
        parameters then extracts each fold's training and test features once.
    random_state : int, RandomState instance or None, default=None
        Seed of the network.
    **net_params
        Hyper-parameters of the network, overriding the pipeline's settings (for instance
        ``max_epochs=20``, ``device="cpu"``, ``channels=(8, 16)``).

    Returns
    -------
    ResamplingPipeline
        An unfitted pipeline whose ``fit`` takes clips and labels (checked before any
        features are extracted) and adds the training copies, if any.

    Notes
    -----
    The training copies at 0.9x and 1.1x speed triple the training set and the training
    time. On EmoDB leave-one-speaker-out they raised the CNN's UAR, from the command line on
    a CPU and over several seeds on a GPU (benchmarks/README.md, "Deep pipelines on EmoDB").

    The speaker-normalised networks train on two noisy copies of every clip by default, as
    the classic pipelines do; they triple the training clips and the training time. With
    them ``crnn-sn`` kept its clean accuracy on EmoDB and RAVDESS and gained far in white
    noise and babble (benchmarks/README.md, "Robustness of the ready-made recognisers").
    Among the plain networks (no speaker normaliser) only the LSTM gets them by default.
    With its speed copies they make nine times the training clips; on EmoDB and RAVDESS
    they raised the plain LSTM clean and in every noise condition. The plain CNN held up in
    noise with them too, but lost more than a point clean on EmoDB, the most the ready-made
    pipelines may give up for robustness; the plain CRNN with them has not been measured
    (benchmarks/README.md, "Robustness of the ready-made recognisers").
    ``noise_augmentation=2`` adds them to either.

    The network trains for a fixed 60 epochs (cosine learning-rate schedule) on all training
    clips: on EmoDB this beat early stopping on a held-out part of them for every network,
    with and without speaker normalisation (see the module's comments). Early stopping stays one
    parameter away (``validation_fraction=0.1, patience=15``). The network requests the
    speakers (``groups``) through sklearn's metadata routing, so where they reach it, as in
    :func:`~sklearn_ser.model_selection.evaluate` and the ``benchmark`` command (which turn
    routing on for the call), its early-stopping split holds out whole training speakers.
    Where routing is off (a plain ``pipe.fit(X, y)``, ``cross_validate`` without routing) the
    held-out clips are a stratified sample of the training speakers' clips. Test speakers are
    never used.

    Examples
    --------
    >>> from sklearn_ser.pipelines import make_deep_pipeline
    >>> pipe = make_deep_pipeline("crnn", max_epochs=5, random_state=0)
    >>> [name for name, _ in pipe.steps]
    ['speed', 'logmel', 'guard', 'framewise', 'crnnclassifier']
    """
    if kind not in NETWORKS:
        raise ValueError(f"Unknown deep model {kind!r}; choose from {sorted(NETWORKS)}.")
    steps = frame_steps(features, sr=sr, n_mels=n_mels, n_mfcc=n_mfcc, hop_length=hop_length,
                        max_frames=max_frames, speaker_norm=speaker_norm, guard=guard,
                        speech_only=speech_only, memory=memory)
    class_name, step = NETWORKS[kind]
    network = make_network(class_name, kind, _TRAINING_SETTINGS, random_state=random_state,
                           net_params=net_params)
    steps.append((step, network))
    return speed_perturbed(steps, resolve_speeds(speed_perturbation, speaker_norm), sr=sr,
                           random_state=random_state,
                           **noise_copy_settings(deep_noise_copies(noise_augmentation, kind,
                                                                   speaker_norm),
                                                 speaker_norm))


# The plain networks whose noisy copies cost no more than a point of clean accuracy on either
# corpus they were measured on (EmoDB and RAVDESS); see make_deep_pipeline's Notes.
_PLAIN_KINDS_WITH_COPIES = frozenset({"lstm"})


def deep_noise_copies(noise_augmentation, kind, speaker_norm):
    """A network's ``noise_augmentation`` with ``"auto"`` resolved: the classic pipelines'
    copies with speaker normalisation and for the plain kinds where they were measured to
    pay, none for the others."""
    if noise_augmentation == "auto" and not speaker_norm \
            and kind not in _PLAIN_KINDS_WITH_COPIES:
        return None
    return noise_augmentation


def frame_steps(features, *, sr, n_mels=40, n_mfcc=20, hop_length=320, max_frames=300,
                speaker_norm=False, guard=True, speech_only="audible", memory=None,
                n_jobs=None):
    """The steps in front of a network: ``extractor(pooling=None) -> [FeatureRangeGuard] ->
    FrameWise(StandardScaler() or SpeakerNormalizer())``, as a list of ``(name, step)``.

    The parameters are those of :func:`make_deep_pipeline`; ``n_jobs`` is the extractor's.
    """
    window = dict(hop_length=hop_length, win_length=2 * hop_length,
                  n_fft=max(512, 1 << (2 * hop_length - 1).bit_length()))
    # By default the networks see every frame but those of digital silence: their settings
    # were tuned on whole clips, pauses included, and exact zeros carry nothing of the voice
    # (see make_deep_pipeline's speech_only).
    if features == "logmel":
        extractor = LogMelExtractor(sr=sr, n_mels=n_mels, pooling=None, max_frames=max_frames,
                                    memory=memory, n_jobs=n_jobs, speech_only=speech_only,
                                    **window)
    elif features == "mfcc":
        extractor = MFCCExtractor(sr=sr, n_mfcc=n_mfcc, n_mels=n_mels, deltas=2, pooling=None,
                                  max_frames=max_frames, memory=memory, n_jobs=n_jobs,
                                  speech_only=speech_only, **window)
    else:
        raise ValueError(f"features must be 'logmel' or 'mfcc'; got {features!r}.")
    steps = [(features, extractor)]
    if guard:
        steps.append(("guard", FeatureRangeGuard()))
    scaler = FrameWise(SpeakerNormalizer() if speaker_norm else StandardScaler())
    steps.append(("framewise", scaler))
    return steps


def make_network(class_name, kind, settings, *, random_state, net_params):
    """The network ``class_name`` of :mod:`sklearn_ser.neural` with the pipelines' settings
    for ``kind`` (``settings``, then ``_SCHEDULE`` and ``_NETWORK_SETTINGS``), overridden by
    ``net_params``, requesting the speakers for its early-stopping split."""
    from .. import neural  # torch is imported here, when a deep pipeline is built

    params = {**settings, **_SCHEDULE, **_NETWORK_SETTINGS[kind], **net_params}
    network = getattr(neural, class_name)(random_state=random_state, **params)
    # Wherever early stopping is on (validation_fraction set by the user),
    # its split holds out whole training speakers; evaluate turns routing on for the request.
    return request_speakers(network)

