"""Pretrained self-supervised speech encoders (wav2vec 2.0, HuBERT, WavLM, data2vec-audio) as
a scikit-learn transformer over clips.

The encoder is a Hugging Face ``transformers`` model, loaded with ``AutoConfig``,
``AutoFeatureExtractor`` and ``AutoModel`` from a Hub name or a local folder (the folder
``save_pretrained`` writes). ``transformers`` is an optional extra, imported only when an
encoder is loaded.

What the estimator adds to a plain ``transformers`` loop:

* the package's clip contract: validation, resampling from ``sr`` to the encoder's rate (soxr,
  as ``features`` does), clips shorter than the receptive field padded with a warning;
* layer choice: one hidden state, several averaged or concatenated; the layers above the last
  one needed are dropped from the loaded encoder, since nothing reads them;
* the package's pooling (``features/_pooling.py`` functionals) or NaN-padded frame sequences;
* batching by length that never changes what a clip gets beyond float rounding: clips are
  padded together (with the attention mask) only where padding cannot reach a clip's frames
  (see ``_pads_safely``: wav2vec 2.0, HuBERT and WavLM with a layer-normalised front end, as
  their Large checkpoints have). Elsewhere (the Base checkpoints' group norm normalises over
  time, padding included; data2vec-audio) only clips of equal length share a batch;
* ``memory=`` caching and pickling without the weights (reloaded on first use), or with them
  as plain arrays (``keep_weights=True``), so that a model file holds no pickle.
"""

import contextlib
import hashlib
import json
import os
import warnings
from numbers import Integral

import numpy as np
import soxr
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_memory

from .._validation import check_clips, warn_user
from ..exceptions import AudioWarning
from ..features import FUNCTIONAL_PRESETS, FUNCTIONALS, pad_sequences, pool
from ..utils._compat import HasMethods, Interval, StrOptions, _fit_context
from ._state import _tensors

__all__ = ["PretrainedSpeechExtractor"]

#: Model types whose layer layout, frame rate and padding behaviour this module knows (and
#: tests on small random configurations).
SUPPORTED_MODEL_TYPES = ("data2vec-audio", "hubert", "wav2vec2", "wavlm")

_EXTRA = 'pip install "sklearn-ser[embeddings]"'

# Configuration entries never stored with kept weights: label maps (not used by the encoder)
# and remote-code pointers (never followed: nothing here passes trust_remote_code).
_DROPPED_CONFIG_KEYS = ("id2label", "label2id", "auto_map", "_name_or_path", "_commit_hash")


def _import_transformers():
    """The ``transformers`` module, or an ImportError that names the extra to install."""
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            "PretrainedSpeechExtractor needs the transformers package, an optional extra of "
            f"sklearn_ser: {_EXTRA} (or pip install \"transformers>=4.40\")."
        ) from exc
    return transformers


# -- loading ----------------------------------------------------------------------------------

def _load_error(source, exc):
    """The error for a checkpoint that cannot be loaded: its name and the ways to fix it."""
    reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"  # on one line
    if os.path.isdir(source):
        return ValueError(
            f"PretrainedSpeechExtractor: the folder {source!r} does not hold a loadable "
            f"transformers speech encoder ({reason}). It needs the "
            "config.json and the weights that save_pretrained writes (and preferably "
            "preprocessor_config.json)."
        )
    return ValueError(
        f"PretrainedSpeechExtractor: cannot load model_name_or_path={source!r}: there is no "
        "such folder here, and the Hugging Face Hub did not provide a checkpoint of that name "
        f"({reason}). Check the spelling (Hub names look like "
        "'facebook/wav2vec2-base' or 'microsoft/wavlm-base-plus'). Downloading needs network "
        "access with HF_HUB_OFFLINE unset; without network, download the checkpoint once "
        "elsewhere (huggingface-cli download NAME --local-dir DIR) and pass that folder."
    )


def _check_model_type(config, source):
    model_type = getattr(config, "model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(
            f"PretrainedSpeechExtractor: {source!r} is a {model_type!r} model; supported are "
            f"the raw-waveform encoders {', '.join(SUPPORTED_MODEL_TYPES)}. Pass a checkpoint "
            "of one of these types (fine-tuned ones included)."
        )


