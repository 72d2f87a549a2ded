"""scikit-learn classifiers over frame sequences, each composing a skorch ``NeuralNetClassifier``.

The public estimators are plain ``ClassifierMixin, TransformerMixin, BaseEstimator`` classes
with explicit hyper-parameters; the skorch net is built in ``fit`` and kept as ``net_``
(CONTRIBUTING.md, "Networks"). Training, prediction, embeddings and persistence are shared
with :class:`MultiTaskClassifier` (``_training.py``); this module names the modules and adds
mixup and the sequence augmentations.

What the sequence networks share whatever they predict (input, modules, architecture
parameters, the parameter docs) is written here once and also serves the regressors of
``_regressors.py``.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data

from ..utils._compat import Interval, StrOptions, _fit_context
from ._modules import CNNModule, CRNNModule, LSTMModule
from ._training import NeuralWarning, _NetworkClassifier, check_frame_sequences

__all__ = ["CNNClassifier", "CRNNClassifier", "LSTMClassifier", "NeuralWarning",
           "check_frame_sequences"]


class _MixupNetClassifier(NeuralNetClassifier):
    """skorch classifier whose training steps can mix pairs of clips (``mixup > 0``).

    The inputs are the ``{"x", "lengths"}`` batches of the sequence modules: the zero-padded
    values are mixed and a mixed clip keeps the longer of its two lengths. Lambda and the
    pairing come from torch's generator, which ``fit`` seeds.
    """

    def __init__(self, *args, mixup=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixup = mixup

    def train_step_single(self, batch, **fit_params):
        if not self.mixup:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        lam = float(torch.distributions.Beta(self.mixup, self.mixup).sample())
        pair = torch.randperm(len(yi))
        x, lengths = Xi["x"], Xi["lengths"]
        mixed = {"x": lam * x + (1.0 - lam) * x[pair],
                 "lengths": torch.maximum(lengths, lengths[pair])}
        y_pred = self.infer(mixed, **fit_params)
        loss = (lam * self.get_loss(y_pred, yi, X=mixed, training=True)
                + (1.0 - lam) * self.get_loss(y_pred, yi[pair], X=mixed, training=True))
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


class _SequenceNetwork:
    """The sequence networks, classifiers or regressors: input, module and its parameters.

    Mixed in before ``_NetworkClassifier`` or ``_NetworkRegressor``; an architecture mixin
    (``_CNN``, ``_LSTM``, ``_CRNN``) names the module.
    """

    #: Constraints of the sequence augmentations, inside the module.
    _sequence_constraints = {
        "crop_frames": [Interval(Integral, 1, None, closed="left"), None],
        "time_masks": [Interval(Integral, 0, None, closed="left")],
        "freq_masks": [Interval(Integral, 0, None, closed="left")],
    }

    _module = None  # set by the architecture mixins

    def _module_params(self):
        raise NotImplementedError

    def _module_kwargs(self, n_outputs):
        """The skorch net's ``module__*`` arguments, for ``n_outputs`` output units."""
        return dict(**{f"module__{k}": v for k, v in self._module_params().items()},
                    module__n_coeffs=self.n_features_in_, module__n_classes=n_outputs)

    def _validate_X(self, X, *, reset):
        """``(values, lengths)`` of validated sequences (zero-padded; see ``fit``)."""
        return self._validate_sequences(X, reset=reset)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


