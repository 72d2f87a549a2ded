"""scikit-learn classifiers over frame sequences, each composing a skorch ``NeuralNetClassifier``.

The public estimators are plain ``ClassifierMixin, BaseEstimator`` classes with explicit
hyper-parameters; the skorch net is built in ``fit`` and kept as ``net_`` (CONTRIBUTING.md,
"Networks").
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import Dataset, unpack_data
from skorch.helper import predefined_split

from .._validation import check_sequence_padding
from ..exceptions import SklearnSerWarning
from ..utils._compat import Interval, StrOptions, _fit_context, validate_data
from ._modules import CNNModule, CRNNModule, LSTMModule
from ._state import export_net, restore_net
from ._transfer import freeze_parameters, load_init_source, transfer_weights

__all__ = ["CNNClassifier", "CRNNClassifier", "LSTMClassifier", "check_frame_sequences"]

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


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


class NeuralWarning(SklearnSerWarning):
    """Training went on with a fallback (e.g. no speaker-grouped validation split possible)."""


def check_frame_sequences(X, *, owner):
    """Turn validated NaN-padded sequences into zero-padded values and lengths.

    Parameters
    ----------
    X : ndarray of shape (n_clips, n_frames, n_coeffs), float32
        Padding frames are all-NaN and come after the clip's real frames.
    owner : str
        Name used in error messages.

    Returns
    -------
    values : ndarray of shape (n_clips, n_frames, n_coeffs), float32
        ``X`` with the padding set to 0 (a new array).
    lengths : ndarray of shape (n_clips,), int64
        Real frames of each clip.
    """
    _, lengths = check_sequence_padding(X, owner=owner)
    values = np.where(np.isnan(X), np.float32(0.0), X).astype(np.float32, copy=False)
    return values, lengths


class _SequenceClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit / predict of the sequence networks; subclasses name the module."""

    _parameter_constraints = {
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"plateau", "cosine"}), None],
        "crop_frames": [Interval(Integral, 1, None, closed="left"), None],
        "time_masks": [Interval(Integral, 0, None, closed="left")],
        "freq_masks": [Interval(Integral, 0, None, closed="left")],
        "mixup": [Interval(Real, 0, None, closed="left")],
        "init_from": "no_validation",
        "freeze": [StrOptions({"none", "trunk"}), list, tuple, None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    _module = None  # set by subclasses

    def _module_params(self):
        raise NotImplementedError

    # -- input ---------------------------------------------------------------------------------

    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        ndim = getattr(X, "ndim", None)
        if ndim is None:  # lists and other array-likes
            try:
                ndim = np.asarray(X).ndim
            except (TypeError, ValueError):
                ndim = 2  # let validate_data word the error
        if ndim == 3:
            X = check_array(X, dtype=np.float32, allow_nd=True, ensure_all_finite="allow-nan",
                            input_name="X")
            if X.shape[2] == 0:
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                    "required: each frame needs at least one coefficient."
                )
            if X.shape[1] == 0:
                raise ValueError(f"{name}: X has 0 frames (shape={X.shape}); at least 1 is "
                                 "required.")
            if reset:
                self.n_features_in_ = X.shape[2]
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        else:
            # 2-D input (n_samples, n_features) is read as one frame per clip: a tabular row
            # is a single frame of n_features coefficients.
            X = validate_data(self, X, reset=reset, dtype=np.float32,
                              ensure_all_finite="allow-nan")
            X = X[:, None, :]
        if not reset and X.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[2]} features, but {name} is expecting {self.n_features_in_} "
                "features as input (coefficients per frame)."
            )
        return check_frame_sequences(X, owner=name)

    # -- fit -----------------------------------------------------------------------------------

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

    def _split(self, y, groups, seed):
        """Indices (train, valid) of the early-stopping split, or None without validation."""
        if self.validation_fraction is None:
            return None
        n = len(y)
        n_valid = math.ceil(self.validation_fraction * n)
        if n_valid < 1 or n - n_valid < 2:
            warnings.warn(f"{type(self).__name__}: {n} samples are too few for a validation "
                          "split; training without early stopping.", NeuralWarning, stacklevel=3)
            return None
        if groups is not None:
            if len(np.unique(groups)) >= 2:
                splitter = GroupShuffleSplit(1, test_size=self.validation_fraction,
                                             random_state=seed)
                return next(splitter.split(y, y, groups))
            warnings.warn(f"{type(self).__name__}: groups holds a single speaker; the "
                          "early-stopping split cannot be grouped by speaker and is stratified "
                          "instead.", NeuralWarning, stacklevel=3)
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= 2 and n_valid >= len(counts) and n - n_valid >= len(counts):
            splitter = StratifiedShuffleSplit(1, test_size=n_valid, random_state=seed)
        else:
            splitter = ShuffleSplit(1, test_size=n_valid, random_state=seed)
        return next(splitter.split(y, y))

    def _training_params(self, n_train, valid_ds):
        """The skorch settings every network here trains with: optimiser, epochs, batches,
        the early-stopping split and its callbacks, device and verbosity."""
        return dict(
            optimizer=_OPTIMIZERS[self.optimizer],
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            # A last batch of one clip would break batch norm in training.
            iterator_train__drop_last=n_train > self.batch_size,
            train_split=None if valid_ds is None else predefined_split(valid_ds),
            callbacks=self._callbacks(valid_ds is not None),
            device=self.device_,
            verbose=self.verbose,
        )

    def _callbacks(self, validate):
        callbacks = []
        if validate and self.patience is not None:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.patience, load_best=True)))
        if self.lr_schedule == "plateau":
            monitor = "valid_loss" if validate else "train_loss"
            callbacks.append(("lr_scheduler", LRScheduler(
                torch.optim.lr_scheduler.ReduceLROnPlateau, monitor=monitor, factor=0.5,
                patience=max(1, (self.patience or 10) // 3))))
        elif self.lr_schedule == "cosine":
            callbacks.append(("lr_scheduler", LRScheduler(
                torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_epochs)))
        return callbacks

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
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        values, lengths = self._validate_X(X, reset=True)
        y = column_or_1d(y, warn=True)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_consistent_length(values, y)
        check_classification_targets(y)
        if groups is not None:
            groups = column_or_1d(groups)
            check_consistent_length(values, groups)

        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"{name} needs samples of at least 2 classes; got 1 class "
                             f"({self.classes_[0]!r}).")
        y_enc = encoder.transform(y).astype(np.int64)
        if self.class_weight is None:
            weight = None
        else:
            weight = torch.as_tensor(
                compute_class_weight(self.class_weight, classes=self.classes_, y=y),
                dtype=torch.float32)

        source = load_init_source(self.init_from, owner=self)
        self.__dict__.pop("transfer_", None)  # from an earlier fit with init_from
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        torch.manual_seed(seed)  # module initialisation, dropout, shuffling, crops
        self.device_ = self._resolve_device()

        split = self._split(y_enc, groups, seed)
        if split is None:
            train, valid_ds = np.arange(len(y_enc)), None
        else:
            train, valid = split
            valid_ds = Dataset({"x": values[valid], "lengths": lengths[valid]}, y_enc[valid])

        self.net_ = self._new_net(weight, n_train=len(train), valid_ds=valid_ds)
        # What net_.fit does, with the pre-trained weights and freezing between its two steps.
        self.net_.initialize()
        if source is not None:
            self.transfer_ = transfer_weights(self.net_.module_, source.net_.module_,
                                              classes=self.classes_,
                                              source_classes=source.classes_, owner=name)
        frozen = freeze_parameters(self.net_.module_, self.freeze, owner=name)
        if source is not None:
            self.transfer_["frozen"] = frozen
        self.net_.partial_fit({"x": values[train], "lengths": lengths[train]}, y_enc[train])
        # The validation clips are not needed any more: do not pickle them with the model.
        self.net_.train_split = None
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)
        if valid_ds is not None:
            self.best_epoch_ = int(np.argmin(self.history_[:, "valid_loss"])) + 1
        return self

    def _new_net(self, weight, *, n_train, valid_ds):
        """The untrained skorch net of ``fit``; also rebuilt when a fitted model is loaded."""
        return _MixupNetClassifier(
            self._module,
            mixup=self.mixup,
            criterion=torch.nn.CrossEntropyLoss,
            criterion__weight=weight,
            classes=np.arange(len(self.classes_)),
            **self._training_params(n_train, valid_ds),
            **{f"module__{k}": v for k, v in self._module_params().items()},
            module__n_coeffs=self.n_features_in_,
            module__n_classes=len(self.classes_),
        )

    # -- predict -------------------------------------------------------------------------------

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

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs) or (n_samples, n_features)
            NaN-padded frame sequences.

        Returns
        -------
        ndarray of shape (n_clips, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict the label of each clip.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs) or (n_samples, n_features)
            NaN-padded frame sequences.

        Returns
        -------
        ndarray of shape (n_clips,)
            Labels from ``classes_`` (the labels given to ``fit``).
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- persistence ---------------------------------------------------------------------------

    def __getstate__(self):
        # The trained net travels as plain settings and weight arrays (see _state.py): skorch's
        # own pickling would put a nested pickle into every pickle and model file.
        state = dict(super().__getstate__())
        if "net_" in state:
            state["net_"] = export_net(self.net_)
            state.pop("history_", None)  # the net's history, rebuilt with it
        return state

    def __setstate__(self, state):
        net_state = state.get("net_")
        if not isinstance(net_state, dict):  # unfitted, or pickled by an older sklearn_ser
            super().__setstate__(state)
            if "net_" in self.__dict__:
                self.device_ = str(self.net_.device)
            return
        super().__setstate__({k: v for k, v in state.items() if k != "net_"})
        self.device_ = "cpu"  # _new_net reads it; restore_net sets the saved device
        net = self._new_net(None, n_train=0, valid_ds=None)
        self.net_ = restore_net(net, net_state, owner=type(self).__name__)
        self.history_ = self.net_.history
        # A model trained on a GPU and loaded where there is none runs on the CPU.
        self.device_ = str(self.net_.device)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # NaN is meaningful only as whole padding frames; any other NaN is an error.
        tags.input_tags.allow_nan = False
        return tags


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
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, keyed by label.
    validation_fraction : float or None, default=0.1
        Part of the training clips held out for early stopping. With ``groups`` passed to
        ``fit``, whole speakers are held out; otherwise the split is stratified by label, so
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
    mixup : float, default=0.0
        Mixup (Zhang et al., 2018): each training batch is replaced by convex combinations
        ``lam * x_i + (1 - lam) * x_j`` of its clips with a shuffled copy, ``lam`` drawn from
        ``Beta(mixup, mixup)`` per batch, and the loss mixes both labels' losses in the same
        proportion. 0 disables it; 0.2 to 0.4 are usual values.
    init_from : estimator, str, os.PathLike or None, default=None
        Fine-tune a pre-trained network instead of starting from random weights: a fitted
        classifier of the same class (wrap it in :class:`sklearn.frozen.FrozenEstimator`
        when the fine-tuner is cloned, as ``cross_validate`` and ``GridSearchCV`` do) or
        the path of one saved with :func:`~sklearn_ser.io.save_model`, checked as
        ``load_model`` checks any file (a pipeline's last step is used; a pickle path is
        refused: load a trusted pickle yourself and pass the model). Layers are copied; the
        output layer is replaced when the labels differ (rows of shared labels are kept). The
        architecture parameters must match the source's.
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
    classes_ : ndarray of shape (n_classes,)
        Labels seen in ``fit``.
    n_features_in_ : int
        Coefficients per frame.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``fit`` was given a 2-D DataFrame.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net (``net_.module_`` is the PyTorch module).
    history_ : skorch.History
        Per-epoch training log (``train_loss``, ``valid_loss``, ``valid_acc``, ``dur``).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights were kept (only with a validation split).
    device_ : str
        Device the network runs on.
    transfer_ : dict
        With ``init_from``: ``copied`` parameters, ``shared_classes`` (labels whose output
        row was kept), ``new_classes`` and ``frozen`` parameters.

    Notes
    -----
    Input is NaN-padded frame sequences ``(n_clips, n_frames, n_coeffs)`` (from
    ``LogMelExtractor`` / ``MFCCExtractor`` with ``pooling=None``, usually followed by
    ``FrameWise(StandardScaler())``). The mask of real frames is rebuilt from the NaN padding and
    padding never influences a prediction. Clips may have any frame count at predict time. A
    2-D array ``(n_samples, n_features)`` is read as clips of one frame with ``n_features``
    coefficients. Models trained on a GPU unpickle on a CPU-only machine (weights are mapped to
    the CPU).
"""


def _doc(cls, defaults):
    cls.__doc__ = cls.__doc__.replace("    {common}\n", _COMMON_DOC.format(**defaults).lstrip("\n"))
    return cls


class CNNClassifier(_SequenceClassifier):
    """2-D convolutional network over (frames x coefficients) with masked global pooling.

    Blocks of 3x3 convolution, batch norm, ReLU and 2x2 max pooling; then the mean over the
    coefficient axis and the mean and max over each clip's real frames feed a small head.

    Parameters
    ----------
    channels : tuple of int, default=(16, 32, 64)
        Filters of each convolution block.
    n_hidden : int, default=64
        Units of the hidden layer of the head.
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

    _parameter_constraints = {
        **_SequenceClassifier._parameter_constraints,
        "channels": [tuple, list],
        "n_hidden": [Interval(Integral, 1, None, closed="left")],
    }
    _module = CNNModule

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

    def _module_params(self):
        return dict(channels=tuple(self.channels), n_hidden=self.n_hidden, dropout=self.dropout,
                    crop_frames=self.crop_frames, time_masks=self.time_masks,
                    freq_masks=self.freq_masks)


class LSTMClassifier(_SequenceClassifier):
    """(Bidirectional) LSTM over frame sequences with masked attention pooling.

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

    _parameter_constraints = {
        **_SequenceClassifier._parameter_constraints,
        "n_units": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "n_attention": [Interval(Integral, 1, None, closed="left")],
        "stack_frames": [Interval(Integral, 1, None, closed="left")],
    }
    _module = LSTMModule

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

    def _module_params(self):
        return dict(n_units=self.n_units, n_layers=self.n_layers,
                    bidirectional=self.bidirectional, n_attention=self.n_attention,
                    stack_frames=self.stack_frames,
                    dropout=self.dropout, crop_frames=self.crop_frames,
                    time_masks=self.time_masks, freq_masks=self.freq_masks)


class CRNNClassifier(_SequenceClassifier):
    """Convolutional front end, recurrent layer and masked attention pooling.

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

    _parameter_constraints = {
        **_SequenceClassifier._parameter_constraints,
        "channels": [tuple, list],
        "time_pools": [Interval(Integral, 0, None, closed="left")],
        "n_units": [Interval(Integral, 1, None, closed="left")],
        "cell": [StrOptions({"gru", "lstm"})],
        "bidirectional": ["boolean"],
        "n_attention": [Interval(Integral, 1, None, closed="left")],
    }
    _module = CRNNModule

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

    def _module_params(self):
        return dict(channels=tuple(self.channels), time_pools=self.time_pools,
                    n_units=self.n_units, cell=self.cell, bidirectional=self.bidirectional,
                    n_attention=self.n_attention, dropout=self.dropout,
                    crop_frames=self.crop_frames, time_masks=self.time_masks,
                    freq_masks=self.freq_masks)


_doc(CNNClassifier, dict(dropout=0.3, lr=0.001, max_epochs=60))
_doc(LSTMClassifier, dict(dropout=0.3, lr=0.001, max_epochs=60))
_doc(CRNNClassifier, dict(dropout=0.3, lr=0.001, max_epochs=60))