def _load_feature_extractor(transformers, source, config):
    """The checkpoint's feature extractor, or wav2vec 2.0's defaults with a warning."""
    try:
        return transformers.AutoFeatureExtractor.from_pretrained(source)
    except (OSError, ValueError) as exc:
        warn_user(
            f"PretrainedSpeechExtractor: {source!r} has no usable feature extractor "
            f"configuration (preprocessor_config.json: {exc}); using Wav2Vec2FeatureExtractor "
            "defaults (16000 Hz, each clip normalised to zero mean and unit variance). Add "
            "the checkpoint's preprocessor_config.json if it was trained otherwise.",
            AudioWarning,
        )
        return transformers.Wav2Vec2FeatureExtractor()


def _load_pretrained(source):
    """``(config, feature_extractor, model)`` of a Hub name or local folder, model in eval."""
    transformers = _import_transformers()
    if not os.path.isdir(source) and (os.path.isabs(source) or source.startswith((".", "~"))):
        raise _load_error(source, FileNotFoundError(f"no folder {source!r}"))
    try:
        config = transformers.AutoConfig.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise _load_error(source, exc) from exc
    _check_model_type(config, source)
    feature_extractor = _load_feature_extractor(transformers, source, config)
    try:
        # Weights missing from a checkpoint are drawn at random: keep the caller's torch
        # random stream as it was, so that loading an encoder does not change later draws.
        with torch.random.fork_rng(devices=[]), _quiet_loading(transformers):
            model = transformers.AutoModel.from_pretrained(source, config=config)
    except (OSError, ValueError) as exc:
        raise _load_error(source, exc) from exc
    return config, feature_extractor, model.float().eval()


@contextlib.contextmanager
def _quiet_loading(transformers):
    """No loading progress bar from transformers: a grid search loads an encoder per fit."""
    logging = transformers.utils.logging
    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            logging.enable_progress_bar()


def _plain_config(config, n_run):
    """The configuration as JSON values, for rebuilding an encoder of ``n_run`` layers."""
    plain = json.loads(config.to_json_string(use_diff=False))
    for key in _DROPPED_CONFIG_KEYS:
        plain.pop(key, None)
    plain["num_hidden_layers"] = n_run
    return plain


def _rebuild(stored, owner):
    """``(config, feature_extractor, model)`` from kept plain settings and weight arrays.

    Only transformers' own classes are built: the model type and the feature extractor class
    are looked up among them by name, never imported from elsewhere.
    """
    transformers = _import_transformers()
    if not isinstance(stored, dict) or not isinstance(stored.get("config"), dict):
        raise ValueError(f"{owner}: the kept encoder is not in the expected form; the model "
                         "is damaged. Fit it again or save it again.")
    settings = dict(stored["config"])
    model_type = settings.pop("model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ValueError(f"{owner}: the kept encoder has model type {model_type!r}, not one of "
                         f"{SUPPORTED_MODEL_TYPES}; the model is damaged.")
    config = transformers.AutoConfig.for_model(model_type, **settings)
    fe_settings = dict(stored.get("feature_extractor") or {})
    fe_class = getattr(transformers, str(fe_settings.pop("feature_extractor_type", "")), None)
    if not (isinstance(fe_class, type)
            and issubclass(fe_class, transformers.SequenceFeatureExtractor)):
        fe_class = transformers.Wav2Vec2FeatureExtractor
    feature_extractor = fe_class(**fe_settings)
    with torch.random.fork_rng(devices=[]):
        model = transformers.AutoModel.from_config(config)
    return config, feature_extractor, model.float().eval()


def _truncate(model, n_run, n_layers, stable_layer_norm):
    """Keep the first ``n_run`` transformer layers of an encoder of ``n_layers``.

    Hidden state ``k`` (``k <= n_run``) is then unchanged. An encoder with the "stable" layer
    norm applies a final layer norm to the last layer's output only, so a shortened one must
    not apply it to what is now its last layer.
    """
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList):
        return
    if len(layers) > n_run:
        encoder.layers = torch.nn.ModuleList(list(layers)[:n_run])
    if stable_layer_norm and n_run < n_layers:
        encoder.layer_norm = torch.nn.Identity()


