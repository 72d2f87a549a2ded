"""Multi-task recogniser: one shared trunk, an emotion head and auxiliary heads.

The auxiliary targets (gender, speaker, intensity, arousal ...) are *metadata* passed to
``fit(X, y, aux=...)``, not part of ``y``. ``y`` stays the 1-D emotion labels, so every scorer
(``"balanced_accuracy"``, :func:`~sklearn_ser.metrics.uar_scorer`), stratified splitter,
``cross_validate``, ``GridSearchCV`` and :func:`~sklearn_ser.model_selection.evaluate` work
unchanged; ``aux`` is a per-sample fit argument, which scikit-learn cuts to each training fold.
"""

import inspect
from numbers import Real

import numpy as np
import pandas as pd
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from torch import nn

from ..utils._compat import Interval, StrOptions, _fit_context, validate_data
from ._modules import CNNModule, CRNNModule, LSTMModule
from ._training import _NetworkClassifier

__all__ = ["MultiTaskClassifier"]

_SEQUENCE_TRUNKS = {"cnn": CNNModule, "lstm": LSTMModule, "crnn": CRNNModule}
_MISSING_CLASS = -100  # CrossEntropyLoss's ignore_index


class _MLPTrunk(nn.Module):
    """Dense layers over pooled features: (Linear, ReLU, Dropout) per hidden layer."""

    def __init__(self, n_features, hidden_layer_sizes, dropout):
        super().__init__()
        layers, n_in = [], n_features
        for n_out in hidden_layer_sizes:
            layers += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(dropout)]
            n_in = n_out
        self.layers = nn.Sequential(*layers)
        self.n_outputs = n_in

    def forward(self, x, lengths=None):
        return self.layers(x)


class _SequenceTrunk(nn.Module):
    """A sequence recogniser of ``_modules`` without its output layer."""

    def __init__(self, kind, n_coeffs, params):
        super().__init__()
        module = _SEQUENCE_TRUNKS[kind]
        try:
            net = module(n_coeffs=n_coeffs, n_classes=2, **params)
        except TypeError as exc:
            allowed = [p for p in inspect.signature(module).parameters
                       if p not in ("n_coeffs", "n_classes")]
            raise ValueError(f"trunk_params={params!r} does not fit trunk={kind!r}; its "
                             f"parameters are {allowed}.") from exc
        self.n_outputs = net.head[-1].in_features
        net.head = net.head[:-1]  # keep its dropout / hidden layer, drop the class layer
        self.net = net

    def forward(self, x, lengths):
        return self.net(x, lengths)


class MultiTaskModule(nn.Module):
    """Shared trunk, emotion ``head`` and one ``aux_heads[k]`` per auxiliary task.

    ``forward`` returns a tuple: the emotion logits first, then each auxiliary output.
    """

    def __init__(self, n_features, n_classes, aux_sizes=(), trunk="mlp",
                 hidden_layer_sizes=(256, 128), dropout=0.3, trunk_params=None):
        super().__init__()
        if trunk == "mlp":
            self.trunk = _MLPTrunk(n_features, hidden_layer_sizes, dropout)
        else:
            params = {"dropout": dropout, **(trunk_params or {})}
            self.trunk = _SequenceTrunk(trunk, n_features, params)
        n_hidden = self.trunk.n_outputs
        self.head = nn.Linear(n_hidden, n_classes)
        self.aux_heads = nn.ModuleList([nn.Linear(n_hidden, k) for k in aux_sizes])

    def embed(self, x, lengths=None):
        """The trunk's output: the input of every head."""
        return self.trunk(x, lengths)

    def forward(self, x, lengths=None):
        h = self.embed(x, lengths)
        return (self.head(h), *(head(h) for head in self.aux_heads))


