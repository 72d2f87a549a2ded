"""The one training loop of the networks, and what every trained network can do afterwards.

:class:`_Network` holds everything the networks share, whatever they predict:

* ``fit``: input checks, ``init_from`` and ``freeze``, seeding, the device, the
  early-stopping split (whole speakers when ``groups`` is given), the skorch settings and
  callbacks, training, and the fitted attributes;
* ``transform`` (the pooled penultimate layer, a network embedding, with
  ``get_feature_names_out``);
* ``attention_weights`` for networks that pool with attention;
* pickling as plain settings and weight arrays (``_state.py``).

Two bases add what depends on the target:

* :class:`_NetworkClassifier` (:class:`CNNClassifier`, :class:`LSTMClassifier`,
  :class:`CRNNClassifier`, :class:`MultiTaskClassifier`): label checks and encoding,
  ``classes_``, class weights, a split stratified by label where speakers are not given,
  ``predict`` and ``predict_log_proba``;
* :class:`_NetworkRegressor` (:class:`CNNRegressor`, :class:`LSTMRegressor`,
  :class:`CRNNRegressor`): float targets, standardised inside ``fit`` and mapped back by
  ``predict``, and a split that is a random sample of clips where speakers are not given.

A subclass names its skorch net (``_new_net``) and its inputs (``_inputs``); a classifier
also its ``predict_proba``, a network with auxiliary heads its auxiliary targets
(``_encode_aux``).

The autoencoders (``_autoencoder.py``) train with a plain loop of their own, since there is no
classifier for skorch to wrap and their losses are not a criterion of ``(y_pred, y)``; they
share the device and seeding rules from here.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_array, check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .._validation import check_sequence_padding, reject_ragged
from ..exceptions import SklearnSerWarning
from ..utils._compat import Interval, StrOptions, validate_data
from ._state import export_net, restore_net
from ._transfer import freeze_parameters, load_init_source, output_layer_name, transfer_weights

__all__ = ["NeuralWarning", "OPTIMIZERS", "check_frame_sequences", "resolve_device",
           "seed_torch"]

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


class NeuralWarning(SklearnSerWarning):
    """Training went on with a fallback (e.g. no speaker-grouped validation split possible)."""


def resolve_device(device):
    """The torch device a network trains on: ``"auto"`` picks CUDA when there is one.

    Raises a ``ValueError`` naming the fix for a name torch does not know, or for CUDA on a
    machine without it.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device={device!r} is not a torch device; use 'auto', 'cpu' or "
                         "'cuda'.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available here; use "
                         "device='auto' or 'cpu'.")
    return device


