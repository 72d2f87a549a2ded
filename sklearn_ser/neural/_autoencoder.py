"""Autoencoders over pooled features: a reducer (bottleneck codes) and a VAE over-sampler.

Both train a small PyTorch network with a plain loop (no skorch: there is no classifier to wrap,
and their losses are not a criterion of predictions and labels) on internally standardised
features. The device and seeding rules are the classifiers' (``_training.py``): torch is seeded
from ``random_state`` in ``fit`` / ``fit_resample``, and the same generator drives the numpy
draws.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import torch
from imblearn.base import BaseSampler
from imblearn.utils import check_target_type
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..utils._compat import Interval, StrOptions, _fit_context, validate_data
from ._state import export_module, restore_module
from ._training import resolve_device, seed_torch

__all__ = ["AutoencoderReducer", "VAEOversampler"]


def _mlp(sizes, *, last_activation=False):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _standardise(X):
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-8] = 1.0
    return mean, scale


class _AutoencoderModule(nn.Module):
    def __init__(self, n_features, n_components, hidden_layer_sizes):
        super().__init__()
        sizes = [n_features, *hidden_layer_sizes, n_components]
        self.encoder = _mlp(sizes)  # linear bottleneck
        self.decoder = _mlp(sizes[::-1])

    def init_args(self):
        """The constructor's arguments, read from the layers (see ``_state.export_module``)."""
        linear = [layer for layer in self.encoder if isinstance(layer, nn.Linear)]
        sizes = [linear[0].in_features] + [layer.out_features for layer in linear]
        return sizes[0], sizes[-1], sizes[1:-1]

    def forward(self, x):
        return self.decoder(self.encoder(x))


class _CVAEModule(nn.Module):
    """Class-conditional VAE: ``q(z | x, c)`` and ``p(x | z, c)``, Gaussian with a unit prior.

    The decoder's noise scale is learned (one per feature): with a fixed unit scale, class
    structure finer than the features' spread is explained as noise, the latent code is
    ignored and every generated row of a class comes out near the class mean.
    """

    def __init__(self, n_features, n_classes, n_latent, hidden_layer_sizes):
        super().__init__()
        self.n_classes = n_classes
        self.n_latent = n_latent
        hidden = list(hidden_layer_sizes)
        self.encoder = _mlp([n_features + n_classes, *hidden], last_activation=True)
        n_hidden = hidden[-1] if hidden else n_features + n_classes
        self.mu = nn.Linear(n_hidden, n_latent)
        self.logvar = nn.Linear(n_hidden, n_latent)
        self.decoder = _mlp([n_latent + n_classes, *hidden[::-1], n_features])
        self.log_scale = nn.Parameter(torch.zeros(n_features))

    def init_args(self):
        """The constructor's arguments, read from the layers (see ``_state.export_module``)."""
        hidden = [layer.out_features for layer in self.encoder if isinstance(layer, nn.Linear)]
        return self.log_scale.shape[0], self.n_classes, self.n_latent, hidden

    def scale(self):
        return self.log_scale.clamp(-5.0, 2.0).exp()

    def decode(self, z, onehot):
        return self.decoder(torch.cat([z, onehot], dim=1))

    def forward(self, x, onehot):
        h = self.encoder(torch.cat([x, onehot], dim=1))
        mu, logvar = self.mu(h), self.logvar(h).clamp(-10, 10)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, onehot), mu, logvar


class _ModuleStateMixin:
    """Pickle (and save) ``module_`` as its constructor arguments and weight arrays.

    A torch module pickles its tensors through torch's own reducers; a model file must hold
    nothing that runs code on load, so the module is rebuilt here from plain values.
    """

    _module_class = None  # set by subclasses

    def __getstate__(self):
        state = dict(super().__getstate__())
        if isinstance(state.get("module_"), nn.Module):
            state["module_"] = export_module(self.module_)
        return state

    def __setstate__(self, state):
        saved = state.get("module_")
        if isinstance(saved, dict):
            state = {**state, "module_": restore_module(self._module_class, saved,
                                                        owner=type(self).__name__)}
        super().__setstate__(state)