class _MultiTaskLoss(nn.Module):
    """Emotion cross-entropy plus weighted auxiliary losses (training only).

    In eval mode (skorch's validation pass) the loss is the emotion cross-entropy alone, so
    early stopping selects the epoch that is best for emotion, and auxiliary labels of held-out
    speakers (a speaker head cannot know them) never enter it.
    """

    def __init__(self, kinds=(), weights=(), class_weight=None):
        super().__init__()
        self.kinds = list(kinds)
        self.weights = list(weights)
        self.emotion = nn.CrossEntropyLoss(weight=class_weight)

    def forward(self, y_pred, y_true):
        loss = self.emotion(y_pred[0], y_true["y"])
        if not self.training:
            return loss
        for k, (kind, weight) in enumerate(zip(self.kinds, self.weights)):
            if weight == 0:
                continue
            out, target = y_pred[k + 1], y_true[f"aux{k}"]
            if kind == "classification":
                known = target != _MISSING_CLASS
                if known.any():
                    loss = loss + weight * nn.functional.cross_entropy(out[known], target[known])
            else:
                known = ~torch.isnan(target)
                if known.any():
                    loss = loss + weight * nn.functional.mse_loss(out[known, 0], target[known])
        return loss


class MultiTaskClassifier(_NetworkClassifier):
    """Emotion recogniser trained jointly on auxiliary tasks (gender, speaker, intensity ...).

    One shared network (the trunk) feeds an emotion head and one head per auxiliary task; the
    training loss is the emotion cross-entropy plus ``aux_weight`` times each auxiliary loss
    (cross-entropy for label columns, mean squared error on standardised values for float
    columns). Only the emotion matters after training: ``predict``, ``predict_proba`` and
    ``score`` are those of the emotion head, so it is an ordinary classifier of ``y``.

    Auxiliary targets are fit metadata, ``fit(X, y, aux=...)``; without them the network is a
    single-task classifier with the same trunk (the natural baseline).

    Parameters
    ----------
    trunk : {"mlp", "cnn", "lstm", "crnn"}, default="mlp"
        Shared network. ``"mlp"`` takes pooled features ``(n_samples, n_features)``; the
        others are the trunks of :class:`CNNClassifier`, :class:`LSTMClassifier` and
        :class:`CRNNClassifier` over NaN-padded frame sequences ``(n_clips, n_frames,
        n_coeffs)``, without their output layer.
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Units of the dense layers of the ``"mlp"`` trunk (Linear, ReLU, dropout each).
    trunk_params : dict or None, default=None
        Keyword arguments of a sequence trunk's module (``channels``, ``n_units``,
        ``n_attention``, ``crop_frames`` ...), e.g. ``{"n_units": 32}``. Ignored by
        ``"mlp"``.
    aux_weight : float or dict, default=0.3
        Weight of each auxiliary loss relative to the emotion loss; a dict maps auxiliary
        task names to weights (tasks not named get 0, i.e. are ignored).
    dropout : float, default=0.3
        Dropout rate (of a sequence trunk too, unless ``trunk_params`` sets it).
    lr : float, default=0.001
        Learning rate.
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        Optimiser.
    weight_decay : float, default=0.0
        L2 penalty (decoupled for ``"adamw"``).
    max_epochs : int, default=100
        Upper bound on training epochs.
    batch_size : int, default=32
        Samples per mini-batch.
    class_weight : dict, "balanced" or None, default=None
        Weights of the emotion classes in the loss, keyed by label.
    validation_fraction : float or None, default=0.1
        Part of the training samples held out for early stopping (whole speakers when
        ``groups`` is passed to ``fit``). The validation loss is the emotion loss alone.
        None trains for ``max_epochs``.
    patience : int or None, default=10
        Epochs without improvement of the validation loss before stopping; the weights of
        the best epoch are restored. None disables early stopping.
    lr_schedule : {"plateau", "cosine"} or None, default=None
        Learning-rate schedule.
    init_from : MultiTaskClassifier, str, os.PathLike or None, default=None
        Fine-tune a pre-trained network instead of starting from random weights: a fitted
        ``MultiTaskClassifier`` (wrap it in :class:`sklearn.frozen.FrozenEstimator` when the
        fine-tuner is cloned, as ``cross_validate`` and ``GridSearchCV`` do) or the path of
        one saved with :func:`~sklearn_ser.io.save_model`, checked as ``load_model`` checks
        any file (a pipeline's last step is used; a pickle path is refused: load a trusted
        pickle yourself and pass the model). Matching layers are copied; the emotion output
        layer is replaced when the labels differ (rows of shared labels are kept), and
        auxiliary heads are copied by task name. The architecture parameters must match the
        source's.
    freeze : "none", "trunk", list of str or None, default=None
        Parameters not trained: ``"trunk"`` (all but the heads) or parameter-name prefixes,
        e.g. ``["trunk.layers.0"]`` for the first dense layer.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or any torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split.
    verbose : int, default=0
        Print a line per epoch when > 0.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Emotion labels seen in ``fit``.
    aux_names_ : list of str
        Names of the auxiliary tasks (DataFrame columns, or ``aux0``, ``aux1`` ...).
    aux_kinds_ : dict
        ``"classification"`` or ``"regression"`` per task.
    aux_classes_ : dict
        Labels of each classification task.
    n_features_in_ : int
        Features (``"mlp"``) or coefficients per frame (sequence trunks).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame.
    net_ : skorch.NeuralNet
        The trained skorch net (``net_.module_`` is the :class:`MultiTaskModule`).
    history_ : skorch.History
        Per-epoch training log.
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights were kept (only with a validation split).
    transfer_ : dict
        With ``init_from``: ``copied`` parameters, ``shared_classes``, ``new_classes`` and
        ``frozen`` parameters.
    device_ : str
        Device the network runs on.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : Single-task dense network.

    Notes
    -----
    **Auxiliary targets.** ``aux`` is a pandas DataFrame (one column per task, named), a 2-D
    array (tasks ``aux0``, ``aux1`` ...) or a 1-D array / Series (one task), with one row per
    sample of ``X``. A column of floats is a regression task (standardised, squared error);
    any other column is a classification task. Missing values (None / NaN) are left out of
    that task's loss. A dict is refused, because cross-validation cuts only array-likes to
    the training fold. How to pass it:

    * ``clf.fit(X, y, aux=meta[["gender"]])``;
    * ``cross_validate(clf, X, y, groups=g, params={"aux": meta[["gender"]]})`` and
      ``GridSearchCV(clf, ...).fit(X, y, groups=g, aux=...)``: sklearn cuts ``aux`` to each
      training fold (without metadata routing, a Pipeline needs the step prefix,
      ``params={"multitaskclassifier__aux": ...}``);
    * with ``sklearn.set_config(enable_metadata_routing=True)``, request it once:
      ``clf.set_fit_request(aux=True, groups=True)``.

    Scoring needs nothing special: ``y`` is the emotion. The auxiliary tasks shape the trunk
    only; :meth:`predict_aux` returns their predictions. ``transform(X)`` returns the trunk's
    output (the input of every head, ``multitask_emb0``, ...), an embedding for a classic
    model or a feature fusion; with an ``"lstm"`` or ``"crnn"`` trunk,
    ``attention_weights(X)`` gives the weights of its attention pooling over each clip's
    frames.

    Early stopping holds out whole training speakers when ``groups`` is given. With a frozen
    trunk, dropout still acts on it during training; a sequence trunk's batch-norm
    statistics still adapt to the new data. A fine-tuned model keeps ``init_from`` among its
    parameters, so pickling it pickles the source too; ``set_params(init_from=None)`` after
    ``fit`` drops it without touching the fitted weights.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_ser.neural import MultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["anger", "sadness"], 30)
    >>> aux = pd.DataFrame({"gender": np.tile(["f", "m"], 30)})
    >>> X = rng.normal(size=(60, 10))
    >>> X[:, 0] += 3 * (y == "anger")
    >>> X[:, 1] += 3 * (aux["gender"] == "m")
    >>> clf = MultiTaskClassifier(hidden_layer_sizes=(16,), lr=0.01, max_epochs=30,
    ...                           random_state=0)
    >>> clf = clf.fit(X, y, aux=aux)                  # emotion + gender
    >>> clf.predict(X[:2]).tolist()                   # the emotion labels of y
    ['anger', 'anger']
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.aux_names_, clf.predict_aux(X[:4])["gender"].tolist()
    (['gender'], ['f', 'm', 'f', 'm'])
    """

    _parameter_constraints = {
        "trunk": [StrOptions({"mlp", *_SEQUENCE_TRUNKS})],
        "hidden_layer_sizes": [tuple, list],
        "trunk_params": [dict, None],
        "aux_weight": [Interval(Real, 0, None, closed="left"), dict],
        **_NetworkClassifier._parameter_constraints,
    }
    _embedding_prefix = "multitask_emb"
    # Dropout and shuffling draw from a fresh seed once the heads are built (see fit).
    _reseed_before_training = True

    def __init__(self, *, trunk="mlp", hidden_layer_sizes=(256, 128), trunk_params=None,
                 aux_weight=0.3, dropout=0.3, lr=1e-3, optimizer="adam", weight_decay=0.0,
                 max_epochs=100, batch_size=32, class_weight=None, validation_fraction=0.1,
                 patience=10, lr_schedule=None, init_from=None, freeze=None, device="auto",
                 random_state=None, verbose=0):
        self.trunk = trunk
        self.hidden_layer_sizes = hidden_layer_sizes
        self.trunk_params = trunk_params
        self.aux_weight = aux_weight
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
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # -- input -----------------------------------------------------------------------------

    def _inputs(self, X, *, reset):
        """``{"x"}``: a 2-D float32 array for ``"mlp"``; else ``{"x", "lengths"}``, sequences."""
        if self.trunk != "mlp":
            return super()._inputs(X, reset=reset)
        if getattr(X, "ndim", None) == 3:
            raise ValueError(
                "MultiTaskClassifier(trunk='mlp') takes pooled features of shape (n_samples, "
                f"n_features); got a 3-D array {X.shape}. Use trunk='cnn', 'lstm' or 'crnn' "
                "for frame sequences."
            )
        X = validate_data(self, X, reset=reset, dtype=np.float32)
        return {"x": X}

    def _encode_aux(self, aux, n_samples):
        """Encode the auxiliary targets; set ``aux_*_`` attributes; return per-task arrays."""
        if aux is None:
            self.aux_names_, self.aux_kinds_, self.aux_classes_ = [], {}, {}
            self._aux_scale = {}
            return []
        if isinstance(aux, dict):
            raise TypeError(
                "aux must be a pandas DataFrame, a Series or an array with one row per "
                "sample; a dict is not cut to the training fold by cross-validation. Use "
                "pd.DataFrame(aux_dict)."
            )
        if isinstance(aux, pd.Series):
            aux = aux.to_frame(name=aux.name if aux.name is not None else "aux0")
        if not isinstance(aux, pd.DataFrame):
            values = np.asarray(aux)
            if values.ndim == 1:
                values = values[:, None]
            if values.ndim != 2:
                raise ValueError(f"aux must be 1-D or 2-D (n_samples, n_tasks); got shape "
                                 f"{values.shape}.")
            aux = pd.DataFrame({f"aux{k}": values[:, k] for k in range(values.shape[1])})
        if len(aux) != n_samples:
            raise ValueError(f"aux has {len(aux)} rows but X has {n_samples} samples; pass "
                             "one row of auxiliary targets per sample.")
        if aux.shape[1] == 0:
            raise ValueError("aux has no columns; pass at least one auxiliary task or None.")
        names = [str(c) for c in aux.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"aux has duplicate column names {names}.")
        weights = self.aux_weight
        if isinstance(weights, dict):
            unknown = sorted(set(map(str, weights)) - set(names))
            if unknown:
                raise ValueError(f"aux_weight names tasks {unknown} that aux does not have "
                                 f"(its columns: {names}).")
        self.aux_names_, self.aux_kinds_, self.aux_classes_ = names, {}, {}
        self._aux_scale = {}
        encoded = []
        for name, (_, column) in zip(names, aux.items()):
            missing = pd.isna(column).to_numpy()
            if pd.api.types.is_float_dtype(column.dtype):
                values = column.to_numpy(dtype=np.float64)
                known = values[~missing]
                if len(known) == 0:
                    raise ValueError(f"aux column {name!r} holds no values.")
                mean, std = float(known.mean()), float(known.std())
                std = std if std > 0 else 1.0
                self.aux_kinds_[name] = "regression"
                self._aux_scale[name] = (mean, std)
                encoded.append(((values - mean) / std).astype(np.float32))
            else:
                known = column.to_numpy()[~missing]
                if len(known) == 0:
                    raise ValueError(f"aux column {name!r} holds no labels.")
                encoder = LabelEncoder().fit(known)
                codes = np.full(n_samples, _MISSING_CLASS, dtype=np.int64)
                codes[~missing] = encoder.transform(known)
                self.aux_kinds_[name] = "classification"
                self.aux_classes_[name] = encoder.classes_
                encoded.append(codes)
        return encoded

    def _aux_weights(self):
        if isinstance(self.aux_weight, dict):
            named = {str(k): float(v) for k, v in self.aux_weight.items()}
            return [named.get(name, 0.0) for name in self.aux_names_]
        return [float(self.aux_weight)] * len(self.aux_names_)

    # -- fit -------------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None, aux=None):
        """Train the shared network on the emotion and the auxiliary tasks.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features (``trunk="mlp"``) or NaN-padded frame sequences.
        y : array-like of shape (n_samples,)
            Emotion labels of any type; ``predict`` returns them.
        groups : array-like of shape (n_samples,), default=None
            Speaker of each sample: the early-stopping split then holds out whole speakers.
        aux : DataFrame, Series or array-like of shape (n_samples,) or (n_samples, n_tasks), \
default=None
            Auxiliary targets, one column per task (see Notes). None: emotion only.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit_network(X, y, groups, aux=aux)

    def _new_net(self, weight, *, n_train, valid_ds):
        """The untrained skorch net of ``fit``; also rebuilt when a fitted model is loaded."""
        aux_sizes = [len(self.aux_classes_[n]) if self.aux_kinds_[n] == "classification" else 1
                     for n in self.aux_names_]
        return NeuralNet(
            MultiTaskModule,
            module__n_features=self.n_features_in_,
            module__n_classes=len(self.classes_),
            module__aux_sizes=aux_sizes,
            module__trunk=self.trunk,
            module__hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            module__dropout=self.dropout,
            module__trunk_params=self.trunk_params,
            criterion=_MultiTaskLoss,
            criterion__kinds=[self.aux_kinds_[n] for n in self.aux_names_],
            criterion__weights=self._aux_weights(),
            criterion__class_weight=weight,
            predict_nonlinearity=None,
            **self._training_params(n_train, valid_ds),
        )

    # -- predict ---------------------------------------------------------------------------

    def _outputs(self, X):
        inputs = self._inputs(X, reset=False)
        out = self.net_.forward(inputs, training=False)
        return out if isinstance(out, tuple) else (out,)

    def predict_proba(self, X):
        """Emotion probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features or frame sequences, as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        logits = self._outputs(X)[0]
        return torch.softmax(logits.double(), dim=1).numpy()

    def predict_aux(self, X):
        """Predictions of the auxiliary heads.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or (n_clips, n_frames, n_coeffs)
            Pooled features or frame sequences, as in ``fit``.

        Returns
        -------
        predictions : dict
            Task name -> ndarray of shape (n_samples,): labels for classification tasks,
            values (in the original unit) for regression tasks.
        """
        check_is_fitted(self)
        outputs = self._outputs(X)
        predictions = {}
        for k, name in enumerate(self.aux_names_):
            out = outputs[k + 1].numpy()
            if self.aux_kinds_[name] == "classification":
                predictions[name] = self.aux_classes_[name][np.argmax(out, axis=1)]
            else:
                mean, std = self._aux_scale[name]
                predictions[name] = out[:, 0].astype(np.float64) * std + mean
        return predictions

    def _attention_module_name(self):
        # The LSTM and CRNN trunks pool with attention; the MLP and CNN ones do not.
        return "trunk.net" if self.trunk in ("lstm", "crnn") else None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = self.trunk != "mlp"
        return tags

