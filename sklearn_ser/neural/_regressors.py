"""scikit-learn regressors over frame sequences, each composing a skorch ``NeuralNetRegressor``.

The regression heads of the sequence networks, for continuous emotion targets (arousal,
valence, intensity): the modules, architecture parameters and parameter docs of the
classifiers (``_classifiers.py``), trained by the same loop (``_training.py``,
``_NetworkRegressor``) with a mean squared error on standardised targets. There is no
``class_weight`` (no classes) and no ``mixup`` (its pairs mix labels); the sequence
augmentations (``crop_frames``, ``time_masks``, ``freq_masks``) are those of the modules.
"""

import torch
from skorch import NeuralNetRegressor

from ..utils._compat import _fit_context
from ._classifiers import _CNN, _CRNN, _DOC_DEFAULTS, _LSTM, _SequenceNetwork, _doc
from ._training import _NetworkRegressor

__all__ = ["CNNRegressor", "CRNNRegressor", "LSTMRegressor"]


class _SequenceRegressor(_SequenceNetwork, _NetworkRegressor):
    """The sequence regressors: ``fit`` and the skorch net; subclasses name the module."""

    _parameter_constraints = {
        **_NetworkRegressor._parameter_constraints,
        **_SequenceNetwork._sequence_constraints,
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None):
        """Train the network, with early stopping on a held-out part of the training data.

        Parameters
        ----------
        X : ndarray of shape (n_clips, n_frames, n_coeffs) or (n_samples, n_features)
            NaN-padded frame sequences (see :class:`~sklearn_ser.features.FrameWise`). A 2-D
            array is read as clips of a single frame.
        y : array-like of shape (n_clips,) or (n_clips, n_targets)
            Continuous targets, in any unit (standardised inside ``fit``; ``predict``
            returns the same unit). NaN or infinite values are refused.
        groups : array-like of shape (n_clips,), default=None
            Speaker of each clip. When given, the early-stopping split holds out whole
            speakers (``GroupShuffleSplit``); otherwise it is a random sample of clips.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit_network(X, y, groups)

    def _new_net(self, weight, *, n_train, valid_ds):
        """The untrained skorch net of ``fit``; also rebuilt when a fitted model is loaded."""
        return NeuralNetRegressor(
            self._module,
            criterion=torch.nn.MSELoss,
            **self._training_params(n_train, valid_ds),
            **self._module_kwargs(self.n_outputs_),
        )


#: The regressors' parts of the classifiers' parameter docs (``_COMMON_DOC``).
_REGRESSOR_DOC = dict(
    task="regressor",
    class_weight="",
    ungrouped_split="clips are drawn at random",
    mixup="",
    output_layer=(
        "output layer is kept when the number of targets is the same and starts fresh\n"
        "        otherwise (a column does not say which quantity it is). A fitted classifier is\n"
        "        refused with a ``TypeError``: the source must be of the same class. The\n"
        "        architecture parameters must match the source's."
    ),
    target_attributes="""\
    n_outputs_ : int
        Number of targets (columns of ``y``).
    target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
        Mean and standard deviation of each target in ``fit`` (a constant target's scale
        is 1): the network learns the standardised targets, ``predict`` maps them back.
""",
    net="NeuralNetRegressor",
    history="``train_loss``, ``valid_loss``, ``dur``",
    transfer="""With ``init_from``: ``copied`` parameters, ``shared_classes`` (indices of the
        targets whose output row was kept), ``new_classes`` and ``frozen`` parameters.""",
    task_notes="""
    The loss is the mean squared error of the standardised targets, averaged over the
    targets, each of equal weight; score with :func:`~sklearn_ser.metrics.ccc_scorer` (or
    ``get_scorer("ccc")``) for the concordance correlation coefficient, or ``score`` for
    R². The embedding's names are those of the classifier of the same architecture
    (``cnn_emb0``, ...).