def _fingerprint(model, feature_extractor):
    """A digest of the weights and input settings: the cache key's stand-in for the model."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    settings = {k: v for k, v in feature_extractor.to_dict().items()
                if not k.startswith("_") and k != "processor_class"}
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _pads_safely(config):
    """Whether padding a clip (with the attention mask) leaves its frames as they were.

    A front end that normalises each frame on its own (``feat_extract_norm="layer"``) gives
    a clip the same frames whatever follows it, and the encoder zeroes the padded frames
    before its one positional convolution. A group norm normalises over time, padding
    included; data2vec-audio stacks several positional convolutions, whose padded outputs
    are no longer zero and reach the clip's last frames.
    """
    return (config.model_type in ("wav2vec2", "hubert", "wavlm")
            and getattr(config, "feat_extract_norm", None) == "layer")


def _frame_count(n_samples, kernels, strides):
    """Frames the convolutional front end makes of ``n_samples`` samples (0 if too short)."""
    n = int(n_samples)
    for kernel, stride in zip(kernels, strides):
        n = (n - kernel) // stride + 1 if n >= kernel else 0
    return n


def _receptive_field(kernels, strides):
    """Samples the convolutional front end needs for one frame."""
    field, step = 1, 1
    for kernel, stride in zip(kernels, strides):
        field += (kernel - 1) * step
        step *= stride
    return field


class _Encoder:
    """A loaded encoder and what ``transform`` needs of it (never pickled)."""

    def __init__(self, config, feature_extractor, model, device):
        self.config = config
        self.feature_extractor = feature_extractor
        self.model = model.to(device)
        self.device = device
        self.kernels = tuple(int(k) for k in config.conv_kernel)
        self.strides = tuple(int(s) for s in config.conv_stride)
        self.pads_safely = _pads_safely(config)


def _resolve_functionals(functionals):
    """A preset name or a sequence of names from ``FUNCTIONALS``, as a validated tuple."""
    if isinstance(functionals, str):
        return FUNCTIONAL_PRESETS[functionals]
    names = tuple(functionals)
    if not names or len(set(names)) != len(names) or not set(names) <= set(FUNCTIONALS):
        raise ValueError(
            f"PretrainedSpeechExtractor: functionals must be a preset {sorted(FUNCTIONAL_PRESETS)} "
            f"or a non-empty sequence of distinct names from {FUNCTIONALS}; got {functionals!r}."
        )
    return names


def _cached_extract(extractor, clips, key):
    """Features of validated clips and the warnings raised on the way, for joblib.Memory.

    Module-level so that joblib can name and store it; ``extractor`` is not hashed (``key``
    stands for it). The warnings are kept as ``(category, message)`` pairs so that a cache
    hit raises them again.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        features = extractor._extract(clips)
    return features, [(w.category, str(w.message)) for w in caught]


# -- the estimator ----------------------------------------------------------------------------