class _SequenceClassifier(_SequenceNetwork, _NetworkClassifier):
    """The sequence classifiers: ``fit`` and ``predict_proba``; subclasses name the module."""

    _parameter_constraints = {
        **_NetworkClassifier._parameter_constraints,
        **_SequenceNetwork._sequence_constraints,
        "mixup": [Interval(Real, 0, None, closed="left")],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None):
        """Train the network, with early stopping on a held-out part of the training data.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs) or (n_samples, n_features)
            NaN-padded frame sequences (see :class:`~sklearn_ser.features.FrameWise`). A 2-D
            array is read as clips of a single frame.
        y : array-like of shape (n_clips,)
            Labels of any type; ``predict`` returns them.
        groups : array-like of shape (n_clips,), default=None
            Speaker of each clip. When given, the early-stopping split holds out whole
            speakers (``GroupShuffleSplit``); otherwise it is stratified by label.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit_network(X, y, groups)

    def _new_net(self, weight, *, n_train, valid_ds):
        """The untrained skorch net of ``fit``; also rebuilt when a fitted model is loaded."""
        return _MixupNetClassifier(
            self._module,
            mixup=self.mixup,
            criterion=torch.nn.CrossEntropyLoss,
            criterion__weight=weight,
            classes=np.arange(len(self.classes_)),
            **self._training_params(n_train, valid_ds),
            **self._module_kwargs(len(self.classes_)),
        )

    def predict_proba(self, X):
        """Class probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs) or (n_samples, n_features)
            NaN-padded frame sequences, of any frame count.

        Returns
        -------
        ndarray of shape (n_clips, n_classes)
        """
        check_is_fitted(self)
        values, lengths = self._validate_X(X, reset=False)
        proba = self.net_.predict_proba({"x": values, "lengths": lengths}).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)


class _AttentionPooled:
    """The networks that pool their recurrent outputs with attention (``attention_weights``)."""

    def _attention_module_name(self):
        return ""  # the module itself


# -- the architectures: module, parameters and their docs, for classifier and regressor ------

class _CNN:
    """The CNN's module, architecture parameters and their docs."""

    _module = CNNModule
    _embedding_prefix = "cnn_emb"
    _architecture_constraints = {
        "channels": [tuple, list],
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
    }
    _architecture_doc = """
    Blocks of 3x3 convolution, batch norm, ReLU and 2x2 max pooling; then the mean over the
    coefficient axis and the mean and max over each clip's real frames feed a small head.

    Parameters
    ----------
    channels : tuple of int, default=(16, 32, 64)
        Filters of each convolution block.
    n_hidden : int, default=64
        Units of the hidden layer of the head.
"""

    def _module_params(self):
        return dict(channels=tuple(self.channels), n_hidden=self.n_hidden, dropout=self.dropout,
                    crop_frames=self.crop_frames, time_masks=self.time_masks,
                    freq_masks=self.freq_masks)


class _LSTM(_AttentionPooled):
    """The LSTM's module, architecture parameters and their docs."""

    _module = LSTMModule
    _embedding_prefix = "lstm_emb"
    _architecture_constraints = {
        "n_units": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "n_attention": [Interval(Integral, 1, None, closed="left")],
        "stack_frames": [Interval(Integral, 1, None, closed="left")],
    }
    _architecture_doc = """
    Runs on packed sequences, so padding frames are skipped, not just masked.

    Parameters
    ----------
    n_units : int, default=64
        LSTM units per direction.
    n_layers : int, default=1
        Stacked LSTM layers.
    bidirectional : bool, default=True
        Run a backward LSTM too.
    n_attention : int, default=64
        Hidden units of the attention scorer.
    stack_frames : int, default=1
        Concatenate each ``stack_frames`` consecutive frames into one LSTM step (frame
        stacking): k times fewer sequential steps, so much faster on a CPU.
"""

    def _module_params(self):
        return dict(n_units=self.n_units, n_layers=self.n_layers,
                    bidirectional=self.bidirectional, n_attention=self.n_attention,
                    stack_frames=self.stack_frames,
                    dropout=self.dropout, crop_frames=self.crop_frames,
                    time_masks=self.time_masks, freq_masks=self.freq_masks)


class _CRNN(_AttentionPooled):
    """The CRNN's module, architecture parameters and their docs."""

    _module = CRNNModule
    _embedding_prefix = "crnn_emb"
    _architecture_constraints = {
        "channels": [tuple, list],
        "time_pools": [Interval(Integral, 0, None, closed="left")],
        "n_units": [Interval(Integral, 1, None, closed="left")],
        "cell": [StrOptions({"gru", "lstm"})],
        "bidirectional": ["boolean"],
        "n_attention": [Interval(Integral, 1, None, closed="left")],
    }
    _architecture_doc = """
    2-D convolution blocks (the first ``time_pools`` also halve the frame rate) turn each
    frame into a feature vector; a bidirectional GRU or LSTM runs over them and attention pools
    its outputs over the clip's real frames.

    Parameters
    ----------
    channels : tuple of int, default=(16, 32)
        Filters of each convolution block.
    time_pools : int, default=2
        How many of the first blocks halve the frame rate.
    n_units : int, default=64
        Recurrent units per direction (also the width of the projection before it).
    cell : {"gru", "lstm"}, default="gru"
        Recurrent cell.
    bidirectional : bool, default=True
        Run a backward recurrent layer too.
    n_attention : int, default=64
        Hidden units of the attention scorer.
"""

    def _module_params(self):
        return dict(channels=tuple(self.channels), time_pools=self.time_pools,
                    n_units=self.n_units, cell=self.cell, bidirectional=self.bidirectional,
                    n_attention=self.n_attention, dropout=self.dropout,
                    crop_frames=self.crop_frames, time_masks=self.time_masks,
                    freq_masks=self.freq_masks)


# -- the parameter docs: one template, the task's parts filled in by _doc -------------------