""",
)


class CNNRegressor(_CNN, _SequenceRegressor):
    """2-D convolutional network regressor over (frames x coefficients), masked pooling.

    The network of :class:`CNNClassifier` with a regression head: one linear output per
    target.

    {architecture}
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import CNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> arousal = np.linspace(-1, 1, 40)
    >>> X = rng.normal(size=(40, 30, 8)).astype(np.float32) + arousal[:, None, None]
    >>> reg = CNNRegressor(channels=(4, 8), max_epochs=5, random_state=0).fit(X, arousal)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {**_SequenceRegressor._parameter_constraints,
                              **_CNN._architecture_constraints}

    def __init__(self, *, channels=(16, 32, 64), n_hidden=64, dropout=0.3, lr=1e-3,
                 optimizer="adam", weight_decay=0.0, max_epochs=60, batch_size=32,
                 validation_fraction=0.1, patience=10, lr_schedule=None, crop_frames=None,
                 time_masks=0, freq_masks=0, init_from=None, freeze=None, device="auto",
                 random_state=None, verbose=0):
        self.channels = channels
        self.n_hidden = n_hidden
        self.dropout = dropout
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


class LSTMRegressor(_LSTM, _SequenceRegressor):
    """(Bidirectional) LSTM regressor over frame sequences with masked attention pooling.

    The network of :class:`LSTMClassifier` with a regression head: one linear output per
    target.

    {architecture}
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import LSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> ratings = np.column_stack([np.linspace(1, 7, 40), np.linspace(7, 1, 40)])
    >>> X = rng.normal(size=(40, 30, 8)).astype(np.float32) + ratings[:, :1, None] / 7
    >>> reg = LSTMRegressor(n_units=8, max_epochs=5, random_state=0).fit(X, ratings)
    >>> reg.predict(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {**_SequenceRegressor._parameter_constraints,
                              **_LSTM._architecture_constraints}

    def __init__(self, *, n_units=64, n_layers=1, bidirectional=True, n_attention=64,
                 stack_frames=1, dropout=0.3, lr=1e-3, optimizer="adam", weight_decay=0.0,
                 max_epochs=60, batch_size=32, validation_fraction=0.1, patience=10,
                 lr_schedule=None, crop_frames=None, time_masks=0, freq_masks=0,
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
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


class CRNNRegressor(_CRNN, _SequenceRegressor):
    """Convolutional front end, recurrent layer and attention pooling, as a regressor.

    The network of :class:`CRNNClassifier` with a regression head: one linear output per
    target.

    {architecture}
    {common}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import CRNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> arousal = np.linspace(-1, 1, 40)
    >>> X = rng.normal(size=(40, 30, 8)).astype(np.float32) + arousal[:, None, None]
    >>> reg = CRNNRegressor(channels=(4,), n_units=8, max_epochs=5, random_state=0)
    >>> reg.fit(X, arousal).n_outputs_
    1
    """

    _parameter_constraints = {**_SequenceRegressor._parameter_constraints,
                              **_CRNN._architecture_constraints}

    def __init__(self, *, channels=(16, 32), time_pools=2, n_units=64, cell="gru",
                 bidirectional=True, n_attention=64, dropout=0.3, lr=1e-3, optimizer="adam",
                 weight_decay=0.0, max_epochs=60, batch_size=32, validation_fraction=0.1,
                 patience=10, lr_schedule=None, crop_frames=None, time_masks=0, freq_masks=0,
                 init_from=None, freeze=None, device="auto", random_state=None, verbose=0):
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
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.crop_frames = crop_frames
        self.time_masks = time_masks
        self.freq_masks = freq_masks
        self.init_from = init_from
        self.freeze = freeze
        self.device = device
        self.random_state = random_state
        self.verbose = verbose


for _cls in (CNNRegressor, LSTMRegressor, CRNNRegressor):
    _doc(_cls, {**_DOC_DEFAULTS, **_REGRESSOR_DOC})