class PretrainedSpeechExtractor(TransformerMixin, BaseEstimator):
    """Features of a pretrained speech encoder (wav2vec 2.0, HuBERT, WavLM, data2vec-audio).

    Runs a Hugging Face ``transformers`` encoder over each clip and returns the hidden states
    of the chosen layer(s), pooled into functionals (one row per clip) or as NaN-padded frame
    sequences. Frozen self-supervised features with a linear classifier are a strong baseline
    for speaker-independent emotion recognition; middle layers usually carry the most
    paralinguistic information (see the README, "Pretrained speech encoders").

    Needs the optional extra: ``pip install "sklearn-ser[embeddings]"``.

    Parameters
    ----------
    model_name_or_path : str or os.PathLike
        A Hugging Face Hub name (``"facebook/wav2vec2-base"``, ``"microsoft/wavlm-base-plus"``;
        downloaded once into the Hugging Face cache) or a local folder written by
        ``save_pretrained`` (``config.json``, the weights and ``preprocessor_config.json``).
        Fine-tuned checkpoints of these model types load too; their heads are ignored. Pass
        a str for an extractor saved with :func:`sklearn_ser.io.save_model`: model files
        hold plain types only, and a ``pathlib.Path`` is not one.
    layer : int, list of int, tuple of int, range, "middle" or "all", default="middle"
        Hidden state(s) to use: 0 is the input of the first transformer layer (the
        convolutional features after projection and positional convolution), ``k`` the
        output of layer ``k``; negative indices count from the last layer. ``"middle"`` is
        layer ``n_layers // 2``, ``"all"`` every hidden state 0 to ``n_layers``. Several
        layers are combined by ``layer_combination``. Use a list or tuple rather than a range
        for a model saved with :func:`sklearn_ser.io.save_model`, which stores only plain types.
    layer_combination : {"mean", "concat"}, default="mean"
        How several layers are combined, frame by frame: their plain average, or their
        features side by side.
    pooling : {"stats", None}, default="stats"
        ``"stats"`` returns functionals of each clip's frames, one row per clip; None returns
        the frame sequences ``(n_clips, max_frames_, n_dims)``, NaN-padded (see
        :class:`~sklearn_ser.features.FrameWise`).
    functionals : {"basic", "standard", "full"} or list of str or tuple of str, default=("mean",)
        Statistics taken over each clip's frames when ``pooling="stats"``: a preset or names
        from ``sklearn_ser.features.FUNCTIONALS``.
    max_frames : int or None, default=None
        Frames per sequence when ``pooling=None``; None takes the longest training clip.
    sr : int, default=16000
        Sample rate of the clips. Clips are resampled (soxr) to the encoder's rate when it
        differs.
    batch_size : int, default=8
        Clips per forward pass. Clips are sorted by length and padded together where the
        encoder masks padding exactly (wav2vec 2.0, HuBERT and WavLM with a layer-normalised
        front end, as most Large checkpoints have); other encoders (the Base checkpoints'
        group norm, data2vec-audio) batch only clips of equal length. Results agree with one
        clip at a time to float rounding; ``batch_size=1`` makes them depend on nothing but
        the clip, bit for bit.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or any torch device ("cpu", "cuda:1").
    memory : str, joblib.Memory or None, default=None
        Cache of the extracted features on disk, keyed on the clips, the parameters and a
        digest of the encoder's weights: a grid search over the classifier then runs the
        encoder once per distinct set of clips. None caches nothing.
    keep_weights : bool, default=False
        Whether pickles and model files of the fitted extractor hold the encoder's settings
        and weights (as plain arrays), so that it loads where neither the folder nor the Hub
        is reachable. False stores only ``model_name_or_path``; the encoder is loaded again
        from it on first use.
    verbose : int, default=0
        Show a progress bar over the batches when positive.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        Output column names, ``{model_type}_layer{k}_dim{d}[_{functional}]``; averaged
        layers are named ``layers{a}-{b}`` (a contiguous range) or ``layers{a}+{b}+...``.
    n_features_out_ : int
        Number of output columns (dimensions per frame when ``pooling=None``).
    layers_ : tuple of int
        The hidden states used, as non-negative indices.
    n_layers_ : int
        Transformer layers of the checkpoint.
    model_type_ : str
        The checkpoint's model type (``"wav2vec2"``, ``"hubert"``, ...).
    model_sr_ : int
        The encoder's sample rate, to which clips are resampled.
    receptive_field_ : int
        Samples (at ``model_sr_``) of one output frame; shorter clips are zero-padded to it.
    device_ : str
        The torch device the encoder runs on.
    max_frames_ : int
        Frames per output sequence; set only when ``pooling=None``.

    See Also
    --------
    sklearn_ser.features.MFCCExtractor : Hand-made features pooled the same way.
    sklearn_ser.features.ExtractorUnion : Encoder features beside hand-made ones.

    Notes
    -----
    The input is waveforms, so ``n_features_in_`` is not defined. Layers above the last one
    used are dropped from the loaded encoder: with a middle layer, the upper half of the
    transformer never runs. Clips shorter than the encoder's receptive field (400 samples,
    25 ms, for wav2vec 2.0) are zero-padded to it with an ``AudioWarning`` naming them.

    Examples
    --------
    A tiny randomly initialised encoder stands in for a real checkpoint here:

    >>> import tempfile
    >>> import numpy as np
    >>> from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model
    >>> from sklearn_ser.neural import PretrainedSpeechExtractor
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = tmp.name
    >>> config = Wav2Vec2Config(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
    ...                         intermediate_size=32, conv_dim=(8, 8), conv_kernel=(10, 3),
    ...                         conv_stride=(5, 2), num_conv_pos_embeddings=8,
    ...                         num_conv_pos_embedding_groups=2)
    >>> Wav2Vec2Model(config).save_pretrained(folder)
    >>> _ = Wav2Vec2FeatureExtractor().save_pretrained(folder)
    >>> rng = np.random.default_rng(0)
    >>> clips = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (4000, 6000)]
    >>> extractor = PretrainedSpeechExtractor(folder, layer=1, functionals="basic")
    >>> extractor.fit_transform(clips).shape
    (2, 32)
    >>> extractor.get_feature_names_out()[:2]
    array(['wav2vec2_layer1_dim0_mean', 'wav2vec2_layer1_dim1_mean'], dtype=object)
    >>> tmp.cleanup()
    """

    _parameter_constraints = {
        "model_name_or_path": [str, os.PathLike],
        "layer": [Interval(Integral, None, None, closed="neither"),
                  StrOptions({"middle", "all"}), list, tuple, range],
        "layer_combination": [StrOptions({"mean", "concat"})],
        "pooling": [StrOptions({"stats"}), None],
        "functionals": [StrOptions(set(FUNCTIONAL_PRESETS)), list, tuple],
        "max_frames": [Interval(Integral, 1, None, closed="left"), None],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "memory": [None, str, HasMethods(["cache"])],
        "keep_weights": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model_name_or_path,
        *,
        layer="middle",
        layer_combination="mean",
        pooling="stats",
        functionals=("mean",),
        max_frames=None,
        sr=16000,
        batch_size=8,
        device="auto",
        memory=None,
        keep_weights=False,
        verbose=0,
    ):
        self.model_name_or_path = model_name_or_path
        self.layer = layer
        self.layer_combination = layer_combination
        self.pooling = pooling
        self.functionals = functionals
        self.max_frames = max_frames
        self.sr = sr
        self.batch_size = batch_size
        self.device = device
        self.memory = memory
        self.keep_weights = keep_weights
        self.verbose = verbose

    # -- fit -----------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Load the encoder, validate the clips and fix the layers and output names.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        clips = check_clips(X)
        self._functionals = _resolve_functionals(self.functionals)
        device = self._resolve_device()
        config, feature_extractor, model = _load_pretrained(os.fspath(self.model_name_or_path))
        self.model_type_ = str(config.model_type)
        self.n_layers_ = int(config.num_hidden_layers)
        self.layers_ = self._resolve_layers(self.n_layers_)
        self.model_sr_ = int(feature_extractor.sampling_rate)
        self.receptive_field_ = _receptive_field(config.conv_kernel, config.conv_stride)
        self.device_ = device
        _truncate(model, self._n_run(), self.n_layers_, self._stable_layer_norm(config))
        self._encoder = _Encoder(config, feature_extractor, model, device)
        self._stored_encoder = None
        self._hidden_size = int(config.hidden_size)
        # The cache key's digest of the weights, taken while they are at hand.
        self._fingerprint = (None if self.memory is None
                             else _fingerprint(model, feature_extractor))
        self.feature_names_out_ = self._build_feature_names(self._hidden_size)
        self.n_features_out_ = len(self.feature_names_out_)
        if self.pooling is None:
            longest = max(self._model_length(len(c)) for c in clips)
            self.max_frames_ = (self.max_frames if self.max_frames is not None else
                                _frame_count(longest, self._encoder.kernels,
                                             self._encoder.strides))
        else:
            vars(self).pop("max_frames_", None)  # from an earlier fit with pooling=None
        return self

    def _resolve_device(self):
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(f"device={self.device!r} is not a torch device; use 'auto', "
                             "'cpu' or 'cuda'.") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={self.device!r} but CUDA is not available here; use "
                             "device='auto' or 'cpu'.")
        return self.device

    def _resolve_layers(self, n_layers):
        """The hidden-state indices of ``layer``, checked against the checkpoint's depth."""
        if isinstance(self.layer, str):
            return (n_layers // 2,) if self.layer == "middle" else tuple(range(n_layers + 1))
        chosen = [self.layer] if isinstance(self.layer, Integral) else list(self.layer)
        if not chosen or not all(isinstance(k, Integral) and not isinstance(k, (bool, np.bool_))
                                 for k in chosen):
            raise ValueError(f"{type(self).__name__}: layer must be an int, a non-empty list, "
                             f"tuple or range of ints, 'middle' or 'all'; got {self.layer!r}.")
        bad = [k for k in chosen if not -(n_layers + 1) <= k <= n_layers]
        if bad:
            raise ValueError(
                f"{type(self).__name__}: layer {bad} is out of range for "
                f"{os.fspath(self.model_name_or_path)!r}, which has {n_layers} transformer "
                f"layers: hidden states 0 (the input of the first layer) to {n_layers}, or "
                f"-1 to -{n_layers + 1} from the last."
            )
        resolved = tuple(int(k) % (n_layers + 1) for k in chosen)
        if len(set(resolved)) != len(resolved):
            raise ValueError(f"{type(self).__name__}: layer {self.layer!r} names a hidden state "
                             "twice; list each layer once.")
        return resolved

    def _n_run(self):
        """Transformer layers to run: up to the last hidden state used."""
        # At least one: transformers 5 records hidden states from the layers themselves.
        return max(1, max(self.layers_))

    @staticmethod
    def _stable_layer_norm(config):
        return bool(getattr(config, "do_stable_layer_norm", False))

    def _build_feature_names(self, hidden_size):
        prefix = self.model_type_.replace("-", "_")
        layers = self.layers_
        if len(layers) == 1 or self.layer_combination == "concat":
            tags = [f"layer{k}" for k in layers]
        elif list(layers) == list(range(layers[0], layers[-1] + 1)):
            tags = [f"layers{layers[0]}-{layers[-1]}"]
        else:
            tags = ["layers" + "+".join(str(k) for k in layers)]
        columns = [f"{prefix}_{tag}_dim{d}" for tag in tags for d in range(hidden_size)]
        if self.pooling is None:
            return np.asarray(columns, dtype=object)
        return np.asarray([f"{c}_{f}" for f in self._functionals for c in columns], dtype=object)

    # -- transform -----------------------------------------------------------------------------

    def transform(self, X):
        """Encode the clips and pool (or pad) each clip's frames.

        Parameters
        ----------
        X : list of ndarray of shape (n_samples_i,) or ndarray of shape (n_clips, n_samples)
            Mono clips at ``self.sr``.

        Returns
        -------
        ndarray of shape (n_clips, n_features_out_)
            With ``pooling="stats"``: functionals of each clip's hidden-state frames.
        ndarray of shape (n_clips, max_frames_, n_features_out_), float32
            With ``pooling=None``: the frame sequences, centre-cropped or NaN-padded to
            ``max_frames_``.
        """
        check_is_fitted(self)
        clips = check_clips(X)
        memory = check_memory(self.memory)
        if memory.location is None:
            return self._extract(clips)
        # The warnings of an extraction are stored with its features and raised again on
        # every hit, so that a cache never hides them.
        cached = memory.cache(_cached_extract, ignore=["extractor"])
        features, caught = cached(self, clips, self._cache_key())
        for category, message in caught:
            warn_user(message, category)
        return features

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, e.g. ``wav2vec2_layer6_dim0_mean``.

        Parameters
        ----------
        input_features : None
            Ignored: the input is waveforms, whose samples have no names.

        Returns
        -------
        ndarray of str
            One name per output column.
        """
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    def _get_encoder(self):
        """The loaded encoder; after unpickling, loaded again (or rebuilt) on first use.

        Written to ``self`` from ``transform``: the encoder is a cache of what
        ``model_name_or_path`` (or the kept weights) and the fitted state define, not state
        of its own.
        """
        encoder = getattr(self, "_encoder", None)
        if encoder is not None:
            return encoder
        owner = type(self).__name__
        stored = getattr(self, "_stored_encoder", None)
        if stored is not None:
            config, feature_extractor, model = _rebuild(stored, owner)
        else:
            config, feature_extractor, model = _load_pretrained(
                os.fspath(self.model_name_or_path))
        self._check_same_encoder(config)
        _truncate(model, self._n_run(), self.n_layers_, self._stable_layer_norm(config))
        if stored is not None:
            model.load_state_dict(_tensors(stored.get("weights"), "cpu", owner))
        encoder = _Encoder(config, feature_extractor, model, self._runtime_device())
        self._encoder = encoder
        return encoder

    def _check_same_encoder(self, config):
        """Refuse an encoder other than the one fitted (a folder overwritten since ``fit``)."""
        found = (str(config.model_type), int(config.hidden_size))
        if (found != (self.model_type_, self._hidden_size)
                or int(config.num_hidden_layers) < self._n_run()):
            raise ValueError(
                f"{type(self).__name__}: {os.fspath(self.model_name_or_path)!r} now holds a "
                f"{found[0]!r} encoder of {config.num_hidden_layers} layers and hidden size "
                f"{found[1]}, not the {self.model_type_!r} encoder of {self.n_layers_} layers "
                f"and hidden size {self._hidden_size} this extractor was fitted with. Fit it "
                "again, or keep the weights with the model (keep_weights=True)."
            )

    def _runtime_device(self):
        """The fitted device where it exists here, else the CPU (with a warning)."""
        if torch.device(self.device_).type == "cuda" and not torch.cuda.is_available():
            warnings.warn(f"{type(self).__name__} was fitted on {self.device_!r}, but CUDA is "
                          "not available here; it runs on the CPU.", UserWarning, stacklevel=4)
            return "cpu"
        return self.device_

    def _cache_key(self):
        """What the features depend on: the class, the parameters, the fitted state and the
        encoder's weights (a local folder may be overwritten under the same name)."""
        params = {k: v for k, v in self.get_params(deep=False).items()
                  if k not in ("memory", "batch_size", "device", "keep_weights", "verbose")}
        fitted = {k: v for k, v in vars(self).items()
                  if k.endswith("_") and not k.startswith("_") and k != "device_"}
        if getattr(self, "_fingerprint", None) is None:
            # memory= set after fit: the digest needs the encoder once.
            encoder = self._get_encoder()
            self._fingerprint = _fingerprint(encoder.model, encoder.feature_extractor)
        return (type(self).__module__, type(self).__qualname__, params, fitted,
                self._functionals, self._fingerprint)

    def _model_length(self, n_samples):
        """A clip's length at the encoder's rate, as resampling gives it."""
        if self.sr == self.model_sr_:
            return n_samples
        return len(soxr.resample(np.zeros(n_samples, np.float32), self.sr, self.model_sr_))

    def _inputs(self, clips):
        """The encoder's input of each clip: resampled, normalised as the checkpoint's feature
        extractor does, zero-padded to the receptive field (with a warning)."""
        encoder = self._get_encoder()
        inputs, short = [], []
        for i, clip in enumerate(clips):
            if self.sr != self.model_sr_:
                clip = soxr.resample(clip, self.sr, self.model_sr_).astype(np.float32)
            values = encoder.feature_extractor(clip, sampling_rate=self.model_sr_,
                                               return_tensors="np")["input_values"][0]
            values = np.asarray(values, dtype=np.float32)
            if len(values) < self.receptive_field_:
                short.append(f"X[{i}] ({len(values)} samples)")
                padding = self.receptive_field_ - len(values)
                values = np.pad(values, (0, padding),
                                constant_values=encoder.feature_extractor.padding_value)
            inputs.append(values)
        if short:
            warn_user(
                f"{type(self).__name__}: {', '.join(short)} at {self.model_sr_} Hz "
                f"{'is' if len(short) == 1 else 'are'} shorter than the encoder's receptive "
                f"field of {self.receptive_field_} samples; zero-padded to it. Such a clip "
                "gets the features of one frame.",
                AudioWarning,
            )
        return inputs

    def _batches(self, lengths, pads_safely):
        """Index arrays of the batches: clips sorted by length, padded together only where
        padding cannot change a clip's frames."""
        order = np.argsort(lengths, kind="stable")
        if pads_safely:
            runs = [order]
        else:
            sorted_lengths = np.asarray(lengths)[order]
            cuts = np.flatnonzero(np.diff(sorted_lengths)) + 1
            runs = np.split(order, cuts)
        return [run[i:i + self.batch_size] for run in runs
                for i in range(0, len(run), self.batch_size)]

    def _extract(self, clips):
        """Features of validated clips (the cached part of ``transform``)."""
        encoder = self._get_encoder()
        inputs = self._inputs(clips)
        lengths = [len(x) for x in inputs]
        counts = np.array([_frame_count(n, encoder.kernels, encoder.strides) for n in lengths])
        batches = self._batches(lengths, encoder.pads_safely)
        if self.pooling is None:
            out = np.full((len(clips), self.max_frames_, self.n_features_out_), np.nan,
                          dtype=np.float32)
        else:
            out = np.empty((len(clips), self.n_features_out_), dtype=np.float64)
        for batch in self._progress(batches):
            frames = self._encode(encoder, [inputs[i] for i in batch], counts[batch])
            if self.pooling is None:
                out[batch] = pad_sequences(frames, counts[batch], self.max_frames_)
            else:
                out[batch] = pool(frames, counts[batch], self._functionals)
        return out

    def _progress(self, batches):
        if not self.verbose:
            return batches
        from tqdm.auto import tqdm

        return tqdm(batches, desc=type(self).__name__, unit="batch")

    def _encode(self, encoder, inputs, counts):
        """Stacked frames ``(sum(counts), n_features_out_ / n_functionals)`` of one batch."""
        longest = max(len(x) for x in inputs)
        values = np.full((len(inputs), longest), encoder.feature_extractor.padding_value,
                         dtype=np.float32)
        mask = np.zeros((len(inputs), longest), dtype=np.int64)
        for row, x in enumerate(inputs):
            values[row, :len(x)] = x
            mask[row, :len(x)] = 1
        kwargs = {}
        if not mask.all():  # only encoders that pad safely get padded batches
            kwargs["attention_mask"] = torch.from_numpy(mask).to(encoder.device)
        with torch.inference_mode():
            output = encoder.model(torch.from_numpy(values).to(encoder.device),
                                   output_hidden_states=True, **kwargs)
            hidden = output.hidden_states
            if len(hidden) != self._n_run() + 1:
                raise RuntimeError(f"{type(self).__name__}: the encoder returned "
                                   f"{len(hidden)} hidden states, expected "
                                   f"{self._n_run() + 1}.")
            chosen = [hidden[k] for k in self.layers_]
            if len(chosen) == 1:
                frames = chosen[0]
            elif self.layer_combination == "mean":
                frames = torch.stack(chosen).mean(dim=0)
            else:
                frames = torch.cat(chosen, dim=-1)
            frames = frames.float().cpu().numpy()
        if frames.shape[1] < counts.max():
            raise RuntimeError(f"{type(self).__name__}: the encoder returned {frames.shape[1]} "
                               f"frames for a clip expected to give {counts.max()}.")
        return np.concatenate([frames[row, :count] for row, count in enumerate(counts)])

    # -- persistence ---------------------------------------------------------------------------

    def __getstate__(self):
        # The loaded encoder never travels in a pickle or a model file: only the checkpoint's
        # name (reloaded on first use) or, with keep_weights, plain settings and arrays.
        state = dict(super().__getstate__())
        state.pop("_encoder", None)
        if not self.keep_weights or "layers_" not in state:
            state.pop("_stored_encoder", None)
        elif state.get("_stored_encoder") is None:
            encoder = self._get_encoder()
            state["_stored_encoder"] = {
                "config": _plain_config(encoder.config, self._n_run()),
                "feature_extractor": json.loads(json.dumps(
                    encoder.feature_extractor.to_dict(), default=str)),
                "weights": {k: v.detach().cpu().numpy()
                            for k, v in encoder.model.state_dict().items()},
            }
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._encoder = None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # equal-length batches are accepted as 2-D arrays
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