_COMMON_DOC = """
    dropout : float, default={dropout}
        Dropout rate.
    lr : float, default={lr}
        Learning rate.
    optimizer : {{"adam", "adamw", "sgd"}}, default="adam"
        Optimiser.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for ``"adamw"``).
    max_epochs : int, default={max_epochs}
        Upper bound on training epochs.
    batch_size : int, default=32
        Clips per mini-batch.
{class_weight}    validation_fraction : float or None, default=0.1
        Part of the training clips held out for early stopping. With ``groups`` passed to
        ``fit``, whole speakers are held out; otherwise {ungrouped_split}, so
        the validation clips come from training speakers. Only training data is ever used:
        :func:`~sklearn_ser.model_selection.evaluate` hands the training fold (and its
        speakers) to ``fit``. None trains for ``max_epochs`` without validation.
    patience : int or None, default=10
        Epochs without improvement of the validation loss before stopping; the weights of the
        best epoch are restored. None disables early stopping.
    lr_schedule : {{"plateau", "cosine"}} or None, default=None
        Halve the learning rate when the validation loss plateaus, or cosine annealing over
        ``max_epochs``.
    crop_frames : int or None, default=None
        During training, a random window of at most this many frames of each clip is used
        (random cropping augmentation); prediction always sees the whole clip.
    time_masks, freq_masks : int, default=0
        SpecAugment stripes (up to 10% of the frames / coefficients each) zeroed during
        training.
{mixup}    init_from : estimator, str, os.PathLike or None, default=None
        Fine-tune a pre-trained network instead of starting from random weights: a fitted
        {task} of the same class (wrap it in :class:`sklearn.frozen.FrozenEstimator`
        when the fine-tuner is cloned, as ``cross_validate`` and ``GridSearchCV`` do) or
        the path of one saved with :func:`~sklearn_ser.io.save_model`, checked as
        ``load_model`` checks any file (a pipeline's last step is used; a pickle path is
        refused: load a trusted pickle yourself and pass the model). Layers are copied; the
        {output_layer}
    freeze : "none", "trunk", list of str or None, default=None
        Parameters not trained: ``"trunk"`` (all but ``head``) or parameter-name prefixes
        (``["convs.blocks.0"]``). Batch-norm statistics of a frozen trunk still adapt.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or any torch device ("cpu", "cuda:1").
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split
        (``torch.manual_seed`` is called in ``fit``).
    verbose : int, default=0
        Print a line per epoch when > 0.

    Attributes
    ----------
{target_attributes}    n_features_in_ : int
        Coefficients per frame.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``fit`` was given a 2-D DataFrame.
    net_ : skorch.{net}
        The trained skorch net (``net_.module_`` is the PyTorch module).
    history_ : skorch.History
        Per-epoch training log ({history}).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights were kept (only with a validation split).
    device_ : str
        Device the network runs on.
    transfer_ : dict
        {transfer}

    Notes
    -----
    Input is NaN-padded frame sequences ``(n_clips, n_frames, n_coeffs)`` (from
    ``LogMelExtractor`` / ``MFCCExtractor`` with ``pooling=None``, usually followed by
    ``FrameWise(StandardScaler())``). The mask of real frames is rebuilt from the NaN padding and
    padding never influences a prediction. Clips may have any frame count at predict time. A
    2-D array ``(n_samples, n_features)`` is read as clips of one frame with ``n_features``
    coefficients. Models trained on a GPU unpickle on a CPU-only machine (weights are mapped to
    the CPU).

    A fitted network is also a transformer: ``transform(X)`` returns each clip's embedding,
    the pooled input of the output layer ``(n_clips, n_units)``, with names from
    ``get_feature_names_out()`` (``cnn_emb0``, ...), so it can feed a classic model or a
    feature fusion (``make_fusion_pipeline(..., method="features")``). The recurrent
    networks also give the weights of their attention pooling over each clip's frames
    (``attention_weights``).
{task_notes}
"""

#: The classifiers' parts of ``_COMMON_DOC``.
_CLASSIFIER_DOC = dict(
    task="classifier",
    class_weight="""\
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, keyed by label.
""",
    ungrouped_split="the split is stratified by label",
    mixup="""\
    mixup : float, default=0.0
        Mixup (Zhang et al., 2018): each training batch is replaced by convex combinations
        ``lam * x_i + (1 - lam) * x_j`` of its clips with a shuffled copy, ``lam`` drawn from
        ``Beta(mixup, mixup)`` per batch, and the loss mixes both labels' losses in the same
        proportion. 0 disables it; 0.2 to 0.4 are usual values.
""",
    output_layer=("output layer is replaced when the labels differ (rows of shared labels are "
                  "kept). The\n        architecture parameters must match the source's."),
    target_attributes="""\
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit``.
""",
    net="NeuralNetClassifier",
    history="``train_loss``, ``valid_loss``, ``valid_acc``, ``dur``",
    transfer="""With ``init_from``: ``copied`` parameters, ``shared_classes`` (labels whose output
        row was kept), ``new_classes`` and ``frozen`` parameters.""",
    task_notes="",
)