def _train(module, loss_fn, tensors, *, lr, weight_decay, max_epochs, batch_size, rng,
           valid=None, patience=None, verbose=0, owner=""):
    """Mini-batch Adam; early stopping on ``valid`` tensors when given. Returns the curves."""
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    n = len(tensors[0])
    train_curve, valid_curve = [], []
    best, best_state, wait = np.inf, None, 0
    for epoch in range(max_epochs):
        module.train()
        order = torch.as_tensor(rng.permutation(n))
        total = 0.0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(module, *(t[index] for t in tensors))
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        train_curve.append(total / n)
        if valid is not None:
            module.eval()
            with torch.no_grad():
                valid_curve.append(float(loss_fn(module, *valid)))
            if valid_curve[-1] < best - 1e-6:
                best, wait = valid_curve[-1], 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                wait += 1
        if verbose:
            extra = f", valid {valid_curve[-1]:.4f}" if valid_curve else ""
            print(f"{owner} epoch {epoch + 1}: train {train_curve[-1]:.4f}{extra}")
        if patience is not None and valid is not None and wait >= patience:
            break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return train_curve, valid_curve


class AutoencoderReducer(_ModuleStateMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                         BaseEstimator):
    """Reduce pooled features to the bottleneck of a trained autoencoder (a non-linear PCA).

    A dense autoencoder (encoder ``n_features -> hidden_layer_sizes -> n_components``, with a
    linear bottleneck, and the mirrored decoder) is trained to reconstruct the standardised
    features; ``transform`` returns the bottleneck codes. It drops into a Pipeline where
    :class:`~sklearn.decomposition.PCA` would, and ``n_components`` can be grid-searched.

    Parameters
    ----------
    n_components : int, default=32
        Size of the bottleneck (output features).
    hidden_layer_sizes : tuple of int, default=(256,)
        Units of the encoder's hidden layers (the decoder mirrors them). ``()`` gives a
        linear autoencoder, whose codes span the leading principal subspace.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the (standardised) input during
        training: a denoising autoencoder.
    lr : float, default=0.001
        Learning rate (Adam).
    weight_decay : float, default=0.0
        L2 penalty.
    max_epochs : int, default=100
        Upper bound on training epochs.
    batch_size : int, default=64
        Samples per mini-batch.
    validation_fraction : float or None, default=0.1
        Part of the samples held out for early stopping on the reconstruction error. None
        trains for ``max_epochs``.
    patience : int, default=10
        Epochs without improvement before stopping (the best weights are restored).
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or any torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, noise and the validation split.
    verbose : int, default=0
        Print the losses of every epoch when > 0.

    Attributes
    ----------
    n_features_in_ : int
        Features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame.
    mean_, scale_ : ndarray of shape (n_features_in_,)
        Standardisation applied before the network.
    module_ : torch.nn.Module
        The trained autoencoder (``module_.encoder``, ``module_.decoder``).
    loss_curve_ : list of float
        Mean training reconstruction error (standardised units) per epoch.
    validation_loss_curve_ : list of float
        Validation reconstruction error per epoch (empty without validation).
    n_iter_ : int
        Epochs run.
    device_ : str
        Device the autoencoder was trained on (``module_`` is moved to the CPU afterwards).

    See Also
    --------
    sklearn.decomposition.PCA : The linear reducer this replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import AutoencoderReducer
    >>> X = np.random.default_rng(0).normal(size=(100, 20))
    >>> reducer = AutoencoderReducer(n_components=3, hidden_layer_sizes=(16,),
    ...                              max_epochs=5, random_state=0).fit(X)
    >>> reducer.transform(X).shape
    (100, 3)
    >>> reducer.get_feature_names_out().tolist()
    ['autoencoderreducer0', 'autoencoderreducer1', 'autoencoderreducer2']
    """

    _module_class = _AutoencoderModule

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "noise": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, n_components=32, hidden_layer_sizes=(256,), noise=0.0, lr=1e-3,
                 weight_decay=0.0, max_epochs=100, batch_size=64, validation_fraction=0.1,
                 patience=10, device="auto", random_state=None, verbose=0):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.noise = noise
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pooled features.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted reducer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        hidden = [int(h) for h in self.hidden_layer_sizes]
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must hold positive ints; got "
                             f"{self.hidden_layer_sizes!r}.")
        rng, _ = seed_torch(self.random_state)
        self.device_ = resolve_device(self.device)
        self.mean_, self.scale_ = _standardise(X.astype(np.float64))
        Z = torch.as_tensor(((X - self.mean_) / self.scale_).astype(np.float32),
                            device=self.device_)

        n_valid = 0
        if self.validation_fraction is not None:
            n_valid = int(np.ceil(self.validation_fraction * len(Z)))
            if len(Z) - n_valid < 2 or n_valid < 1:
                n_valid = 0
        order = rng.permutation(len(Z))
        train, valid = order[n_valid:], order[:n_valid]

        self.module_ = _AutoencoderModule(X.shape[1], self.n_components, hidden).to(self.device_)
        noise = float(self.noise)

        def loss_fn(module, x):
            source = x + noise * torch.randn_like(x) if (noise and module.training) else x
            return nn.functional.mse_loss(module(source), x)

        self.loss_curve_, self.validation_loss_curve_ = _train(
            self.module_, loss_fn, (Z[train],), lr=self.lr, weight_decay=self.weight_decay,
            max_epochs=self.max_epochs, batch_size=self.batch_size, rng=rng,
            valid=(Z[valid],) if n_valid else None, patience=self.patience,
            verbose=self.verbose, owner="AutoencoderReducer")
        self.n_iter_ = len(self.loss_curve_)
        self._n_features_out = self.n_components
        # Kept on the CPU after training: transform is cheap there, and the pickle loads on
        # machines without the training GPU.
        self.module_ = self.module_.cpu()
        return self

    def _run(self, X, part):
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
        Z = torch.as_tensor(X.astype(np.float32))
        with torch.no_grad():
            out = part(Z).cpu().numpy()
        return out.astype(dtype)

    def transform(self, X):
        """Bottleneck codes of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pooled features.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Same float dtype as ``X`` (float32 or float64).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self._run((X - self.mean_.astype(X.dtype)) / self.scale_.astype(X.dtype),
                         self.module_.encoder)

    def inverse_transform(self, X):
        """Decode bottleneck codes back to feature space (the reconstruction).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by ``transform``.

        Returns
        -------
        ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self)
        from sklearn.utils import check_array

        X = check_array(X, dtype=[np.float64, np.float32])
        if X.shape[1] != self.n_components:
            raise ValueError(f"X has {X.shape[1]} features, but inverse_transform expects "
                             f"{self.n_components} codes (n_components).")
        out = self._run(X, self.module_.decoder)
        return out * self.scale_.astype(out.dtype) + self.mean_.astype(out.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class VAEOversampler(_ModuleStateMixin, BaseSampler):
    """Over-sample chosen classes with feature vectors drawn from a class-conditional VAE.

    ``fit_resample(X, y)`` trains a conditional variational autoencoder (with a learned
    per-feature noise scale) on the (internally standardised) feature vectors and labels,
    then draws new rows from it: a latent draw from the unit Gaussian prior, decoded
    conditioned on a class, plus the learned noise, until each class reaches the count asked by
    ``sampling_strategy`` (imblearn's over-sampling meaning). The generated rows are appended
    after the original ones. As an imblearn sampler it acts only while a
    :class:`imblearn.pipeline.Pipeline` is fitted, so test folds are never resampled.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Which classes get new rows and how many: ``"auto"`` / ``"not majority"``
        (all but the largest class up to its size), ``"minority"``, ``"not minority"``,
        ``"all"``, a float (minority / majority ratio, two classes only), a dict
        ``{class: target count}`` or a callable ``y -> dict``.
    n_latent : int, default=8
        Size of the latent space.
    hidden_layer_sizes : tuple of int, default=(128,)
        Units of the encoder's hidden layers (the decoder mirrors them).
    beta : float, default=1.0
        Weight of the KL term (beta-VAE); smaller values trade diversity for fidelity.
    temperature : float, default=1.0
        Scale of the latent and noise draws for generation (< 1: closer to the mode).
    lr : float, default=0.001
        Learning rate (Adam).
    max_epochs : int, default=200
        Training epochs.
    batch_size : int, default=64
        Samples per mini-batch.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or any torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the generated samples.
    verbose : int, default=0
        Print the loss of every epoch when > 0.

    Attributes
    ----------
    sampling_strategy_ : dict
        Rows generated per class.
    n_features_in_ : int
        Features seen in ``fit_resample``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when ``X`` was a DataFrame.
    classes_ : ndarray of shape (n_classes,)
        Labels, in the order of the VAE's condition vector.
    module_ : torch.nn.Module
        The trained conditional VAE.
    loss_curve_ : list of float
        Training loss (Gaussian negative log-likelihood + beta * KL, per sample) per epoch.

    See Also
    --------
    imblearn.over_sampling.SMOTE : Interpolates between neighbours instead.
    sklearn_ser.augmentation.Augmenter : Augments the audio rather than the features.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ser.neural import VAEOversampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5))
    >>> y = np.array(["neutral"] * 45 + ["fear"] * 15)
    >>> sampler = VAEOversampler(max_epochs=5, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> X_res.shape, int((y_res == "fear").sum())
    ((90, 5), 45)
    """

    _sampling_type = "over-sampling"

    _module_class = _CVAEModule

    _parameter_constraints = {
        "sampling_strategy": [
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto", "minority", "not minority", "not majority", "all"}),
            Mapping,
            callable,
        ],
        "n_latent": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "beta": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, *, sampling_strategy="auto", n_latent=8, hidden_layer_sizes=(128,),
                 beta=1.0, temperature=1.0, lr=1e-3, max_epochs=200, batch_size=64,
                 device="auto", random_state=None, verbose=0):
        self.sampling_strategy = sampling_strategy
        self.n_latent = n_latent
        self.hidden_layer_sizes = hidden_layer_sizes
        self.beta = beta
        self.temperature = temperature
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _check_X_y(self, X, y, accept_sparse=None):
        # Dense features only: the VAE cannot take sparse input.
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X, y = validate_data(self, X=X, y=y, reset=True, accept_sparse=False,
                             dtype=[np.float64, np.float32])
        return X, y, binarize_y

    def _fit_resample(self, X, y):
        hidden = [int(h) for h in self.hidden_layer_sizes]
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must hold positive ints; got "
                             f"{self.hidden_layer_sizes!r}.")
        rng, _ = seed_torch(self.random_state)
        device = resolve_device(self.device)
        self.classes_, codes = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        mean, scale = _standardise(X.astype(np.float64))
        Z = torch.as_tensor(((X - mean) / scale).astype(np.float32), device=device)
        onehot = nn.functional.one_hot(torch.as_tensor(codes, device=device),
                                       n_classes).float()

        self.module_ = _CVAEModule(X.shape[1], n_classes, self.n_latent, hidden).to(device)
        beta = float(self.beta)

        def loss_fn(module, x, c):
            recon, mu, logvar = module(x, c)
            scale = module.scale()
            # Gaussian negative log-likelihood of x under p(x | z, c), up to a constant.
            rec = (0.5 * ((recon - x) / scale) ** 2 + torch.log(scale)).sum(dim=1).mean()
            kl = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)).mean()
            return rec + beta * kl

        self.loss_curve_, _ = _train(
            self.module_, loss_fn, (Z, onehot), lr=self.lr, weight_decay=0.0,
            max_epochs=self.max_epochs, batch_size=self.batch_size, rng=rng,
            verbose=self.verbose, owner="VAEOversampler")

        new_X, new_y = [X], [y]
        for label, n_new in self.sampling_strategy_.items():
            if n_new <= 0:
                continue
            index = int(np.searchsorted(self.classes_, label))
            z = torch.as_tensor(rng.standard_normal((n_new, self.n_latent)) * self.temperature,
                                dtype=torch.float32, device=device)
            c = nn.functional.one_hot(torch.full((n_new,), index, device=device),
                                      n_classes).float()
            noise = torch.as_tensor(rng.standard_normal((n_new, X.shape[1])) * self.temperature,
                                    dtype=torch.float32, device=device)
            with torch.no_grad():
                # A draw from p(x | z, c): the decoded mean plus the learned noise.
                generated = self.module_.decode(z, c) + noise * self.module_.scale()
                generated = generated.cpu().numpy().astype(np.float64)
            new_X.append((generated * scale + mean).astype(X.dtype))
            new_y.append(np.full(n_new, label, dtype=y.dtype))
        self.module_ = self.module_.cpu()  # a pickle that loads without the training GPU
        return np.concatenate(new_X), np.concatenate(new_y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