def seed_torch(random_state):
    """Seed torch from ``random_state``; return the generator and the integer seed.

    skorch seeds nothing itself, so weight initialisation, dropout, shuffling and the
    augmentations all draw from the stream seeded here (CONTRIBUTING.md, "The estimator
    contract").
    """
    rng = check_random_state(random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    torch.manual_seed(seed)
    return rng, seed


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


def _take(values, index):
    """Rows ``index`` of an array, or of every array of a dict (inputs, multi-task targets)."""
    if isinstance(values, dict):
        return {key: value[index] for key, value in values.items()}
    return values[index]


def _has_attention(estimator):
    return estimator._attention_module_name() is not None


class _Network(TransformerMixin, BaseEstimator):
    """Shared training, embeddings and persistence of the networks (see above).

    ``TransformerMixin`` makes a fitted network a transformer too, as scikit-learn's
    ``LinearDiscriminantAnalysis`` is: ``transform`` gives the embedding a classic model or
    a feature fusion can take. It is a base of this class, not only of the classifier and
    the regressor, because ``set_output`` wraps only the ``transform`` of a class that
    derives from it.
    """

    _parameter_constraints = {
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"plateau", "cosine"}), None],
        "init_from": "no_validation",
        "freeze": [StrOptions({"none", "trunk"}), list, tuple, None],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: Prefix of the embedding's feature names (``crnn_emb0``, ...).
    _embedding_prefix = "emb"
    #: Draw training randomness from a fresh seed after the net is built (see ``_fit_network``).
    _reseed_before_training = False
    #: How the early-stopping split is drawn without speakers, for the warning of ``_split``.
    _ungrouped_split_kind = "a random sample of clips"

    # -- what a subclass provides ------------------------------------------------------------

    def _inputs(self, X, *, reset):
        """The validated input as the module's keyword arguments (``{"x": ..., ...}``)."""
        values, lengths = self._validate_sequences(X, reset=reset)
        return {"x": values, "lengths": lengths}

    def _new_net(self, weight, *, n_train, valid_ds):
        """The untrained skorch net of ``fit``; also rebuilt when a fitted model is loaded."""
        raise NotImplementedError

    def _encode_aux(self, aux, n_samples):
        """Auxiliary targets as a list of arrays, or None for a network without aux heads."""
        return None

    def _attention_module_name(self):
        """Dotted path of the module with the attention pooling, or None without one."""
        return None

    def _check_targets(self, y, groups, inputs):
        """Validated ``(y, groups)``; ``y`` one row per clip of ``inputs``."""
        raise NotImplementedError

    def _encode_targets(self, y):
        """The targets the skorch net trains on; sets the target's fitted attributes."""
        raise NotImplementedError

    def _class_weight(self, y):
        """Weights of the loss's classes (a tensor), or None."""
        return None

    def _output_labels(self, source):
        """What the rows of the output layer stand for, here and in ``source`` (``init_from``):
        ``transfer_weights`` keeps the rows whose labels match."""
        raise NotImplementedError

    def _ungrouped_split(self, y, n_valid, seed):
        """The early-stopping splitter used without speakers."""
        return ShuffleSplit(1, test_size=n_valid, random_state=seed)

    # -- input ---------------------------------------------------------------------------------

    def _validate_sequences(self, X, *, reset):
        """Check NaN-padded frame sequences (or 2-D rows, one frame each); zero the padding."""
        name = type(self).__name__
        reject_ragged(X, owner=name, expected="NaN-padded frame sequences (n_clips, n_frames, "
                      "n_coeffs) or features (n_samples, n_features)")
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

    def _split(self, y, groups, seed):
        """Indices (train, valid) of the early-stopping split, or None without validation."""
        if self.validation_fraction is None:
            return None
        n = len(y)
        n_valid = math.ceil(self.validation_fraction * n)
        if n_valid < 1 or n - n_valid < 2:
            warnings.warn(f"{type(self).__name__}: {n} samples are too few for a validation "
                          "split; training without early stopping.", NeuralWarning,
                          stacklevel=5)
            return None
        if groups is not None:
            if len(np.unique(groups)) >= 2:
                splitter = GroupShuffleSplit(1, test_size=self.validation_fraction,
                                             random_state=seed)
                return next(splitter.split(y, y, groups))
            warnings.warn(f"{type(self).__name__}: groups holds a single speaker; the "
                          "early-stopping split cannot be grouped by speaker and is "
                          f"{self._ungrouped_split_kind} instead.", NeuralWarning, stacklevel=5)
        return next(self._ungrouped_split(y, n_valid, seed).split(y, y))

    def _training_params(self, n_train, valid_ds):
        """The skorch settings every network here trains with: optimiser, epochs, batches,
        the early-stopping split and its callbacks, device and verbosity."""
        return dict(
            optimizer=OPTIMIZERS[self.optimizer],
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

    @staticmethod
    def _check_groups(groups, inputs):
        if groups is not None:
            groups = column_or_1d(groups)
            check_consistent_length(inputs, groups)
        return groups

    def _fit_network(self, X, y, groups=None, aux=None):
        """The training loop of every network: checks, seeding, split, skorch fit."""
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        inputs = self._inputs(X, reset=True)
        n_samples = len(inputs["x"])
        y, groups = self._check_targets(y, groups, inputs["x"])
        aux_codes = self._encode_aux(aux, n_samples)
        y_enc = self._encode_targets(y)
        # A network with auxiliary heads takes its targets as a dict, the emotion under "y".
        targets = y_enc if aux_codes is None else {
            "y": y_enc, **{f"aux{k}": codes for k, codes in enumerate(aux_codes)}}
        weight = self._class_weight(y)

        source = load_init_source(self.init_from, owner=self)
        for stale in ("transfer_", "best_epoch_"):  # from an earlier fit
            self.__dict__.pop(stale, None)
        _, seed = seed_torch(self.random_state)  # module initialisation, dropout, shuffling
        self.device_ = resolve_device(self.device)

        split = self._split(y_enc, groups, seed)
        if split is None:
            train, valid_ds = np.arange(n_samples), None
        else:
            train, valid = split
            valid_ds = Dataset(_take(inputs, valid), _take(targets, valid))

        self.net_ = self._new_net(weight, n_train=len(train), valid_ds=valid_ds)
        # What net_.fit does, with the pre-trained weights and freezing between its two steps.
        self.net_.initialize()
        self._start_from(source)
        if self._reseed_before_training:
            # Dropout and shuffling then draw from a stream that does not depend on how many
            # parameters were initialised (a multi-task net with aux_weight=0 trains exactly
            # as the single-task one).
            torch.manual_seed(seed + 1)
        self.net_.partial_fit(_take(inputs, train), _take(targets, train))
        # The validation clips are not needed any more: do not pickle them with the model.
        self.net_.train_split = None
        self.history_ = self.net_.history
        self.n_iter_ = len(self.history_)
        if valid_ds is not None:
            self.best_epoch_ = int(np.argmin(self.history_[:, "valid_loss"])) + 1
        return self

    def _start_from(self, source):
        """Copy the pre-trained weights of ``init_from`` (if any), then freeze parameters."""
        name = type(self).__name__
        if source is not None:
            own = getattr(self, "aux_names_", [])
            theirs = getattr(source, "aux_names_", [])
            aux_map = {i: theirs.index(n) for i, n in enumerate(own) if n in theirs}
            labels, source_labels = self._output_labels(source)
            self.transfer_ = transfer_weights(self.net_.module_, source.net_.module_,
                                              classes=labels, source_classes=source_labels,
                                              owner=name, aux_map=aux_map)
        frozen = freeze_parameters(self.net_.module_, self.freeze, owner=name)
        if source is not None:
            self.transfer_["frozen"] = frozen

    # -- embeddings ------------------------------------------------------------------------

    def _run_module(self, inputs, step):
        """``step(module, clip)`` for each clip on its own, in eval mode, without grad.

        One clip at a time, cut to its real frames: the kernels a batch picks depend on its
        shape, so a clip run within different batches could differ in the last bits; alone,
        its embedding and attention weights are the same in any batch, order or subset.
        """
        module, device = self.net_.module_, self.net_.device
        if module.training:  # as skorch's prediction does: dropout and batch norm in eval mode
            module.train(False)
        lengths = inputs.get("lengths")
        outputs = []
        with torch.no_grad():
            for i in range(len(inputs["x"])):
                clip = {key: value[i:i + 1] for key, value in inputs.items()}
                if lengths is not None:
                    clip["x"] = clip["x"][:, :lengths[i]]
                clip = {key: torch.as_tensor(value, device=device) for key, value in clip.items()}
                outputs.append(step(module, clip))
        return outputs

    def transform(self, X):
        """The network's embedding of each clip: its pooled penultimate layer.

        The input of the output layer, after pooling over the clip's real frames (the
        padding never enters it), so a fitted network can feed a classic model or a feature
        fusion (``make_fusion_pipeline(..., method="features")``).

        Parameters
        ----------
        X : ndarray
            As in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_units), float64
            Columns named by :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        inputs = self._inputs(X, reset=False)
        blocks = self._run_module(inputs, lambda module, batch: module.embed(**batch).cpu())
        return torch.cat(blocks).numpy().astype(np.float64)

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding's columns: ``<network>_emb0``, ``<network>_emb1``, ...

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the input seen in ``fit`` (one name per coefficient), then
            ignored: an embedding unit mixes every input.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(f"input_features should have length equal to number of "
                                 f"features ({self.n_features_in_}), got "
                                 f"{len(input_features)}")
            names = getattr(self, "feature_names_in_", None)
            if names is not None and not np.array_equal(names, input_features):
                raise ValueError("input_features is not equal to feature_names_in_")
        module = self.net_.module_
        n_units = module.get_submodule(output_layer_name(module)).in_features
        return np.asarray([f"{self._embedding_prefix}{i}" for i in range(n_units)],
                          dtype=object)

    @available_if(_has_attention)
    def attention_weights(self, X, *, per_frame=False):
        """Weights of the attention pooling over each clip's frames (padding excluded).

        The weights the network pools its recurrent outputs with: where they are high, the
        frames mattered to the decision. For plots beside the clip's spectrogram.

        Parameters
        ----------
        X : ndarray
            As in ``fit``.
        per_frame : bool, default=False
            False: one weight per step of the recurrent layer (summing to 1); a step spans
            ``stack_frames`` input frames (LSTM) or ``2 ** time_pools`` (CRNN, after its
            time pooling). True: each input frame gets the weight of the step it belongs
            to, so the array lines up with the clip's real frames.

        Returns
        -------
        list of ndarray of shape (n_steps_i,) or (n_frames_i,), float64
            One array per clip.
        """
        check_is_fitted(self)
        inputs = self._inputs(X, reset=False)
        path = self._attention_module_name()

        def step(module, batch):
            weights, steps = module.get_submodule(path).attention_weights(**batch)
            return weights.cpu(), steps.cpu()

        out = []
        for weights, steps in self._run_module(inputs, step):
            out += [w[:n].numpy().astype(np.float64) for w, n in zip(weights, steps.tolist())]
        if per_frame:
            stride = self.net_.module_.get_submodule(path).attention_stride
            # A step spans `stride` frames (the last one of a clip fewer: ceil pooling).
            out = [np.repeat(w, stride)[:n] for w, n in zip(out, inputs["lengths"].tolist())]
        return out

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
        # NaN is meaningful only as whole padding frames; any other NaN is an error.
        tags.input_tags.allow_nan = False
        return tags


class _NetworkClassifier(ClassifierMixin, _Network):
    """The classifiers: labels, ``classes_``, class weights, ``predict`` (see above)."""

    _parameter_constraints = {
        **_Network._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    _ungrouped_split_kind = "stratified"

    def _check_targets(self, y, groups, inputs):
        y = column_or_1d(y, warn=True)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_consistent_length(inputs, y)
        check_classification_targets(y)
        return y, self._check_groups(groups, inputs)

    def _encode_targets(self, y):
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes; got "
                             f"1 class ({self.classes_[0]!r}).")
        return encoder.transform(y).astype(np.int64)

    def _class_weight(self, y):
        if self.class_weight is None:
            return None
        return torch.as_tensor(
            compute_class_weight(self.class_weight, classes=self.classes_, y=y),
            dtype=torch.float32)

    def _output_labels(self, source):
        return self.classes_, source.classes_

    def _ungrouped_split(self, y, n_valid, seed):
        # Stratified by label where every class can be on both sides.
        _, counts = np.unique(y, return_counts=True)
        n = len(y)
        if counts.min() >= 2 and n_valid >= len(counts) and n - n_valid >= len(counts):
            return StratifiedShuffleSplit(1, test_size=n_valid, random_state=seed)
        return ShuffleSplit(1, test_size=n_valid, random_state=seed)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : ndarray
            As in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict the label of each clip.

        Parameters
        ----------
        X : ndarray
            As in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_`` (the labels given to ``fit``).
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _NetworkRegressor(RegressorMixin, _Network):
    """The regressors of continuous targets (arousal, valence, intensity; see above).

    The targets are standardised inside ``fit`` (``target_mean_``, ``target_scale_``), so
    that the squared-error loss and the learning rate mean the same on a 1-7 rating scale
    as on [-1, 1]; ``predict`` maps the outputs back to the target's unit.
    """

    def _check_targets(self, y, groups, inputs):
        name = type(self).__name__
        y = check_array(y, ensure_2d=False, dtype=np.float64, ensure_all_finite=False,
                        input_name="y")
        if y.ndim > 2:
            raise ValueError(f"{name}: y must have shape (n_samples,) or (n_samples, "
                             f"n_targets); got shape {y.shape}.")
        check_consistent_length(inputs, y)
        bad = np.flatnonzero(~np.isfinite(y.reshape(len(y), -1)).all(axis=1))
        if len(bad):
            shown = ", ".join(f"y[{i}]" for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
            raise ValueError(f"{name}: {len(bad)} of {len(y)} target rows hold NaN or "
                             f"infinity ({shown}); drop those clips or fill in their "
                             "targets before fitting.")
        return y, self._check_groups(groups, inputs)

    def _encode_targets(self, y):
        self._y_ndim = y.ndim
        y = y.reshape(len(y), -1)
        self.n_outputs_ = y.shape[1]
        self.target_mean_ = y.mean(axis=0)
        scale = y.std(axis=0)
        # A constant target has nothing to scale: it is only centred, as StandardScaler does.
        self.target_scale_ = np.where(scale > 0, scale, 1.0)
        return ((y - self.target_mean_) / self.target_scale_).astype(np.float32)

    def _output_labels(self, source):
        # An output column does not say which quantity it is, so the output layer is kept
        # whole for as many targets as the source's; otherwise no source row shares a label
        # with ours (negative labels) and the layer starts fresh.
        own = np.arange(self.n_outputs_)
        if source.n_outputs_ == self.n_outputs_:
            return own, own
        return own, -1 - np.arange(source.n_outputs_)

    def predict(self, X):
        """Predict the target of each clip, in the unit of the targets given to ``fit``.

        Parameters
        ----------
        X : ndarray
            As in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets), float64
            One column per target; 1-D when ``fit`` was given a 1-D ``y``.
        """
        check_is_fitted(self)
        inputs = self._inputs(X, reset=False)
        # One clip at a time, as transform: a clip's prediction does not depend on its batch.
        blocks = self._run_module(inputs, lambda module, clip: module(**clip).cpu())
        scaled = torch.cat(blocks).numpy().astype(np.float64)
        y_pred = scaled * self.target_scale_ + self.target_mean_
        return y_pred.ravel() if self._y_ndim == 1 else y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