def _doc(cls, defaults):
    """Fill in ``{architecture}`` and ``{common}`` of a network's docstring; ``defaults``
    holds the hyper-parameters' defaults and the task's parts (``_CLASSIFIER_DOC``)."""
    doc = cls.__doc__.replace("    {architecture}\n", cls._architecture_doc.lstrip("\n"))
    cls.__doc__ = doc.replace("    {common}\n", _COMMON_DOC.format(**defaults).lstrip("\n"))
    return cls


class CNNClassifier(_CNN, _SequenceClassifier):
    """2-D convolutional network over (frames x coefficients) with masked global pooling.

    {architecture}
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import CNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["calm", "anger"], 20)
    >>> X = rng.normal(size=(40, 30, 8)).astype(np.float32) + (y == "anger")[:, None, None]
    >>> X[::2, 20:] = np.nan                      # half of the clips are 20 frames long
    >>> clf = CNNClassifier(channels=(4, 8), max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).tolist()
    ['calm', 'calm', 'calm']
    """

    _parameter_constraints = {**_SequenceClassifier._parameter_constraints,
                              **_CNN._architecture_constraints}


    def __init__(self, *, channels=(16, 32, 64), n_hidden=64, dropout=0.3, lr=1e-3,
                 optimizer="adam", weight_decay=0.0, max_epochs=60, batch_size=32,
                 class_weight=None, validation_fraction=0.1, patience=10, lr_schedule=None,
                 crop_frames=None, time_masks=0, freq_masks=0, mixup=0.0, init_from=None,
                 freeze=None, device="auto", random_state=None, verbose=0):
        self.channels = channels
        self.n_hidden = n_hidden
        self.dropout = dropout
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.mixup = mixup
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


class LSTMClassifier(_LSTM, _SequenceClassifier):
    """(Bidirectional) LSTM over frame sequences with masked attention pooling.

    {architecture}
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["calm", "anger"], 20)
    >>> X = rng.normal(size=(40, 30, 8)).astype(np.float32) + (y == "anger")[:, None, None]
    >>> clf = LSTMClassifier(n_units=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {**_SequenceClassifier._parameter_constraints,
                              **_LSTM._architecture_constraints}

    def __init__(self, *, n_units=64, n_layers=1, bidirectional=True, n_attention=64,
                 stack_frames=1, dropout=0.3, lr=1e-3, optimizer="adam", weight_decay=0.0, max_epochs=60,
                 batch_size=32, class_weight=None, validation_fraction=0.1, patience=10,
                 lr_schedule=None, crop_frames=None, time_masks=0, freq_masks=0, mixup=0.0,
                 init_from=None, freeze=None, device="auto", random_state=None, verbose=0):
        self.n_units = n_units
        self.n_layers = n_layers
        self.bidirectional = bidirectional
        self.n_attention = n_attention
        self.stack_frames = stack_frames
        self.dropout = dropout
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.mixup = mixup
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


class CRNNClassifier(_CRNN, _SequenceClassifier):
    """Convolutional front end, recurrent layer and masked attention pooling.

    {architecture}
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import CRNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["calm", "anger"], 20)
    >>> X = rng.normal(size=(40, 30, 8)).astype(np.float32) + (y == "anger")[:, None, None]
    >>> clf = CRNNClassifier(channels=(4,), n_units=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.classes_.tolist()
    ['anger', 'calm']
    """

    _parameter_constraints = {**_SequenceClassifier._parameter_constraints,
                              **_CRNN._architecture_constraints}

    def __init__(self, *, channels=(16, 32), time_pools=2, n_units=64, cell="gru",
                 bidirectional=True, n_attention=64, dropout=0.3, lr=1e-3, optimizer="adam",
                 weight_decay=0.0, max_epochs=60, batch_size=32, class_weight=None,
                 validation_fraction=0.1, patience=10, lr_schedule=None, crop_frames=None,
                 time_masks=0, freq_masks=0, mixup=0.0, init_from=None, freeze=None, device="auto",
                 random_state=None, verbose=0):
        self.channels = channels
        self.time_pools = time_pools
        self.n_units = n_units
        self.cell = cell
        self.bidirectional = bidirectional
        self.n_attention = n_attention
        self.dropout = dropout
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.mixup = mixup
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


#: Defaults of the hyper-parameters of ``_COMMON_DOC``, shared by the regressors.
_DOC_DEFAULTS = dict(dropout=0.3, lr=0.001, max_epochs=60)
for _cls in (CNNClassifier, LSTMClassifier, CRNNClassifier):
    _doc(_cls, {**_DOC_DEFAULTS, **_CLASSIFIER_DOC})
